/**
 * Writes and removes the file a volume mounts. Each volume gets a folder of its own on the tmpfs
 * so that later kinds of volume (many files, a `..data` symlink for rotation) fit the same layout.
 * Only files dsv writes are ever removed: `secret` and its temporary siblings.
 */
import { lstat, mkdir, open, readdir, rename, rmdir, unlink } from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { DsvError } from '../errors.ts';
import { sealFile, unsealFile } from './seal.ts';

/** Name of the file inside a volume's folder; containers see it under the target they chose. */
export const secretFileName = 'secret';

const temporaryPrefix = `.${secretFileName}-`;

export interface FileOwner {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

export function volumeDirectory(mountDir: string, volume: string): string {
  return path.join(mountDir, volume);
}

export function secretFilePath(mountDir: string, volume: string): string {
  return path.join(mountDir, volume, secretFileName);
}

/**
 * Writes `value` byte for byte to the volume's file and returns its path. The file is written
 * under a temporary name with mode 0600 and renamed into place, so a reader never sees a partial
 * value; owner and mode are then set with fchown and fchmod, so the umask has no effect.
 */
export async function writeSecretFile(
  mountDir: string,
  volume: string,
  value: Uint8Array,
  owner: FileOwner,
): Promise<string> {
  const directory = await volumeFolder(mountDir, volume);
  const target = path.join(directory, secretFileName);
  const temporary = path.join(directory, `${temporaryPrefix}${randomBytes(6).toString('hex')}`);
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  const handle = await open(temporary, flags, 0o600);
  try {
    await handle.writeFile(value);
    await handle.chown(owner.uid, owner.gid).catch((error: unknown) => {
      throw chownError(error, owner);
    });
    await handle.chmod(owner.mode);
  } catch (error) {
    await handle.close();
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await handle.close();
  await rename(temporary, target);
  // Without root no mount is possible; the daemon logs that at start.
  if (!canSeal()) return target;
  await sealFile(target).catch((error: unknown) => {
    const detail = (error as { stderr?: string }).stderr?.trim() || String(error);
    throw new DsvError('MOUNT_FAILED', `making the secret file read-only failed (${detail}); dsv needs root or CAP_SYS_ADMIN`, {
      cause: error,
    });
  });
  return target;
}

/** Returns whether this process may mount, which sealing a secret file read-only needs. */
export function canSeal(): boolean {
  return process.geteuid?.() === 0;
}

/** Creates the volume's folder, or checks that an existing one is a real folder of this process. */
async function volumeFolder(mountDir: string, volume: string): Promise<string> {
  const directory = volumeDirectory(mountDir, volume);
  try {
    // Not recursive: mkdir never follows a symlink planted at the final component.
    await mkdir(directory, { mode: 0o700 });
    return directory;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const stats = await lstat(directory);
  if (!stats.isDirectory() || stats.uid !== process.geteuid?.()) {
    throw new DsvError('MOUNT_FAILED', `${directory} exists but is not a folder that dsv created; remove it`);
  }
  return directory;
}

function chownError(error: unknown, owner: FileOwner): unknown {
  if ((error as NodeJS.ErrnoException).code !== 'EPERM') return error;
  return new DsvError(
    'MOUNT_FAILED',
    `setting the file's owner to ${owner.uid}:${owner.gid} needs root or CAP_CHOWN, and dsv runs as uid ${process.geteuid?.()}; ` +
      'run dsv as root or set the uid and gid options to its own ids',
    { cause: error },
  );
}

/**
 * Removes the files dsv wrote in a volume's folder, then the folder if nothing else is left.
 * Returns false when foreign files kept the folder; a missing folder is fine.
 */
export async function removeVolumeFiles(mountDir: string, volume: string): Promise<boolean> {
  const directory = volumeDirectory(mountDir, volume);
  let names: string[];
  try {
    names = await readdir(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return true;
    throw error;
  }
  const ours = names.filter((name) => name === secretFileName || name.startsWith(temporaryPrefix));
  if (ours.includes(secretFileName)) await unsealFile(path.join(directory, secretFileName));
  for (const name of ours) await unlink(path.join(directory, name)).catch(() => undefined);
  if (ours.length < names.length) return false;
  await rmdir(directory).catch(() => undefined);
  return true;
}

/** Removes what an earlier run left for these volumes; after a restart nothing counts as mounted. */
export async function removeStaleVolumeFiles(mountDir: string, volumes: Iterable<string>): Promise<string[]> {
  const removed: string[] = [];
  for (const volume of volumes) {
    const directory = volumeDirectory(mountDir, volume);
    // Only a real folder of this process; one made by another user is left for the operator.
    const ours = await lstat(directory).then(
      (stats) => stats.isDirectory() && stats.uid === process.geteuid?.(),
      () => false,
    );
    if (!ours) continue;
    await removeVolumeFiles(mountDir, volume);
    removed.push(volume);
  }
  return removed;
}
