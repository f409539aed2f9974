import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DsvError } from '../../errors.ts';
import { CredentialsFileWatcher, parseCredentials } from './credentials.ts';

let dir: string;
let privateKeyPem: string;

function serviceAccountKey(fields: Record<string, unknown> = {}): string {
  return JSON.stringify({
    type: 'service_account',
    project_id: 'key-project',
    private_key_id: 'k1',
    private_key: privateKeyPem,
    client_email: 'dsv@key-project.iam.gserviceaccount.com',
    ...fields,
  });
}

function isInvalidCredentials(pattern: RegExp) {
  return (error: unknown): boolean => error instanceof DsvError && error.code === 'INVALID_CREDENTIALS' && pattern.test(error.message);
}

before(async () => {
  // Holds only dummy keys made here, so the ordinary temporary folder is fine.
  dir = await mkdtemp(path.join(os.tmpdir(), 'dsv-gcp-credentials-'));
  privateKeyPem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('no file anywhere means application default credentials', async () => {
  const watcher = new CredentialsFileWatcher(undefined, path.join(dir, 'absent.json'));

  assert.deepEqual(await watcher.current(), { kind: 'default', version: 'default' });
});

test('default file is used when it exists', async () => {
  const file = path.join(dir, 'default.json');
  await writeFile(file, serviceAccountKey());
  const watcher = new CredentialsFileWatcher(undefined, file);

  const source = await watcher.current();

  assert.equal(source.kind, 'file');
  assert.equal(source.kind === 'file' && source.path, file);
  assert.equal(source.kind === 'file' && source.projectId, 'key-project');
});

test('explicit file that is missing is an error', async () => {
  const watcher = new CredentialsFileWatcher(path.join(dir, 'missing.json'), path.join(dir, 'default.json'));

  await assert.rejects(watcher.current(), isInvalidCredentials(/missing\.json does not exist/));
});

test('unchanged file is not re-read', async () => {
  const file = path.join(dir, 'steady.json');
  await writeFile(file, serviceAccountKey());
  const watcher = new CredentialsFileWatcher(file, '/nonexistent');

  const first = await watcher.current();
  const second = await watcher.current();

  assert.equal(second, first);
});

test('changed mtime re-reads the file', async () => {
  const file = path.join(dir, 'rotating.json');
  await writeFile(file, serviceAccountKey({ project_id: 'first-project' }));
  await utimes(file, 1_000, 1_000);
  const watcher = new CredentialsFileWatcher(file, '/nonexistent');
  const first = await watcher.current();

  // Same size on purpose, so that only the mtime distinguishes the two files.
  await writeFile(file, serviceAccountKey({ project_id: 'other-project' }));
  await utimes(file, 2_000, 2_000);
  const second = await watcher.current();

  assert.notEqual(second.version, first.version);
  assert.equal(second.kind === 'file' && second.projectId, 'other-project');
});

test('external account config is accepted without a project', () => {
  const config = { type: 'external_account', audience: '//iam.googleapis.com/x', credential_source: { file: '/t' } };

  assert.equal(parseCredentials('/k.json', JSON.stringify(config)).type, 'external_account');
});

test('invalid files are rejected without quoting them', () => {
  const notJson = `{"private_key": "${privateKeyPem.slice(0, 60)}`;
  const cases: Array<[string, RegExp]> = [
    [notJson, /is not valid JSON/],
    ['[1, 2]', /is not a JSON object/],
    [JSON.stringify({ type: 'api_key' }), /has no known "type"/],
    [serviceAccountKey({ client_email: undefined }), /without "client_email"/],
    [serviceAccountKey({ private_key: 'not a key' }), /"private_key" that is not a PEM private key/],
  ];
  for (const [text, pattern] of cases) {
    assert.throws(() => parseCredentials('/k.json', text), isInvalidCredentials(pattern));
    assert.throws(
      () => parseCredentials('/k.json', text),
      (error: unknown) => error instanceof Error && !error.message.includes('PRIVATE KEY'),
    );
  }
});

test('invalid project_id is rejected', async () => {
  const file = path.join(dir, 'bad-project.json');
  await writeFile(file, serviceAccountKey({ project_id: 'Not A Project' }));
  const watcher = new CredentialsFileWatcher(file, '/nonexistent');

  await assert.rejects(watcher.current(), isInvalidCredentials(/"project_id" that is not a valid project id/));
});
