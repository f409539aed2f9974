import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DsvError } from '../errors.ts';
import { diskTempDir, removeDir } from '../../test/support/temp.ts';
import { StateStore, type StateFile } from './state.ts';

const directories: string[] = [];
after(async () => {
  for (const directory of directories) await removeDir(directory);
});

async function store(): Promise<{ store: StateStore; dir: string }> {
  const dir = await diskTempDir('dsv-state-test');
  directories.push(dir);
  return { store: new StateStore(dir), dir };
}

const sample = (n: number): StateFile => ({
  version: 1,
  volumes: { [`v${n}`]: { options: { secret: `s${n}` }, createdAt: '2026-01-01T00:00:00.000Z', mounts: { a: n } } },
});

describe('StateStore', () => {
  it('loads an empty state when no file exists', async () => {
    const { store: s } = await store();
    assert.deepEqual(await s.load(), { version: 1, volumes: {} });
  });

  it('round-trips the state with mode 0600', async () => {
    const { store: s } = await store();
    await s.save(sample(1));
    assert.deepEqual(await s.load(), sample(1));
    assert.equal((await stat(s.file)).mode & 0o777, 0o600);
  });

  it('keeps the last of concurrent writes and no temporary files', async () => {
    const { store: s, dir } = await store();
    await Promise.all([1, 2, 3, 4, 5].map((n) => s.save(sample(n))));
    assert.deepEqual(await s.load(), sample(5));
    assert.deepEqual(await readdir(dir), ['volumes.json']);
  });

  it('stops on a corrupt file with the path and a fix', async () => {
    const { store: s } = await store();
    await writeFile(s.file, '{"version": 1, "volumes": ');
    await assert.rejects(s.load(), (error: unknown) => {
      assert.ok(error instanceof DsvError);
      assert.match(error.message, new RegExp(`state file ${s.file} is unreadable: it is not valid JSON; move it aside`));
      return true;
    });
  });

  it('stops on a file of the wrong shape', async () => {
    const { store: s } = await store();
    await writeFile(s.file, JSON.stringify({ version: 2, volumes: {} }));
    await assert.rejects(s.load(), /unreadable: version/);
  });

  it('writes JSON that ends with a newline', async () => {
    const { store: s } = await store();
    await s.save(sample(1));
    const text = await readFile(path.join(path.dirname(s.file), 'volumes.json'), 'utf8');
    assert.ok(text.endsWith('}\n'));
  });
});
