import { after, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, readFile, readdir, stat, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { BackendRegistry } from '../backends/registry.ts';
import { DsvError } from '../errors.ts';
import { MemoryBackend, memoryBackendDefinition } from '../../test/support/memory-backend.ts';
import { captureLog, type CapturedLog } from '../../test/support/log-capture.ts';
import { diskTempDir, removeDir, tmpfsTempDir } from '../../test/support/temp.ts';
import { StateStore } from './state.ts';
import { VolumeService } from './volumes.ts';
import { assertNoSecret } from '../../test/support/no-secret.ts';

const sentinel = 'SENTINEL-7f3a9c-do-not-log';
const quickPolicy = { budgetMs: 500, baseDelayMs: 1, maxDelayMs: 5, maxAttempts: 3 };

interface Fixture {
  backend: MemoryBackend;
  volumes: VolumeService;
  log: CapturedLog;
  mountDir: string;
  stateDir: string;
  restart(): Promise<VolumeService>;
}

const directories: string[] = [];
after(async () => {
  for (const directory of directories) await removeDir(directory);
});

async function fixture(): Promise<Fixture> {
  const backend = new MemoryBackend();
  const log = captureLog();
  const mountDir = await tmpfsTempDir('dsv-volumes');
  const stateDir = await diskTempDir('dsv-state');
  directories.push(mountDir, stateDir);

  const build = async (): Promise<VolumeService> => {
    const service = new VolumeService({
      registry: new BackendRegistry([memoryBackendDefinition(backend)], {}, log.logger),
      state: new StateStore(stateDir),
      logger: log.logger,
      mountDir,
      defaultBackend: 'memory',
      retryPolicy: quickPolicy,
    });
    await service.start();
    return service;
  };
  return { backend, volumes: await build(), log, mountDir, stateDir, restart: build };
}

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<DsvError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof DsvError, `expected a DsvError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected ${code}, but the call succeeded`);
}

describe('VolumeService', () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await fixture();
  });

  it('create checks the secret and keeps no value', async () => {
    f.backend.set('prod/db', sentinel);
    await f.volumes.create('db', { secret: 'prod/db' });

    assert.equal(f.backend.fetches.length, 1);
    const stateText = await readFile(path.join(f.stateDir, 'volumes.json'), 'utf8');
    assert.ok(stateText.includes('prod/db'));
    assert.ok(!stateText.includes(sentinel));
    assert.deepEqual(await readdir(f.mountDir), []);
  });

  it('create of a missing secret fails with the volume named', async () => {
    const error = await rejectsWith(f.volumes.create('missing', {}), 'SECRET_NOT_FOUND');
    assert.match(error.describe(), /volume "missing", memory secret "missing"/);
    assert.throws(() => f.volumes.get('missing'), /VOLUME_NOT_FOUND|no dsv volume/);
  });

  it('create with a bad option names it', async () => {
    const error = await rejectsWith(f.volumes.create('v1', { mode: '0999', colour: 'red' }), 'INVALID_OPTION');
    assert.match(error.message, /option "mode" is invalid/);
    assert.match(error.message, /unknown option "colour": backend memory accepts backend, secret, key, mode, uid, gid, version/);
    assert.equal(f.backend.fetches.length, 0);
  });

  it('create is idempotent for the same options only', async () => {
    f.backend.set('v1', 'x');
    await f.volumes.create('v1', { mode: '0440' });
    await f.volumes.create('v1', { mode: '0440' });
    await rejectsWith(f.volumes.create('v1', { mode: '0400' }), 'VOLUME_EXISTS');
  });

  it('create rejects a name unsafe as a path', async () => {
    await rejectsWith(f.volumes.create('../etc', {}), 'INVALID_REQUEST');
    await rejectsWith(f.volumes.create('a/b', {}), 'INVALID_REQUEST');
  });

  it('mount writes the value byte for byte with mode and owner', async () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    f.backend.set('bin', bytes);
    await f.volumes.create('bin', { mode: '0440', uid: '1234', gid: '5678' });

    const file = await f.volumes.mount('bin', 'id-1');
    assert.equal(file, path.join(f.mountDir, 'bin', 'secret'));
    assert.deepEqual(new Uint8Array(await readFile(file)), bytes);
    const info = await stat(file);
    assert.equal(info.mode & 0o7777, 0o440);
    if (process.getuid?.() === 0) {
      assert.equal(info.uid, 1234);
      assert.equal(info.gid, 5678);
    }
  });

  it('mount seals the file read-only', { skip: process.getuid?.() !== 0 && 'bind mounts need root' }, async () => {
    f.backend.set('sealed', 'value');
    await f.volumes.create('sealed', { mode: '0666' });
    const file = await f.volumes.mount('sealed', 'a');

    await assert.rejects(writeFile(file, 'tampered'), { code: 'EROFS' });
    const mountInfo = await readFile('/proc/self/mountinfo', 'utf8');
    const line = mountInfo.split('\n').find((entry) => entry.split(' ')[4] === file);
    assert.ok(line, 'the secret file is not a mount point');
    assert.match(line.split(' ')[5] ?? '', /^ro,nosuid,nodev,noexec/);

    await f.volumes.unmount('sealed', 'a');
    assert.ok(!(await readFile('/proc/self/mountinfo', 'utf8')).includes(` ${file} `), 'the bind mount outlived the unmount');
    await assert.rejects(stat(file), { code: 'ENOENT' });
  });

  it('mount ignores the umask', async () => {
    f.backend.set('open', 'x');
    await f.volumes.create('open', { mode: '0666' });
    const previous = process.umask(0o077);
    try {
      const file = await f.volumes.mount('open', 'id');
      assert.equal((await stat(file)).mode & 0o777, 0o666);
    } finally {
      process.umask(previous);
    }
  });

  it('mount applies the key option', async () => {
    f.backend.set('json', '{"db": {"password": "pw"}, "port": 5432}');
    await f.volumes.create('pw', { secret: 'json', key: 'db.password' });
    assert.equal(await readFile(await f.volumes.mount('pw', 'a'), 'utf8'), 'pw');
  });

  it('mount counts per ID and removes the file at zero', async () => {
    f.backend.set('c', 'value');
    await f.volumes.create('c', {});
    const file = await f.volumes.mount('c', 'a');
    await f.volumes.mount('c', 'a');
    await f.volumes.mount('c', 'b');
    assert.equal(f.backend.fetches.length, 2, 'create and the first mount fetch; later mounts share the file');

    await f.volumes.unmount('c', 'a');
    await f.volumes.unmount('c', 'b');
    assert.equal(await readFile(file, 'utf8'), 'value', 'one mount of ID a is left');
    assert.equal(f.volumes.get('c').mountpoint, file);

    await f.volumes.unmount('c', 'a');
    await assert.rejects(stat(file), { code: 'ENOENT' });
    assert.equal(f.volumes.get('c').mountpoint, undefined);
  });

  it('unmount of an unknown ID is harmless', async () => {
    f.backend.set('u', 'value');
    await f.volumes.create('u', {});
    const file = await f.volumes.mount('u', 'a');
    await f.volumes.unmount('u', 'never-mounted');
    assert.equal(await readFile(file, 'utf8'), 'value');
  });

  it('mount failure leaves no file and no count', async () => {
    f.backend.set('m', 'value');
    await f.volumes.create('m', {});
    f.backend.failNext('ACCESS_DENIED');
    const error = await rejectsWith(f.volumes.mount('m', 'a'), 'ACCESS_DENIED');
    assert.match(error.describe(), /volume "m", memory secret "m"/);
    assert.deepEqual(await readdir(f.mountDir), []);
    assert.equal(f.volumes.get('m').status.mounts, 0);
  });

  it('mount retries retryable failures', async () => {
    f.backend.set('r', 'value');
    await f.volumes.create('r', {});
    f.backend.failNext('THROTTLED', 2);
    assert.equal(await readFile(await f.volumes.mount('r', 'a'), 'utf8'), 'value');
    assert.equal(f.backend.fetches.length, 4);
  });

  it('mount times out within the budget', async () => {
    f.backend.set('slow', 'value');
    await f.volumes.create('slow', {});
    f.backend.delayMs = Number.POSITIVE_INFINITY;
    await rejectsWith(f.volumes.mount('slow', 'a'), 'TIMEOUT');
  });

  it('restart keeps volumes and forgets mounts', async () => {
    f.backend.set('keep', 'value');
    await f.volumes.create('keep', { mode: '0400' });
    await f.volumes.mount('keep', 'a');

    const restarted = await f.restart();
    assert.deepEqual(restarted.list().map((volume) => volume.name), ['keep']);
    assert.equal(restarted.get('keep').mountpoint, undefined);
    assert.deepEqual(await readdir(f.mountDir), [], 'the file of the earlier run is gone');

    await restarted.mount('keep', 'a');
    assert.equal(f.backend.fetches.length, 3, 'the first mount after a restart fetches again');
  });

  it('start leaves folders it does not own', async () => {
    await mkdir(path.join(f.mountDir, 'other'));
    await writeFile(path.join(f.mountDir, 'other', 'data.txt'), 'x');
    await mkdir(path.join(f.mountDir, 'empty'));
    await mkdir(path.join(f.mountDir, 'app'));
    await writeFile(path.join(f.mountDir, 'app', 'secret'), 'x');
    await f.restart();
    assert.deepEqual((await readdir(f.mountDir)).sort(), ['app', 'empty', 'other']);
    assert.deepEqual(await readdir(path.join(f.mountDir, 'app')), ['secret']);
  });

  it('remove forgets the volume without calling the backend', async () => {
    f.backend.set('gone', 'value');
    await f.volumes.create('gone', {});
    const file = await f.volumes.mount('gone', 'a');
    const fetches = f.backend.fetches.length;

    await f.volumes.remove('gone');
    assert.equal(f.backend.fetches.length, fetches);
    await assert.rejects(stat(file), { code: 'ENOENT' });
    assert.throws(() => f.volumes.get('gone'), (error: unknown) => error instanceof DsvError && error.code === 'VOLUME_NOT_FOUND');
    await rejectsWith(f.volumes.remove('gone'), 'VOLUME_NOT_FOUND');
  });

  it('get and list never call the backend', async () => {
    f.backend.set('g', '{"a": "value"}');
    await f.volumes.create('g', { key: 'a', version: '3' });
    const fetches = f.backend.fetches.length;

    const volume = f.volumes.get('g');
    assert.deepEqual(volume.status, { backend: 'memory', secret: 'g', mode: '0400', uid: '0', gid: '0', key: 'a', version: '3', mounts: 0 });
    assert.match(volume.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    assert.equal(f.volumes.list().length, 1);
    assert.equal(f.backend.fetches.length, fetches);
  });

  it('logs each operation with its references', async () => {
    f.backend.set('prod/log', 'value');
    await f.volumes.create('logged', { secret: 'prod/log' });
    await f.volumes.mount('logged', 'a');
    await f.volumes.unmount('logged', 'a');
    await f.volumes.remove('logged');

    const messages = ['volume created', 'volume mounted', 'volume unmounted', 'volume removed'];
    for (const message of messages) {
      const entry = f.log.entries().find((candidate) => candidate.msg === message && candidate.volume === 'logged');
      assert.ok(entry, `no "${message}" line`);
      assert.equal(entry.backend, 'memory', message);
      assert.equal(entry.secret, 'prod/log', message);
    }
  });

  it('concurrent mounts of one volume fetch once', async () => {
    f.backend.set('par', 'value');
    await f.volumes.create('par', {});
    f.backend.delayMs = 20;
    await Promise.all([f.volumes.mount('par', 'a'), f.volumes.mount('par', 'b'), f.volumes.mount('par', 'c')]);
    assert.equal(f.backend.fetches.length, 2);
    assert.equal(f.volumes.get('par').status.mounts, 3);
  });

  it('prototype names are plain names', async () => {
    f.backend.set('constructor', 'value');
    await f.volumes.create('constructor', {});
    assert.equal(f.volumes.get('constructor').name, 'constructor');
    assert.throws(() => f.volumes.get('toString'), (error: unknown) => error instanceof DsvError && error.code === 'VOLUME_NOT_FOUND');

    await f.volumes.mount('constructor', 'constructor');
    await f.volumes.mount('constructor', '__proto__');
    assert.equal(f.volumes.get('constructor').status.mounts, 2);
    await f.volumes.unmount('constructor', 'constructor');
    await f.volumes.unmount('constructor', '__proto__');
    assert.equal(f.volumes.get('constructor').mountpoint, undefined);

    const restarted = await f.restart();
    assert.deepEqual(restarted.list().map((volume) => volume.name), ['constructor']);
  });

  it('an option named __proto__ is unknown', async () => {
    f.backend.set('p', 'value');
    const options = Object.create(null) as Record<string, string>;
    options['__proto__'] = 'x';
    const error = await rejectsWith(f.volumes.create('p', options), 'INVALID_OPTION');
    assert.match(error.message, /unknown option "__proto__"/);
  });

  it('create fails and forgets the volume when state cannot be saved', async (t) => {
    if (process.getuid?.() === 0) {
      t.skip('root writes to read-only folders');
      return;
    }
    f.backend.set('ro', 'value');
    await chmod(f.stateDir, 0o500);
    try {
      await rejectsWith(f.volumes.create('ro', {}), 'STATE_FAILED');
      assert.throws(() => f.volumes.get('ro'), /VOLUME_NOT_FOUND|no dsv volume/);
    } finally {
      await chmod(f.stateDir, 0o700);
    }
  });

  it('create fails and forgets the volume when a save fails', async () => {
    f.backend.set('blocked', 'value');
    // A folder where the temporary state file goes makes every save fail, as root too.
    const blocker = path.join(f.stateDir, `volumes.json.${process.pid}.tmp`);
    await mkdir(blocker);
    const error = await rejectsWith(f.volumes.create('blocked', {}), 'STATE_FAILED');
    assert.match(error.describe(), /^volume "blocked", memory secret "blocked": writing state file/);
    assert.throws(() => f.volumes.get('blocked'), (failure: unknown) => failure instanceof DsvError && failure.code === 'VOLUME_NOT_FOUND');
  });

  it('mount goes on when a save fails', async () => {
    f.backend.set('keepgoing', 'value');
    await f.volumes.create('keepgoing', {});
    await mkdir(path.join(f.stateDir, `volumes.json.${process.pid}.tmp`));
    const file = await f.volumes.mount('keepgoing', 'a');
    assert.equal(await readFile(file, 'utf8'), 'value');
    assert.ok(f.log.entries().some((entry) => entry.msg === 'saving mount counts failed'));
  });

  it('waiting requests share one budget', async () => {
    f.backend.set('queue', 'value');
    await f.volumes.create('queue', {});
    f.backend.delayMs = Number.POSITIVE_INFINITY;
    const started = performance.now();
    const results = await Promise.allSettled([1, 2, 3, 4].map((n) => f.volumes.mount('queue', `id-${n}`)));
    const elapsedMs = performance.now() - started;

    for (const result of results) {
      assert.equal(result.status, 'rejected');
      assert.equal((result.reason as DsvError).code, 'TIMEOUT');
    }
    // Four fetches one after another would take four budgets; one budget is 500 ms here.
    assert.ok(elapsedMs < 1500, `four queued mounts took ${Math.round(elapsedMs)} ms`);
  });

  it('unmount keeps files dsv did not write', async () => {
    f.backend.set('mixed', 'value');
    await f.volumes.create('mixed', {});
    await f.volumes.mount('mixed', 'a');
    await writeFile(path.join(f.mountDir, 'mixed', 'other.txt'), 'x');
    await f.volumes.unmount('mixed', 'a');
    assert.deepEqual(await readdir(path.join(f.mountDir, 'mixed')), ['other.txt']);
  });

  it('option errors name backend and secret', async () => {
    const error = await rejectsWith(f.volumes.create('bad', { secret: 'prod/x', mode: '0800' }), 'INVALID_OPTION');
    assert.match(error.describe(), /^volume "bad", memory secret "prod\/x": option "mode" is invalid/);
  });

  it('create fixes the default backend', async () => {
    f.backend.set('fixed', 'value');
    await f.volumes.create('fixed', {});
    const other = new VolumeService({
      registry: new BackendRegistry([memoryBackendDefinition(f.backend), { ...memoryBackendDefinition(new MemoryBackend()), name: 'other' }], {}, f.log.logger),
      state: new StateStore(f.stateDir),
      logger: f.log.logger,
      mountDir: f.mountDir,
      defaultBackend: 'other',
      retryPolicy: quickPolicy,
    });
    await other.start();
    assert.equal(other.get('fixed').status.backend, 'memory');
    assert.equal(await readFile(await other.mount('fixed', 'a'), 'utf8'), 'value');
  });

  it('mount refuses a folder no longer on tmpfs', async () => {
    const disk = await diskTempDir('dsv-not-tmpfs');
    directories.push(disk);
    const service = new VolumeService({
      registry: new BackendRegistry([memoryBackendDefinition(f.backend)], {}, f.log.logger),
      state: new StateStore(f.stateDir),
      logger: f.log.logger,
      mountDir: disk,
      defaultBackend: 'memory',
      retryPolicy: quickPolicy,
    });
    await service.start();
    f.backend.set('disk', sentinel);
    await service.create('disk', {});
    const error = await rejectsWith(service.mount('disk', 'a'), 'MOUNT_FAILED');
    assert.match(error.message, /is no longer on tmpfs, so no secret is written there/);
    assert.deepEqual(await readdir(disk), []);
  });

  it('sentinel value never reaches logs, errors or state', async () => {
    f.backend.set('s', sentinel);
    f.backend.set('sj', `{"a": "${sentinel}"}`);
    f.backend.set('not-json', sentinel);
    await f.volumes.create('s', {});
    await f.volumes.mount('s', 'a');
    await f.volumes.create('sj', { key: 'a' });
    await f.volumes.mount('sj', 'a');
    const errors = [
      await rejectsWith(f.volumes.create('nj', { secret: 'not-json', key: 'a' }), 'SECRET_NOT_JSON'),
      await rejectsWith(f.volumes.create('nk', { secret: 'sj', key: 'b' }), 'KEY_NOT_FOUND'),
    ];
    await f.volumes.unmount('s', 'a');

    for (const error of errors) assertNoSecret(error.describe(), sentinel, 'an error');
    assert.ok(!f.log.text().includes(sentinel), 'a log line contains the sentinel');
    assert.ok(!(await readFile(path.join(f.stateDir, 'volumes.json'), 'utf8')).includes(sentinel));
  });
});
