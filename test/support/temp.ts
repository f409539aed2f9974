/** Temporary folders for tests; secret values only ever go to the ones on tmpfs. */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import os from 'node:os';
import path from 'node:path';
import { isTmpfs } from '../../src/volumes/tmpfs.ts';

/** Creates a fresh folder on /dev/shm; throws if /dev/shm is not a tmpfs, so no value reaches a disk. */
export async function tmpfsTempDir(prefix: string): Promise<string> {
  const directory = await mkdtemp(path.join('/dev/shm', `${prefix}-`));
  if (!(await isTmpfs(directory))) {
    await rm(directory, { recursive: true, force: true });
    throw new Error('/dev/shm is not a tmpfs; tests write secret values only to tmpfs');
  }
  return directory;
}

/** Creates a fresh folder for state files and other data without secret values. */
export function diskTempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `${prefix}-`));
}

/** Removes a folder, first unmounting the read-only bind mounts dsv leaves on mounted secret files. */
export async function removeDir(directory: string): Promise<void> {
  const mountInfo = await readFile('/proc/self/mountinfo', 'utf8');
  const mountPoints = mountInfo
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((mountPoint) => mountPoint.startsWith(`${directory}/`));
  for (const mountPoint of mountPoints.reverse()) {
    await promisify(execFile)('umount', ['-l', mountPoint]).catch(() => undefined);
  }
  await rm(directory, { recursive: true, force: true });
}
