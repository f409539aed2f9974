/** Temporary folders for tests; secret values only ever go to the ones on tmpfs. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isTmpfs } from '../../src/volumes/tmpfs.ts';

/** A fresh folder on /dev/shm; throws if /dev/shm is not a tmpfs, so no value reaches a disk. */
export async function tmpfsTempDir(prefix: string): Promise<string> {
  const directory = await mkdtemp(path.join('/dev/shm', `${prefix}-`));
  if (!(await isTmpfs(directory))) {
    await rm(directory, { recursive: true, force: true });
    throw new Error('/dev/shm is not a tmpfs; tests write secret values only to tmpfs');
  }
  return directory;
}

/** A fresh folder for state files and other data that holds no secret value. */
export function diskTempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `${prefix}-`));
}

export function removeDir(directory: string): Promise<void> {
  return rm(directory, { recursive: true, force: true });
}
