/**
 * The gcp backend with the official client (REST transport) against the loopback fake. The
 * client signs its own tokens with the fake's dummy key, so no token server is involved, and
 * the fake also serves the metadata address set below, so a stray metadata lookup shows up.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { DsvError, type ErrorCode } from '../../src/errors.ts';
import type { BackendOptions, SecretBackend } from '../../src/backends/backend.ts';
import { fetchWithRetry, type RetryPolicy } from '../../src/backends/retry.ts';
import { gcpBackend } from '../../src/backends/gcp/index.ts';
import { GcpBackend } from '../../src/backends/gcp/gcp-backend.ts';
import { startGcpFake, type GcpFake } from '../fakes/gcp.ts';
import { captureLog, type CapturedLog } from '../support/log-capture.ts';
import { removeDir, tmpfsTempDir } from '../support/temp.ts';

process.env.METADATA_SERVER_DETECTION = 'none';
for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'GOOGLE_APPLICATION_CREDENTIALS']) {
  delete process.env[name];
}

const sentinel = 'dsv-sentinel-7f3c9a51-gcp';
const sentinelBase64 = Buffer.from(sentinel).toString('base64');
const policy: RetryPolicy = { budgetMs: 5_000, baseDelayMs: 20, maxDelayMs: 2_000, maxAttempts: 4 };

let fake: GcpFake;
let dir: string;
let log: CapturedLog;
let backend: SecretBackend;
const errorTexts: string[] = [];

async function writeKeyFile(file: string, contents: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  // Replaced by rename, as Kubernetes and most deploy tools replace mounted files.
  await writeFile(`${file}.new`, contents, { mode: 0o600 });
  await rename(`${file}.new`, file);
}

async function newBackend(env: Record<string, string>): Promise<SecretBackend> {
  return gcpBackend.create({ env, logger: log.logger });
}

function fetchOnce(target: SecretBackend, secret: string, options: BackendOptions = {}): Promise<Uint8Array> {
  return target.fetch({ secret, options }, { signal: AbortSignal.timeout(5_000) });
}

async function text(secret: string, options: BackendOptions = {}): Promise<string> {
  return Buffer.from(await fetchOnce(backend, secret, options)).toString();
}

/** Awaits a rejection with `code`, recording every text of the error for the sentinel check. */
async function rejection(promise: Promise<unknown>, code: ErrorCode): Promise<DsvError> {
  const error = await promise.then(
    () => assert.fail(`expected ${code}, got a value`),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof DsvError, `expected a DsvError, got ${String(error)}`);
  errorTexts.push(error.describe(), String((error.cause as Error | undefined)?.message), JSON.stringify(error));
  assert.equal(error.code, code, error.message);
  return error;
}

function requestsSince(start: number): GcpFake['requests'] {
  return fake.requests.slice(start);
}

before(async () => {
  fake = await startGcpFake();
  process.env.GCE_METADATA_HOST = new URL(fake.url).host;
  dir = await tmpfsTempDir('dsv-gcp-test');
  await writeKeyFile(path.join(dir, 'gcp/key.json'), fake.credentialFiles['gcp/key.json'] as string);
  log = captureLog();
  backend = await newBackend(fake.settings(dir));
});

after(async () => {
  await fake.close();
  await removeDir(dir);
});

describe('gcp backend values', () => {
  test('latest demo value', async () => {
    const start = fake.requests.length;

    assert.equal(await text(fake.demoSecret), fake.demoValue);

    const requests = requestsSince(start);
    assert.equal(requests.length, 1);
    assert.equal(requests[0]?.path, `/v1/projects/${fake.project}/secrets/demo-hello/versions/latest:access`);
  });

  test('numbered version, latest and name form', async () => {
    fake.addVersion(fake.project, 'numbered', 'one');
    fake.addVersion(fake.project, 'numbered', 'two');

    assert.equal(await text('numbered', { version: '1' }), 'one');
    assert.equal(await text('numbered'), 'two');
    assert.equal(await text(`projects/${fake.project}/secrets/numbered/versions/1`), 'one');
    assert.equal(await text(`projects/${fake.project}/secrets/numbered`, { version: '2' }), 'two');
  });

  test('version alias', async () => {
    fake.addVersion(fake.project, 'aliased', 'first', { aliases: ['stable'] });
    fake.addVersion(fake.project, 'aliased', 'second');

    assert.equal(await text('aliased', { version: 'stable' }), 'first');
  });

  test('regional secret by option and by name', async () => {
    fake.addVersion(fake.project, 'regional', 'from us-east1', { location: 'us-east1' });
    const start = fake.requests.length;

    assert.equal(await text('regional', { location: 'us-east1' }), 'from us-east1');
    assert.equal(await text(`projects/${fake.project}/locations/us-east1/secrets/regional/versions/latest`), 'from us-east1');

    const paths = requestsSince(start).map((request) => request.path);
    assert.deepEqual(paths, [
      `/v1/projects/${fake.project}/locations/us-east1/secrets/regional/versions/latest:access`,
      `/v1/projects/${fake.project}/locations/us-east1/secrets/regional/versions/latest:access`,
    ]);
  });

  test('binary payload byte-exact', async () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    fake.addVersion(fake.project, 'binary', bytes);

    const value = await fetchOnce(backend, 'binary');

    assert.deepEqual(Buffer.from(value), Buffer.from(bytes));
  });

  test('project from the key file when DSV_GCP_PROJECT is unset', async () => {
    const { DSV_GCP_PROJECT: _unused, ...env } = fake.settings(dir);
    const withoutProject = await newBackend(env);

    const value = await fetchOnce(withoutProject, fake.demoSecret);

    assert.equal(Buffer.from(value).toString(), fake.demoValue);
  });

  test('default key file when GOOGLE_APPLICATION_CREDENTIALS is unset', async () => {
    const target = new GcpBackend({
      project: fake.project,
      endpoint: { host: '127.0.0.1', port: Number(new URL(fake.url).port), protocol: 'http' },
      credentialsFile: undefined,
      defaultCredentialsFile: path.join(dir, 'gcp/key.json'),
      logger: log.logger,
    });

    const value = await fetchOnce(target, fake.demoSecret);

    assert.equal(Buffer.from(value).toString(), fake.demoValue);
  });
});

describe('gcp backend errors', () => {
  before(() => {
    fake.addVersion(fake.project, 'sentinel', sentinel);
  });

  test('checksum mismatch is a backend error', async () => {
    fake.corruptChecksumNext(1);

    const error = await rejection(fetchOnce(backend, 'sentinel'), 'BACKEND_ERROR');

    assert.match(error.message, /CRC32C/);
  });

  test('missing secret and missing version', async () => {
    await rejection(fetchOnce(backend, 'no-such-secret'), 'SECRET_NOT_FOUND');
    await rejection(fetchOnce(backend, 'sentinel', { version: '9' }), 'SECRET_NOT_FOUND');
    await rejection(fetchOnce(backend, 'sentinel', { version: 'no-such-alias' }), 'SECRET_NOT_FOUND');
  });

  test('disabled and destroyed versions are deleted', async () => {
    fake.addVersion(fake.project, 'retired', sentinel);
    fake.addVersion(fake.project, 'retired', sentinel);
    fake.disableVersion(fake.project, 'retired', 1);
    fake.destroyVersion(fake.project, 'retired', 2);

    const disabled = await rejection(fetchOnce(backend, 'retired', { version: '1' }), 'SECRET_DELETED');
    const destroyed = await rejection(fetchOnce(backend, 'retired'), 'SECRET_DELETED');

    assert.match(disabled.message, /DISABLED/);
    assert.match(destroyed.message, /DESTROYED/);
  });

  test('permission denied', async () => {
    fake.addVersion(fake.project, 'forbidden', sentinel);
    fake.deny(fake.project, 'forbidden');

    await rejection(fetchOnce(backend, 'forbidden'), 'ACCESS_DENIED');
  });

  test('unknown key is rejected once, without a resend', async () => {
    const strangerDir = await tmpfsTempDir('dsv-gcp-stranger');
    const stranger = JSON.parse(fake.credentialFiles['gcp/key.json'] as string) as Record<string, string>;
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    stranger.private_key = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    stranger.private_key_id = 'not-a-key-the-fake-knows';
    await writeKeyFile(path.join(strangerDir, 'gcp/key.json'), JSON.stringify(stranger));
    const target = await newBackend(fake.settings(strangerDir));
    const start = fake.requests.length;

    try {
      await rejection(fetchOnce(target, 'sentinel'), 'INVALID_CREDENTIALS');
      await rejection(fetchOnce(target, 'sentinel'), 'INVALID_CREDENTIALS');
    } finally {
      await removeDir(strangerDir);
    }
    assert.deepEqual(
      requestsSince(start).map((request) => request.status),
      [401, 401],
    );
  });

  test('closed port is unavailable', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const target = await newBackend({ ...fake.settings(dir), DSV_GCP_ENDPOINT: `http://127.0.0.1:${port}` });

    const error = await rejection(fetchOnce(target, 'sentinel'), 'BACKEND_UNAVAILABLE');

    assert.match(error.message, /ECONNREFUSED/);
  });

  test('no project anywhere is a setting error', async () => {
    const bareDir = await tmpfsTempDir('dsv-gcp-bare');
    const { project_id: _unused, ...key } = JSON.parse(fake.credentialFiles['gcp/key.json'] as string) as Record<string, string>;
    await writeKeyFile(path.join(bareDir, 'gcp/key.json'), JSON.stringify(key));
    const { DSV_GCP_PROJECT: _alsoUnused, ...env } = fake.settings(bareDir);
    const target = await newBackend(env);

    try {
      const error = await rejection(fetchOnce(target, 'sentinel'), 'INVALID_SETTING');
      assert.match(error.message, /DSV_GCP_PROJECT/);
      assert.equal(Buffer.from(await fetchOnce(target, `projects/${fake.project}/secrets/demo-hello`)).toString(), fake.demoValue);
    } finally {
      await removeDir(bareDir);
    }
  });

  test('no credentials at all is a credentials error', async () => {
    const emptyHome = await tmpfsTempDir('dsv-gcp-home');
    const savedHome = process.env.HOME;
    // HOME decides where the client looks for gcloud's application default credentials file.
    process.env.HOME = emptyHome;
    const target = new GcpBackend({
      project: fake.project,
      endpoint: { host: '127.0.0.1', port: Number(new URL(fake.url).port), protocol: 'http' },
      credentialsFile: undefined,
      defaultCredentialsFile: path.join(emptyHome, 'absent.json'),
      logger: log.logger,
    });
    const start = fake.requests.length;

    try {
      const error = await rejection(fetchOnce(target, 'sentinel'), 'INVALID_CREDENTIALS');
      assert.match(error.message, /default credentials/);
    } finally {
      process.env.HOME = savedHome;
      await removeDir(emptyHome);
    }
    assert.equal(fake.requests.length, start);
  });

  test('invalid version option before any request', async () => {
    const start = fake.requests.length;

    await rejection(fetchOnce(backend, `projects/${fake.project}/secrets/sentinel/versions/1`, { version: '2' }), 'INVALID_OPTION');

    assert.equal(fake.requests.length, start);
  });

  test('already aborted signal sends nothing', async () => {
    const start = fake.requests.length;

    const fetching = backend.fetch({ secret: 'sentinel', options: {} }, { signal: AbortSignal.abort() });

    await rejection(fetching, 'TIMEOUT');
    assert.equal(fake.requests.length, start);
  });
});

describe('gcp backend with fetchWithRetry', () => {
  test('throttling waits for Retry-After', async () => {
    fake.throttleNext(1, { retryAfterSeconds: 1 });
    const retries: Array<{ code: string; delayMs: number }> = [];

    const value = await fetchWithRetry(backend, { secret: fake.demoSecret, options: {} }, policy, {
      onRetry: (error, _attempt, delayMs) => retries.push({ code: error.code, delayMs }),
    });

    assert.equal(Buffer.from(value).toString(), fake.demoValue);
    assert.deepEqual(retries, [{ code: 'THROTTLED', delayMs: 1_000 }]);
  });

  test('throttling without Retry-After backs off', async () => {
    fake.throttleNext(2);
    const retries: Array<{ retryAfterMs: number | undefined; delayMs: number }> = [];

    const value = await fetchWithRetry(backend, { secret: fake.demoSecret, options: {} }, policy, {
      onRetry: (error, _attempt, delayMs) => retries.push({ retryAfterMs: error.retryAfterMs, delayMs }),
      random: () => 0.5,
    });

    assert.equal(Buffer.from(value).toString(), fake.demoValue);
    assert.deepEqual(retries, [
      { retryAfterMs: undefined, delayMs: 10 },
      { retryAfterMs: undefined, delayMs: 20 },
    ]);
  });

  test('throttling past maxAttempts gives THROTTLED', async () => {
    fake.throttleNext(policy.maxAttempts);
    const start = fake.requests.length;

    await rejection(fetchWithRetry(backend, { secret: 'sentinel', options: {} }, policy, { random: () => 0 }), 'THROTTLED');

    assert.equal(fake.requests.length - start, policy.maxAttempts);
  });

  test('5xx then success, one request per attempt', async () => {
    fake.failNext(1, 503);
    const start = fake.requests.length;
    const codes: string[] = [];

    const value = await fetchWithRetry(backend, { secret: fake.demoSecret, options: {} }, policy, {
      onRetry: (error) => codes.push(error.code),
    });

    assert.equal(Buffer.from(value).toString(), fake.demoValue);
    assert.deepEqual(codes, ['BACKEND_UNAVAILABLE']);
    assert.deepEqual(
      requestsSince(start).map((request) => request.status),
      [503, 200],
    );
  });

  test('internal server error is retried', async () => {
    fake.failNext(1, 500);

    const value = await fetchWithRetry(backend, { secret: fake.demoSecret, options: {} }, policy);

    assert.equal(Buffer.from(value).toString(), fake.demoValue);
  });

  test('slow answer beyond the budget times out', async () => {
    fake.delayMs = 3_000;
    const started = performance.now();
    try {
      await rejection(fetchWithRetry(backend, { secret: 'sentinel', options: {} }, { ...policy, budgetMs: 300 }), 'TIMEOUT');
    } finally {
      fake.delayMs = 0;
    }

    const elapsedMs = performance.now() - started;
    assert.ok(elapsedMs < 1_500, `gave up after ${Math.round(elapsedMs)} ms; the budget was 300 ms`);
  });
});

describe('gcp backend credentials', () => {
  test('rewritten key file is picked up', async () => {
    const rotated = await fake.rotateKey();
    await writeKeyFile(path.join(dir, 'gcp/key.json'), rotated.keyFile);
    const start = fake.requests.length;

    assert.equal(await text(fake.demoSecret), fake.demoValue);

    const requests = requestsSince(start);
    assert.equal(requests.length, 1);
    assert.equal(requests[0]?.keyId, rotated.keyId);
  });

  test('revoked tokens are replaced by a new one', async () => {
    assert.equal(await text(fake.demoSecret), fake.demoValue);
    // Tokens carry whole seconds, so a token signed after the cutoff needs the next second.
    const cutoffMs = (Math.floor(Date.now() / 1000) + 1) * 1000;
    fake.rejectTokensIssuedBefore(new Date(cutoffMs));
    while (Date.now() < cutoffMs) await sleep(20);
    const start = fake.requests.length;

    assert.equal(await text(fake.demoSecret), fake.demoValue);

    const requests = requestsSince(start);
    assert.deepEqual(
      requests.map((request) => request.status),
      [401, 200],
    );
    assert.ok((requests[1]?.issuedAt ?? 0) * 1000 >= cutoffMs, 'the resent request must carry a new token');
  });
});

describe('gcp backend hygiene', () => {
  test('Google debug log stays off', async () => {
    const fakeModule = new URL('../fakes/gcp.ts', import.meta.url).href;
    const indexModule = new URL('../../src/backends/gcp/index.ts', import.meta.url).href;
    const script = `
      import { mkdir, writeFile } from 'node:fs/promises';
      import { pino } from 'pino';
      const { startGcpFake } = await import(${JSON.stringify(fakeModule)});
      const { gcpBackend } = await import(${JSON.stringify(indexModule)});
      const fake = await startGcpFake();
      fake.addVersion(fake.project, 'sentinel', process.env.SENTINEL);
      await mkdir(process.env.KEY_DIR + '/gcp', { recursive: true });
      await writeFile(process.env.KEY_DIR + '/gcp/key.json', fake.credentialFiles['gcp/key.json']);
      const backend = await gcpBackend.create({ env: fake.settings(process.env.KEY_DIR), logger: pino({ level: 'silent' }) });
      const value = await backend.fetch({ secret: 'sentinel', options: {} }, { signal: AbortSignal.timeout(5000) });
      await fake.close();
      process.stdout.write('fetched ' + value.length + ' bytes');
    `;
    const keyDir = await tmpfsTempDir('dsv-gcp-debuglog');
    const env = { ...process.env, GOOGLE_SDK_NODE_LOGGING: '*', SENTINEL: sentinel, KEY_DIR: keyDir };

    let output: { stdout: string; stderr: string };
    try {
      output = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { env, cwd: process.cwd() });
    } finally {
      await removeDir(keyDir);
    }

    assert.equal(output.stdout, `fetched ${sentinel.length} bytes`);
    // The Google debug log prints bodies as JSON Buffers, so look for the bytes as decimal lists too.
    const forms = [sentinel, sentinelBase64, [...Buffer.from(sentinel)].join(','), [...Buffer.from(sentinelBase64)].join(',')];
    for (const form of forms) {
      assert.ok(!output.stderr.includes(form), `child output holds the sentinel as ${form}`);
    }
  });

  test('no token server or metadata requests', () => {
    const stray = fake.requests.filter((request) => !request.path.endsWith(':access'));

    assert.deepEqual(stray, []);
  });

  test('sentinel never in errors or logs', () => {
    assert.ok(errorTexts.length > 0, 'the error tests recorded no errors');
    for (const text of [...errorTexts, log.text()]) {
      assert.ok(!text.includes(sentinel), `sentinel value found in: ${text}`);
      assert.ok(!text.includes(sentinelBase64), `base64 of the sentinel found in: ${text}`);
    }
  });
});
