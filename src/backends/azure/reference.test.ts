import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DsvError } from '../../errors.ts';
import { decodeBase64Strict, looksLikeBase64ContentType, parseSecretReference } from './reference.ts';

const vault = 'https://myvault.vault.azure.net';
const version = '0123456789abcdef0123456789abcdef';

function rejects(run: () => unknown, code: string, pattern: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof DsvError);
    assert.equal(error.code, code);
    assert.match(error.message, pattern);
    return true;
  });
}

test('secret name resolves against the configured vault', () => {
  assert.deepEqual(parseSecretReference('db-password', vault, undefined), { vaultUrl: vault, name: 'db-password', version: undefined });
});

test('secret name takes the version option', () => {
  assert.equal(parseSecretReference('db', vault, version).version, version);
});

test('secret name without a vault is rejected', () => {
  rejects(() => parseSecretReference('db', undefined, undefined), 'INVALID_SETTING', /DSV_AZURE_VAULT_URL/);
});

test('invalid secret names are rejected', () => {
  for (const name of ['', 'a_b', 'a.b', 'a/b', 'x'.repeat(128), 'name with space']) {
    rejects(() => parseSecretReference(name, vault, undefined), 'INVALID_OPTION', /1 to 127 letters/);
  }
  assert.equal(parseSecretReference('x'.repeat(127), vault, undefined).name.length, 127);
});

test('secret URL with and without version', () => {
  assert.deepEqual(parseSecretReference(`${vault}/secrets/db`, vault, undefined), { vaultUrl: vault, name: 'db', version: undefined });
  assert.deepEqual(parseSecretReference(`${vault}/secrets/db/`, vault, undefined), { vaultUrl: vault, name: 'db', version: undefined });
  assert.deepEqual(parseSecretReference(`${vault}/secrets/db/${version}`, vault, undefined), { vaultUrl: vault, name: 'db', version });
});

test('secret URL names the vault when none is configured', () => {
  const location = parseSecretReference(`https://other.vault.azure.net:443/secrets/db`, undefined, undefined);
  assert.equal(location.vaultUrl, 'https://other.vault.azure.net');
  assert.equal(location.name, 'db');
});

test('secret URL for another host is rejected', () => {
  rejects(() => parseSecretReference('https://evil.example/secrets/db', vault, undefined), 'INVALID_OPTION', /points at evil\.example/);
  rejects(() => parseSecretReference(`${vault}:8443/secrets/db`, vault, undefined), 'INVALID_OPTION', /points at/);
});

test('malformed secret URLs are rejected', () => {
  const cases: [string, RegExp][] = [
    ['http://myvault.vault.azure.net/secrets/db', /https/],
    [`${vault}/secrets/db?x=1`, /query/],
    ['https://user:pw@myvault.vault.azure.net/secrets/db', /credentials/],
    [`${vault}/keys/db`, /form/],
    [`${vault}/secrets`, /form/],
    [`${vault}/secrets/db/${version}/extra`, /form/],
    [`${vault}/secrets/db_x`, /secret name/],
    [`${vault}/secrets/db/123`, /32 hexadecimal/],
  ];
  for (const [reference, pattern] of cases) rejects(() => parseSecretReference(reference, vault, undefined), 'INVALID_OPTION', pattern);
});

test('version option must match the URL version', () => {
  rejects(() => parseSecretReference(`${vault}/secrets/db/${version}`, vault, 'f'.repeat(32)), 'INVALID_OPTION', /does not match/);
  assert.equal(parseSecretReference(`${vault}/secrets/db/${version}`, vault, version.toUpperCase()).version, version.toUpperCase());
});

test('base64 decoding returns every byte value', () => {
  const bytes = Buffer.from(Array.from({ length: 256 }, (_, index) => index));
  assert.deepEqual(Buffer.from(decodeBase64Strict(bytes.toString('base64'), 's')), bytes);
  assert.deepEqual(Buffer.from(decodeBase64Strict('', 's')), Buffer.alloc(0));
});

test('base64 decoding rejects loose input', () => {
  const sentinel = 'c2VudGluZWwtdmFsdWU';
  for (const value of [sentinel, `${sentinel}=\n`, 'QUJD\nREVG', 'QUJD REVG', '-_-_', 'QR==', 'QUJD=', 'hello world']) {
    rejects(() => decodeBase64Strict(value, 'db'), 'INVALID_OPTION', /not strict base64/);
  }
  try {
    decodeBase64Strict(sentinel, 'db');
  } catch (error) {
    assert.ok(!(error as Error).message.includes(sentinel));
  }
});

test('base64 content types are recognised', () => {
  assert.equal(looksLikeBase64ContentType('application/octet-stream;base64'), true);
  assert.equal(looksLikeBase64ContentType('text/plain'), false);
  assert.equal(looksLikeBase64ContentType(undefined), false);
});
