import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DsvError } from '../errors.ts';
import { diskTempDir, removeDir } from '../../test/support/temp.ts';
import { StateStore, stringRecord, type VolumeTable } from './state.ts';

const directories: string[] = [];
after(async () => {
  for (const directory of directories) await removeDir(directory);
});

async function store(): Promise<{ store: StateStore; dir: string }> {
  const dir = await diskTempDir('dsv-state-test');
  directories.push(dir);
  return { store: new StateStore(dir), dir };
}

const sample = (n: number): VolumeTable =>
  new Map([[`v${n}`, { options: stringRecord([['secret', `s${n}`]]), createdAt: '2026-01-01T00:00:00.000Z', mounts: new Map([['a', n]]) }]]);

function plain(table: VolumeTable): unknown {
  return [...table].map(([name, record]) => [name, { ...record.options }, record.createdAt, [...record.mounts]]);
}

async function rejectsInvalid(s: StateStore, pattern: RegExp): Promise<void> {
  await assert.rejects(s.load(), (error: unknown) => {
    assert.ok(error instanceof DsvError);
    assert.equal(error.code, 'STATE_FAILED');
    assert.match(error.message, pattern);
    return true;
  });
}

describe('StateStore', () => {
  it('loads an empty state when no file exists', async () => {
    const { store: s } = await store();
    assert.equal((await s.load()).size, 0);
  });

  it('round-trips the state with mode 0600', async () => {
    const { store: s } = await store();
    await s.save(sample(1));
    assert.deepEqual(plain(await s.load()), plain(sample(1)));
    assert.equal((await stat(s.file)).mode & 0o777, 0o600);
  });

  it('keeps prototype names as plain keys', async () => {
    const { store: s } = await store();
    const options = stringRecord([['__proto__', 'x'], ['constructor', 'y']]);
    await s.save(new Map([['constructor', { options, createdAt: '2026-01-01T00:00:00Z', mounts: new Map([['__proto__', 2]]) }]]));

    const loaded = (await s.load()).get('constructor');
    assert.ok(loaded);
    assert.deepEqual(Object.entries(loaded.options), [['__proto__', 'x'], ['constructor', 'y']]);
    assert.equal(loaded.mounts.get('__proto__'), 2);
  });

  it('keeps the last of concurrent writes and no temporary files', async () => {
    const { store: s, dir } = await store();
    await Promise.all([1, 2, 3, 4, 5].map((n) => s.save(sample(n))));
    assert.deepEqual(plain(await s.load()), plain(sample(5)));
    assert.deepEqual(await readdir(dir), ['volumes.json']);
  });

  it('shares one write among queued saves', async () => {
    const { store: s } = await store();
    const table = sample(1);
    const first = s.save(table);
    const queued = [2, 3, 4].map((n) => {
      table.set(`extra${n}`, { options: stringRecord([]), createdAt: '2026-01-01T00:00:00Z', mounts: new Map() });
      return s.save(table);
    });
    // None of the writes has started within this tick, so all four share one.
    for (const promise of queued) assert.equal(promise, first);
    await Promise.all([first, ...queued]);
    assert.deepEqual([...(await s.load()).keys()], ['v1', 'extra2', 'extra3', 'extra4']);
  });

  it('removes temporary files a crash left', async () => {
    const { store: s, dir } = await store();
    await writeFile(path.join(dir, 'volumes.json.4242.tmp'), '{');
    await s.load();
    assert.deepEqual(await readdir(dir), []);
  });

  it('stops on a corrupt file with the path and a fix', async () => {
    const { store: s } = await store();
    await writeFile(s.file, '{"version": 1, "volumes": ');
    await rejectsInvalid(s, new RegExp(`state file ${s.file} is invalid: it is not valid JSON; fix it, or move it aside`));
  });

  it('stops on files of the wrong shape', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ version: 2, volumes: {} }, /expected \{"version": 1/],
      [{ version: 1, volumes: { '../etc': { options: {}, createdAt: '2026-01-01T00:00:00Z', mounts: {} } } }, /volume "..\/etc" has an invalid name/],
      [{ version: 1, volumes: { v: { options: {}, createdAt: 'yesterday', mounts: {} } } }, /"createdAt" that is not an RFC 3339 time/],
      [{ version: 1, volumes: { v: { options: { a: 1 }, createdAt: '2026-01-01T00:00:00Z', mounts: {} } } }, /option whose value is not a string/],
      [{ version: 1, volumes: { v: { options: {}, createdAt: '2026-01-01T00:00:00Z', mounts: { a: -1 } } } }, /invalid mount count for ID "a"/],
    ];
    for (const [data, pattern] of cases) {
      const { store: s } = await store();
      await writeFile(s.file, JSON.stringify(data));
      await rejectsInvalid(s, pattern);
    }
  });

  it('reports a failed write as STATE_FAILED', async () => {
    const { store: s, dir } = await store();
    await mkdir(path.join(dir, `volumes.json.${process.pid}.tmp`));
    await assert.rejects(s.save(sample(1)), (error: unknown) => {
      assert.ok(error instanceof DsvError);
      assert.equal(error.code, 'STATE_FAILED');
      assert.match(error.message, /writing state file .* failed: EISDIR/);
      return true;
    });
  });

  it('writes JSON that ends with a newline', async () => {
    const { store: s } = await store();
    await s.save(sample(1));
    const text = await readFile(s.file, 'utf8');
    assert.ok(text.endsWith('}\n'));
  });
});
