import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DsvError } from '../../errors.ts';
import { parseSettings } from '../../settings/settings.ts';
import { fileBackend } from '../file/index.ts';
import { defaultCredentialFiles, readAzureConfig, selectCredentialSource } from './config.ts';
import { azureBackend } from './index.ts';

const tenant = '11111111-2222-3333-4444-555555555555';
const client = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const app = { AZURE_TENANT_ID: tenant, AZURE_CLIENT_ID: client };
const none = () => false;

test('client secret file setting selects client-secret', () => {
  const source = selectCredentialSource({ ...app, DSV_AZURE_CLIENT_SECRET_FILE: '/run/s' }, none);
  assert.deepEqual(source, {
    kind: 'client-secret',
    tenantId: tenant,
    clientId: client,
    file: '/run/s',
    authorityHost: 'https://login.microsoftonline.com',
  });
});

test('settings win over default files, in EnvironmentCredential order', () => {
  const all = () => true;
  assert.equal(selectCredentialSource({ ...app, AZURE_FEDERATED_TOKEN_FILE: '/t' }, all).kind, 'workload-identity');
  const both = { ...app, AZURE_CLIENT_CERTIFICATE_PATH: '/c.pem', DSV_AZURE_CLIENT_SECRET_FILE: '/s' };
  assert.equal(selectCredentialSource(both, none).kind, 'client-secret');
});

test('default files apply when present', () => {
  const only = (file: string) => (path: string) => path === file;
  const secret = selectCredentialSource(app, only(defaultCredentialFiles.clientSecret));
  assert.equal(secret.kind, 'client-secret');
  const certificate = selectCredentialSource(app, only(defaultCredentialFiles.clientCertificate));
  assert.equal(certificate.kind === 'client-certificate' && certificate.file, defaultCredentialFiles.clientCertificate);
  assert.equal(selectCredentialSource(app, only(defaultCredentialFiles.federatedToken)).kind, 'workload-identity');
});

test('managed identity when nothing else is set', () => {
  assert.deepEqual(selectCredentialSource({}, none), { kind: 'managed-identity', clientId: undefined, endpoint: undefined });
  const userAssigned = selectCredentialSource({ AZURE_CLIENT_ID: client, IDENTITY_ENDPOINT: 'http://127.0.0.1:1/msi', IDENTITY_HEADER: 'h' }, none);
  assert.deepEqual(userAssigned, { kind: 'managed-identity', clientId: client, endpoint: { url: 'http://127.0.0.1:1/msi', header: 'h' } });
});

test('incomplete settings are rejected', () => {
  const expectSetting = (run: () => unknown, pattern: RegExp) =>
    assert.throws(run, (error: unknown) => error instanceof DsvError && error.code === 'INVALID_SETTING' && pattern.test(error.message));
  expectSetting(() => selectCredentialSource({ DSV_AZURE_CLIENT_SECRET_FILE: '/s' }, none), /AZURE_TENANT_ID and AZURE_CLIENT_ID/);
  expectSetting(() => selectCredentialSource({ AZURE_TENANT_ID: tenant, AZURE_FEDERATED_TOKEN_FILE: '/t' }, none), /AZURE_CLIENT_ID must/);
  expectSetting(() => selectCredentialSource({ IDENTITY_ENDPOINT: 'http://127.0.0.1:1/msi' }, none), /set together/);
});

test('vault URL and authority host lose trailing slashes', () => {
  const config = readAzureConfig({ ...app, DSV_AZURE_VAULT_URL: 'https://v.vault.azure.net/', AZURE_AUTHORITY_HOST: 'https://login.example/', DSV_AZURE_CLIENT_SECRET_FILE: '/s' }, none);
  assert.equal(config.vaultUrl, 'https://v.vault.azure.net');
  assert.equal(config.credential.kind === 'client-secret' && config.credential.authorityHost, 'https://login.example');
  assert.equal(config.caFile, undefined);
  assert.equal(readAzureConfig({}, (path) => path === defaultCredentialFiles.ca).caFile, defaultCredentialFiles.ca);
});

test('settings schema accepts valid values', () => {
  const settings = parseSettings(
    {
      DSV_AZURE_VAULT_URL: 'https://myvault.vault.azure.net',
      AZURE_TENANT_ID: 'contoso.onmicrosoft.com',
      AZURE_CLIENT_ID: client,
      AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.us',
      DSV_AZURE_CLIENT_SECRET_FILE: '/etc/dsv/credentials/azure/client-secret',
      DSV_AZURE_CA_FILE: '',
    },
    [fileBackend, azureBackend],
  );
  assert.equal(settings.env.DSV_AZURE_VAULT_URL, 'https://myvault.vault.azure.net');
  assert.equal(settings.env.DSV_AZURE_CA_FILE, undefined);
});

test('settings schema rejects invalid values', () => {
  const invalid = {
    DSV_AZURE_VAULT_URL: 'http://myvault.vault.azure.net',
    AZURE_TENANT_ID: '../evil',
    AZURE_CLIENT_ID: 'not-a-guid',
    AZURE_AUTHORITY_HOST: 'https://login.example/?q=1',
    DSV_AZURE_CLIENT_SECRET_FILE: 'relative/path',
    IDENTITY_ENDPOINT: 'ftp://x',
    IDENTITY_HEADER: 'has space',
  };
  assert.throws(
    () => parseSettings(invalid, [fileBackend, azureBackend]),
    (error: unknown) => {
      assert.ok(error instanceof DsvError);
      for (const name of Object.keys(invalid)) assert.match(error.message, new RegExp(`${name}:`));
      return true;
    },
  );
  const withPath = () => parseSettings({ DSV_AZURE_VAULT_URL: 'https://myvault.vault.azure.net/secrets' }, [fileBackend, azureBackend]);
  assert.throws(withPath, /without a path/);
});

test('definition declares the volume options', () => {
  assert.deepEqual(Object.keys(azureBackend.options).sort(), ['decode', 'version']);
  assert.equal(azureBackend.options.version?.schema.safeParse('0123456789abcdef0123456789ABCDEF').success, true);
  assert.equal(azureBackend.options.version?.schema.safeParse('latest').success, false);
  assert.equal(azureBackend.options.decode?.schema.safeParse('base64').success, true);
  assert.equal(azureBackend.options.decode?.schema.safeParse('hex').success, false);
});
