/**
 * Every backend through a real Docker engine. Each vendor fake in test/fakes/index.ts runs on
 * 127.0.0.1, which the managed plugin reaches because it shares the host network. The plugin is
 * installed once with all fakes' settings and credential files, and a container must print each
 * fake's demo value.
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RunningFake } from '../fakes/fake.ts';
import { fakes } from '../fakes/index.ts';
import { pluginPaths } from '../../scripts/plugin-build.ts';
import { e2eSkipReason, startEngine, type Engine } from './engine.ts';
import { importBusybox, installDsv, uniqueName } from './plugin.ts';

const backendNames = Object.keys(fakes);

/** Writes each fake's credential files into one folder, as a user would fill the mount source. */
async function writeCredentialFiles(folder: string, running: readonly RunningFake[]): Promise<void> {
  for (const fake of running) {
    for (const [relativePath, content] of Object.entries(fake.credentialFiles)) {
      const file = path.join(folder, relativePath);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, content, { mode: 0o600 });
    }
  }
}

/**
 * Merges all fakes' plugin settings. Plugin settings can change only while the plugin is
 * disabled, so one install has to serve every backend, and two fakes must never need one
 * variable set two ways.
 */
function mergeSettings(running: readonly RunningFake[]): Record<string, string> {
  const settings: Record<string, string> = {};
  const owners: Record<string, string> = {};
  for (const fake of running) {
    for (const [name, value] of Object.entries(fake.settings(pluginPaths.credentials))) {
      const owner = owners[name];
      if (owner !== undefined && settings[name] !== value) {
        throw new Error(`fakes ${owner} and ${fake.backend} both set ${name}, to different values`);
      }
      settings[name] = value;
      owners[name] = fake.backend;
    }
  }
  return settings;
}

describe('backends against fakes on a private engine', { skip: e2eSkipReason() }, () => {
  let engine: Engine | undefined;
  const running: RunningFake[] = [];

  before(async () => {
    for (const name of backendNames) running.push(await fakes[name]!());
    engine = await startEngine();
    await importBusybox(engine);

    const credentialsDir = await mkdtemp(path.join(engine.dir, 'credentials-'));
    await writeCredentialFiles(credentialsDir, running);
    // The plugin reads the folder as root through a read-only bind mount, so 0700 is enough.
    await chmod(credentialsDir, 0o700);
    const settings = mergeSettings(running);
    await installDsv(engine, { credentialsDir, settings: { ...settings, DSV_LOG_LEVEL: 'trace' } });
  });

  after(async () => {
    await engine?.stop();
    await Promise.all(running.map((fake) => fake.close()));
  });

  for (const backend of backendNames) {
    test(`${backend} backend serves its demo secret`, async () => {
      assert.ok(engine, 'the engine did not start');
      const fake = running.find((candidate) => candidate.backend === backend);
      assert.ok(fake, `the ${backend} fake did not start`);
      const name = uniqueName(backend);
      const options = { backend, secret: fake.demoSecret, ...fake.demoOptions };
      const optionArgs = Object.entries(options).flatMap(([option, value]) => ['-o', `${option}=${value}`]);

      const created = await engine.docker('volume', 'create', '-d', 'dsv', ...optionArgs, name);
      assert.equal(created.code, 0, created.stderr);
      const ran = await engine.docker('run', '--rm', '--network', 'none', '-v', `${name}:/run/secrets/demo`, 'busybox', 'cat', '/run/secrets/demo');

      assert.equal(ran.code, 0, ran.stderr);
      assert.equal(ran.stdout, fake.demoValue);

      const mount = `type=volume,volume-driver=dsv,src=${name},target=/run/secrets/demo,readonly`;
      const mounted = await engine.docker('run', '--rm', '--network', 'none', '--mount', mount, 'busybox', 'cat', '/run/secrets/demo');
      assert.equal(mounted.code, 0, mounted.stderr);
      assert.equal(mounted.stdout, fake.demoValue);
    });

    test(`${backend} backend reports a missing secret`, async () => {
      assert.ok(engine, 'the engine did not start');
      const fake = running.find((candidate) => candidate.backend === backend);
      assert.ok(fake, `the ${backend} fake did not start`);
      const name = uniqueName(`${backend}-missing`);
      const secret = `${fake.demoSecret}-missing`;

      const started = performance.now();
      const created = await engine.docker('volume', 'create', '-d', 'dsv', '-o', `backend=${backend}`, '-o', `secret=${secret}`, name);
      const elapsedMs = performance.now() - started;

      assert.notEqual(created.code, 0, 'creating a volume for a missing secret succeeded');
      assert.match(created.stderr, new RegExp(`volume "${name}", ${backend} secret "${secret}": .*\\[SECRET_NOT_FOUND\\]`));
      // The default fetch budget is 20 s; a not-found answer is final and must not use it up.
      assert.ok(elapsedMs < 20_000, `docker volume create took ${Math.round(elapsedMs)} ms`);
    });
  }

  test('demo values absent from logs and errors', () => {
    assert.ok(engine, 'the engine did not start');
    const log = engine.log();
    const outputs = engine.outputs();
    for (const fake of running) {
      assert.ok(!log.includes(fake.demoValue), `the engine log contains the ${fake.backend} demo value`);
      assert.ok(!outputs.includes(fake.demoValue), `a docker error output contains the ${fake.backend} demo value`);
    }
  });
});
