import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { constants } from 'node:fs';
import { chmod, mkdir, mkdtemp, open, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { inspect, promisify } from 'node:util';
import { DsvError, type ErrorCode } from '../../errors.ts';
import { createLogger } from '../../log.ts';
import { FileBackend } from './file-backend.ts';
import { fileBackend } from './index.ts';

const sentinel = 'SENTINEL-file-backend-4b1d7e';
const maxBytes = 4 * 1024 * 1024;
const allBytes = Buffer.from(Array.from({ length: 512 }, (_, index) => index % 256));

let base: string;
let root: string;
let backend: FileBackend;

before(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), 'dsv-file-backend-'));
  // Readable by everyone, so the unprivileged child process can reach the folders below.
  await chmod(base, 0o755);
  root = path.join(base, 'files');
  await mkdir(path.join(root, 'prod', 'db'), { recursive: true });
  await mkdir(path.join(base, 'outside'));
  await mkdir(path.join(base, 'files-evil'));

  await writeFile(path.join(root, 'binary'), allBytes);
  await writeFile(path.join(root, 'empty'), '');
  await writeFile(path.join(root, '..hidden'), 'dots are part of the name');
  await writeFile(path.join(root, 'prod', 'db', 'password'), sentinel);
  await writeFile(path.join(root, 'at-limit'), Buffer.alloc(maxBytes, 'a'));
  await writeFile(path.join(root, 'too-large'), Buffer.alloc(maxBytes + 1, sentinel));
  await writeFile(path.join(base, 'outside', 'secret'), sentinel);
  await writeFile(path.join(base, 'files-evil', 'secret'), sentinel);

  await symlink('prod/db/password', path.join(root, 'relative-link'));
  await symlink(path.join(root, 'binary'), path.join(root, 'absolute-link'));
  await symlink('prod', path.join(root, 'prod-link'));
  await symlink(path.join(base, 'outside', 'secret'), path.join(root, 'escape'));
  await symlink('../outside', path.join(root, 'escape-dir'));
  await symlink('../files-evil/secret', path.join(root, 'escape-prefix'));
  await symlink('missing-target', path.join(root, 'dangling'));
  await symlink(root, path.join(base, 'root-link'));

  backend = new FileBackend(root);
});

after(async () => {
  await rm(base, { recursive: true, force: true });
});

function fetchSecret(secret: string, signal = AbortSignal.timeout(5_000), from = backend): Promise<Uint8Array> {
  return from.fetch({ secret, options: {} }, { signal });
}

/** Asserts that fetching `secret` fails with `code` and that nothing about the error shows the sentinel. */
async function assertFetchFails(secret: string, code: ErrorCode): Promise<void> {
  await assert.rejects(fetchSecret(secret), (error: unknown) => {
    assert.ok(error instanceof DsvError, `expected a DsvError, got ${String(error)}`);
    assert.equal(inspect(error, { depth: 10 }).includes(sentinel), false, 'the error shows the file content');
    assert.equal(error.code, code, error.message);
    return true;
  });
}

test('fetch returns every byte value exactly', async () => {
  assert.deepEqual(Buffer.from(await fetchSecret('binary')), allBytes);
});

test('fetch returns an empty file as no bytes', async () => {
  assert.equal((await fetchSecret('empty')).byteLength, 0);
});

test('fetch reads a nested path', async () => {
  assert.equal(Buffer.from(await fetchSecret('prod/db/password')).toString(), sentinel);
});

test('fetch accepts names that start with dots', async () => {
  assert.equal(Buffer.from(await fetchSecret('..hidden')).toString(), 'dots are part of the name');
});

test('fetch reads a file at the 4 MiB limit', async () => {
  assert.equal((await fetchSecret('at-limit')).byteLength, maxBytes);
});

test('fetch rejects a file above 4 MiB', async () => {
  await assertFetchFails('too-large', 'SECRET_TOO_LARGE');
});

for (const secret of ['missing', 'prod/db/missing', 'prod/db/password/child', 'dangling']) {
  test(`fetch of ${secret} is SECRET_NOT_FOUND`, async () => {
    await assertFetchFails(secret, 'SECRET_NOT_FOUND');
  });
}

for (const secret of ['/etc/passwd', '..', '../outside/secret', 'prod/../../outside/secret', 'prod/..', 'pass\0word']) {
  test(`fetch rejects secret ${JSON.stringify(secret)}`, async () => {
    await assertFetchFails(secret, 'INVALID_OPTION');
  });
}

for (const [secret, expected] of [
  ['relative-link', Buffer.from(sentinel)],
  ['absolute-link', allBytes],
  ['prod-link/db/password', Buffer.from(sentinel)],
] as const) {
  test(`fetch follows ${secret} inside the folder`, async () => {
    assert.deepEqual(Buffer.from(await fetchSecret(secret)), expected);
  });
}

test('fetch works when the folder path is a symlink', async () => {
  const viaLink = new FileBackend(path.join(base, 'root-link'));

  assert.deepEqual(Buffer.from(await fetchSecret('binary', undefined, viaLink)), allBytes);
});

for (const secret of ['escape', 'escape-dir/secret', 'escape-prefix']) {
  test(`fetch rejects ${secret} leaving the folder`, async () => {
    await assertFetchFails(secret, 'INVALID_OPTION');
  });
}

for (const secret of ['prod/db', 'prod-link', '', '.']) {
  test(`fetch of directory ${JSON.stringify(secret)} is SECRET_NOT_FOUND`, async () => {
    await assertFetchFails(secret, 'SECRET_NOT_FOUND');
  });
}

test('fetch of a FIFO fails without blocking', async () => {
  const fifo = path.join(root, 'pipe');
  execFileSync('mkfifo', [fifo]);
  const pending = fetchSecret('pipe', AbortSignal.timeout(200)).then(
    () => 'resolved',
    (error: unknown) => error,
  );

  const outcome = await Promise.race([pending, delay(1_000, 'still blocked', { ref: false })]);
  if (outcome === 'still blocked') {
    // Opening the write end releases the blocked reader, so the process can exit.
    const writer = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    await writer.close();
    await pending;
  }

  assert.ok(outcome instanceof DsvError, `fetch of a FIFO ended as: ${String(outcome)}`);
  assert.equal(outcome.code, 'SECRET_NOT_FOUND');
});

test('fetch honours an aborted signal', async () => {
  await assert.rejects(fetchSecret('binary', AbortSignal.abort()));
});

test('fetch from a missing folder is BACKEND_UNAVAILABLE', async () => {
  const missing = new FileBackend(path.join(base, 'no-such-folder'));

  await assert.rejects(fetchSecret('binary', undefined, missing), { code: 'BACKEND_UNAVAILABLE' });
});

const execFileAsync = promisify(execFile);
const nobody = 65_534;

/**
 * Fetches as an unprivileged user and returns the error code, 'OK', or undefined when that user
 * cannot load the source tree. Root ignores file modes, so as root the fetch runs in a child
 * process under uid 65534.
 */
async function fetchCodeUnprivileged(folder: string, secret: string): Promise<string | undefined> {
  if (process.getuid?.() !== 0) {
    return fetchSecret(secret, undefined, new FileBackend(folder)).then(
      () => 'OK',
      (error: unknown) => (error instanceof DsvError ? error.code : String(error)),
    );
  }
  const script = `
    const [moduleUrl, folder, secret] = process.argv.slice(1);
    const loaded = await import(moduleUrl).catch(() => undefined);
    if (loaded === undefined) process.exit(3);
    const request = { secret, options: {} };
    await new loaded.FileBackend(folder).fetch(request, { signal: AbortSignal.timeout(5000) })
      .then(() => console.log('OK'), (error) => console.log(error.code ?? String(error)));`;
  const moduleUrl = new URL('./file-backend.ts', import.meta.url).href;
  const child = execFileAsync(process.execPath, ['--input-type=module', '--eval', script, moduleUrl, folder, secret], {
    uid: nobody,
    gid: nobody,
    cwd: '/',
  });
  return child.then(
    ({ stdout }) => stdout.trim(),
    (error: { code?: unknown }) => (error.code === 3 ? undefined : assert.fail(`child failed: ${String(error)}`)),
  );
}

test('fetch from an unreadable folder is BACKEND_UNAVAILABLE', async (t) => {
  const locked = path.join(base, 'locked');
  await mkdir(locked);
  await writeFile(path.join(locked, 'secret'), sentinel);
  await chmod(locked, 0o000);

  const code = await fetchCodeUnprivileged(locked, 'secret');

  if (code === undefined) return t.skip('uid 65534 cannot read the source tree');
  assert.equal(code, 'BACKEND_UNAVAILABLE');
});

test('fetch of an unreadable file is ACCESS_DENIED', async (t) => {
  const file = path.join(root, 'unreadable');
  await writeFile(file, sentinel);
  await chmod(file, 0o000);

  const code = await fetchCodeUnprivileged(root, 'unreadable');

  if (code === undefined) return t.skip('uid 65534 cannot read the source tree');
  assert.equal(code, 'ACCESS_DENIED');
});

test('file definition declares DSV_FILES_DIR only', () => {
  const schema = fileBackend.settings.DSV_FILES_DIR;

  assert.equal(fileBackend.name, 'file');
  assert.deepEqual(Object.keys(fileBackend.options), []);
  assert.deepEqual(Object.keys(fileBackend.settings), ['DSV_FILES_DIR']);
  assert.equal(schema?.parse(undefined), '/var/lib/dsv/files');
  assert.equal(schema?.safeParse('files').success, false);
});

test('file definition creates a backend on DSV_FILES_DIR', async () => {
  const created = await fileBackend.create({ env: { DSV_FILES_DIR: root }, logger: createLogger('silent') });

  assert.deepEqual(Buffer.from(await created.fetch({ secret: 'binary', options: {} }, { signal: AbortSignal.timeout(5_000) })), allBytes);
});
