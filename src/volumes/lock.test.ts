import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { diskTempDir, removeDir } from '../../test/support/temp.ts';
import { lockFileName, lockFolder } from './lock.ts';

const directories: string[] = [];
after(async () => {
  for (const directory of directories) await removeDir(directory);
});

async function folder(): Promise<string> {
  const directory = await diskTempDir('dsv-lock');
  directories.push(directory);
  return directory;
}

describe('lockFolder', () => {
  it('takes, refuses and releases', async () => {
    const directory = await folder();
    const lock = await lockFolder(directory, 'DSV_STATE_DIR');
    assert.equal(await readFile(path.join(directory, lockFileName), 'utf8'), `${process.pid}\n`);
    await assert.rejects(lockFolder(directory, 'DSV_STATE_DIR'), new RegExp(`DSV_STATE_DIR ${directory} is in use by process ${process.pid}`));
    await lock.release();
    await (await lockFolder(directory, 'DSV_STATE_DIR')).release();
  });

  it('replaces the lock of a dead process', async () => {
    const directory = await folder();
    // Linux PIDs stay below 2^22, so this one never runs.
    await writeFile(path.join(directory, lockFileName), '999999999\n');
    const lock = await lockFolder(directory, 'DSV_MOUNT_DIR');
    assert.equal(await readFile(path.join(directory, lockFileName), 'utf8'), `${process.pid}\n`);
    await lock.release();
  });

  it('replaces a lock with its own PID it does not hold', async () => {
    const directory = await folder();
    // A restarted managed plugin is PID 1 of its namespace again, like the process before it.
    await writeFile(path.join(directory, lockFileName), `${process.pid}\n`);
    const lock = await lockFolder(directory, 'DSV_MOUNT_DIR');
    await lock.release();
  });

  it('refuses the lock of a live process', async () => {
    const directory = await folder();
    await writeFile(path.join(directory, lockFileName), `${process.ppid}\n`);
    await assert.rejects(lockFolder(directory, 'DSV_MOUNT_DIR'), /is in use by process \d+, probably another dsv; stop it, or remove/);
  });
});
