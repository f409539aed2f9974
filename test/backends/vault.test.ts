/**
 * The vault backend against the loopback Vault fake: KV reads, mount detection, deleted versions,
 * token files, AppRole login and renewal, throttling, outages, timeouts, namespaces and TLS.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { pino } from 'pino';
import { DsvError, type ErrorCode } from '../../src/errors.ts';
import type { BackendOptions } from '../../src/backends/backend.ts';
import { fetchWithRetry, type RetryPolicy } from '../../src/backends/retry.ts';
import { vaultBackend } from '../../src/backends/vault/index.ts';
import { createVaultBackend, type VaultBackend } from '../../src/backends/vault/vault-backend.ts';
import { startVaultFake, type VaultFake, type VaultFakeOptions } from '../fakes/vault.ts';

for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'NODE_EXTRA_CA_CERTS']) {
  delete process.env[name];
}

/** Stored in secrets that tests make fail; it must never show in an error or a log line. */
const sentinel = 'sentinel-7c1e-vault-value';

const smallPolicy: RetryPolicy = { budgetMs: 5_000, baseDelayMs: 10, maxDelayMs: 2_000, maxAttempts: 4 };

interface Setup {
  readonly fake: VaultFake;
  readonly dir: string;
  readonly backend: VaultBackend;
  readonly logs: string[];
  /** Moves the fake's clock and the backend's clock forward together. */
  advance(ms: number): void;
  fetch(secret: string, options?: BackendOptions, signal?: AbortSignal): Promise<Uint8Array>;
  /** Fetches, expects a DsvError with `code`, and checks that no sentinel leaked into it or the logs. */
  fails(secret: string, code: ErrorCode, options?: BackendOptions): Promise<DsvError>;
}

async function setup(
  t: TestContext,
  fakeOptions: VaultFakeOptions = {},
  env: (fake: VaultFake, dir: string) => Record<string, string> = () => ({}),
): Promise<Setup> {
  const fake = await startVaultFake(fakeOptions);
  t.after(() => fake.close());
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dsv-vault-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeCredentials(dir, fake.credentialFiles);

  const logs: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => logs.push(line) });
  let offsetMs = 0;
  const backend = await createVaultBackend({ ...fake.settings(dir), ...env(fake, dir) }, logger, {
    now: () => Date.now() + offsetMs,
  });

  const fetch = (secret: string, options: BackendOptions = {}, signal = AbortSignal.timeout(5_000)) =>
    backend.fetch({ secret, options }, { signal });
  return {
    fake,
    dir,
    backend,
    logs,
    advance(ms) {
      offsetMs += ms;
      fake.advanceTime(ms);
    },
    fetch,
    async fails(secret, code, options = {}) {
      const error = await fetch(secret, options).then(
        () => assert.fail(`fetching ${secret} succeeded, expected ${code}`),
        (caught: unknown) => caught,
      );
      return expectError(error, code, logs);
    },
  };
}

function expectError(error: unknown, code: ErrorCode, logs: readonly string[] = []): DsvError {
  assert.ok(error instanceof DsvError, `expected a DsvError, got ${inspect(error)}`);
  assert.equal(error.code, code, error.message);
  assert.ok(!inspect(error, { depth: 10 }).includes(sentinel), 'the error contains the secret value');
  assert.ok(!logs.join('\n').includes(sentinel), 'a log line contains the secret value');
  return error;
}

async function writeCredentials(dir: string, files: Readonly<Record<string, string | Uint8Array>>): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
}

function text(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

function appRoleEnv(_fake: VaultFake, dir: string): Record<string, string> {
  return {
    DSV_VAULT_ROLE_ID_FILE: path.join(dir, 'vault/role-id'),
    DSV_VAULT_SECRET_ID_FILE: path.join(dir, 'vault/secret-id'),
  };
}

/** Statuses the fake returned for one API path, in order. */
function statusesOf(fake: VaultFake, apiPath: string): number[] {
  return fake.requests.filter((request) => request.path === apiPath).map((request) => request.status);
}

test('demo secret through the definition', async (t) => {
  const fake = await startVaultFake();
  t.after(() => fake.close());
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dsv-vault-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeCredentials(dir, fake.credentialFiles);

  const backend = await vaultBackend.create({ env: fake.settings(dir), logger: pino({ level: 'silent' }) });
  const bytes = await backend.fetch({ secret: fake.demoSecret, options: {} }, { signal: AbortSignal.timeout(5_000) });

  assert.equal(JSON.parse(text(bytes))[fake.demoKey], fake.demoValue);
  assert.deepEqual(fake.demoOptions, { key: fake.demoKey });
});

test('definition without VAULT_ADDR is INVALID_SETTING', async () => {
  const error = await vaultBackend.create({ env: {}, logger: pino({ level: 'silent' }) }).catch((caught: unknown) => caught);
  assert.ok(error instanceof DsvError);
  assert.equal(error.code, 'INVALID_SETTING');
  assert.match(error.message, /VAULT_ADDR is not set/);
});

test('KV v2 latest version byte-exact', async (t) => {
  const { fake, fetch } = await setup(t);
  fake.put('secret/app/db', { password: 'old' });
  const data = { password: sentinel, 'ключ': 'ü ñ 漢字', nested: { port: 5432, tags: ['a', 'b'] }, empty: '' };
  fake.put('secret/app/db', data);

  const bytes = await fetch('secret/app/db');

  assert.deepEqual(Buffer.from(bytes), Buffer.from(JSON.stringify(data), 'utf8'));
});

test('KV v2 version N', async (t) => {
  const { fake, fetch } = await setup(t);
  fake.put('secret/app/db', { password: 'first' });
  fake.put('secret/app/db', { password: 'second' });

  assert.equal(text(await fetch('secret/app/db', { version: '1' })), '{"password":"first"}');
  assert.equal(text(await fetch('secret/app/db', { version: '2' })), '{"password":"second"}');
  assert.deepEqual(
    fake.requests.filter((request) => request.path === 'secret/data/app/db').map((request) => request.query),
    ['?version=1', '?version=2'],
  );
});

test('KV v1 read', async (t) => {
  const { fake, fetch } = await setup(t);
  fake.put('kv1/app/config', { user: 'app', password: 'p' });

  assert.equal(text(await fetch('kv1/app/config')), '{"user":"app","password":"p"}');
  assert.deepEqual(statusesOf(fake, 'kv1/app/config'), [200]);
});

test('path segments are percent-encoded', async (t) => {
  const { fake, fetch } = await setup(t);
  fake.put('secret/my app/a?b#c', { value: 'odd' });

  assert.equal(text(await fetch('secret/my app/a?b#c')), '{"value":"odd"}');
});

test('mount detection is cached per mount', async (t) => {
  const { fake, fetch } = await setup(t);
  fake.put('secret/a', { v: 1 });
  fake.put('secret/b', { v: 2 });
  fake.put('kv1/c', { v: 3 });

  await fetch('secret/a');
  await fetch('secret/b');
  await fetch('kv1/c');

  const detections = fake.requests.filter((request) => request.path.startsWith('sys/internal/ui/mounts/'));
  assert.deepEqual(
    detections.map((request) => request.path),
    ['sys/internal/ui/mounts/secret/a', 'sys/internal/ui/mounts/kv1/c'],
  );
});

test('explicit kv and mount options skip detection', async (t) => {
  const { fake, fetch, fails } = await setup(t);
  fake.setPolicy({ deny: ['sys/internal/ui/mounts/'] });
  fake.put('secret/app/db', { password: sentinel });
  fake.addMount('team/kv', 1);
  fake.put('team/kv/app/x', { user: 'team' });

  const denied = await fails('secret/app/db', 'ACCESS_DENIED');
  assert.match(denied.message, /set option kv=1 or kv=2, plus option mount/);

  assert.equal(text(await fetch('secret/app/db', { kv: '2' })), JSON.stringify({ password: sentinel }));
  assert.equal(text(await fetch('team/kv/app/x', { kv: '1', mount: 'team/kv' })), '{"user":"team"}');
  assert.deepEqual(statusesOf(fake, 'team/kv/app/x'), [200]);
});

test('version option on KV v1 is rejected', async (t) => {
  const { fake, fails } = await setup(t);
  fake.put('kv1/app/config', { password: sentinel });

  const error = await fails('kv1/app/config', 'INVALID_OPTION', { version: '2' });

  assert.match(error.message, /mount kv1\/ runs KV version 1/);
  assert.deepEqual(statusesOf(fake, 'kv1/app/config'), [], 'no read was sent');
});

test('soft-deleted version is SECRET_DELETED', async (t) => {
  const { fake, fetch, fails } = await setup(t);
  fake.put('secret/app/db', { password: 'kept' });
  fake.put('secret/app/db', { password: sentinel });
  fake.softDelete('secret/app/db', 2);

  const error = await fails('secret/app/db', 'SECRET_DELETED');

  assert.match(error.message, /version 2 of "secret\/app\/db" was deleted at/);
  assert.equal(text(await fetch('secret/app/db', { version: '1' })), '{"password":"kept"}');
});

test('destroyed version is SECRET_DELETED', async (t) => {
  const { fake, fails } = await setup(t);
  fake.put('secret/app/db', { password: sentinel });
  fake.destroy('secret/app/db', 1);

  const error = await fails('secret/app/db', 'SECRET_DELETED', { version: '1' });

  assert.match(error.message, /destroyed/);
});

test('missing secret and version are SECRET_NOT_FOUND', async (t) => {
  const { fake, fails } = await setup(t);
  fake.put('secret/app/db', { password: sentinel });

  await fails('secret/app/nothing', 'SECRET_NOT_FOUND');
  const version = await fails('secret/app/db', 'SECRET_NOT_FOUND', { version: '7' });
  assert.match(version.message, /version 7/);
  await fails('kv1/app/nothing', 'SECRET_NOT_FOUND');
});

test('unknown mount fails detection with ACCESS_DENIED', async (t) => {
  const { fails } = await setup(t);

  const error = await fails('nomount/app/db', 'ACCESS_DENIED');

  assert.match(error.message, /The mount may not exist/);
});

test('server without detection endpoint', async (t) => {
  const { fake, fails } = await setup(t);
  fake.failNext(1, 404);

  const error = await fails(fake.demoSecret, 'BACKEND_ERROR');

  assert.match(error.message, /does not offer mount detection/);
  assert.match(error.message, /set option kv=1 or kv=2/);
});

test('engine other than KV is rejected', async (t) => {
  const { fails } = await setup(t);

  const error = await fails('transit/keys/app', 'INVALID_OPTION');

  assert.match(error.message, /transit secrets engine/);
});

test('denied read with a token file is ACCESS_DENIED', async (t) => {
  const { fake, fails } = await setup(t);
  fake.put('secret/private/db', { password: sentinel });
  fake.setPolicy({ deny: ['secret/data/private'] });

  const error = await fails('secret/private/db', 'ACCESS_DENIED');

  assert.match(error.message, /permission denied/);
  assert.deepEqual(statusesOf(fake, 'secret/data/private/db'), [403], 'an unchanged token file is not retried');
});

test('token file is re-read when it changes', async (t) => {
  const { fake, dir, fetch } = await setup(t);
  const tokenFile = path.join(dir, 'vault/token');
  await fetch(fake.demoSecret);

  fake.expireAllTokens();
  const replacement = fake.issueToken();
  await writeFile(tokenFile, replacement);
  const later = new Date(Date.now() + 10_000);
  await utimes(tokenFile, later, later);
  await fetch(fake.demoSecret);

  const reads = fake.requests.filter((request) => request.path === 'secret/data/demo/hello');
  assert.deepEqual(
    reads.map((request) => [request.status, request.token === replacement]),
    [
      [200, false],
      [200, true],
    ],
  );
});

test('token file rewritten unnoticed is re-read after 403', async (t) => {
  const { fake, dir, fetch } = await setup(t);
  const tokenFile = path.join(dir, 'vault/token');
  // Same size, inode and mtime: the change check cannot see the rewrite.
  await utimes(tokenFile, 1_000, 1_000);
  await fetch(fake.demoSecret);

  fake.expireAllTokens();
  await writeFile(tokenFile, `${fake.issueToken()}\n`);
  await utimes(tokenFile, 1_000, 1_000);
  await fetch(fake.demoSecret);

  assert.deepEqual(statusesOf(fake, 'secret/data/demo/hello'), [200, 403, 200]);
});

test('missing token file is INVALID_CREDENTIALS', async (t) => {
  const { fails } = await setup(t, {}, (_fake, dir) => ({ DSV_VAULT_TOKEN_FILE: path.join(dir, 'absent') }));

  const error = await fails('secret/demo/hello', 'INVALID_CREDENTIALS');

  assert.match(error.message, /does not exist/);
  assert.match(error.message, /DSV_VAULT_ROLE_ID/);
});

test('VAULT_TOKEN is used and not retried', async (t) => {
  const { fake, fetch, fails } = await setup(t, {}, (vault, dir) => ({
    VAULT_TOKEN: vault.rootToken,
    DSV_VAULT_TOKEN_FILE: path.join(dir, 'absent'),
  }));
  await fetch(fake.demoSecret);

  fake.expireAllTokens();
  await fails(fake.demoSecret, 'ACCESS_DENIED');

  assert.deepEqual(statusesOf(fake, 'secret/data/demo/hello'), [200, 403]);
});

test('AppRole login is reused', async (t) => {
  const { fake, fetch } = await setup(t, {}, appRoleEnv);

  await fetch(fake.demoSecret);
  await fetch(fake.demoSecret);

  assert.equal(fake.logins, 1);
  const reads = fake.requests.filter((request) => request.path === 'secret/data/demo/hello');
  assert.equal(reads.length, 2);
  assert.ok(reads.every((request) => request.token !== fake.rootToken && request.token?.startsWith('hvs.')));
});

test('AppRole role ID as a setting', async (t) => {
  const { fake, fetch } = await setup(t, {}, (vault, dir) => ({
    DSV_VAULT_ROLE_ID: vault.roleId,
    DSV_VAULT_SECRET_ID_FILE: path.join(dir, 'vault/secret-id'),
  }));

  await fetch(fake.demoSecret);

  assert.equal(fake.logins, 1);
});

test('token is renewed past two thirds of its TTL', async (t) => {
  const { fake, fetch, advance } = await setup(t, { tokenTtlSeconds: 30 }, appRoleEnv);
  await fetch(fake.demoSecret);

  advance(15_000);
  await fetch(fake.demoSecret);
  assert.equal(fake.renewals, 0, 'no renewal at half the TTL');

  advance(6_000);
  await fetch(fake.demoSecret);
  assert.equal(fake.renewals, 1);

  advance(25_000);
  await fetch(fake.demoSecret);
  assert.equal(fake.renewals, 2, 'the renewed TTL counts from the renewal');
  assert.equal(fake.logins, 1);
  assert.ok(fake.requests.every((request) => request.status !== 403));
});

test('renewal stopped by max TTL logs in again', async (t) => {
  const { fake, fetch, advance } = await setup(t, { tokenTtlSeconds: 30, tokenMaxTtlSeconds: 40 }, appRoleEnv);
  await fetch(fake.demoSecret);

  advance(21_000);
  await fetch(fake.demoSecret);
  assert.deepEqual([fake.renewals, fake.logins], [1, 1]);

  advance(13_000);
  await fetch(fake.demoSecret);
  assert.deepEqual([fake.renewals, fake.logins], [2, 2]);
});

test('expired token gets one login and a retry', async (t) => {
  const { fake, fetch, logs } = await setup(t, {}, appRoleEnv);
  await fetch(fake.demoSecret);

  fake.expireAllTokens();
  assert.equal(JSON.parse(text(await fetch(fake.demoSecret))).value, fake.demoValue);

  assert.equal(fake.logins, 2);
  assert.deepEqual(statusesOf(fake, 'secret/data/demo/hello'), [200, 403, 200]);
  assert.ok(logs.some((line) => line.includes('retrying once with a replaced token')));
});

test('denied read with AppRole logs in once more', async (t) => {
  const { fake, fails } = await setup(t, {}, appRoleEnv);
  fake.put('secret/private/db', { password: sentinel });
  fake.setPolicy({ deny: ['secret/data/private'] });

  await fails('secret/private/db', 'ACCESS_DENIED');

  assert.equal(fake.logins, 2);
  assert.deepEqual(statusesOf(fake, 'secret/data/private/db'), [403, 403]);
});

test('bad secret ID is INVALID_CREDENTIALS', async (t) => {
  const { fake, dir, fails } = await setup(t, {}, appRoleEnv);
  const wrong = 'wrong-secret-id-0000';
  await writeFile(path.join(dir, 'vault/secret-id'), wrong);

  const error = await fails(fake.demoSecret, 'INVALID_CREDENTIALS');

  assert.match(error.message, /invalid role or secret ID/);
  assert.ok(!error.message.includes(wrong));
  assert.equal(fake.logins, 0);
});

test('rotated secret ID is read at the next login', async (t) => {
  const { fake, dir, fetch, fails } = await setup(t, {}, appRoleEnv);
  await fetch(fake.demoSecret);

  const rotated = fake.rotateSecretId();
  fake.expireAllTokens();
  await fails(fake.demoSecret, 'INVALID_CREDENTIALS');

  await writeFile(path.join(dir, 'vault/secret-id'), rotated);
  await fetch(fake.demoSecret);
  assert.equal(fake.logins, 2);
});

test('concurrent fetches share one login', async (t) => {
  const { fake, fetch } = await setup(t, {}, appRoleEnv);
  fake.delayMs = 20;

  const values = await Promise.all(Array.from({ length: 8 }, () => fetch(fake.demoSecret)));

  assert.equal(fake.logins, 1);
  assert.ok(values.every((bytes) => JSON.parse(text(bytes)).value === fake.demoValue));
});

test('throttling carries Retry-After', async (t) => {
  const { fake, backend, fails } = await setup(t);
  await backend.fetch({ secret: fake.demoSecret, options: {} }, { signal: AbortSignal.timeout(5_000) });

  fake.throttleNext(1, { retryAfterSeconds: 7 });
  const error = await fails(fake.demoSecret, 'THROTTLED');
  assert.equal(error.retryAfterMs, 7_000);

  fake.throttleNext(1, { retryAfterSeconds: 1 });
  const delays: number[] = [];
  const bytes = await fetchWithRetry(backend, { secret: fake.demoSecret, options: {} }, smallPolicy, {
    onRetry: (_error, _attempt, delayMs) => delays.push(delayMs),
  });
  assert.equal(JSON.parse(text(bytes)).value, fake.demoValue);
  assert.deepEqual(delays, [1_000]);
});

test('throttling without Retry-After backs off', async (t) => {
  const { fake, backend, fails } = await setup(t);
  fake.throttleNext(1);
  const error = await fails(fake.demoSecret, 'THROTTLED');
  assert.equal(error.retryAfterMs, undefined);

  fake.throttleNext(2);
  const delays: number[] = [];
  await fetchWithRetry(backend, { secret: fake.demoSecret, options: {} }, smallPolicy, {
    random: () => 0.5,
    onRetry: (_error, _attempt, delayMs) => delays.push(delayMs),
  });
  assert.deepEqual(delays, [5, 10]);
});

test('sealed Vault is BACKEND_UNAVAILABLE until unsealed', async (t) => {
  const { fake, backend, fails } = await setup(t);
  fake.setSealed(true);

  const error = await fails(fake.demoSecret, 'BACKEND_UNAVAILABLE');
  assert.match(error.message, /HTTP 503: Vault is sealed/);

  const bytes = await fetchWithRetry(backend, { secret: fake.demoSecret, options: {} }, smallPolicy, {
    onRetry: () => fake.setSealed(false),
  });
  assert.equal(JSON.parse(text(bytes)).value, fake.demoValue);
});

test('5xx responses are retried', async (t) => {
  const { fake, backend } = await setup(t);
  fake.failNext(2, 502);
  let retries = 0;

  await fetchWithRetry(backend, { secret: fake.demoSecret, options: {} }, smallPolicy, {
    onRetry: (error) => {
      assert.equal(error.code, 'BACKEND_UNAVAILABLE');
      retries++;
    },
  });

  assert.equal(retries, 2);
});

test('slow response is TIMEOUT', async (t) => {
  const { fake, backend, logs } = await setup(t);
  fake.delayMs = 300;

  const direct = await backend
    .fetch({ secret: fake.demoSecret, options: {} }, { signal: AbortSignal.timeout(50) })
    .catch((caught: unknown) => caught);
  expectError(direct, 'TIMEOUT', logs);

  const policy = { ...smallPolicy, budgetMs: 100 };
  const retried = await fetchWithRetry(backend, { secret: fake.demoSecret, options: {} }, policy).catch(
    (caught: unknown) => caught,
  );
  expectError(retried, 'TIMEOUT', logs);
});

test('slow AppRole login is TIMEOUT for the waiting fetch', async (t) => {
  const { fake, backend, logs } = await setup(t, {}, appRoleEnv);
  fake.delayMs = 300;

  const error = await backend
    .fetch({ secret: fake.demoSecret, options: {} }, { signal: AbortSignal.timeout(50) })
    .catch((caught: unknown) => caught);

  expectError(error, 'TIMEOUT', logs);
});

test('namespace header is sent', async (t) => {
  const { fake, fetch } = await setup(t, { namespace: 'team-a' }, appRoleEnv);

  await fetch(fake.demoSecret);

  assert.ok(fake.requests.length >= 3);
  assert.ok(fake.requests.every((request) => request.namespace === 'team-a'));
});

test('missing namespace is denied', async (t) => {
  const { fake, fails } = await setup(t, { namespace: 'team-a' }, () => ({ VAULT_NAMESPACE: '' }));

  await fails(fake.demoSecret, 'ACCESS_DENIED');

  assert.ok(fake.requests.every((request) => request.namespace === undefined));
});

test('https with VAULT_CACERT', async (t) => {
  const { fake, fetch } = await setup(t, { tls: true });

  assert.match(fake.url, /^https:/);
  assert.equal(JSON.parse(text(await fetch(fake.demoSecret))).value, fake.demoValue);
});

test('https without VAULT_CACERT names the setting', async (t) => {
  const { fake, fails } = await setup(t, { tls: true }, () => ({ VAULT_CACERT: '' }));

  const error = await fails(fake.demoSecret, 'BACKEND_UNAVAILABLE');

  assert.match(error.message, /TLS connection to Vault at https:\/\/127\.0\.0\.1:\d+ failed/);
  assert.match(error.message, /set VAULT_CACERT/);
});

test('https with the wrong CA', async (t) => {
  const other = await startVaultFake({ tls: true });
  t.after(() => other.close());
  const caDir = await mkdtemp(path.join(os.tmpdir(), 'dsv-vault-ca-'));
  t.after(() => rm(caDir, { recursive: true, force: true }));
  const otherCa = path.join(caDir, 'other-ca.pem');
  await writeFile(otherCa, other.credentialFiles['vault/ca.pem']!);
  const { fake, fails } = await setup(t, { tls: true }, () => ({ VAULT_CACERT: otherCa }));

  const error = await fails(fake.demoSecret, 'BACKEND_UNAVAILABLE');

  assert.match(error.message, /check that VAULT_CACERT contains the CA certificate/);
});

test('https address on a plain http server', async (t) => {
  const { fake, fails } = await setup(t, {}, (vault) => ({ VAULT_ADDR: vault.url.replace('http:', 'https:') }));

  const error = await fails(fake.demoSecret, 'BACKEND_UNAVAILABLE');

  assert.match(error.message, /server seems to use plain http/);
});

test('unreadable VAULT_CACERT is INVALID_SETTING', async (t) => {
  const error = await setup(t, { tls: true }, (_fake, dir) => ({ VAULT_CACERT: path.join(dir, 'absent.pem') })).catch(
    (caught: unknown) => caught,
  );

  assert.ok(error instanceof DsvError);
  assert.equal(error.code, 'INVALID_SETTING');
  assert.match(error.message, /VAULT_CACERT file .* cannot be read \(ENOENT\)/);
});

test('stopped Vault is BACKEND_UNAVAILABLE', async (t) => {
  const { fake, fails } = await setup(t);
  await fake.close();

  const error = await fails(fake.demoSecret, 'BACKEND_UNAVAILABLE');

  assert.match(error.message, /cannot reach Vault at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
});

test('logs never contain secret values', async (t) => {
  const { fake, fetch, logs } = await setup(t, { tokenTtlSeconds: 30 }, appRoleEnv);
  fake.put('secret/app/db', { password: sentinel });

  await fetch('secret/app/db');
  fake.expireAllTokens();
  await fetch('secret/app/db');

  assert.ok(logs.some((line) => line.includes('vault AppRole login succeeded')));
  assert.ok(!logs.join('\n').includes(sentinel));
  assert.ok(!logs.join('\n').includes(fake.secretId), 'a log line contains the AppRole secret ID');
});
