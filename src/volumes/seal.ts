/**
 * Makes a secret file read-only for every container, whatever mount options the container requests.
 * Docker bind-mounts the file read-write unless the user adds `:ro`, and a container that
 * may write could change the value or its mode bits (setuid) for every other container sharing
 * the volume. A read-only bind mount over the file stops that, because every mount made from it,
 * the container's included, copies its read-only, nosuid, nodev and noexec flags.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Private tmpfs for the short-lived staging mounts; outside any folder Docker propagates. */
export const stagingDir = '/run/dsv-seal';

let stagingReady: Promise<void> | undefined;
let stagingMounted = false;

function mount(...args: string[]): Promise<unknown> {
  return run('mount', args, { timeout: 10_000 });
}

/**
 * Covers `file` with a read-only bind mount of itself; needs root or CAP_SYS_ADMIN.
 *
 * Remounting a bind mount read-only changes that one mount only: its propagated copies, such as
 * the host's view of the managed plugin's propagated mount, which Docker binds into containers,
 * would stay writable. So the read-only mount is made first at a staging path on a private
 * tmpfs and made private itself, and the mount over `file` is bound from it, which copies the
 * flags to every propagated copy as well.
 */
export async function sealFile(file: string): Promise<void> {
  stagingReady ??= prepareStaging().catch((error: unknown) => {
    stagingReady = undefined;
    throw error;
  });
  await stagingReady;

  const staging = path.join(stagingDir, randomBytes(6).toString('hex'));
  await (await open(staging, 'wx', 0o600)).close();
  try {
    await mount('-o', 'bind', file, staging);
    try {
      // A bind of a shared mount joins its peer group, so it would get a copy of the mount made
      // on the file next. Made private, it stays out of that group.
      await mount('--make-private', staging);
      await mount('-o', 'remount,bind,ro,nosuid,nodev,noexec', staging);
      await mount('-o', 'bind', staging, file);
    } finally {
      await run('umount', [staging], { timeout: 10_000 });
    }
  } finally {
    await unlink(staging).catch(() => undefined);
  }
}

/** Mounts the private staging tmpfs once per process, unless an earlier run left it mounted. */
async function prepareStaging(): Promise<void> {
  await mkdir(stagingDir, { recursive: true, mode: 0o700 });
  const mountInfo = await readFile('/proc/self/mountinfo', 'utf8');
  const mounted = mountInfo.split('\n').some((line) => line.split(' ')[4] === stagingDir);
  if (!mounted) {
    await mount('-t', 'tmpfs', '-o', 'size=1m,mode=0700,nosuid,nodev,noexec', 'dsv-seal', stagingDir);
    stagingMounted = true;
  }
  await mount('--make-private', stagingDir);
}

/** Unmounts the staging tmpfs if this process mounted it. */
export async function releaseStaging(): Promise<void> {
  if (!stagingMounted) return;
  await run('umount', [stagingDir], { timeout: 10_000 });
  stagingMounted = false;
  stagingReady = undefined;
}

/**
 * Removes the bind mount from `file`, if there is one. The unmount is lazy, so a container that
 * still uses the file keeps its own mount of it. A file that is no mount point is left as it is.
 */
export async function unsealFile(file: string): Promise<void> {
  await run('umount', ['-l', file], { timeout: 10_000 }).catch(() => undefined);
}
