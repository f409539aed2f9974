import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DsvError } from '../../errors.ts';
import { getSecretValueInput, secretsManagerOptions } from './options.ts';

const versionSchema = secretsManagerOptions.version!.schema;
const stageSchema = secretsManagerOptions.stage!.schema;

test('version accepts 32 to 64 letters, digits and dashes', () => {
  for (const value of ['a'.repeat(32), 'A1-'.repeat(21) + 'x', 'EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE', crypto.randomUUID()]) {
    assert.equal(versionSchema.safeParse(value).success, true, value);
  }
});

test('version rejects other lengths and characters', () => {
  for (const value of ['', 'a'.repeat(31), 'a'.repeat(65), `${'a'.repeat(31)}_`, `${'a'.repeat(31)} `, 'AWSCURRENT']) {
    assert.equal(versionSchema.safeParse(value).success, false, value);
  }
});

test('stage accepts AWS and custom labels', () => {
  for (const value of ['AWSCURRENT', 'AWSPREVIOUS', 'AWSPENDING', 'blue-green_2', 'x'.repeat(256)]) {
    assert.equal(stageSchema.safeParse(value).success, true, value);
  }
});

test('stage rejects empty, spaces, control characters and long labels', () => {
  for (const value of ['', 'two words', 'tab\there', 'line\n', 'x'.repeat(257)]) {
    assert.equal(stageSchema.safeParse(value).success, false, JSON.stringify(value));
  }
});

test('input carries the secret name alone by default', () => {
  assert.deepEqual(getSecretValueInput('prod/db/password', {}), { SecretId: 'prod/db/password' });
});

test('input carries version and stage together', () => {
  const versionId = crypto.randomUUID();
  assert.deepEqual(getSecretValueInput('app', { version: versionId, stage: 'AWSPREVIOUS' }), {
    SecretId: 'app',
    VersionId: versionId,
    VersionStage: 'AWSPREVIOUS',
  });
});

test('input accepts complete and partial ARNs', () => {
  for (const arn of [
    'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf',
    'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db',
    'arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:x',
  ]) {
    assert.equal(getSecretValueInput(arn, {}).SecretId, arn);
  }
});

test('input rejects malformed secret references', () => {
  for (const secret of ['', 'two words', 'name:with:colons', 'arn:aws:ssm:us-east-1:123456789012:parameter/x', 'x'.repeat(513)]) {
    assert.throws(
      () => getSecretValueInput(secret, {}),
      (error: unknown) => error instanceof DsvError && error.code === 'INVALID_OPTION' && error.message.includes('"secret"'),
      secret,
    );
  }
});
