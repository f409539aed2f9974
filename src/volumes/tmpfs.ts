/**
 * The folder where mounted secrets live must be a tmpfs, so that no value ever reaches a disk.
 * If it already is one (such as /dev/shm or /run on most hosts) dsv uses it as it is; otherwise
 * dsv mounts a tmpfs there, which needs root or CAP_SYS_ADMIN, and refuses to start if it cannot.
 */
import { execFile } from 'node:child_process';
import { mkdir, statfs } from 'node:fs/promises';
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
  await mkdir(directory, { recursive: true, mode: 0o700 });
  if (await isTmpfs(directory)) return { mounted: false };

  const options = `mode=0700,size=${sizeMb}m,nosuid,nodev,noexec`;
  try {
    await run('mount', ['-t', 'tmpfs', '-o', options, 'dsv', directory], { timeout: 10_000 });
  } catch (error) {
    const detail = (error as { stderr?: string }).stderr?.trim() || (error as Error).message;
    throw new DsvError(
      'MOUNT_FAILED',
      `${directory} is not on tmpfs and mounting one there failed (${detail}); run dsv as root, ` +
        'or set DSV_MOUNT_DIR to a folder on a tmpfs such as /dev/shm/dsv',
      { cause: error },
    );
  }
  if (!(await isTmpfs(directory))) {
    throw new DsvError('MOUNT_FAILED', `mounted a tmpfs on ${directory} but statfs does not report tmpfs`);
  }
  return { mounted: true };
}

export async function unmountTmpfs(directory: string): Promise<void> {
  await run('umount', [directory], { timeout: 10_000 });
}
