import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DsvError } from '../../errors.ts';
import { parseSettings } from '../../settings/settings.ts';
import { defaultSecretIdFile, defaultTokenFile, resolveVaultConfig } from './config.ts';
import { vaultBackend } from './index.ts';

const address = { VAULT_ADDR: 'https://vault.example.com:8200' };

function invalidSetting(run: () => unknown, pattern: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof DsvError);
    assert.equal(error.code, 'INVALID_SETTING');
    assert.match(error.message, pattern);
    return true;
  });
}

test('missing VAULT_ADDR is reported by name', () => {
  invalidSetting(() => resolveVaultConfig({}), /VAULT_ADDR is not set/);
  invalidSetting(() => resolveVaultConfig({ VAULT_ADDR: '' }), /VAULT_ADDR is not set/);
});

test('VAULT_ADDR must be an http or https URL', () => {
  invalidSetting(() => resolveVaultConfig({ VAULT_ADDR: 'vault:8200' }), /must start with https:\/\/ or http:\/\//);
  invalidSetting(() => resolveVaultConfig({ VAULT_ADDR: 'ftp://vault' }), /must start with https:\/\//);
  invalidSetting(() => resolveVaultConfig({ VAULT_ADDR: 'not a url' }), /is not a URL/);
  invalidSetting(() => resolveVaultConfig({ VAULT_ADDR: 'https://u:p@vault' }), /must not contain credentials/);
});

test('token file is the default credential', () => {
  const config = resolveVaultConfig(address);
  assert.deepEqual(config.auth, { kind: 'token-file', file: defaultTokenFile });
  assert.equal(config.address.origin, 'https://vault.example.com:8200');
});

test('VAULT_TOKEN wins over the token file', () => {
  const config = resolveVaultConfig({ ...address, VAULT_TOKEN: 't', DSV_VAULT_TOKEN_FILE: '/x/token' });
  assert.equal(config.auth.kind, 'env-token');
});

test('AppRole wins over VAULT_TOKEN and the token file', () => {
  const config = resolveVaultConfig({ ...address, VAULT_TOKEN: 't', DSV_VAULT_ROLE_ID: 'role' });
  assert.deepEqual(config.auth, {
    kind: 'approle',
    roleId: { value: 'role' },
    secretIdFile: defaultSecretIdFile,
    mount: 'approle',
  });
});

test('AppRole reads the role ID from a file and a custom mount', () => {
  const config = resolveVaultConfig({
    ...address,
    DSV_VAULT_ROLE_ID_FILE: '/creds/role-id',
    DSV_VAULT_SECRET_ID_FILE: '/creds/secret-id',
    DSV_VAULT_AUTH_MOUNT: '/team/approle/',
  });
  assert.deepEqual(config.auth, {
    kind: 'approle',
    roleId: { file: '/creds/role-id' },
    secretIdFile: '/creds/secret-id',
    mount: 'team/approle',
  });
});

test('role ID and role ID file together are rejected', () => {
  invalidSetting(
    () => resolveVaultConfig({ ...address, DSV_VAULT_ROLE_ID: 'r', DSV_VAULT_ROLE_ID_FILE: '/r' }),
    /only one of DSV_VAULT_ROLE_ID and DSV_VAULT_ROLE_ID_FILE/,
  );
});

test('settings schemas check paths and addresses at startup', () => {
  const base = { DSV_DEFAULT_BACKEND: 'vault' };
  invalidSetting(() => parseSettings({ ...base, VAULT_ADDR: 'vault:8200' }, [vaultBackend]), /VAULT_ADDR/);
  invalidSetting(() => parseSettings({ ...base, DSV_VAULT_TOKEN_FILE: 'token' }, [vaultBackend]), /DSV_VAULT_TOKEN_FILE/);
  invalidSetting(() => parseSettings({ ...base, VAULT_CACERT: 'ca.pem' }, [vaultBackend]), /VAULT_CACERT/);
  const settings = parseSettings(base, [vaultBackend]);
  assert.equal(settings.env.DSV_VAULT_TOKEN_FILE, defaultTokenFile);
  assert.equal(settings.env.DSV_VAULT_AUTH_MOUNT, 'approle');
});
