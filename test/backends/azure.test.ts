/**
 * The azure backend with the real @azure/keyvault-secrets client against the loopback fake:
 * values, versions, binary data, Key Vault errors, every credential source except IMDS, token
 * expiry and rotation, and retries through fetchWithRetry.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { inspect, promisify } from 'node:util';
import { DsvError, type ErrorCode } from '../../src/errors.ts';
import { createLogger } from '../../src/log.ts';
import type { BackendOptions, SecretBackend } from '../../src/backends/backend.ts';
import { azureBackend } from '../../src/backends/azure/index.ts';
import { fetchWithRetry, type RetryPolicy } from '../../src/backends/retry.ts';
import { startAzureFake, type AzureFake, type AzureFakeOptions } from '../fakes/azure.ts';

// Keep the Key Vault client off any proxy from the environment.
for (const name of ['HTTPS_PROXY', 'HTTP_PROXY', 'https_proxy', 'http_proxy', 'ALL_PROXY', 'all_proxy']) delete process.env[name];

const sentinel = `sentinel-${randomUUID()}`;
const smallPolicy: RetryPolicy = { budgetMs: 8_000, baseDelayMs: 10, maxDelayMs: 2_000, maxAttempts: 3 };

interface Setup {
  fake: AzureFake;
  dir: string;
  backend: SecretBackend;
  logs: string[];
}

/** Starts a fake, writes its credential files and loads the backend with its settings plus `env`. */
async function setup(t: TestContext, fakeOptions: AzureFakeOptions = {}, env: (fake: AzureFake, dir: string) => Record<string, string | undefined> = () => ({})): Promise<Setup> {
  const fake = await startAzureFake(fakeOptions);
  t.after(() => fake.close());
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dsv-azure-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const [file, contents] of Object.entries(fake.credentialFiles)) await writeCredential(dir, file, contents);

  const logs: string[] = [];
  const logger = createLogger('debug', { write: (line: string) => void logs.push(line) });
  const settings = { ...fake.settings(dir), ...env(fake, dir) };
  const backend = await azureBackend.create({ env: settings, logger });
  return { fake, dir, backend, logs };
}

async function writeCredential(dir: string, file: string, contents: string | Uint8Array): Promise<void> {
  await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
  await writeFile(path.join(dir, file), contents);
}

async function read(backend: SecretBackend, secret: string, options: BackendOptions = {}): Promise<Buffer> {
  return Buffer.from(await backend.fetch({ secret, options }, { signal: AbortSignal.timeout(5_000) }));
}

async function readText(backend: SecretBackend, secret: string, options: BackendOptions = {}): Promise<string> {
  return (await read(backend, secret, options)).toString('utf8');
}

/** Expects a DsvError with `code`, and checks that no sentinel reached it. */
async function expectError(promise: Promise<unknown>, code: ErrorCode, pattern?: RegExp): Promise<DsvError> {
  let caught: unknown;
  await assert.rejects(promise, (error: unknown) => {
    caught = error;
    return true;
  });
  assert.ok(caught instanceof DsvError, `expected a DsvError, got ${inspect(caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (pattern !== undefined) assert.match(caught.message, pattern);
  assertNoSentinel(caught.describe(), inspect(caught, { depth: 6 }));
  return caught;
}

function assertNoSentinel(...texts: string[]): void {
  for (const text of texts) assert.ok(!text.includes(sentinel), 'a sentinel value leaked');
}

test('latest version and the demo secret', async (t) => {
  const { fake, backend, logs } = await setup(t);
  fake.setSecret('db-password', 'first');
  fake.setSecret('db-password', 'second');
  assert.equal(await readText(backend, 'db-password'), 'second');
  assert.equal(await readText(backend, fake.demoSecret), fake.demoValue);
  assert.ok(logs.some((line) => line.includes('"credential":"client-secret"')));
});

test('pinned version through option and URL', async (t) => {
  const { fake, backend } = await setup(t);
  const first = fake.setSecret('api-key', 'one');
  fake.setSecret('api-key', 'two');
  assert.equal(await readText(backend, 'api-key', { version: first }), 'one');
  assert.equal(await readText(backend, `${fake.url}/secrets/api-key/${first}`), 'one');
  assert.equal(await readText(backend, `${fake.url}/secrets/api-key`), 'two');
  await expectError(read(backend, 'api-key', { version: 'f'.repeat(32) }), 'SECRET_NOT_FOUND');
});

test('full secret URL names the vault without a vault setting', async (t) => {
  const { fake, backend } = await setup(t, {}, () => ({ DSV_AZURE_VAULT_URL: undefined }));
  assert.equal(await readText(backend, `${fake.url}/secrets/demo-hello`), fake.demoValue);
  await expectError(read(backend, 'demo-hello'), 'INVALID_SETTING', /DSV_AZURE_VAULT_URL/);
});

test('text values are written as UTF-8', async (t) => {
  const { fake, backend } = await setup(t);
  const value = 'päss wörd ✓ 🔑\nline two\n';
  fake.setSecret('text', value);
  assert.deepEqual(await read(backend, 'text'), Buffer.from(value, 'utf8'));
});

test('decode base64 returns all 256 byte values', async (t) => {
  const { fake, backend, logs } = await setup(t);
  const bytes = Buffer.from(Array.from({ length: 256 }, (_, index) => index));
  fake.setSecret('binary', bytes.toString('base64'), { contentType: 'application/octet-stream;base64' });
  assert.deepEqual(await read(backend, 'binary', { decode: 'base64' }), bytes);
  // The content type alone never decodes.
  assert.equal(await readText(backend, 'binary'), bytes.toString('base64'));
  const readLine = logs.find((line) => line.includes('"msg":"secret read"') && line.includes('"storedAsBase64":true'));
  assert.ok(readLine?.includes('"contentType":"application/octet-stream;base64"'));
  assert.ok(logs.every((line) => !line.includes(bytes.toString('base64'))));
});

test('decode base64 rejects a value that is not base64', async (t) => {
  const { fake, backend } = await setup(t);
  fake.setSecret('plain', `${sentinel} is not base64`);
  await expectError(read(backend, 'plain', { decode: 'base64' }), 'INVALID_OPTION', /not strict base64/);
});

test('missing and deleted secrets are SECRET_NOT_FOUND', async (t) => {
  const { fake, backend } = await setup(t);
  await expectError(read(backend, 'never-existed'), 'SECRET_NOT_FOUND', /"never-existed"/);
  fake.setSecret('gone', sentinel);
  fake.deleteSecret('gone');
  await expectError(read(backend, 'gone'), 'SECRET_NOT_FOUND', /recoverable/);
});

test('disabled version is SECRET_DELETED', async (t) => {
  const { fake, backend } = await setup(t);
  const enabled = fake.setSecret('rotating', 'old');
  const disabled = fake.setSecret('rotating', sentinel, { enabled: false });
  await expectError(read(backend, 'rotating'), 'SECRET_DELETED', /disabled/);
  await expectError(read(backend, 'rotating', { version: disabled }), 'SECRET_DELETED', new RegExp(disabled));
  assert.equal(await readText(backend, 'rotating', { version: enabled }), 'old');
});

test('denied secret is ACCESS_DENIED', async (t) => {
  const { fake, backend } = await setup(t);
  fake.setSecret('private', sentinel);
  fake.deny('private');
  await expectError(read(backend, 'private'), 'ACCESS_DENIED', /not authorized/);
});

test('wrong client secret is INVALID_CREDENTIALS', async (t) => {
  const { backend, dir, logs } = await setup(t);
  await writeCredential(dir, 'azure/client-secret', sentinel);
  await expectError(read(backend, 'demo-hello'), 'INVALID_CREDENTIALS', /AADSTS7000215/);
  assertNoSentinel(...logs);
});

test('rotated client secret file is picked up', async (t) => {
  const { fake, backend, dir } = await setup(t);
  assert.equal(await readText(backend, 'demo-hello'), fake.demoValue);

  const newSecret = fake.rotateClientSecret();
  fake.expireTokens();
  await expectError(read(backend, 'demo-hello'), 'INVALID_CREDENTIALS', /AADSTS7000215/);

  await writeCredential(dir, 'azure/client-secret', `${newSecret}\n`);
  assert.equal(await readText(backend, 'demo-hello'), fake.demoValue);
});

test('revoked token recovered through the claims challenge', async (t) => {
  const { fake, backend } = await setup(t);
  assert.equal(await readText(backend, 'demo-hello'), fake.demoValue);
  fake.expireTokens();
  assert.equal(await readText(backend, 'demo-hello'), fake.demoValue);
  assert.equal(fake.requests.filter((request) => request.kind === 'token' && request.claimsChallenge).length, 1);
  assert.equal(fake.count('token'), 2);
});

test('rejected token without claims challenge recovers on the next fetch', async (t) => {
  const { fake, backend } = await setup(t);
  assert.equal(await readText(backend, 'demo-hello'), fake.demoValue);
  fake.expireTokens({ claimsChallenge: false });
  await expectError(read(backend, 'demo-hello'), 'INVALID_CREDENTIALS', /rejected the access token/);

  // The rejected token must not come back as the fallback when the next token request fails.
  fake.failTokenRequests(1, 503);
  await expectError(read(backend, 'demo-hello'), 'BACKEND_UNAVAILABLE', /503/);
  assert.equal(await readText(backend, 'demo-hello'), fake.demoValue);
});

test('expired short-lived token is renewed', async (t) => {
  const { fake, backend } = await setup(t, { tokenLifetimeSeconds: 1 });
  assert.equal(await readText(backend, 'demo-hello'), fake.demoValue);
  await sleep(1_100);
  assert.equal(await readText(backend, 'demo-hello'), fake.demoValue);
  assert.ok(fake.count('token') >= 2);
});

test('failed background refresh keeps the current token', async (t) => {
  // The client refreshes tokens in the background within 2 minutes of expiry. It leaves a failed
  // refresh unhandled, which would end the process, so the credential must not let it fail.
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  t.after(() => void process.off('unhandledRejection', onUnhandled));

  const { fake, backend, logs } = await setup(t, { tokenLifetimeSeconds: 2 });
  assert.equal(await readText(backend, 'demo-hello'), fake.demoValue);
  fake.rotateClientSecret();
  assert.equal(await readText(backend, 'demo-hello'), fake.demoValue);
  // The refresh runs in the background, so its log line can come after the fetch returned.
  await waitFor(() => logs.some((line) => line.includes('token refresh failed')));

  // Without the fallback, the client's retry loop gives up once the old token expired (2 s)
  // on its next try (3 s later) and rejects with nothing attached.
  await sleep(3_500);
  assert.deepEqual(unhandled, []);
  await expectError(read(backend, 'demo-hello'), 'INVALID_CREDENTIALS', /AADSTS7000215/);
});

test('throttling with Retry-After waits that long', async (t) => {
  const { fake, backend } = await setup(t);
  fake.throttleNext(1, { retryAfterSeconds: 1 });
  const retries: { code: string; delayMs: number; retryAfterMs: number | undefined }[] = [];
  const value = await fetchWithRetry(backend, { secret: 'demo-hello', options: {} }, smallPolicy, {
    random: () => 0.5,
    onRetry: (error, _attempt, delayMs) => void retries.push({ code: error.code, delayMs, retryAfterMs: error.retryAfterMs }),
  });
  assert.equal(Buffer.from(value).toString(), fake.demoValue);
  assert.deepEqual(retries, [{ code: 'THROTTLED', delayMs: 1_000, retryAfterMs: 1_000 }]);
});

test('throttling without Retry-After backs off', async (t) => {
  const { fake, backend } = await setup(t);
  fake.throttleNext(1);
  const retries: { delayMs: number; retryAfterMs: number | undefined }[] = [];
  await fetchWithRetry(backend, { secret: 'demo-hello', options: {} }, smallPolicy, {
    random: () => 0.5,
    onRetry: (error, _attempt, delayMs) => void retries.push({ delayMs, retryAfterMs: error.retryAfterMs }),
  });
  assert.deepEqual(retries, [{ delayMs: 5, retryAfterMs: undefined }]);
});

test('client makes one attempt per fetch', async (t) => {
  const { fake, backend } = await setup(t);
  assert.equal(await readText(backend, 'demo-hello'), fake.demoValue);
  fake.throttleNext(5, { retryAfterSeconds: 1 });
  const error = await expectError(read(backend, 'demo-hello'), 'THROTTLED');
  assert.equal(error.retryAfterMs, 1_000);
  fake.failNext(5, 503);
  await expectError(read(backend, 'demo-hello'), 'BACKEND_UNAVAILABLE', /503/);
  assert.equal(fake.requests.filter((request) => request.status === 429).length, 1);
  assert.equal(fake.requests.filter((request) => request.status === 503).length, 1);
});

test('throttling exhausts the attempts', async (t) => {
  const { fake, backend } = await setup(t);
  fake.throttleNext(10);
  await expectError(fetchWithRetry(backend, { secret: 'demo-hello', options: {} }, smallPolicy, { random: () => 0 }), 'THROTTLED');
  assert.equal(fake.requests.filter((request) => request.status === 429).length, smallPolicy.maxAttempts);
});

test('5xx then success', async (t) => {
  const { fake, backend } = await setup(t);
  fake.failNext(2, 503);
  const codes: string[] = [];
  const value = await fetchWithRetry(backend, { secret: 'demo-hello', options: {} }, smallPolicy, {
    random: () => 0,
    onRetry: (error) => void codes.push(error.code),
  });
  assert.equal(Buffer.from(value).toString(), fake.demoValue);
  assert.deepEqual(codes, ['BACKEND_UNAVAILABLE', 'BACKEND_UNAVAILABLE']);
});

test('token endpoint 5xx then success', async (t) => {
  const { fake, backend } = await setup(t);
  fake.failTokenRequests(1, 503);
  const codes: string[] = [];
  const value = await fetchWithRetry(backend, { secret: 'demo-hello', options: {} }, smallPolicy, {
    random: () => 0,
    onRetry: (error) => void codes.push(error.code),
  });
  assert.equal(Buffer.from(value).toString(), fake.demoValue);
  assert.deepEqual(codes, ['BACKEND_UNAVAILABLE']);
});

test('slow vault answer is TIMEOUT', async (t) => {
  const { fake, backend } = await setup(t);
  fake.vaultDelayMs = 3_000;
  const started = performance.now();
  await expectError(fetchWithRetry(backend, { secret: 'demo-hello', options: {} }, { ...smallPolicy, budgetMs: 400 }), 'TIMEOUT');
  assert.ok(performance.now() - started < 2_000);
});

test('slow token endpoint is TIMEOUT', async (t) => {
  const { fake, backend } = await setup(t);
  fake.tokenDelayMs = 3_000;
  const started = performance.now();
  await expectError(fetchWithRetry(backend, { secret: 'demo-hello', options: {} }, { ...smallPolicy, budgetMs: 400 }), 'TIMEOUT');
  assert.ok(performance.now() - started < 2_000);
});

test('CA file is required and re-read when it changes', async (t) => {
  const { fake, backend, dir } = await setup(t);
  const otherCa = (await startOtherFake(t)).caPem;
  await writeCredential(dir, 'azure/ca.pem', otherCa);
  await expectError(read(backend, 'demo-hello'), 'BACKEND_UNAVAILABLE', /DSV_AZURE_CA_FILE/);
  await writeCredential(dir, 'azure/ca.pem', fake.caPem);
  assert.equal(await readText(backend, 'demo-hello'), fake.demoValue);
});

test('client certificate signs in', async (t) => {
  const certificateFile = await createClientCertificate(t);
  const { fake, backend } = await setup(t, {}, (_fake, dir) => ({
    DSV_AZURE_CLIENT_SECRET_FILE: undefined,
    AZURE_CLIENT_CERTIFICATE_PATH: certificateFile,
    DSV_AZURE_CA_FILE: path.join(dir, 'azure/ca.pem'),
  }));
  await expectError(read(backend, 'demo-hello'), 'INVALID_CREDENTIALS', /AADSTS700027/);
  fake.trustClientCertificate(await readFile(certificateFile, 'utf8'));
  assert.equal(await readText(backend, 'demo-hello'), fake.demoValue);
});

test('federated token file is re-read', async (t) => {
  const { fake, backend, dir } = await setup(t, {}, (_fake, credentialsDir) => ({
    DSV_AZURE_CLIENT_SECRET_FILE: undefined,
    AZURE_FEDERATED_TOKEN_FILE: path.join(credentialsDir, 'azure/federated-token'),
  }));
  fake.trustFederatedToken('federated-one');
  await writeCredential(dir, 'azure/federated-token', 'federated-one\n');
  assert.equal(await readText(backend, 'demo-hello'), fake.demoValue);

  fake.trustFederatedToken('federated-two');
  fake.expireTokens();
  await writeCredential(dir, 'azure/federated-token', 'federated-two');
  assert.equal(await readText(backend, 'demo-hello'), fake.demoValue);
  assert.equal(fake.count('token'), 2);
});

test('managed identity through IDENTITY_ENDPOINT', async (t) => {
  let header = '';
  const { fake, backend } = await setup(t, {}, (running) => {
    const identity = running.enableManagedIdentity();
    header = identity.header;
    return { DSV_AZURE_CLIENT_SECRET_FILE: undefined, IDENTITY_ENDPOINT: identity.endpoint, IDENTITY_HEADER: identity.header };
  });
  assert.equal(await readText(backend, 'demo-hello'), fake.demoValue);
  assert.equal(fake.count('managed-identity'), 1);
  assert.equal(fake.count('token'), 0);
  assert.notEqual(header, '');
});

test('managed identity with a wrong header is INVALID_CREDENTIALS', async (t) => {
  const { backend } = await setup(t, {}, (running) => ({
    DSV_AZURE_CLIENT_SECRET_FILE: undefined,
    IDENTITY_ENDPOINT: running.enableManagedIdentity().endpoint,
    IDENTITY_HEADER: 'wrong-header',
  }));
  await expectError(read(backend, 'demo-hello'), 'INVALID_CREDENTIALS', /managed identity endpoint failed with 401/);
});

test('sentinel never appears in errors or logs', async (t) => {
  const { fake, backend, logs } = await setup(t);
  fake.setSecret('value', sentinel);
  fake.setSecret('disabled', sentinel, { enabled: false });
  fake.setSecret('denied', sentinel);
  fake.deny('denied');
  assert.equal(await readText(backend, 'value'), sentinel);
  await expectError(read(backend, 'value', { decode: 'base64' }), 'INVALID_OPTION');
  await expectError(read(backend, 'disabled'), 'SECRET_DELETED');
  await expectError(read(backend, 'denied'), 'ACCESS_DENIED');
  fake.throttleNext(1);
  await expectError(read(backend, 'value'), 'THROTTLED');
  assertNoSentinel(...logs);
  assert.ok(logs.length > 0);
});

async function waitFor(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) assert.fail(`condition not met within ${timeoutMs} ms`);
    await sleep(20);
  }
}

async function startOtherFake(t: TestContext): Promise<AzureFake> {
  const other = await startAzureFake();
  t.after(() => other.close());
  return other;
}

/** Writes an RSA private key and its self-signed certificate into one PEM file. */
async function createClientCertificate(t: TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dsv-azure-cert-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=dsv-test-client']);
  const combined = path.join(dir, 'client.pem');
  await writeFile(combined, (await readFile(key, 'utf8')) + (await readFile(cert, 'utf8')));
  return combined;
}
