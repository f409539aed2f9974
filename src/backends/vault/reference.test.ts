import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DsvError } from '../../errors.ts';
import { vaultBackend } from './index.ts';
import { encodePath, locateInMount, parseReference, readPath } from './reference.ts';

function rejects(run: () => unknown, pattern: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof DsvError);
    assert.equal(error.code, 'INVALID_OPTION');
    assert.match(error.message, pattern);
    return true;
  });
}

test('reference splits into segments', () => {
  const reference = parseReference('secret/myapp/db', {});
  assert.deepEqual(reference.segments, ['secret', 'myapp', 'db']);
  assert.equal(reference.explicitMount, undefined);
  assert.equal(reference.version, undefined);
});

test('reference without a path is rejected', () => {
  rejects(() => parseReference('secret', {}), /must be <mount>\/<path>/);
});

test('reference with empty or dot segments is rejected', () => {
  for (const secret of ['/secret/a', 'secret/a/', 'secret//a', 'secret/./a', 'secret/../sys/a']) {
    rejects(() => parseReference(secret, {}), /option "secret" is invalid/);
  }
});

test('kv option without mount takes the first segment', () => {
  const reference = parseReference('secret/myapp/db', { kv: '1' });
  assert.deepEqual(reference.explicitMount, { path: 'secret', kvVersion: 1 });
});

test('mount option names a multi-segment mount', () => {
  const reference = parseReference('team/kv/myapp/db', { kv: '2', mount: 'team/kv/' });
  assert.deepEqual(reference.explicitMount, { path: 'team/kv', kvVersion: 2 });
  const location = locateInMount(reference, reference.explicitMount!);
  assert.equal(location?.path, 'myapp/db');
});

test('mount option needs kv', () => {
  rejects(() => parseReference('team/kv/a', { mount: 'team/kv' }), /"mount" needs option "kv"/);
});

test('mount option must start the reference', () => {
  rejects(() => parseReference('secret/a', { kv: '2', mount: 'other' }), /does not start with the mount path/);
  rejects(() => parseReference('team/kv', { kv: '2', mount: 'team/kv' }), /does not start with the mount path/);
});

test('version option is rejected with kv=1', () => {
  rejects(() => parseReference('kv1/a', { kv: '1', version: '3' }), /"version" is invalid with kv=1/);
});

test('version option is parsed as a number', () => {
  assert.equal(parseReference('secret/a', { version: '12' }).version, 12);
});

test('read path for KV version 2 inserts data/', () => {
  const location = { mount: { path: 'secret', kvVersion: 2 as const }, path: 'myapp/db' };
  assert.equal(readPath(location, undefined), '/v1/secret/data/myapp/db');
  assert.equal(readPath(location, 4), '/v1/secret/data/myapp/db?version=4');
});

test('read path for KV version 1 is the plain path', () => {
  const location = { mount: { path: 'team/kv', kvVersion: 1 as const }, path: 'myapp/db' };
  assert.equal(readPath(location, undefined), '/v1/team/kv/myapp/db');
});

test('path segments are percent-encoded', () => {
  assert.equal(encodePath('my app/a?b#c%d'), 'my%20app/a%3Fb%23c%25d');
});

test('locateInMount ignores mounts that do not contain the reference', () => {
  const reference = parseReference('secret/myapp/db', {});
  assert.equal(locateInMount(reference, { path: 'secretx', kvVersion: 2 }), undefined);
  assert.equal(locateInMount(reference, { path: 'secret/myapp/db', kvVersion: 2 }), undefined);
  assert.equal(locateInMount(reference, { path: 'secret', kvVersion: 2 })?.path, 'myapp/db');
});

test('option schemas accept and reject values', () => {
  const { kv, mount, version } = vaultBackend.options;
  assert.equal(kv!.schema.safeParse('2').success, true);
  assert.equal(kv!.schema.safeParse('3').success, false);
  assert.equal(mount!.schema.safeParse('team/kv/').success, true);
  assert.equal(mount!.schema.safeParse('/team').success, false);
  assert.equal(mount!.schema.safeParse('team//kv').success, false);
  assert.equal(version!.schema.safeParse('7').success, true);
  assert.equal(version!.schema.safeParse('0').success, false);
  assert.equal(version!.schema.safeParse('-1').success, false);
  assert.equal(version!.schema.safeParse('1.5').success, false);
});
