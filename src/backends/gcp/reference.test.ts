import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DsvError } from '../../errors.ts';
import type { BackendOptions } from '../backend.ts';
import { formatVersionName, parseSecretReference, versionProblem } from './reference.ts';

function name(secret: string, options: BackendOptions = {}, project?: string): string {
  return formatVersionName(parseSecretReference(secret, options), project);
}

function rejects(secret: string, options: BackendOptions, pattern: RegExp): void {
  assert.throws(
    () => parseSecretReference(secret, options),
    (error: unknown) => error instanceof DsvError && error.code === 'INVALID_OPTION' && pattern.test(error.message),
  );
}

test('bare id takes the default project and latest', () => {
  assert.equal(name('db-password', {}, 'my-project'), 'projects/my-project/secrets/db-password/versions/latest');
});

test('bare id with version and location options', () => {
  assert.equal(name('db_PASS-1', { version: '3' }, 'my-project'), 'projects/my-project/secrets/db_PASS-1/versions/3');
  assert.equal(
    name('db', { version: 'stable', location: 'europe-west4' }, 'my-project'),
    'projects/my-project/locations/europe-west4/secrets/db/versions/stable',
  );
});

test('resource names keep their own project', () => {
  assert.equal(name('projects/other-project/secrets/db', {}, 'my-project'), 'projects/other-project/secrets/db/versions/latest');
  assert.equal(name('projects/123456789/secrets/db/versions/7'), 'projects/123456789/secrets/db/versions/7');
  assert.equal(
    name('projects/other-project/locations/us-east1/secrets/db/versions/latest'),
    'projects/other-project/locations/us-east1/secrets/db/versions/latest',
  );
  assert.equal(
    name('projects/other-project/secrets/db', { location: 'us-east1', version: '2' }),
    'projects/other-project/locations/us-east1/secrets/db/versions/2',
  );
});

test('version in both name and option is rejected', () => {
  rejects('projects/p-roject/secrets/db/versions/1', { version: '1' }, /option "version" is invalid: .*drop one/);
});

test('location in both name and option is rejected', () => {
  rejects('projects/p-roject/locations/us-east1/secrets/db', { location: 'us-east1' }, /option "location" is invalid/);
});

test('malformed resource names are rejected', () => {
  for (const secret of [
    'projects/p-roject',
    'projects/p-roject/secrets',
    'projects/p-roject/secrets/db/versions',
    'projects/p-roject/secrets/db/aliases/x',
    'projects/p-roject/locations/us-east1/secrets/db/versions/1/extra',
    'folders/p-roject/secrets/db',
    '/db',
    'db/',
  ]) {
    rejects(secret, {}, /option "secret" is invalid/);
  }
});

test('invalid parts are rejected', () => {
  rejects('db password', {}, /secret id "db password"/);
  rejects('x'.repeat(256), {}, /secret id/);
  rejects('projects/Upper-Case/secrets/db', {}, /project "Upper-Case"/);
  rejects('projects/short/secrets/db', {}, /project "short"/);
  rejects('db', { location: 'US_EAST1' }, /option "location" is invalid/);
  rejects('db', { location: 'evil.example.com' }, /option "location" is invalid/);
  rejects('db', { version: '0' }, /option "version" is invalid/);
});

test('secret id of 255 characters is accepted', () => {
  const id = 'a'.repeat(255);
  assert.equal(name(id, {}, 'my-project'), `projects/my-project/secrets/${id}/versions/latest`);
});

test('version values', () => {
  for (const valid of ['1', '42', 'latest', 'prod', 'Blue_green-2', `a${'b'.repeat(62)}`]) {
    assert.equal(versionProblem(valid), undefined, valid);
  }
  for (const invalid of ['0', '01', '-1', 'Latest', 'NEW', 'new', '2x-', '_x', `a${'b'.repeat(63)}`, '']) {
    assert.notEqual(versionProblem(invalid), undefined, invalid);
  }
});

test('missing project is a setting error', () => {
  assert.throws(
    () => name('db-password'),
    (error: unknown) =>
      error instanceof DsvError &&
      error.code === 'INVALID_SETTING' &&
      error.message.includes('DSV_GCP_PROJECT') &&
      error.message.includes('projects/PROJECT/secrets/db-password'),
  );
});
