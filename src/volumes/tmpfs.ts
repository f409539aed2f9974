/**
 * The folder where mounted secrets live must be a tmpfs, so that no value ever reaches a disk.
 * If it already is one (such as /run on most hosts) dsv uses it as it is; otherwise dsv mounts a
 * tmpfs there, which needs root or CAP_SYS_ADMIN, and refuses to start if it cannot. Either way
 * the folder must belong to dsv's user and be closed to others, or another local user could plant
 * a symlink that sends a secret elsewhere.
 */
import { execFile } from 'node:child_process';
import { lstat, mkdir, readdir, realpath, statfs } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { DsvError } from '../errors.ts';

const run = promisify(execFile);

/** f_type that statfs(2) reports for tmpfs (TMPFS_MAGIC in linux/magic.h). */
const tmpfsMagic = 0x01021994;

export interface TmpfsResult {
  /** True when dsv mounted the tmpfs itself and should unmount it at shutdown. */
  readonly mounted: boolean;
}

export async function isTmpfs(directory: string): Promise<boolean> {
  const stats = await statfs(directory);
  return stats.type === tmpfsMagic;
}

/** Creates `directory` and makes sure it lies on a tmpfs; throws MOUNT_FAILED when it cannot. */
export async function ensureTmpfs(directory: string, sizeMb: number): Promise<TmpfsResult> {
  if (path.resolve(directory) === '/') {
    throw new DsvError('MOUNT_FAILED', 'DSV_MOUNT_DIR must not be "/"; use a folder of its own such as /run/dsv/volumes');
  }
  await mkdir(directory, { recursive: true, mode: 0o700 });
  // A trailing "/" or "/." would make lstat follow a symlink, and a symlink in a parent folder
  // would let its owner choose where the tmpfs goes, so the whole path must be free of them.
  const resolved = path.resolve(directory);
  if ((await realpath(resolved)) !== resolved) {
    throw new DsvError('MOUNT_FAILED', `DSV_MOUNT_DIR ${directory} goes through a symlink; give the real path`);
  }
  await checkOwnership(resolved);
  if (await isTmpfs(directory)) return { mounted: false };

  if ((await readdir(directory)).length > 0) {
    throw new DsvError(
      'MOUNT_FAILED',
      `${directory} is not on tmpfs and not empty; dsv mounts a tmpfs only over an empty folder, so that it hides nothing`,
    );
  }
  const options = `mode=0700,size=${sizeMb}m,nosuid,nodev,noexec`;
  try {
    await run('mount', ['-t', 'tmpfs', '-o', options, 'dsv', directory], { timeout: 10_000 });
  } catch (error) {
    const detail = (error as { stderr?: string }).stderr?.trim() || (error as Error).message;
    throw new DsvError(
      'MOUNT_FAILED',
      `${directory} is not on tmpfs and mounting one there failed (${detail}); run dsv as root, ` +
        'or set DSV_MOUNT_DIR to a folder of its own on a tmpfs, such as /run/dsv/volumes',
      { cause: error },
    );
  }
  if (!(await isTmpfs(directory))) {
    await unmountTmpfs(directory).catch(() => undefined);
    throw new DsvError('MOUNT_FAILED', `mounted a tmpfs on ${directory} but statfs does not report tmpfs`);
  }
  return { mounted: true };
}

/** Rejects a folder that is a symlink, belongs to another user or that others may write to. */
async function checkOwnership(directory: string): Promise<void> {
  const stats = await lstat(directory);
  const uid = process.geteuid?.();
  if (!stats.isDirectory()) {
    throw new DsvError('MOUNT_FAILED', `DSV_MOUNT_DIR ${directory} is not a folder (a symlink is not accepted)`);
  }
  if (stats.uid !== uid || (stats.mode & 0o022) !== 0) {
    throw new DsvError(
      'MOUNT_FAILED',
      `DSV_MOUNT_DIR ${directory} must belong to uid ${uid} and be writable by no one else ` +
        `(it belongs to uid ${stats.uid} with mode 0${(stats.mode & 0o777).toString(8)})`,
    );
  }
}

export async function unmountTmpfs(directory: string): Promise<void> {
  await run('umount', [directory], { timeout: 10_000 });
}
