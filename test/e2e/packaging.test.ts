/**
 * The packaging scripts without an engine. It covers config.json generation from the settings
 * schemas, the library list for the rootfs, and the install sequence with its argument checks
 * against a scripted docker client. It also covers the output parsing of scripts/test.ts, the
 * instructions that `npm run fake` prints, and the demo's `docker run` arguments.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { backendDefinitions } from '../../src/backends/definitions.ts';
import { coreSettingsShape } from '../../src/settings/settings.ts';
import { pluginConfig, pluginEnv, pluginPaths, sharedLibraries } from '../../scripts/plugin-build.ts';
import { installPlugin, isLocalEngine, type CommandResult } from '../../scripts/plugin-install.ts';
import { demoRunArgs } from '../../scripts/demo.ts';
import { splitCommand, testCounts } from '../../scripts/test.ts';

describe('plugin config.json', () => {
  test('env lists every setting once', () => {
    const names = pluginEnv().map((entry) => entry.name);
    const expected = [...Object.keys(coreSettingsShape), ...backendDefinitions.flatMap((definition) => Object.keys(definition.settings))];

    assert.equal(new Set(names).size, names.length, `duplicate env entries: ${names}`);
    for (const name of expected) assert.ok(names.includes(name), `config.json env lacks ${name}`);
  });

  test('env pins the plugin paths', () => {
    const env = new Map(pluginEnv().map((entry) => [entry.name, entry]));

    assert.equal(env.get('DSV_SOCKET')?.value, '/run/docker/plugins/dsv.sock');
    assert.deepEqual(env.get('DSV_SOCKET')?.settable, []);
    assert.equal(env.get('DSV_STATE_DIR')?.value, `${pluginPaths.propagatedMount}/state`);
    assert.deepEqual(env.get('DSV_STATE_DIR')?.settable, []);
    assert.equal(env.get('DSV_MOUNT_DIR')?.value, `${pluginPaths.propagatedMount}/volumes`);
    assert.deepEqual(env.get('DSV_MOUNT_DIR')?.settable, []);
    assert.equal(env.get('DSV_FILES_DIR')?.value, pluginPaths.files);
    assert.equal(env.get('AWS_SHARED_CREDENTIALS_FILE')?.value, '/etc/dsv/credentials/aws/credentials');
    assert.equal(env.get('AWS_CONFIG_FILE')?.value, '/etc/dsv/credentials/aws/config');
    assert.equal(env.get('HOME')?.value, '/tmp');
  });

  test('other settings start empty and settable', () => {
    const pinned = new Set(['DSV_SOCKET', 'DSV_STATE_DIR', 'DSV_MOUNT_DIR', 'DSV_FILES_DIR', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_CONFIG_FILE', 'HOME']);
    for (const entry of pluginEnv().filter((candidate) => !pinned.has(candidate.name))) {
      assert.equal(entry.value, '', `${entry.name} has a default in config.json`);
      assert.deepEqual(entry.settable, ['value'], `${entry.name} is not settable`);
      assert.notEqual(entry.description, '', `${entry.name} has no description`);
    }
  });

  test('mounts and interface', async () => {
    const config = await pluginConfig();
    const mounts = config.mounts as { name: string; source: string; destination: string; options: string[]; settable: string[] }[];

    assert.deepEqual(config.interface, { types: ['docker.volumedriver/1.0'], socket: 'dsv.sock' });
    assert.deepEqual(config.network, { type: 'host' });
    assert.equal(config.propagatedMount, pluginPaths.propagatedMount);
    assert.deepEqual(mounts.map((mount) => [mount.name, mount.source, mount.destination]), [
      ['files', '/var/lib/dsv/files', pluginPaths.files],
      ['credentials', '/var/lib/dsv/credentials', pluginPaths.credentials],
    ]);
    for (const mount of mounts) {
      assert.deepEqual(mount.options, ['rbind', 'ro']);
      assert.deepEqual(mount.settable, ['source']);
    }
  });
});

describe('plugin rootfs', () => {
  test('library list has libc and loader', async () => {
    const node = await realpath(path.join(import.meta.dirname, '..', '..', 'node_modules', '.bin', 'node'));
    const libraries = await sharedLibraries(node);

    assert.ok(libraries.some((library) => library.endsWith('/libc.so.6')), `no libc in ${libraries}`);
    assert.ok(libraries.some((library) => /\/ld-linux[^/]*\.so\.\d+$/.test(library)), `no loader in ${libraries}`);
    for (const library of libraries) assert.ok(path.isAbsolute(library), `${library} is not absolute`);
  });
});

/** A docker client that returns scripted results and records every call. */
function scriptedDocker(answers: Record<string, Partial<CommandResult>>) {
  const calls: string[] = [];
  const docker = async (...args: string[]): Promise<CommandResult> => {
    const call = args.join(' ');
    calls.push(call);
    const key = Object.keys(answers).find((prefix) => call.startsWith(prefix));
    return { stdout: '', stderr: '', code: 0, ...(key === undefined ? {} : answers[key]) };
  };
  return { docker, calls };
}

describe('plugin install', () => {
  async function withPluginDir(run: (folder: string) => Promise<void>): Promise<void> {
    const folder = await mkdtemp(path.join(tmpdir(), 'dsv-install-'));
    try {
      await writeFile(path.join(folder, 'config.json'), JSON.stringify(await pluginConfig()));
      await run(folder);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  }

  test('replaces an older plugin, warning about volumes', async () => {
    await withPluginDir(async (folder) => {
      const { docker, calls } = scriptedDocker({
        'plugin inspect --format {{.Id}} {{.Enabled}}': { stdout: 'abc123 true\n' },
        'plugin inspect --format {{.Id}}': { stdout: 'def456\n' },
        'volume ls': { stdout: 'db-password dsv:latest\ncache local\n' },
      });
      const lines: string[] = [];
      const settings = [`files.source=${folder}`, `credentials.source=${folder}`, 'DSV_LOG_LEVEL=debug'];

      const id = await installPlugin({ docker, pluginDir: folder, settings, localEngine: true, log: (line) => lines.push(line) });

      assert.equal(id, 'def456');
      assert.ok(lines.some((line) => line.startsWith('WARNING') && line.includes('db-password')), lines.join('\n'));
      assert.ok(!lines.some((line) => line.includes('cache')), 'a local volume was reported');
      const sequence = calls.filter((call) => !call.startsWith('plugin inspect') && !call.startsWith('volume ls'));
      assert.deepEqual(sequence, [
        'plugin disable -f dsv',
        'plugin rm -f dsv',
        `plugin create dsv ${folder}`,
        `plugin set dsv ${settings.join(' ')}`,
        'plugin enable dsv',
      ]);
    });
  });

  test('missing mount source keeps the old plugin', async () => {
    await withPluginDir(async (folder) => {
      const { docker, calls } = scriptedDocker({ 'plugin inspect': { stdout: 'abc123 true\n' } });
      const missing = path.join(folder, 'no-such-folder');
      const settings = [`files.source=${missing}`, `credentials.source=${folder}`];

      await assert.rejects(
        installPlugin({ docker, pluginDir: folder, settings, localEngine: true, log: () => {} }),
        (error: Error) => error.message.includes(missing) && error.message.includes('files.source'),
      );
      assert.deepEqual(calls.filter((call) => !call.startsWith('plugin inspect')), [], 'docker changed the engine anyway');
    });
  });

  test('enable failure keeps the engine output', async () => {
    await withPluginDir(async (folder) => {
      const { docker } = scriptedDocker({
        'plugin inspect': { code: 1 },
        'plugin enable': { code: 1, stderr: 'dial unix dsv.sock: connect: no such file or directory' },
      });
      const settings = [`files.source=${folder}`, `credentials.source=${folder}`];

      await assert.rejects(
        installPlugin({ docker, pluginDir: folder, settings, localEngine: true, log: () => {} }),
        (error: Error) => {
          assert.match(error.message, /enabling plugin dsv failed .*no such file or directory/);
          assert.match(error.message, /stays installed but disabled/);
          assert.match(error.message, /journalctl -u docker/, 'the message does not say where the plugin log is');
          assert.match(error.message, /output of dockerd/);
          return true;
        },
      );
    });
  });

  test('typo in a key keeps the old plugin', async () => {
    await withPluginDir(async (folder) => {
      const { docker, calls } = scriptedDocker({ 'plugin inspect': { stdout: 'abc123 true\n' } });

      await assert.rejects(
        installPlugin({ docker, pluginDir: folder, settings: [`file.source=${folder}`], localEngine: true, log: () => {} }),
        (error: Error) => {
          assert.match(error.message, /file\.source: unknown setting, did you mean files\.source\?/);
          assert.match(error.message, /accepted settings: files\.source, credentials\.source, DSV_LOG_LEVEL/);
          return true;
        },
      );
      assert.deepEqual(calls, [], 'docker was called before the settings were checked');
    });
  });

  test('invalid value keeps the old plugin', async () => {
    await withPluginDir(async (folder) => {
      const { docker, calls } = scriptedDocker({ 'plugin inspect': { stdout: 'abc123 true\n' } });
      const settings = [`files.source=${folder}`, 'DSV_LOG_LEVEL=verbose'];

      await assert.rejects(
        installPlugin({ docker, pluginDir: folder, settings, localEngine: true, log: () => {} }),
        /DSV_LOG_LEVEL: .*"debug"/,
      );
      assert.deepEqual(calls, [], 'docker was called before the settings were checked');
    });
  });

  test('every problem is listed at once', async () => {
    await withPluginDir(async (folder) => {
      const { docker, calls } = scriptedDocker({});
      const missing = path.join(folder, 'no-such-folder');
      const settings = [
        'files=/srv/secrets',
        'DSV_SOCKET=/tmp/other.sock',
        `credentials.source=${missing}`,
        'files.source=relative/folder',
        'DSV_TMPFS_SIZE_MB=lots',
        'dsv_log_level=debug',
      ];

      const error = await installPlugin({ docker, pluginDir: folder, settings, localEngine: true, log: () => {} }).then(
        () => assert.fail('the install succeeded'),
        (rejected: Error) => rejected,
      );

      const problems = error.message.split('\n').filter((line) => line.startsWith('  - '));
      assert.equal(problems.length, settings.length, error.message);
      assert.match(error.message, /files: unknown setting, did you mean files\.source\?/);
      assert.match(error.message, /DSV_SOCKET: fixed by the plugin/);
      assert.ok(error.message.includes(`credentials.source: ${missing} is not a folder`), error.message);
      assert.match(error.message, /files\.source: "relative\/folder" is not an absolute path/);
      assert.match(error.message, /DSV_TMPFS_SIZE_MB: must be a whole number/);
      assert.match(error.message, /dsv_log_level: unknown setting, did you mean DSV_LOG_LEVEL\?/);
      assert.doesNotMatch(error.message.split('accepted settings:')[1] ?? '', /DSV_SOCKET/, 'a fixed setting is listed as accepted');
      assert.deepEqual(calls, []);
    });
  });

  test('rejected settings never show env values', async () => {
    await withPluginDir(async (folder) => {
      const { docker } = scriptedDocker({});
      const sentinel = 'sentinel-install-value-5d1e';
      const settings = [`VAULT_TOKEN=${sentinel}`, `VAULT_TOKNE=${sentinel}`, `DSV_TMPFS_SIZE_MB=${sentinel}`, sentinel, 'files'];

      await assert.rejects(
        installPlugin({ docker, pluginDir: folder, settings, localEngine: true, log: () => {} }),
        (error: Error) => {
          assert.ok(!error.message.includes(sentinel), error.message);
          assert.match(error.message, /VAULT_TOKNE: unknown setting, did you mean VAULT_TOKEN\?/);
          assert.match(error.message, /argument 4: expected KEY=VALUE/);
          assert.match(error.message, /argument 5 \(files\): expected KEY=VALUE/);
          return true;
        },
      );
    });
  });

  test('install log never shows values', async () => {
    await withPluginDir(async (folder) => {
      const sentinel = 'sentinel-install-log-9b7c';
      const settings = [`files.source=${folder}`, `VAULT_TOKEN=${sentinel}`];
      const lines: string[] = [];

      const { docker } = scriptedDocker({ 'plugin inspect --format {{.Id}} {{.Enabled}}': { code: 1 } });
      await installPlugin({ docker, pluginDir: folder, settings, localEngine: true, log: (line) => lines.push(line) });
      assert.ok(lines.includes('set files.source, VAULT_TOKEN'), lines.join('\n'));
      assert.ok(!lines.join('\n').includes(sentinel), lines.join('\n'));

      const failing = scriptedDocker({ 'plugin inspect': { code: 1 }, 'plugin set': { code: 1, stderr: 'plugin set failed' } });
      await assert.rejects(
        installPlugin({ docker: failing.docker, pluginDir: folder, settings, localEngine: true, log: () => {} }),
        (error: Error) => {
          assert.match(error.message, /setting files\.source, VAULT_TOKEN failed \(plugin dsv stays installed but disabled\)/);
          assert.ok(!error.message.includes(sentinel), error.message);
          return true;
        },
      );
    });
  });

  test('remote engine skips the folder check', async () => {
    await withPluginDir(async (folder) => {
      const { docker, calls } = scriptedDocker({ 'plugin inspect --format {{.Id}} {{.Enabled}}': { code: 1 } });
      const settings = ['files.source=/srv/only-on-the-engine-host', 'AWS_REGION=eu-west-1'];

      await installPlugin({ docker, pluginDir: folder, settings, localEngine: false, log: () => {} });

      assert.ok(calls.includes(`plugin set dsv ${settings.join(' ')}`), calls.join('\n'));
    });
  });

  test('local engine detection', () => {
    assert.equal(isLocalEngine(undefined), true);
    assert.equal(isLocalEngine('unix:///tmp/dsv-1/docker.sock'), true);
    assert.equal(isLocalEngine('tcp://10.0.0.5:2376'), false);
    assert.equal(isLocalEngine('ssh://builder@example.test'), false);
  });
});

describe('test script', () => {
  test('splits package.json scripts', async () => {
    const pkg = JSON.parse(await readFile(path.join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { scripts: Record<string, string> };

    const args = splitCommand(pkg.scripts['test:e2e'] ?? '');

    assert.equal(args[0], 'node');
    assert.ok(args.includes('--test'));
    assert.ok(args.includes('test/e2e/**/*.test.ts'), `globs lost their quotes: ${args}`);
  });

  test('reads spec and TAP totals', () => {
    const spec = '\u001b[34mℹ tests 5\u001b[39m\nℹ pass 3\nℹ fail 1\nℹ skipped 1\nℹ todo 0\n';
    const tap = '# tests 2\n# pass 2\n# fail 0\n';

    assert.equal(testCounts(spec), '3 passed, 1 failed, 1 skipped');
    assert.equal(testCounts(tap), '2 passed, 0 failed');
    assert.equal(testCounts('no totals here'), undefined);
  });
});

describe('fake command', () => {
  test('prints its pid and the plugin commands', async (context) => {
    const credentials = await mkdtemp(path.join(tmpdir(), 'dsv-fake-cli-'));
    context.after(() => rm(credentials, { recursive: true, force: true }));
    const cli = path.join(import.meta.dirname, '..', 'fakes', 'cli.ts');
    const child = spawn(process.execPath, [cli, 'aws', '--credentials', credentials], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = once(child, 'exit');
    context.after(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });

    // Read with a listener, not for await: leaving that loop early would destroy the pipe.
    let output = '';
    child.stdout.setEncoding('utf8');
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: string) => {
        output += chunk;
        if (output.includes('to stop.')) resolve();
      });
      child.stdout.once('end', () => resolve());
    });

    const firstLine = output.split('\n')[0] ?? '';
    const pid = Number(/ listening on http:\/\/127\.0\.0\.1:\d+ \(pid (\d+)\)/.exec(firstLine)?.[1]);
    assert.equal(pid, child.pid, `the first line does not name the fake's pid: ${firstLine}`);
    const sequence = `  docker plugin disable -f dsv && docker plugin set dsv credentials.source=${credentials} AWS_REGION=`;
    assert.ok(output.includes(sequence), output);
    assert.match(output, /AWS_EC2_METADATA_DISABLED=true && docker plugin enable dsv\n/);

    process.kill(pid, 'SIGTERM');
    const [code] = await exited;
    assert.equal(code, 0, 'the fake did not stop on SIGTERM to the printed pid');
  });
});

describe('demo script', () => {
  test('mounts the volume read-only', () => {
    const args = demoRunArgs('greeting', '/run/secrets/greeting');

    assert.equal(args[args.indexOf('-v') + 1], 'greeting:/run/secrets/greeting:ro');
  });
});
