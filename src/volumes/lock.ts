/**
 * One daemon per state folder and mount folder. A second dsv on the same folders, even on
 * another socket, would reset the first one's mount counts and delete its secret files, so each
 * folder gets a lock file naming the owner's PID.
 */
import { open, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import { DsvError } from '../errors.ts';

export const lockFileName = '.dsv-lock';

/** Lock files this process holds; a file naming this PID but missing here is a dead owner's. */
const held = new Set<string>();

export interface FolderLock {
  release(): Promise<void>;
}

/** Takes the lock on `directory`, replacing one whose process is gone; throws if another lives. */
export async function lockFolder(directory: string, setting: string): Promise<FolderLock> {
  const file = path.join(directory, lockFileName);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      held.add(file);
      return { release: () => releaseLock(file) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10);
    const live = owner === process.pid ? held.has(file) : Number.isInteger(owner) && isAlive(owner);
    if (live) {
      throw new DsvError(
        'INVALID_SETTING',
        `${setting} ${directory} is in use by process ${owner}, probably another dsv; stop it, or remove ${file} if no dsv runs`,
      );
    }
    // The owner is gone (in a managed plugin a restarted process even gets the same PID).
    await unlink(file).catch(() => undefined);
  }
  throw new DsvError('INVALID_SETTING', `${setting} ${directory}: taking the lock ${file} failed twice; another dsv may be starting`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function releaseLock(file: string): Promise<void> {
  if (!held.delete(file)) return;
  const owner = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10);
  if (owner === process.pid) await unlink(file).catch(() => undefined);
}
