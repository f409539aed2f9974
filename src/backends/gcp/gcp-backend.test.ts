import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DsvError } from '../../errors.ts';
import { verifiedPayload } from './gcp-backend.ts';

const name = 'projects/p-roject/secrets/db/versions/1';
const data = Buffer.from('123456789');
const checksum = 0xe3069283;

test('payload with a matching decimal checksum', () => {
  const value = verifiedPayload({ payload: { data, dataCrc32c: String(checksum) } }, name);

  assert.deepEqual(Buffer.from(value), data);
});

test('payload with a Long-like checksum, as gRPC decodes int64', () => {
  const long = { toString: () => String(checksum) };

  assert.deepEqual(Buffer.from(verifiedPayload({ payload: { data, dataCrc32c: long as never } }, name)), data);
});

test('payload without a checksum is not checked', () => {
  assert.deepEqual(Buffer.from(verifiedPayload({ payload: { data } }, name)), data);
});

test('payload data as base64 text', () => {
  const value = verifiedPayload({ payload: { data: data.toString('base64') as never, dataCrc32c: String(checksum) } }, name);

  assert.deepEqual(Buffer.from(value), data);
});

test('empty payload data', () => {
  assert.equal(verifiedPayload({ payload: { dataCrc32c: '0' } }, name).length, 0);
});

test('mismatched checksum and missing payload', () => {
  const isBackendError = (error: unknown): boolean => error instanceof DsvError && error.code === 'BACKEND_ERROR';

  assert.throws(() => verifiedPayload({ payload: { data, dataCrc32c: String(checksum + 1) } }, name), isBackendError);
  assert.throws(() => verifiedPayload({}, name), isBackendError);
});

test('checksum mismatch message holds no checksum', () => {
  const sent = '4000000000';

  assert.throws(
    () => verifiedPayload({ payload: { data, dataCrc32c: sent } }, name),
    (error: unknown) => error instanceof DsvError && !error.message.includes(sent) && !error.message.includes(String(checksum)),
  );
});
