import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rename, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { diskTempDir, removeDir } from '../../../test/support/temp.ts';
import { filesStamp, ReloadingClient } from './reloading-client.ts';

async function withDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await diskTempDir('dsv-aws-reload');
  try {
    await run(dir);
  } finally {
    await removeDir(dir);
  }
}

/** Returns a client factory that numbers the clients it builds. */
function counter(): { create: () => number; built: () => number } {
  let count = 0;
  return { create: () => ++count, built: () => count };
}

test('stamp is stable while files are unchanged', () =>
  withDir(async (dir) => {
    const file = path.join(dir, 'credentials');
    await writeFile(file, 'a');
    assert.equal(await filesStamp([file]), await filesStamp([file]));
  }));

test('stamp changes when a file is touched', () =>
  withDir(async (dir) => {
    const file = path.join(dir, 'credentials');
    await writeFile(file, 'a');
    const before = await filesStamp([file]);
    const later = new Date(Date.now() + 10_000);
    await utimes(file, later, later);
    assert.notEqual(await filesStamp([file]), before);
  }));

test('stamp changes when a file is replaced', () =>
  withDir(async (dir) => {
    const file = path.join(dir, 'credentials');
    await writeFile(file, 'a');
    const before = await filesStamp([file]);
    await writeFile(`${file}.new`, 'b');
    await rename(`${file}.new`, file);
    assert.notEqual(await filesStamp([file]), before);
  }));

test('stamp records a missing file', () =>
  withDir(async (dir) => {
    const file = path.join(dir, 'credentials');
    const missing = await filesStamp([file]);
    assert.equal(missing, 'ENOENT');
    await writeFile(file, 'a');
    assert.notEqual(await filesStamp([file]), missing);
  }));

test('client is kept while files are unchanged', () =>
  withDir(async (dir) => {
    const file = path.join(dir, 'credentials');
    await writeFile(file, 'a');
    const factory = counter();
    const clients = new ReloadingClient([file], factory.create);
    assert.equal(await clients.get(), 1);
    assert.equal(await clients.get(), 1);
    assert.equal(factory.built(), 1);
  }));

test('client is rebuilt after a file changes', () =>
  withDir(async (dir) => {
    const credentials = path.join(dir, 'credentials');
    const config = path.join(dir, 'config');
    await writeFile(credentials, 'a');
    const clients = new ReloadingClient([credentials, config], counter().create);
    assert.equal(await clients.get(), 1);

    await writeFile(config, '[default]\nregion = eu-west-1\n');
    assert.equal(await clients.get(), 2);

    await writeFile(credentials, 'rotated');
    const later = new Date(Date.now() + 10_000);
    await utimes(credentials, later, later);
    assert.equal(await clients.get(), 3);
    assert.equal(await clients.get(), 3);
  }));

test('rebuild callback runs on changes only', () =>
  withDir(async (dir) => {
    const file = path.join(dir, 'credentials');
    await writeFile(file, 'a');
    let rebuilds = 0;
    const clients = new ReloadingClient([file], counter().create, () => rebuilds++);
    await clients.get();
    await clients.get();
    assert.equal(rebuilds, 0);
    await writeFile(`${file}.new`, 'b');
    await rename(`${file}.new`, file);
    await clients.get();
    assert.equal(rebuilds, 1);
  }));

test('client without files is built once', async () => {
  const factory = counter();
  const clients = new ReloadingClient([], factory.create);
  await clients.get();
  await clients.get();
  assert.equal(factory.built(), 1);
});
