/**
 * Makes a secret file read-only for every container, whatever mount options the container asks
 * for. Docker bind-mounts the file read-write unless the user adds `:ro`, and a container that
 * may write could change the value or its mode bits (setuid) for every other container sharing
 * the volume. A read-only bind mount of the file onto itself stops that: the container's mount
 * is made from it and stays read-only, nosuid, nodev and noexec.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Bind-mounts `file` onto itself read-only; needs root or CAP_SYS_ADMIN. */
export async function sealFile(file: string): Promise<void> {
  await run('mount', ['-o', 'bind', file, file], { timeout: 10_000 });
  try {
    await run('mount', ['-o', 'remount,bind,ro,nosuid,nodev,noexec', file], { timeout: 10_000 });
  } catch (error) {
    await unsealFile(file);
    throw error;
  }
}

/**
 * Removes the bind mount from `file`, if there is one. Lazy, so a container that still holds
 * the file keeps its own mount of it; a file that is no mount point is left as it is.
 */
export async function unsealFile(file: string): Promise<void> {
  await run('umount', ['-l', file], { timeout: 10_000 }).catch(() => undefined);
}
