/**
 * The file backend through a real Docker engine: the managed plugin from build/plugin serves
 * secrets from a temporary files folder to busybox containers, `docker-compose` included. Every
 * secret value carries a sentinel that must never show in the engine log (which carries the
 * plugin's stdout), in an error, or in the plugin's state files.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { e2eSkipReason, startEngine, waitFor, type Engine } from './engine.ts';
import { filesContaining, importBusybox, installDsv, uniqueName, type InstalledPlugin } from './plugin.ts';

const sentinel = `dsv-sentinel-${randomBytes(8).toString('hex')}`;

describe('file backend on a private engine', { skip: e2eSkipReason() }, () => {
  let engine: Engine | undefined;
  let plugin: InstalledPlugin;

  function docker(...args: string[]) {
    assert.ok(engine, 'the engine did not start');
    return engine.docker(...args);
  }

  /** Writes a secret file into the plugin's files folder. */
  async function writeSecret(relativePath: string, value: string | Buffer): Promise<void> {
    const file = path.join(plugin.filesDir, relativePath);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, value, { mode: 0o600 });
  }

  async function createVolume(name: string, ...options: string[]): Promise<void> {
    const args = options.flatMap((option) => ['-o', option]);
    const created = await docker('volume', 'create', '-d', 'dsv', ...args, name);
    assert.equal(created.code, 0, created.stderr);
  }

  /** Runs busybox with the volume at /run/secrets/NAME and the given command. */
  function runWithVolume(name: string, ...command: string[]) {
    return docker('run', '--rm', '--network', 'none', '-v', `${name}:/run/secrets/${name}`, 'busybox', ...command);
  }

  before(async () => {
    engine = await startEngine();
    await importBusybox(engine);
    plugin = await installDsv(engine, { settings: { DSV_LOG_LEVEL: 'trace' } });
  });

  after(async () => {
    await engine?.stop();
  });

  test('volume-driver flag creates and mounts', async () => {
    const name = uniqueName('plain');
    await writeSecret(name, `${sentinel}-plain`);

    const ran = await docker('run', '--rm', '--network', 'none', '--volume-driver', 'dsv', '-v', `${name}:/run/secrets/${name}`, 'busybox', 'cat', `/run/secrets/${name}`);

    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(ran.stdout, `${sentinel}-plain`);
  });

  test('mount flag creates and mounts', async () => {
    const name = uniqueName('mount');
    await writeSecret(name, `${sentinel}-mount`);

    const mount = `type=volume,volume-driver=dsv,src=${name},target=/run/secrets/${name}`;
    const ran = await docker('run', '--rm', '--network', 'none', '--mount', mount, 'busybox', 'cat', `/run/secrets/${name}`);

    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(ran.stdout, `${sentinel}-mount`);
  });

  test('secret option with slashes', async () => {
    const name = uniqueName('nested');
    await writeSecret('prod/db/password', `${sentinel}-nested`);
    await createVolume(name, 'secret=prod/db/password');

    const ran = await runWithVolume(name, 'cat', `/run/secrets/${name}`);

    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(ran.stdout, `${sentinel}-nested`);
  });

  test('key option selects a JSON field', async () => {
    const name = uniqueName('json');
    await writeSecret('app.json', JSON.stringify({ user: 'app', password: `${sentinel}-json`, db: { host: 'db.internal' } }));
    await createVolume(name, 'secret=app.json', 'key=password');

    const ran = await runWithVolume(name, 'cat', `/run/secrets/${name}`);

    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(ran.stdout, `${sentinel}-json`);
  });

  test('binary secret is byte exact', async () => {
    assert.ok(engine);
    const name = uniqueName('binary');
    const value = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, byte) => byte)), randomBytes(4096)]);
    await writeSecret(name, value);
    await createVolume(name);

    const ran = await engine.dockerRaw(['run', '--rm', '--network', 'none', '-v', `${name}:/s`, 'busybox', 'cat', '/s']);

    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(ran.stdout.length, value.length);
    assert.ok(ran.stdout.equals(value), 'container output differs from the secret bytes');
  });

  test('file on tmpfs with mode, uid and gid', async () => {
    const name = uniqueName('perm');
    const target = `/run/secrets/${name}`;
    await writeSecret(name, `${sentinel}-perm`);
    await createVolume(name, 'mode=0440', 'uid=1000', 'gid=1000');

    const ran = await runWithVolume(name, 'sh', '-c', `stat -c '%a %u %g' ${target}; stat -f -c %T ${target}; grep ' ${target} ' /proc/mounts`);

    assert.equal(ran.code, 0, ran.stderr);
    const [ownership, filesystem, mountLine] = ran.stdout.trimEnd().split('\n');
    assert.equal(ownership, '440 1000 1000');
    assert.equal(filesystem, 'tmpfs');
    assert.equal(mountLine?.split(' ')[2], 'tmpfs', `/proc/mounts line: ${mountLine}`);
  });

  test('file is read-only without :ro', async () => {
    const name = uniqueName('sealed');
    const target = `/run/secrets/${name}`;
    await writeSecret(name, `${sentinel}-sealed`);
    await createVolume(name, 'mode=0666');

    const ran = await runWithVolume(name, 'sh', '-c', `grep ' ${target} ' /proc/mounts; echo changed > ${target} || echo write-refused`);

    assert.equal(ran.code, 0, ran.stderr);
    const [mountLine, outcome] = ran.stdout.trimEnd().split('\n');
    assert.match(mountLine?.split(' ')[3] ?? '', /^ro,nosuid,nodev,noexec/, `/proc/mounts line: ${mountLine}`);
    assert.equal(outcome, 'write-refused');
  });

  test('secret file removed after container exits', async () => {
    const name = uniqueName('gone');
    const value = `${sentinel}-gone-${randomBytes(4).toString('hex')}`;
    await writeSecret(name, value);
    await createVolume(name);
    const volumesDir = path.join(plugin.propagatedMount, 'volumes');

    const started = await docker('run', '-d', '--network', 'none', '-v', `${name}:/run/secrets/${name}`, 'busybox', 'sleep', '600');
    assert.equal(started.code, 0, started.stderr);
    const container = started.stdout.trim();
    const whileRunning = await filesContaining(volumesDir, value);
    assert.equal(whileRunning.length, 1, `expected the secret file under ${volumesDir} while the container runs`);

    const removed = await docker('rm', '-f', container);
    assert.equal(removed.code, 0, removed.stderr);
    const removedFromTmpfs = await waitFor(async () => (await filesContaining(plugin.propagatedMount, value)).length === 0, 10_000);
    assert.ok(removedFromTmpfs, `the secret is still under ${plugin.propagatedMount}: ${await filesContaining(plugin.propagatedMount, value)}`);
  });

  test('volume survives plugin disable and enable', async () => {
    const name = uniqueName('restart');
    await writeSecret(name, `${sentinel}-restart`);
    await createVolume(name);
    assert.equal((await runWithVolume(name, 'cat', `/run/secrets/${name}`)).stdout, `${sentinel}-restart`);

    const disabled = await docker('plugin', 'disable', '-f', 'dsv');
    assert.equal(disabled.code, 0, disabled.stderr);
    const enabled = await docker('plugin', 'enable', 'dsv');
    assert.equal(enabled.code, 0, enabled.stderr);

    const listed = await docker('volume', 'ls', '-q');
    assert.ok(listed.stdout.split('\n').includes(name), `docker volume ls lost ${name}: ${listed.stdout}`);
    const ran = await runWithVolume(name, 'cat', `/run/secrets/${name}`);
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(ran.stdout, `${sentinel}-restart`);
  });

  test('missing secret fails with its code', async () => {
    const name = uniqueName('missing');

    const created = await docker('volume', 'create', '-d', 'dsv', '-o', 'secret=does/not/exist', name);

    assert.notEqual(created.code, 0);
    assert.match(created.stderr, new RegExp(name));
    assert.match(created.stderr, /SECRET_NOT_FOUND/);
    const listed = await docker('volume', 'ls', '-q');
    assert.ok(!listed.stdout.split('\n').includes(name), 'a failed create left a volume behind');
  });

  test('invalid options fail naming the option', async () => {
    const secret = uniqueName('options');
    await writeSecret(secret, `${sentinel}-options`);
    const cases = [
      { option: 'mode=999', named: 'mode' },
      { option: 'nope=1', named: 'nope' },
      { option: 'uid=-1', named: 'uid' },
    ];
    for (const { option, named } of cases) {
      const created = await docker('volume', 'create', '-d', 'dsv', '-o', `secret=${secret}`, '-o', option, uniqueName('bad'));
      assert.notEqual(created.code, 0, `-o ${option} was accepted`);
      assert.match(created.stderr, new RegExp(`"${named}"`), `-o ${option}: ${created.stderr}`);
      assert.match(created.stderr, /INVALID_OPTION/, `-o ${option}: ${created.stderr}`);
    }
  });

  test('key errors never show the value', async () => {
    await writeSecret('keyed.json', JSON.stringify({ password: `${sentinel}-keyed` }));
    await writeSecret('not-json', `${sentinel}-not-json`);
    const cases = [
      { options: ['secret=keyed.json', 'key=missing'], code: 'KEY_NOT_FOUND' },
      { options: ['secret=not-json', 'key=password'], code: 'SECRET_NOT_JSON' },
    ];
    for (const { options, code } of cases) {
      const name = uniqueName('keyerr');
      const args = options.flatMap((option) => ['-o', option]);
      const created = await docker('volume', 'create', '-d', 'dsv', ...args, name);
      // Either Create checks the key, or the first Mount fails; both must name the code.
      const failed = created.code !== 0 ? created : await runWithVolume(name, 'cat', `/run/secrets/${name}`);
      assert.notEqual(failed.code, 0, `${options.join(' ')} was accepted`);
      assert.match(failed.stderr, new RegExp(code));
      assert.ok(!failed.stderr.includes(sentinel), `the error shows the secret value: ${failed.stderr}`);
    }
  });

  test('compose service reads the secret', async () => {
    assert.ok(engine);
    const project = uniqueName('compose');
    await writeSecret('compose/db', `${sentinel}-compose`);
    const folder = await mkdtemp(path.join(engine.dir, 'compose-'));
    const composeFile = path.join(folder, 'docker-compose.yml');
    await writeFile(composeFile, [
      'version: "3.8"',
      'services:',
      '  app:',
      '    image: busybox',
      '    network_mode: none',
      '    command: ["cat", "/run/secrets/db"]',
      '    volumes:',
      '      - db:/run/secrets/db',
      'volumes:',
      '  db:',
      '    driver: dsv',
      '    driver_opts:',
      '      secret: compose/db',
      '      mode: "0444"',
      '',
    ].join('\n'));
    const compose = (...args: string[]) => engine!.command('docker-compose', ['-p', project, '-f', composeFile, ...args]);

    try {
      const ran = await compose('run', '--rm', '-T', 'app');
      assert.equal(ran.code, 0, ran.stderr);
      assert.equal(ran.stdout, `${sentinel}-compose`);
    } finally {
      const down = await compose('down', '--volumes');
      assert.equal(down.code, 0, down.stderr);
    }
  });

  // Runs last: it checks everything the tests above made the plugin log or report.
  test('sentinel absent from logs, errors and state', async () => {
    assert.ok(engine);
    const log = engine.log();
    assert.match(log, /volume mounted/, 'the engine log does not carry the plugin output');
    assert.ok(!log.includes(sentinel), 'the engine log contains a secret value');
    assert.ok(!engine.outputs().includes(sentinel), 'a docker error output contains a secret value');
    const stateFiles = await filesContaining(path.join(plugin.propagatedMount, 'state'), sentinel);
    assert.deepEqual(stateFiles, [], 'a state file contains a secret value');
  });
});
