import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { DsvError } from '../../errors.ts';
import { gcpBackend } from './index.ts';

function accepts(schema: { safeParse(value: unknown): { success: boolean } } | undefined, value: string): boolean {
  assert.ok(schema !== undefined);
  return schema.safeParse(value).success;
}

test('definition declares version and location only', () => {
  assert.equal(gcpBackend.name, 'gcp');
  assert.deepEqual(Object.keys(gcpBackend.options).sort(), ['location', 'version']);
});

test('version option schema', () => {
  const schema = gcpBackend.options.version?.schema;

  for (const value of ['1', 'latest', 'prod-2']) assert.ok(accepts(schema, value), value);
  for (const value of ['0', 'new', 'Latest', 'a b']) assert.ok(!accepts(schema, value), value);
});

test('location option schema', () => {
  const schema = gcpBackend.options.location?.schema;

  assert.ok(accepts(schema, 'us-central1'));
  assert.ok(!accepts(schema, 'us_central1'));
  assert.ok(!accepts(schema, 'a.example.com'));
});

test('settings schemas', () => {
  const { DSV_GCP_PROJECT, DSV_GCP_ENDPOINT, GOOGLE_APPLICATION_CREDENTIALS } = gcpBackend.settings;

  assert.ok(accepts(DSV_GCP_PROJECT, 'my-project'));
  assert.ok(accepts(DSV_GCP_PROJECT, '123456789012'));
  assert.ok(!accepts(DSV_GCP_PROJECT, 'My Project'));
  assert.ok(accepts(DSV_GCP_ENDPOINT, 'http://127.0.0.1:8085'));
  assert.ok(!accepts(DSV_GCP_ENDPOINT, 'http://127.0.0.1:8085/v1'));
  assert.ok(accepts(GOOGLE_APPLICATION_CREDENTIALS, '/etc/dsv/credentials/gcp/key.json'));
  assert.ok(!accepts(GOOGLE_APPLICATION_CREDENTIALS, 'key.json'));
});

test('create rejects an invalid endpoint', async () => {
  const logger = pino({ level: 'silent' });

  await assert.rejects(
    gcpBackend.create({ env: { DSV_GCP_ENDPOINT: 'ftp://127.0.0.1' }, logger }),
    (error: unknown) => error instanceof DsvError && error.code === 'INVALID_SETTING' && /DSV_GCP_ENDPOINT/.test(error.message),
  );
});
