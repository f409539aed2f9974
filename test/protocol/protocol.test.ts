/**
 * The Docker volume plugin protocol over a real unix socket: every endpoint, every error path,
 * and the behaviours dockerd relies on (empty Activate body, Err on failure, RFC 3339 CreatedAt).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { BackendRegistry } from '../../src/backends/registry.ts';
import { volumeDriverRoutes } from '../../src/protocol/routes.ts';
import { maxBodyBytes, PluginServer } from '../../src/protocol/server.ts';
import { StateStore } from '../../src/volumes/state.ts';
import { VolumeService } from '../../src/volumes/volumes.ts';
import { MemoryBackend, memoryBackendDefinition } from '../support/memory-backend.ts';
import { captureLog } from '../support/log-capture.ts';
import { callPlugin } from '../support/plugin-client.ts';
import { diskTempDir, removeDir, tmpfsTempDir } from '../support/temp.ts';
import { assertNoSecret } from '../support/no-secret.ts';

const sentinel = 'SENTINEL-protocol-9e2c';
const rfc3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

describe('plugin protocol over a unix socket', () => {
  const backend = new MemoryBackend();
  const log = captureLog();
  const answers: string[] = [];
  let socket = '';
  let mountDir = '';
  let stateDir = '';
  let server: PluginServer;

  const call = async (method: string, body?: unknown, httpMethod?: string) => {
    const answer = await callPlugin(socket, method, body, httpMethod);
    answers.push(answer.text);
    return answer;
  };

  before(async () => {
    mountDir = await tmpfsTempDir('dsv-protocol');
    stateDir = await diskTempDir('dsv-protocol-state');
    socket = path.join(stateDir, 'dsv.sock');
    const volumes = new VolumeService({
      registry: new BackendRegistry([memoryBackendDefinition(backend)], {}, log.logger),
      state: new StateStore(stateDir),
      logger: log.logger,
      mountDir,
      defaultBackend: 'memory',
      retryPolicy: { budgetMs: 300, baseDelayMs: 1, maxDelayMs: 5, maxAttempts: 3 },
    });
    await volumes.start();
    server = new PluginServer({ socket, routes: volumeDriverRoutes(volumes), logger: log.logger });
    await server.listen();
    backend.set('db', sentinel);
    backend.set('json', `{"user": "u", "password": "${sentinel}"}`);
  });

  after(async () => {
    await server.close();
    await removeDir(mountDir);
    await removeDir(stateDir);
  });

  it('activate with an empty body', async () => {
    const answer = await call('Plugin.Activate');
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, { Implements: ['VolumeDriver'] });
  });

  it('capabilities are local', async () => {
    assert.deepEqual((await call('VolumeDriver.Capabilities', {})).body, { Capabilities: { Scope: 'local' } });
  });

  it('full lifecycle', async () => {
    assert.deepEqual((await call('VolumeDriver.Create', { Name: 'db', Opts: { mode: '0440' } })).body, {});
    const created = (await call('VolumeDriver.Get', { Name: 'db' })).body.Volume as Record<string, unknown>;
    assert.equal(created.Name, 'db');
    assert.equal(created.Mountpoint, undefined);
    assert.match(String(created.CreatedAt), rfc3339);

    const mounted = await call('VolumeDriver.Mount', { Name: 'db', ID: 'abc' });
    const file = String(mounted.body.Mountpoint);
    assert.equal(file, path.join(mountDir, 'db', 'secret'));
    assert.equal(await readFile(file, 'utf8'), sentinel);
    assert.deepEqual((await call('VolumeDriver.Path', { Name: 'db' })).body, { Mountpoint: file });

    const listed = (await call('VolumeDriver.List', {})).body.Volumes as Array<Record<string, unknown>>;
    assert.deepEqual(listed.map((volume) => [volume.Name, volume.Mountpoint]), [['db', file]]);

    assert.deepEqual((await call('VolumeDriver.Unmount', { Name: 'db', ID: 'abc' })).body, {});
    assert.deepEqual((await call('VolumeDriver.Path', { Name: 'db' })).body, { Mountpoint: '' });
    assert.deepEqual((await call('VolumeDriver.Remove', { Name: 'db' })).body, {});
    assert.match(String((await call('VolumeDriver.Get', { Name: 'db' })).body.Err), /VOLUME_NOT_FOUND/);
  });

  it('create with null options', async () => {
    backend.set('db2', 'x');
    assert.deepEqual((await call('VolumeDriver.Create', { Name: 'db2', Opts: null })).body, {});
    await call('VolumeDriver.Remove', { Name: 'db2' });
  });

  it('get of an unknown volume fails fast without a fetch', async () => {
    const fetches = backend.fetches.length;
    const answer = await call('VolumeDriver.Get', { Name: 'unknown-volume' });
    assert.equal(answer.status, 500);
    assert.match(String(answer.body.Err), /no dsv volume named "unknown-volume" \[VOLUME_NOT_FOUND\]/);
    assert.equal(backend.fetches.length, fetches);
  });

  it('backend errors become Err naming volume, backend and secret', async () => {
    const answer = await call('VolumeDriver.Create', { Name: 'nf', Opts: { secret: 'prod/none' } });
    assert.match(String(answer.body.Err), /^volume "nf", memory secret "prod\/none": .* \[SECRET_NOT_FOUND\] Check the secret name/);
  });

  it('key errors never quote the secret', async () => {
    const answer = await call('VolumeDriver.Create', { Name: 'k', Opts: { secret: 'json', key: 'missing' } });
    assert.match(String(answer.body.Err), /key "missing" is not in the JSON secret \[KEY_NOT_FOUND\]/);
    assert.ok(!answer.text.includes(sentinel));
  });

  it('mount and unmount of unknown volumes fail', async () => {
    assert.match(String((await call('VolumeDriver.Mount', { Name: 'nope', ID: 'x' })).body.Err), /VOLUME_NOT_FOUND/);
    assert.match(String((await call('VolumeDriver.Unmount', { Name: 'nope', ID: 'x' })).body.Err), /VOLUME_NOT_FOUND/);
    assert.match(String((await call('VolumeDriver.Remove', { Name: 'nope' })).body.Err), /VOLUME_NOT_FOUND/);
  });

  const malformed: Array<[string, string, unknown, RegExp]> = [
    ['not JSON', 'VolumeDriver.Create', '{"Name": ', /request body is not valid JSON/],
    ['a JSON array', 'VolumeDriver.Create', '[1]', /request body must be a JSON object/],
    ['a JSON string', 'VolumeDriver.Get', '"db"', /request body must be a JSON object/],
    ['no Name', 'VolumeDriver.Get', {}, /field "Name" must be a string/],
    ['a numeric Name', 'VolumeDriver.Remove', { Name: 5 }, /field "Name" must be a string/],
    ['no ID', 'VolumeDriver.Mount', { Name: 'db' }, /field "ID" must be a string/],
    ['numeric options', 'VolumeDriver.Create', { Name: 'x', Opts: { mode: 400 } }, /field "Opts" must map option names to string values/],
    ['an unsafe name', 'VolumeDriver.Create', { Name: '../../etc' }, /volume name "..\/..\/etc" is invalid/],
  ];
  for (const [label, method, body, expected] of malformed) {
    it(`rejects ${label}`, async () => {
      const answer = await call(method, body);
      assert.equal(answer.status, 400);
      assert.match(String(answer.body.Err), expected);
      assert.match(String(answer.body.Err), /\[INVALID_REQUEST\]/);
    });
  }

  it('explains a bodiless retry by dockerd', async () => {
    const answer = await call('VolumeDriver.Mount');
    assert.equal(answer.status, 400);
    assert.match(String(answer.body.Err), /came without a body, which dockerd sends when it retries after a plugin restart; run the command again/);
  });

  it('drops a bodiless Get instead of failing it', async () => {
    await assert.rejects(callPlugin(socket, 'VolumeDriver.Get'), /socket hang up|ECONNRESET/);
  });

  it('rejects unknown routes and methods', async () => {
    assert.match(String((await call('VolumeDriver.Explode', {})).body.Err), /unsupported request POST \/VolumeDriver.Explode/);
    assert.match(String((await call('VolumeDriver.List', undefined, 'GET')).body.Err), /unsupported request GET/);
  });

  it('rejects an oversized body and keeps serving', async () => {
    const answer = await call('VolumeDriver.Create', { Name: 'big', Opts: { pad: 'x'.repeat(maxBodyBytes) } });
    assert.match(String(answer.body.Err), /request body is larger than 65536 bytes/);
    assert.equal((await call('Plugin.Activate')).status, 200);
  });

  it('malformed HTTP gets a JSON Err', async () => {
    const client = net.connect(socket);
    const chunks: Buffer[] = [];
    client.on('data', (chunk: Buffer) => chunks.push(chunk));
    await new Promise((resolve) => client.once('connect', resolve));
    client.write('POST /VolumeDriver.List HTTP/1.1\r\nContent-Length: nope\r\n\r\n');
    await new Promise((resolve) => client.once('close', resolve));

    const answer = Buffer.concat(chunks).toString('utf8');
    assert.match(answer, /^HTTP\/1.1 400 /);
    assert.match(answer, /\{"Err":"malformed HTTP request \(.*\) \[INVALID_REQUEST\]"\}$/);
  });

  it('caps a long Err text', async () => {
    const options = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`unknown-${i}`, 'x']));
    const answer = await call('VolumeDriver.Create', { Name: 'long', Opts: options });
    const err = String(answer.body.Err);
    assert.match(err, /unknown options "unknown-0", .* and 2995 more/);
    assert.ok(err.length <= 4100, `Err is ${err.length} characters`);
  });

  it('a stalled client does not block others', async () => {
    const stalled = net.connect(socket);
    await new Promise((resolve) => stalled.once('connect', resolve));
    stalled.write('POST /VolumeDriver.Create HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"Name":');
    try {
      assert.deepEqual((await call('VolumeDriver.Capabilities', {})).body, { Capabilities: { Scope: 'local' } });
    } finally {
      stalled.destroy();
    }
  });

  it('many concurrent requests all get answers', async () => {
    backend.set('many', 'v');
    await call('VolumeDriver.Create', { Name: 'many', Opts: {} });
    const ids = Array.from({ length: 40 }, (_, i) => `id-${i}`);
    await Promise.all(ids.map((id) => call('VolumeDriver.Mount', { Name: 'many', ID: id })));
    const volume = (await call('VolumeDriver.Get', { Name: 'many' })).body.Volume as { Status: { mounts: number } };
    assert.equal(volume.Status.mounts, 40);
    await Promise.all(ids.map((id) => call('VolumeDriver.Unmount', { Name: 'many', ID: id })));
    assert.deepEqual((await call('VolumeDriver.Path', { Name: 'many' })).body, { Mountpoint: '' });
  });

  it('sentinel never in logs or answers', () => {
    assert.ok(answers.length > 10);
    for (const answer of answers) assertNoSecret(answer, sentinel, 'a response');
    assert.ok(!log.text().includes(sentinel));
  });
});
