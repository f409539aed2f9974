import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DsvError } from '../../errors.ts';
import { parameterName, parameterStoreOptions } from './options.ts';

const versionSchema = parameterStoreOptions.version!.schema;
const labelSchema = parameterStoreOptions.label!.schema;

function invalidOption(fragment: string) {
  return (error: unknown) => error instanceof DsvError && error.code === 'INVALID_OPTION' && error.message.includes(fragment);
}

test('version accepts positive integers', () => {
  for (const value of ['1', '7', '100', '999999999999999999']) {
    assert.equal(versionSchema.safeParse(value).success, true, value);
  }
});

test('version rejects zero, signs, fractions and words', () => {
  for (const value of ['', '0', '01', '-1', '+2', '1.5', 'latest', '1e3', '9999999999999999999']) {
    assert.equal(versionSchema.safeParse(value).success, false, value);
  }
});

test('label accepts SSM label characters', () => {
  for (const value of ['prod', 'Release_2.1-rc', 'x'.repeat(100), 'a1', 'ssl', 'awe']) {
    assert.equal(labelSchema.safeParse(value).success, true, value);
  }
});

test('label rejects reserved prefixes, digits first and other characters', () => {
  for (const value of ['', '1prod', 'aws-prod', 'AWSx', 'ssm', 'SsmLabel', 'with space', 'a/b', 'a:b', 'x'.repeat(101)]) {
    assert.equal(labelSchema.safeParse(value).success, false, value);
  }
});

test('name is the reference without options', () => {
  assert.equal(parameterName('/app/db/password', {}), '/app/db/password');
  assert.equal(parameterName('plain-name', {}), 'plain-name');
});

test('name carries the version selector', () => {
  assert.equal(parameterName('/app/db/password', { version: '3' }), '/app/db/password:3');
});

test('name carries the label selector', () => {
  assert.equal(parameterName('/app/db/password', { label: 'prod' }), '/app/db/password:prod');
});

test('name accepts an ARN with a selector', () => {
  const arn = 'arn:aws:ssm:eu-west-1:123456789012:parameter/app/db/password';
  assert.equal(parameterName(arn, {}), arn);
  assert.equal(parameterName(arn, { version: '2' }), `${arn}:2`);
});

test('path without leading slash is rejected', () => {
  for (const secret of ['demo/hello', 'app/db/password', 'app/']) {
    assert.throws(() => parameterName(secret, {}), invalidOption(`add the leading "/": use "/${secret}"`), secret);
  }
});

test('flat name and path with leading slash are accepted', () => {
  assert.equal(parameterName('flat.name-1_x', {}), 'flat.name-1_x');
  assert.equal(parameterName('/demo/hello', { label: 'prod' }), '/demo/hello:prod');
});

test('version and label together are rejected', () => {
  assert.throws(() => parameterName('/app/db', { version: '2', label: 'prod' }), invalidOption('"version" and "label"'));
});

test('malformed references are rejected', () => {
  for (const secret of ['', '/app/db:3', 'two words', 'arn:aws:secretsmanager:us-east-1:123456789012:secret:x', 'x'.repeat(2049)]) {
    assert.throws(() => parameterName(secret, {}), invalidOption('"secret"'), secret);
  }
});
