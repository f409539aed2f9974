/**
 * The `aws` backend with the official Secrets Manager client against the loopback fake. Every
 * setting is passed explicitly. The process environment is cleared of AWS variables, so the
 * credential chain can only use what a test passes in and never queries the instance metadata
 * service.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { inspect } from 'node:util';
import { DsvError, type ErrorCode } from '../../src/errors.ts';
import type { SecretBackend } from '../../src/backends/backend.ts';
import { awsBackend } from '../../src/backends/aws/index.ts';
import { fetchWithRetry, type RetryPolicy } from '../../src/backends/retry.ts';
import { parseSettings } from '../../src/settings/settings.ts';
import { createLogger, type Logger } from '../../src/log.ts';
import { credentialsFile, startAwsFake, type AwsFake } from '../fakes/aws.ts';
import { captureLog } from '../support/log-capture.ts';
import { diskTempDir, removeDir } from '../support/temp.ts';
import { assertNoSecret } from '../support/no-secret.ts';

for (const name of Object.keys(process.env)) {
  if (name.startsWith('AWS_') || /^(https?|no|all)_proxy$/i.test(name)) delete process.env[name];
}
process.env.AWS_EC2_METADATA_DISABLED = 'true';

const policy: RetryPolicy = { budgetMs: 5_000, baseDelayMs: 100, maxDelayMs: 2_000, maxAttempts: 3 };
const logger = createLogger('silent');
const sentinel = 'sentinel-aws-value-7f3a9c';

let fake: AwsFake;
let dir: string;

before(async () => {
  fake = await startAwsFake();
  dir = await diskTempDir('dsv-aws-test');
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
async function backend(overrides: Record<string, string | undefined> = {}, log: Logger = logger): Promise<SecretBackend> {
  const raw = { ...fake.settings(dir), DSV_DEFAULT_BACKEND: 'aws', ...overrides };
  const { env } = parseSettings(raw, [awsBackend]);
  return awsBackend.create({ env, logger: log });
}

async function fetchText(target: SecretBackend, secret: string, options: Record<string, string> = {}): Promise<string> {
  const bytes = await target.fetch({ secret, options }, { signal: AbortSignal.timeout(5_000) });
  return new TextDecoder().decode(bytes);
}

/** Runs the fetch and returns the DsvError it must throw. */
async function fetchError(target: SecretBackend, secret: string, options: Record<string, string> = {}): Promise<DsvError> {
  try {
    await target.fetch({ secret, options }, { signal: AbortSignal.timeout(5_000) });
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

test('demo secret is returned', async () => {
  assert.equal(await fetchText(await backend(), fake.demoSecret), fake.demoValue);
});

test('SecretString is returned as UTF-8 bytes', async () => {
  const value = 'pässwörd ✓ 🔑\n{"k": "v"}\0end';
  fake.putSecret('text/unicode', { string: value });
  const bytes = await (await backend()).fetch({ secret: 'text/unicode', options: {} }, { signal: AbortSignal.timeout(5_000) });
  assert.deepEqual(bytes, new TextEncoder().encode(value));
});

test('SecretBinary with all 256 byte values is byte-exact', async () => {
  const value = Uint8Array.from({ length: 512 }, (_, index) => index % 256);
  fake.putSecret('binary/all-bytes', { binary: value });
  const bytes = await (await backend()).fetch({ secret: 'binary/all-bytes', options: {} }, { signal: AbortSignal.timeout(5_000) });
  assert.ok(bytes instanceof Uint8Array);
  assert.deepEqual(new Uint8Array(bytes), value);
});

test('secret is found by complete and partial ARN', async () => {
  const { arn } = fake.putSecret('by/arn', { string: 'by arn' });
  const target = await backend();
  assert.equal(await fetchText(target, arn), 'by arn');
  assert.equal(await fetchText(target, arn.slice(0, -7)), 'by arn');
});

test('version and stage options pick versions', async () => {
  const first = crypto.randomUUID();
  const second = crypto.randomUUID();
  const pending = crypto.randomUUID();
  fake.putSecret('app/rotating', { string: 'first', versionId: first });
  fake.putSecret('app/rotating', { string: 'second', versionId: second });
  fake.putSecret('app/rotating', { string: 'pending', versionId: pending, stages: ['AWSPENDING', 'blue'] });
  const target = await backend();

  assert.equal(await fetchText(target, 'app/rotating'), 'second');
  assert.equal(await fetchText(target, 'app/rotating', { version: first }), 'first');
  assert.equal(await fetchText(target, 'app/rotating', { stage: 'AWSPREVIOUS' }), 'first');
  assert.equal(await fetchText(target, 'app/rotating', { stage: 'AWSPENDING' }), 'pending');
  assert.equal(await fetchText(target, 'app/rotating', { stage: 'blue' }), 'pending');
  assert.equal(await fetchText(target, 'app/rotating', { version: second, stage: 'AWSCURRENT' }), 'second');
});

test('version and stage that disagree are an invalid option', async () => {
  const versionId = crypto.randomUUID();
  fake.putSecret('app/mismatch', { string: 'old', versionId });
  fake.putSecret('app/mismatch', { string: 'new' });
  const error = await fetchError(await backend(), 'app/mismatch', { version: versionId, stage: 'AWSCURRENT' });
  assertCode(error, 'INVALID_OPTION', 'app/mismatch', 'InvalidRequestException');
});

test('unknown secret, version and stage are not found', async () => {
  const target = await backend();
  assertCode(await fetchError(target, 'missing/secret'), 'SECRET_NOT_FOUND', '"missing/secret"', 'ResourceNotFoundException');
  const unknownVersion = await fetchError(target, fake.demoSecret, { version: crypto.randomUUID() });
  assertCode(unknownVersion, 'SECRET_NOT_FOUND', 'ResourceNotFoundException');
  assertCode(await fetchError(target, fake.demoSecret, { stage: 'nosuchlabel' }), 'SECRET_NOT_FOUND');
});

test('secret scheduled for deletion is deleted', async () => {
  fake.putSecret('app/deleted', { string: 'gone soon' });
  fake.markDeleted('app/deleted');
  assertCode(await fetchError(await backend(), 'app/deleted'), 'SECRET_DELETED', 'app/deleted', 'InvalidRequestException');
});

test('denied secret is access denied', async () => {
  fake.putSecret('app/denied', { string: 'not for you' });
  fake.deny('app/denied');
  assertCode(await fetchError(await backend(), 'app/denied'), 'ACCESS_DENIED', 'app/denied', 'AccessDeniedException');
});

test('rejected access key is invalid credentials', async () => {
  fake.rejectAccessKey('AKIAREJECTED00000001');
  const target = await backend({ AWS_ACCESS_KEY_ID: 'AKIAREJECTED00000001', AWS_SECRET_ACCESS_KEY: 'dummy' });
  assertCode(await fetchError(target, fake.demoSecret), 'INVALID_CREDENTIALS', 'UnrecognizedClientException');
  assert.equal(fake.requests.at(-1)?.accessKeyId, 'AKIAREJECTED00000001');
});

test('expired session token is invalid credentials', async () => {
  fake.rejectAccessKey('ASIAEXPIRED000000001', 'expired');
  const target = await backend({
    AWS_ACCESS_KEY_ID: 'ASIAEXPIRED000000001',
    AWS_SECRET_ACCESS_KEY: 'dummy',
    AWS_SESSION_TOKEN: 'dummy-session-token',
  });
  assertCode(await fetchError(target, fake.demoSecret), 'INVALID_CREDENTIALS', 'ExpiredTokenException');
});

test('no credentials anywhere is invalid credentials without a request', async () => {
  const before = fake.requests.length;
  const target = await backend({
    AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'absent', 'credentials'),
    AWS_CONFIG_FILE: path.join(dir, 'absent', 'config'),
  });
  assertCode(await fetchError(target, fake.demoSecret), 'INVALID_CREDENTIALS', 'CredentialsProviderError');
  assert.equal(fake.requests.length, before);
});

test('rotated credentials file is used by the next fetch', async () => {
  const credentials = path.join(dir, 'rotating', 'credentials');
  await mkdir(path.dirname(credentials), { recursive: true });
  await writeFile(credentials, credentialsFile('AKIAROTATEOLD0000001'));
  const log = captureLog();
  const target = await backend({ AWS_SHARED_CREDENTIALS_FILE: credentials }, log.logger);
  assert.equal(await fetchText(target, fake.demoSecret), fake.demoValue);
  assert.equal(fake.requests.at(-1)?.accessKeyId, 'AKIAROTATEOLD0000001');

  fake.rejectAccessKey('AKIAROTATEOLD0000001');
  assertCode(await fetchError(target, fake.demoSecret), 'INVALID_CREDENTIALS');

  await writeFile(credentials, credentialsFile('AKIAROTATENEW0000001'));
  // Some file systems keep whole-second times, so a later mtime makes the change visible on all.
  const later = new Date(Date.now() + 5_000);
  await utimes(credentials, later, later);
  assert.equal(await fetchText(target, fake.demoSecret), fake.demoValue);
  assert.equal(fake.requests.at(-1)?.accessKeyId, 'AKIAROTATENEW0000001');
  const reloads = log.entries().filter((entry) => String(entry.msg).includes('file changed'));
  assert.equal(reloads.length, 1, log.text());
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

test('throttling past maxAttempts is throttled', async () => {
  fake.throttleNext(5);
  const before = fake.requests.length;
  await assert.rejects(
    fetchWithRetry(await backend(), { secret: fake.demoSecret, options: {} }, policy, { random: () => 0 }),
    (error: unknown) => error instanceof DsvError && error.code === 'THROTTLED' && error.message.includes('ThrottlingException'),
  );
  assert.equal(fake.requests.length - before, policy.maxAttempts);
  fake.throttleNext(0);
});

test('5xx then success makes one SDK attempt per fetch', async () => {
  fake.failNext(1, 500);
  const before = fake.requests.length;
  const retries: ErrorCode[] = [];
  const bytes = await fetchWithRetry(await backend(), { secret: fake.demoSecret, options: {} }, policy, {
    onRetry: (error) => retries.push(error.code),
    random: () => 0,
  });
  assert.equal(new TextDecoder().decode(bytes), fake.demoValue);
  assert.deepEqual(retries, ['BACKEND_UNAVAILABLE']);
  const sent = fake.requests.slice(before);
  assert.equal(sent.length, 2);
  assert.deepEqual(sent.map((request) => request.attempt), [1, 1]);
});

test('non-string SecretString is a backend error', async () => {
  const target = await backend();
  for (const value of [424242, { value: sentinel }, true, [sentinel]]) {
    fake.malformNext(1, value);
    const error = await fetchError(target, fake.demoSecret);
    assertCode(error, 'BACKEND_ERROR', `"${fake.demoSecret}"`, 'malformed response', 'SecretString');
    assertNoSecret(error.describe(), sentinel, 'the error');
    assert.ok(!error.message.includes('424242'), error.message);
  }
  assert.equal(await fetchText(target, fake.demoSecret), fake.demoValue, 'the fake kept sending malformed responses');
});

test('non-base64 SecretBinary is a backend error', async () => {
  fake.putSecret('binary/malformed', { binary: Uint8Array.of(1, 2, 3) });
  const target = await backend();
  for (const value of [42, { value: sentinel }]) {
    fake.malformNext(1, value);
    const error = await fetchError(target, 'binary/malformed');
    assertCode(error, 'BACKEND_ERROR', '"binary/malformed"', 'malformed response', 'SecretBinary');
    assertNoSecret(error.describe(), sentinel, 'the error');
  }
});

test('5xx is backend unavailable', async () => {
  fake.failNext(1, 503);
  assertCode(await fetchError(await backend(), fake.demoSecret), 'BACKEND_UNAVAILABLE', 'HTTP 503', 'InternalServiceError');
});

test('connection refused is backend unavailable', async () => {
  const target = await backend({ AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${await closedPort()}` });
  assertCode(await fetchError(target, fake.demoSecret), 'BACKEND_UNAVAILABLE', 'ECONNREFUSED');
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
    AWS_ENDPOINT_URL_SECRETS_MANAGER: fake.url,
  });
  assert.equal(await fetchText(target, fake.demoSecret), fake.demoValue);
});

test('missing region is an invalid setting naming AWS_REGION', async () => {
  await assert.rejects(
    backend({ AWS_REGION: undefined }),
    (error: unknown) => error instanceof DsvError && error.code === 'INVALID_SETTING' && error.message.includes('AWS_REGION'),
  );
});

test('AWS_CA_BUNDLE makes a private CA trusted', async (t) => {
  const tlsDir = await diskTempDir('dsv-aws-tls');
  t.after(() => removeDir(tlsDir));
  const key = path.join(tlsDir, 'key.pem');
  const cert = path.join(tlsDir, 'cert.pem');
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    ], { stdio: 'ignore' });
  } catch {
    t.skip('openssl is not installed');
    return;
  }
  const tlsFake = await startAwsFake({ tls: { key: await readFile(key, 'utf8'), cert: await readFile(cert, 'utf8') } });
  t.after(() => tlsFake.close());

  const untrusted = await backend({ AWS_ENDPOINT_URL_SECRETS_MANAGER: tlsFake.url });
  assertCode(await fetchError(untrusted, tlsFake.demoSecret), 'BACKEND_ERROR', 'AWS_CA_BUNDLE');
  const trusted = await backend({ AWS_ENDPOINT_URL_SECRETS_MANAGER: tlsFake.url, AWS_CA_BUNDLE: cert });
  assert.equal(await fetchText(trusted, tlsFake.demoSecret), tlsFake.demoValue);
});

test('unreadable AWS_CA_BUNDLE is an invalid setting', async () => {
  await assert.rejects(
    backend({ AWS_CA_BUNDLE: path.join(dir, 'absent.pem') }),
    (error: unknown) => error instanceof DsvError && error.code === 'INVALID_SETTING' && error.message.includes('AWS_CA_BUNDLE'),
  );
});

test('sentinel value never appears in errors', async () => {
  const versionId = crypto.randomUUID();
  for (const name of ['sentinel/denied', 'sentinel/deleted', 'sentinel/other']) {
    fake.putSecret(name, { string: sentinel, versionId: name === 'sentinel/other' ? versionId : undefined });
  }
  fake.putSecret('sentinel/other', { string: sentinel });
  fake.deny('sentinel/denied');
  fake.markDeleted('sentinel/deleted');
  fake.rejectAccessKey('AKIASENTINELREJECTED');
  const target = await backend();
  const errors: DsvError[] = [
    await fetchError(target, 'sentinel/denied'),
    await fetchError(target, 'sentinel/deleted'),
    await fetchError(target, 'sentinel/other', { version: versionId, stage: 'AWSCURRENT' }),
    await fetchError(await backend({ AWS_ACCESS_KEY_ID: 'AKIASENTINELREJECTED', AWS_SECRET_ACCESS_KEY: 'x' }), 'sentinel/other'),
  ];
  fake.throttleNext(1, { retryAfterSeconds: 1 });
  errors.push(await fetchError(target, 'sentinel/other'));
  fake.failNext(1, 500);
  errors.push(await fetchError(target, 'sentinel/other'));

  assert.deepEqual(
    errors.map((error) => error.code),
    ['ACCESS_DENIED', 'SECRET_DELETED', 'INVALID_OPTION', 'INVALID_CREDENTIALS', 'THROTTLED', 'BACKEND_UNAVAILABLE'],
  );
  for (const error of errors) {
    assertNoSecret(error.describe(), sentinel, 'the error');
    assert.ok(!inspect(error, { depth: 10 }).includes(sentinel), `${error.code} cause holds the value`);
  }
});
