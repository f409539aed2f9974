import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DsvError } from '../errors.ts';
import { diskTempDir, removeDir, tmpfsTempDir } from '../../test/support/temp.ts';
import { ensureTmpfs, isTmpfs } from './tmpfs.ts';

const directories: string[] = [];
after(async () => {
  for (const directory of directories) await removeDir(directory);
});

async function rejectsMount(directory: string, pattern: RegExp): Promise<void> {
  await assert.rejects(ensureTmpfs(directory, 1), (error: unknown) => {
    assert.ok(error instanceof DsvError);
    assert.equal(error.code, 'MOUNT_FAILED');
    assert.match(error.message, pattern);
    return true;
  });
}

describe('ensureTmpfs', () => {
  it('uses a folder already on tmpfs', async () => {
    const parent = await tmpfsTempDir('dsv-tmpfs');
    directories.push(parent);
    assert.deepEqual(await ensureTmpfs(path.join(parent, 'volumes'), 1), { mounted: false });
  });

  it('rejects the root folder', async () => {
    await rejectsMount('/', /must not be "\/"/);
    assert.equal(await isTmpfs('/'), false);
  });

  it('rejects a folder others may write to', async () => {
    const parent = await tmpfsTempDir('dsv-tmpfs');
    directories.push(parent);
    const open = path.join(parent, 'open');
    await mkdir(open);
    await chmod(open, 0o777);
    await rejectsMount(open, /writable by no one else .* mode 0777/);
  });

  it('rejects a symlink', async () => {
    const parent = await tmpfsTempDir('dsv-tmpfs');
    directories.push(parent);
    await mkdir(path.join(parent, 'real'), { mode: 0o700 });
    await symlink(path.join(parent, 'real'), path.join(parent, 'link'));
    await rejectsMount(path.join(parent, 'link'), /goes through a symlink; give the real path/);
    await rejectsMount(`${path.join(parent, 'link')}/`, /goes through a symlink/);
  });

  it('never mounts over a folder with files', { skip: process.getuid?.() !== 0 && 'mounting needs root' }, async () => {
    const disk = await diskTempDir('dsv-tmpfs-disk');
    directories.push(disk);
    await chmod(disk, 0o700);
    await writeFile(path.join(disk, 'keep.txt'), 'x');
    await rejectsMount(disk, /not on tmpfs and not empty/);
    assert.equal(await isTmpfs(disk), false);
  });
});
