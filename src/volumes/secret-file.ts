/**
 * Writes and removes the file a volume mounts. Each volume gets a folder of its own on the tmpfs
 * so that later kinds of volume (many files, a `..data` symlink for rotation) fit the same layout.
 */
import { mkdir, open, readdir, rename, rm, unlink } from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

/** Name of the file inside a volume's folder; containers see it under the target they chose. */
export const secretFileName = 'secret';

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
  const directory = volumeDirectory(mountDir, volume);
  await mkdir(directory, { recursive: true, mode: 0o700 });

  const target = path.join(directory, secretFileName);
  const temporary = path.join(directory, `.${secretFileName}-${randomBytes(6).toString('hex')}`);
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  const handle = await open(temporary, flags, 0o600);
  try {
    await handle.writeFile(value);
    await handle.chown(owner.uid, owner.gid);
    await handle.chmod(owner.mode);
  } catch (error) {
    await handle.close();
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await handle.close();
  await rename(temporary, target);
  return target;
}

/** Removes a volume's folder and everything in it; a missing folder is fine. */
export async function removeVolumeFiles(mountDir: string, volume: string): Promise<void> {
  await rm(volumeDirectory(mountDir, volume), { recursive: true, force: true });
}

/**
 * Removes volume folders left by an earlier run; after a restart nothing counts as mounted.
 * Only folders named like Docker volumes are touched, so a wrongly set DSV_MOUNT_DIR loses
 * nothing else. Returns the names removed.
 */
export async function removeStaleVolumeFiles(mountDir: string, isVolumeName: (name: string) => boolean): Promise<string[]> {
  const removed: string[] = [];
  for (const entry of await readdir(mountDir, { withFileTypes: true })) {
    if (!entry.isDirectory() || !isVolumeName(entry.name)) continue;
    const files = await readdir(path.join(mountDir, entry.name));
    const ours = files.every((file) => file === secretFileName || file.startsWith(`.${secretFileName}-`));
    if (!ours) continue;
    await removeVolumeFiles(mountDir, entry.name);
    removed.push(entry.name);
  }
  return removed;
}
