import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DsvError } from '../../errors.ts';
import { mountFromDetection, notFoundError, secretBytes } from './kv.ts';
import { parseReference } from './reference.ts';

const v2 = { mount: { path: 'secret', kvVersion: 2 as const }, path: 'myapp/db' };
const v1 = { mount: { path: 'kv1', kvVersion: 1 as const }, path: 'myapp/db' };

function detection(data: Record<string, unknown>) {
  return { request_id: 'r', data };
}

test('detection reads mount path and KV version', () => {
  const reference = parseReference('secret/myapp/db', {});
  const location = mountFromDetection(detection({ type: 'kv', path: 'secret/', options: { version: '2' } }), reference);
  assert.deepEqual(location, v2);
});

test('detection treats missing options as KV version 1', () => {
  const reference = parseReference('kv1/myapp/db', {});
  for (const options of [null, {}, { version: '' }, { version: '1' }]) {
    const location = mountFromDetection(detection({ type: 'kv', path: 'kv1/', options }), reference);
    assert.equal(location.mount.kvVersion, 1);
  }
  const generic = mountFromDetection(detection({ type: 'generic', path: 'kv1/', options: null }), reference);
  assert.equal(generic.mount.kvVersion, 1);
});

test('detection drops a namespace prefix from the mount path', () => {
  const reference = parseReference('team/kv/myapp/db', {});
  const body = detection({ type: 'kv', path: 'ns1/child/team/kv/', options: { version: '2' } });
  const location = mountFromDetection(body, reference);
  assert.deepEqual(location, { mount: { path: 'team/kv', kvVersion: 2 }, path: 'myapp/db' });
});

test('detection rejects engines other than KV', () => {
  const reference = parseReference('transit/keys/a', {});
  assert.throws(
    () => mountFromDetection(detection({ type: 'transit', path: 'transit/', options: null }), reference),
    (error: unknown) => error instanceof DsvError && error.code === 'INVALID_OPTION' && /transit/.test(error.message),
  );
});

test('detection rejects a reference that names the mount itself', () => {
  const reference = parseReference('team/kv', {});
  assert.throws(
    () => mountFromDetection(detection({ type: 'kv', path: 'team/kv/', options: { version: '2' } }), reference),
    (error: unknown) => error instanceof DsvError && /no secret path inside it/.test(error.message),
  );
});

test('detection without path or type is a backend error', () => {
  const reference = parseReference('secret/a', {});
  assert.throws(
    () => mountFromDetection({ errors: [] }, reference),
    (error: unknown) => error instanceof DsvError && error.code === 'BACKEND_ERROR',
  );
});

test('secretBytes returns compact JSON of the data object', () => {
  const body = { data: { data: { user: 'app', port: 5432 }, metadata: { version: 3 } } };
  assert.equal(new TextDecoder().decode(secretBytes(body, v2, 'secret/myapp/db')), '{"user":"app","port":5432}');
  const plain = { data: { user: 'app' }, lease_duration: 2_764_800 };
  assert.equal(new TextDecoder().decode(secretBytes(plain, v1, 'kv1/myapp/db')), '{"user":"app"}');
});

test('secretBytes rejects a body without a data object', () => {
  for (const body of [undefined, { data: null }, { data: { data: null } }, { data: { data: [1] } }]) {
    assert.throws(
      () => secretBytes(body, v2, 'secret/myapp/db'),
      (error: unknown) => error instanceof DsvError && error.code === 'BACKEND_ERROR',
    );
  }
});

test('404 with deletion_time is SECRET_DELETED', () => {
  const body = { data: { data: null, metadata: { version: 2, deletion_time: '2025-01-01T00:00:00Z', destroyed: false } } };
  const error = notFoundError(body, v2, parseReference('secret/myapp/db', { version: '2' }));
  assert.equal(error.code, 'SECRET_DELETED');
  assert.match(error.message, /version 2 of "secret\/myapp\/db" was deleted at 2025-01-01T00:00:00Z/);
});

test('404 of a destroyed version is SECRET_DELETED', () => {
  const body = { data: { data: null, metadata: { version: 1, deletion_time: '', destroyed: true } } };
  const error = notFoundError(body, v2, parseReference('secret/myapp/db', {}));
  assert.equal(error.code, 'SECRET_DELETED');
  assert.match(error.message, /destroyed/);
});

test('404 with an empty errors list is SECRET_NOT_FOUND', () => {
  const error = notFoundError({ errors: [] }, v2, parseReference('secret/myapp/db', { version: '9' }));
  assert.equal(error.code, 'SECRET_NOT_FOUND');
  assert.match(error.message, /no secret "secret\/myapp\/db" version 9 on the KV version 2 mount secret\//);
});

test('not-found message explains a data/ prefix on KV version 2', () => {
  const location = { mount: v2.mount, path: 'data/myapp/db' };
  const error = notFoundError({ errors: [] }, location, parseReference('secret/data/myapp/db', {}));
  assert.match(error.message, /without "data\/"/);
});

test('versioned K/V warning says the mount runs version 2', () => {
  const body = { data: null, warnings: ['Invalid path for a versioned K/V secrets engine. See the API docs.'] };
  const error = notFoundError(body, { mount: { path: 'secret', kvVersion: 1 }, path: 'a' }, parseReference('secret/a', {}));
  assert.equal(error.code, 'SECRET_NOT_FOUND');
  assert.match(error.message, /runs KV version 2/);
});
