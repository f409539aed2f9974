/**
 * The `aws-ssm` backend with the official SSM client against the loopback fake. Every setting is
 * passed explicitly. The process environment is cleared of AWS variables, so the credential chain
 * can only use what a test passes in and never queries the instance metadata service.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { inspect } from 'node:util';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DsvError, type ErrorCode } from '../../src/errors.ts';
import type { SecretBackend } from '../../src/backends/backend.ts';
import { awsSsmBackend } from '../../src/backends/aws-ssm/index.ts';
import { fetchWithRetry, type RetryPolicy } from '../../src/backends/retry.ts';
import { parseSettings } from '../../src/settings/settings.ts';
import { createLogger } from '../../src/log.ts';
import { credentialsFile, startAwsSsmFake, type AwsFake } from '../fakes/aws.ts';
import { diskTempDir, removeDir } from '../support/temp.ts';

for (const name of Object.keys(process.env)) {
  if (name.startsWith('AWS_') || /^(https?|no|all)_proxy$/i.test(name)) delete process.env[name];
}
process.env.AWS_EC2_METADATA_DISABLED = 'true';

const policy: RetryPolicy = { budgetMs: 5_000, baseDelayMs: 100, maxDelayMs: 2_000, maxAttempts: 3 };
const logger = createLogger('silent');
const sentinel = 'sentinel-ssm-value-2c8e51';

let fake: AwsFake;
let dir: string;

before(async () => {
  fake = await startAwsSsmFake();
  dir = await diskTempDir('dsv-aws-ssm-test');
  for (const [file, content] of Object.entries(fake.credentialFiles)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), content);
  }
});

after(async () => {
  await fake.close();
  await removeDir(dir);
});

/** Builds the backend from the fake's settings, checked by the real settings schema. */
async function backend(overrides: Record<string, string | undefined> = {}): Promise<SecretBackend> {
  const raw = { ...fake.settings(dir), DSV_DEFAULT_BACKEND: 'aws-ssm', ...overrides };
  const { env } = parseSettings(raw, [awsSsmBackend]);
  return awsSsmBackend.create({ env, logger });
}

async function fetchBytes(target: SecretBackend, secret: string, options: Record<string, string> = {}) {
  return target.fetch({ secret, options }, { signal: AbortSignal.timeout(5_000) });
}

async function fetchText(target: SecretBackend, secret: string, options: Record<string, string> = {}): Promise<string> {
  return new TextDecoder().decode(await fetchBytes(target, secret, options));
}

/** Runs the fetch and returns the DsvError it must throw. */
async function fetchError(target: SecretBackend, secret: string, options: Record<string, string> = {}): Promise<DsvError> {
  try {
    await fetchBytes(target, secret, options);
  } catch (error) {
    assert.ok(error instanceof DsvError, `expected a DsvError, got ${inspect(error)}`);
    return error;
  }
  assert.fail(`fetching "${secret}" succeeded`);
}

function assertCode(error: DsvError, code: ErrorCode, ...fragments: string[]): void {
  assert.equal(error.code, code, error.message);
  for (const fragment of fragments) assert.ok(error.message.includes(fragment), `"${fragment}" not in: ${error.message}`);
}

/** Returns a port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test('demo SecureString is decrypted', async () => {
  assert.equal(fake.backend, 'aws-ssm');
  assert.equal(await fetchText(await backend(), fake.demoSecret), fake.demoValue);
});

test('String and StringList values are returned', async () => {
  fake.putParameter('/app/plain', 'plain value');
  fake.putParameter('/app/list', 'a,b,c', { type: 'StringList' });
  const target = await backend();
  assert.equal(await fetchText(target, '/app/plain'), 'plain value');
  assert.equal(await fetchText(target, '/app/list'), 'a,b,c');
});

test('value is returned as exact UTF-8 bytes', async () => {
  const value = `${String.fromCodePoint(...Array.from({ length: 255 }, (_, index) => index + 1))} pässwörd 🔑`;
  fake.putParameter('/app/unicode', value, { type: 'SecureString' });
  assert.deepEqual(await fetchBytes(await backend(), '/app/unicode'), new TextEncoder().encode(value));
});

test('name without a leading slash and ARN are found', async () => {
  fake.putParameter('flat-name', 'flat');
  const { arn } = fake.putParameter('/app/by-arn', 'by arn');
  const target = await backend();
  assert.equal(await fetchText(target, 'flat-name'), 'flat');
  assert.equal(await fetchText(target, arn), 'by arn');
  assert.equal(await fetchText(target, arn, { version: '1' }), 'by arn');
});

test('path without leading slash is rejected before any request', async () => {
  const before = fake.requests.length;
  const error = await fetchError(await backend(), 'demo/hello');
  assertCode(error, 'INVALID_OPTION', 'add the leading "/"', '"/demo/hello"');
  assert.equal(fake.requests.length, before);
});

test('fake rejects a path without leading slash as SSM does', async () => {
  const client = new SSMClient({
    region: 'us-east-1',
    endpoint: fake.url,
    credentials: { accessKeyId: 'AKIASSMDIRECTCLIENT1', secretAccessKey: 'dummy' },
    maxAttempts: 1,
  });
  try {
    await assert.rejects(client.send(new GetParameterCommand({ Name: 'demo/hello', WithDecryption: true })), (error: Error) => {
      assert.equal(error.name, 'ValidationException');
      assert.match(error.message, /If formed as a path, it can consist of sub-paths divided by slash symbol/);
      return true;
    });
  } finally {
    client.destroy();
  }
});

test('non-string value is a backend error', async () => {
  const target = await backend();
  for (const value of [{ value: sentinel }, 424242, null, [sentinel]]) {
    fake.malformNext(1, value);
    const error = await fetchError(target, fake.demoSecret);
    const fragment = value === null ? 'no parameter value' : 'malformed response';
    assertCode(error, 'BACKEND_ERROR', `"${fake.demoSecret}"`, fragment);
    assert.ok(!error.describe().includes(sentinel), error.describe());
    assert.ok(!error.message.includes('424242'), error.message);
    assert.ok(!error.message.includes('[object Object]'), error.message);
  }
  assert.equal(await fetchText(target, fake.demoSecret), fake.demoValue, 'the fake kept sending malformed responses');
});

test('version and label options pick versions', async () => {
  fake.putParameter('/app/versions', 'one', { labels: ['prod'] });
  fake.putParameter('/app/versions', 'two', { type: 'SecureString' });
  fake.putParameter('/app/versions', 'three', { labels: ['canary'] });
  const target = await backend();
  assert.equal(await fetchText(target, '/app/versions'), 'three');
  assert.equal(await fetchText(target, '/app/versions', { version: '2' }), 'two');
  assert.equal(await fetchText(target, '/app/versions', { label: 'prod' }), 'one');
  assert.equal(await fetchText(target, '/app/versions', { label: 'canary' }), 'three');
  assert.deepEqual(
    fake.requests.slice(-4).map((request) => request.reference),
    ['/app/versions', '/app/versions:2', '/app/versions:prod', '/app/versions:canary'],
  );
});

test('version and label together are rejected before any request', async () => {
  const before = fake.requests.length;
  assertCode(await fetchError(await backend(), '/app/versions', { version: '1', label: 'prod' }), 'INVALID_OPTION');
  assert.equal(fake.requests.length, before);
});

test('unknown parameter, version and label are not found', async () => {
  const target = await backend();
  assertCode(await fetchError(target, '/app/missing'), 'SECRET_NOT_FOUND', '"/app/missing"', 'ParameterNotFound');
  const version = await fetchError(target, fake.demoSecret, { version: '99' });
  assertCode(version, 'SECRET_NOT_FOUND', `"${fake.demoSecret}:99"`, 'ParameterVersionNotFound');
  assertCode(await fetchError(target, fake.demoSecret, { label: 'nolabel' }), 'SECRET_NOT_FOUND', 'ParameterNotFound');
});

test('denied parameter is access denied', async () => {
  fake.putParameter('/app/denied', 'not for you', { type: 'SecureString' });
  fake.deny('/app/denied');
  assertCode(await fetchError(await backend(), '/app/denied'), 'ACCESS_DENIED', '/app/denied', 'AccessDeniedException');
});

test('rejected access key is invalid credentials', async () => {
  fake.rejectAccessKey('AKIASSMREJECTED00001');
  const target = await backend({ AWS_ACCESS_KEY_ID: 'AKIASSMREJECTED00001', AWS_SECRET_ACCESS_KEY: 'dummy' });
  assertCode(await fetchError(target, fake.demoSecret), 'INVALID_CREDENTIALS', 'UnrecognizedClientException');
});

test('expired session token is invalid credentials', async () => {
  fake.rejectAccessKey('ASIASSMEXPIRED000001', 'expired');
  const target = await backend({
    AWS_ACCESS_KEY_ID: 'ASIASSMEXPIRED000001',
    AWS_SECRET_ACCESS_KEY: 'dummy',
    AWS_SESSION_TOKEN: 'dummy-session-token',
  });
  assertCode(await fetchError(target, fake.demoSecret), 'INVALID_CREDENTIALS', 'ExpiredTokenException');
});

test('rotated credentials file is used by the next fetch', async () => {
  const credentials = path.join(dir, 'rotating', 'credentials');
  await mkdir(path.dirname(credentials), { recursive: true });
  await writeFile(credentials, credentialsFile('AKIASSMROTATEOLD0001'));
  const target = await backend({ AWS_SHARED_CREDENTIALS_FILE: credentials });
  assert.equal(await fetchText(target, fake.demoSecret), fake.demoValue);
  assert.equal(fake.requests.at(-1)?.accessKeyId, 'AKIASSMROTATEOLD0001');

  fake.rejectAccessKey('AKIASSMROTATEOLD0001');
  await writeFile(credentials, credentialsFile('AKIASSMROTATENEW0001'));
  // Some file systems keep whole-second times, so a later mtime makes the change visible on all.
  const later = new Date(Date.now() + 5_000);
  await utimes(credentials, later, later);
  assert.equal(await fetchText(target, fake.demoSecret), fake.demoValue);
  assert.equal(fake.requests.at(-1)?.accessKeyId, 'AKIASSMROTATENEW0001');
});

test('throttling with Retry-After waits that long', async () => {
  fake.throttleNext(1, { retryAfterSeconds: 1 });
  const before = fake.requests.length;
  const retries: Array<[ErrorCode, number]> = [];
  const bytes = await fetchWithRetry(await backend(), { secret: fake.demoSecret, options: {} }, policy, {
    onRetry: (error, _attempt, delayMs) => retries.push([error.code, delayMs]),
  });
  assert.equal(new TextDecoder().decode(bytes), fake.demoValue);
  assert.deepEqual(retries, [['THROTTLED', 1_000]]);
  assert.equal(fake.requests.length - before, 2);
});

test('throttling without Retry-After backs off', async () => {
  fake.throttleNext(1);
  const before = fake.requests.length;
  const retries: Array<[number | undefined, number]> = [];
  await fetchWithRetry(await backend(), { secret: fake.demoSecret, options: {} }, policy, {
    onRetry: (error, _attempt, delayMs) => retries.push([error.retryAfterMs, delayMs]),
    random: () => 0.5,
  });
  assert.deepEqual(retries, [[undefined, 50]]);
  assert.equal(fake.requests.length - before, 2);
});

test('5xx then success makes one SDK attempt per fetch', async () => {
  fake.failNext(1, 500);
  const before = fake.requests.length;
  const retries: ErrorCode[] = [];
  await fetchWithRetry(await backend(), { secret: fake.demoSecret, options: {} }, policy, {
    onRetry: (error) => retries.push(error.code),
    random: () => 0,
  });
  assert.deepEqual(retries, ['BACKEND_UNAVAILABLE']);
  assert.deepEqual(fake.requests.slice(before).map((request) => request.attempt), [1, 1]);
});

test('5xx is backend unavailable', async () => {
  fake.failNext(1, 500);
  assertCode(await fetchError(await backend(), fake.demoSecret), 'BACKEND_UNAVAILABLE', 'HTTP 500', 'InternalServerError');
});

test('slow answer beyond the budget times out', async () => {
  fake.delayMs = 3_000;
  const started = performance.now();
  try {
    await assert.rejects(
      fetchWithRetry(await backend(), { secret: fake.demoSecret, options: {} }, { ...policy, budgetMs: 300 }),
      (error: unknown) => error instanceof DsvError && error.code === 'TIMEOUT',
    );
  } finally {
    fake.delayMs = 0;
  }
  assert.ok(performance.now() - started < 2_000, 'the request was not aborted at the budget');
});

test('service endpoint setting wins over AWS_ENDPOINT_URL', async () => {
  const target = await backend({
    AWS_ENDPOINT_URL: `http://127.0.0.1:${await closedPort()}`,
    AWS_ENDPOINT_URL_SSM: fake.url,
  });
  assert.equal(await fetchText(target, fake.demoSecret), fake.demoValue);
});

test('connection refused is backend unavailable', async () => {
  const target = await backend({ AWS_ENDPOINT_URL_SSM: `http://127.0.0.1:${await closedPort()}` });
  assertCode(await fetchError(target, fake.demoSecret), 'BACKEND_UNAVAILABLE', 'ECONNREFUSED');
});

test('missing region is an invalid setting naming AWS_REGION', async () => {
  await assert.rejects(
    backend({ AWS_REGION: undefined }),
    (error: unknown) => error instanceof DsvError && error.code === 'INVALID_SETTING' && error.message.includes('AWS_REGION'),
  );
});

test('sentinel value never appears in errors', async () => {
  fake.putParameter('/sentinel/value', sentinel, { type: 'SecureString', labels: ['prod'] });
  fake.putParameter('/sentinel/denied', sentinel, { type: 'SecureString' });
  fake.deny('/sentinel/denied');
  fake.rejectAccessKey('AKIASSMSENTINELREJCT');
  const target = await backend();
  const errors: DsvError[] = [
    await fetchError(target, '/sentinel/denied'),
    await fetchError(target, '/sentinel/value', { version: '7' }),
    await fetchError(target, '/sentinel/value', { version: '1', label: 'prod' }),
    await fetchError(await backend({ AWS_ACCESS_KEY_ID: 'AKIASSMSENTINELREJCT', AWS_SECRET_ACCESS_KEY: 'x' }), '/sentinel/value'),
  ];
  fake.throttleNext(1, { retryAfterSeconds: 1 });
  errors.push(await fetchError(target, '/sentinel/value'));
  fake.failNext(1, 503);
  errors.push(await fetchError(target, '/sentinel/value'));

  assert.deepEqual(
    errors.map((error) => error.code),
    ['ACCESS_DENIED', 'SECRET_NOT_FOUND', 'INVALID_OPTION', 'INVALID_CREDENTIALS', 'THROTTLED', 'BACKEND_UNAVAILABLE'],
  );
  for (const error of errors) {
    assert.ok(!error.describe().includes(sentinel), error.describe());
    assert.ok(!inspect(error, { depth: 10 }).includes(sentinel), `${error.code} cause holds the value`);
  }
});
