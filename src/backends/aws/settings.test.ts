import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { DsvError } from '../../errors.ts';
import { awsBackend } from './index.ts';
import { awsSsmBackend } from '../aws-ssm/index.ts';
import { awsCommonSettings, resolveAwsClientSettings } from './settings.ts';

const region = { AWS_REGION: 'eu-central-1' };

function settingError(code: string) {
  return (error: unknown) => error instanceof DsvError && error.code === 'INVALID_SETTING' && error.message.includes(code);
}

test('missing region names AWS_REGION', () => {
  assert.throws(() => resolveAwsClientSettings({}, 'AWS_ENDPOINT_URL_SSM'), settingError('AWS_REGION'));
});

test('service endpoint wins over AWS_ENDPOINT_URL', () => {
  const env = { ...region, AWS_ENDPOINT_URL: 'http://127.0.0.1:1', AWS_ENDPOINT_URL_SSM: 'http://127.0.0.1:2' };
  assert.equal(resolveAwsClientSettings(env, 'AWS_ENDPOINT_URL_SSM').endpoint, 'http://127.0.0.1:2');
  assert.equal(resolveAwsClientSettings(env, 'AWS_ENDPOINT_URL_SECRETS_MANAGER').endpoint, 'http://127.0.0.1:1');
});

test('endpoint defaults to the SDK choice', () => {
  assert.equal(resolveAwsClientSettings(region, 'AWS_ENDPOINT_URL_SSM').endpoint, undefined);
});

test('key pair becomes static credentials', () => {
  const env = { ...region, AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE000000001', AWS_SECRET_ACCESS_KEY: 's', AWS_SESSION_TOKEN: 't' };
  assert.deepEqual(resolveAwsClientSettings(env, 'AWS_ENDPOINT_URL_SSM').credentials, {
    kind: 'static',
    accessKeyId: 'AKIAEXAMPLE000000001',
    secretAccessKey: 's',
    sessionToken: 't',
  });
});

test('half a key pair is rejected', () => {
  assert.throws(
    () => resolveAwsClientSettings({ ...region, AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE000000001' }, 'AWS_ENDPOINT_URL_SSM'),
    settingError('AWS_SECRET_ACCESS_KEY'),
  );
  assert.throws(
    () => resolveAwsClientSettings({ ...region, AWS_SECRET_ACCESS_KEY: 's' }, 'AWS_ENDPOINT_URL_SSM'),
    settingError('AWS_ACCESS_KEY_ID'),
  );
});

test('profile and key pair together are rejected', () => {
  const env = { ...region, AWS_PROFILE: 'prod', AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE000000001', AWS_SECRET_ACCESS_KEY: 's' };
  assert.throws(() => resolveAwsClientSettings(env, 'AWS_ENDPOINT_URL_SSM'), settingError('AWS_PROFILE'));
});

test('credential message never quotes the secret key', () => {
  const env = { ...region, AWS_SECRET_ACCESS_KEY: 'sentinel-secret-key-9d1e' };
  assert.throws(
    () => resolveAwsClientSettings(env, 'AWS_ENDPOINT_URL_SSM'),
    (error: unknown) => error instanceof DsvError && !error.message.includes('sentinel-secret-key-9d1e'),
  );
});

test('chain reads the configured files and profile', () => {
  const env = {
    ...region,
    AWS_PROFILE: 'prod',
    AWS_SHARED_CREDENTIALS_FILE: '/etc/dsv/credentials/aws/credentials',
    AWS_CONFIG_FILE: '/etc/dsv/credentials/aws/config',
  };
  assert.deepEqual(resolveAwsClientSettings(env, 'AWS_ENDPOINT_URL_SSM').credentials, {
    kind: 'chain',
    profile: 'prod',
    credentialsFile: '/etc/dsv/credentials/aws/credentials',
    configFile: '/etc/dsv/credentials/aws/config',
  });
});

test('chain defaults to the files under ~/.aws', () => {
  const credentials = resolveAwsClientSettings(region, 'AWS_ENDPOINT_URL_SSM').credentials;
  assert.equal(credentials.kind, 'chain');
  assert.equal(credentials.kind === 'chain' && credentials.credentialsFile, path.join(os.homedir(), '.aws', 'credentials'));
  assert.equal(credentials.kind === 'chain' && credentials.configFile, path.join(os.homedir(), '.aws', 'config'));
});

test('schemas accept valid settings', () => {
  const schema = z.object(awsCommonSettings);
  const parsed = schema.safeParse({
    AWS_REGION: 'us-gov-west-1',
    AWS_ENDPOINT_URL: 'https://vpce-1.secretsmanager.eu-west-1.vpce.amazonaws.com',
    AWS_PROFILE: 'team.prod',
    AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    AWS_SHARED_CREDENTIALS_FILE: '/etc/dsv/credentials/aws/credentials',
    AWS_CA_BUNDLE: '/etc/dsv/credentials/aws/ca.pem',
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  assert.equal(parsed.success, true, parsed.error?.message);
});

test('schemas reject malformed settings', () => {
  const bad: Record<string, string> = {
    AWS_REGION: 'us-east1',
    AWS_ENDPOINT_URL: 'ftp://example.com',
    AWS_PROFILE: 'two words',
    AWS_ACCESS_KEY_ID: 'short',
    AWS_SHARED_CREDENTIALS_FILE: 'relative/credentials',
    AWS_CONFIG_FILE: '~/.aws/config',
    AWS_CA_BUNDLE: 'ca.pem',
    AWS_EC2_METADATA_DISABLED: 'yes',
  };
  for (const [name, value] of Object.entries(bad)) {
    const schema = awsCommonSettings[name as keyof typeof awsCommonSettings];
    assert.equal(schema.safeParse(value).success, false, `${name}=${value}`);
  }
});

test('definitions declare the shared and service settings', () => {
  const shared = Object.keys(awsCommonSettings);
  assert.deepEqual(Object.keys(awsBackend.settings).sort(), [...shared, 'AWS_ENDPOINT_URL_SECRETS_MANAGER'].sort());
  assert.deepEqual(Object.keys(awsSsmBackend.settings).sort(), [...shared, 'AWS_ENDPOINT_URL_SSM'].sort());
});
