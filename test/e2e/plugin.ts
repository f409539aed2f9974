/**
 * What end-to-end tests put on a private engine: a busybox image made from Debian's static
 * busybox (no registry is reachable) and the dsv plugin from build/plugin.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { buildPlugin, pluginDir, pluginIsStale } from '../../scripts/plugin-build.ts';
import { installPlugin } from '../../scripts/plugin-install.ts';
import type { Engine } from './engine.ts';

const run = promisify(execFile);

/** Imports /bin/busybox with every applet linked in /bin as the image `tag`. */
export async function importBusybox(engine: Engine, tag = 'busybox'): Promise<void> {
  const rootfs = await mkdtemp(path.join(engine.dir, 'busybox-'));
  await mkdir(path.join(rootfs, 'bin'));
  await copyFile('/bin/busybox', path.join(rootfs, 'bin', 'busybox'));
  const { stdout } = await run('/bin/busybox', ['--list']);
  for (const applet of stdout.split('\n')) {
    if (applet === '' || applet === 'busybox') continue;
    await symlink('busybox', path.join(rootfs, 'bin', applet));
  }
  await mkdir(path.join(rootfs, 'tmp'));
  await chmod(path.join(rootfs, 'tmp'), 0o1777);
  await mkdir(path.join(rootfs, 'etc'));
  await writeFile(path.join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');

  const tarball = `${rootfs}.tar`;
  await run('tar', ['-C', rootfs, '-cf', tarball, '.']);
  await engine.dockerOk('import', tarball, tag);
}

/** Builds build/plugin when it is missing or older than the sources it comes from. */
export async function ensurePluginBuilt(): Promise<string> {
  if (await pluginIsStale()) await buildPlugin({ quiet: true });
  return pluginDir;
}

export interface InstalledPlugin {
  readonly id: string;
  /** Host folder behind the plugin's PropagatedMount (state and the tmpfs with secret files). */
  readonly propagatedMount: string;
  /** Host folders handed to the plugin's `files` and `credentials` mounts. */
  readonly filesDir: string;
  readonly credentialsDir: string;
}

export interface InstallSettings {
  /** `docker plugin set` values besides the mount sources, such as DSV_LOG_LEVEL. */
  readonly settings?: Readonly<Record<string, string>>;
  readonly filesDir?: string;
  readonly credentialsDir?: string;
  readonly log?: (line: string) => void;
}

/**
 * Installs build/plugin as `dsv` on the engine. Both mount sources default to fresh folders in
 * the engine's folder, so the host's /var/lib/dsv is never used.
 */
export async function installDsv(engine: Engine, options: InstallSettings = {}): Promise<InstalledPlugin> {
  const filesDir = options.filesDir ?? (await mkdtemp(path.join(engine.dir, 'files-')));
  const credentialsDir = options.credentialsDir ?? (await mkdtemp(path.join(engine.dir, 'credentials-')));
  const settings = [
    `files.source=${filesDir}`,
    `credentials.source=${credentialsDir}`,
    ...Object.entries(options.settings ?? {}).map(([name, value]) => `${name}=${value}`),
  ];
  const id = await installPlugin({
    docker: engine.docker,
    pluginDir: await ensurePluginBuilt(),
    settings,
    localEngine: true,
    log: options.log ?? (() => {}),
  });
  const propagatedMount = path.join(engine.dataRoot, 'plugins', id, 'propagated-mount');
  return { id, propagatedMount, filesDir, credentialsDir };
}

/** Returns a name no earlier test used, such as `plain-3f9a1c2e`. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** Lists regular files under a folder whose content includes `needle`; a missing folder has none. */
export async function filesContaining(folder: string, needle: string | Buffer): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true }).catch(() => []);
  const matches: string[] = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    const content = await readFile(file).catch(() => Buffer.alloc(0));
    if (content.includes(needle)) matches.push(file);
  }
  return matches;
}
