/**
 * Builds the managed plugin folder build/plugin (config.json + rootfs/) without a registry and
 * without `docker build`. The rootfs contains the Node binary from node_modules with the shared
 * libraries `ldd` lists, a static busybox for mount/umount, the bundle and production
 * dependencies. `docker plugin create NAME build/plugin` turns the folder into a plugin.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, copyFile, cp, mkdir, readdir, readFile, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { z } from 'zod';
import { backendDefinitions } from '../src/backends/definitions.ts';
import { coreSettingsShape } from '../src/settings/settings.ts';
import { buildDist, repositoryRoot } from './build.ts';

const run = promisify(execFile);

export const pluginDir = path.join(repositoryRoot, 'build', 'plugin');
const depsDir = path.join(repositoryRoot, 'build', 'plugin-deps');
const nodeInRootfs = '/usr/local/bin/node';

/** Folder paths inside the plugin's rootfs; config.json mounts and env defaults use the same ones. */
export const pluginPaths = {
  propagatedMount: '/var/lib/dsv/propagated',
  files: '/var/lib/dsv/files',
  credentials: '/etc/dsv/credentials',
} as const;

/** One entry of config.json's `env`, as the managed plugin format defines it. */
export interface PluginEnv {
  readonly name: string;
  readonly description: string;
  readonly value: string;
  readonly settable: string[];
}

/** Env values the plugin format pins; all other settings start empty, which means "not set". */
const fixedEnv: Readonly<Record<string, { value: string; settable: boolean; description: string }>> = {
  DSV_SOCKET: { value: '/run/docker/plugins/dsv.sock', settable: false, description: 'socket dockerd connects to' },
  DSV_STATE_DIR: { value: `${pluginPaths.propagatedMount}/state`, settable: false, description: 'volume state, kept across plugin restarts' },
  DSV_MOUNT_DIR: { value: `${pluginPaths.propagatedMount}/volumes`, settable: false, description: 'tmpfs holding mounted secret files' },
  DSV_FILES_DIR: { value: pluginPaths.files, settable: true, description: 'folder the file backend reads; set the files mount source instead' },
  AWS_SHARED_CREDENTIALS_FILE: { value: `${pluginPaths.credentials}/aws/credentials`, settable: true, description: 'AWS credentials file' },
  AWS_CONFIG_FILE: { value: `${pluginPaths.credentials}/aws/config`, settable: true, description: 'AWS config file' },
  HOME: { value: '/tmp', settable: true, description: 'home folder of the plugin process' },
};

/** Finds a schema's description through zod wrappers such as `.default()`. */
function describeSchema(schema: z.ZodType<unknown>): string | undefined {
  let current: unknown = schema;
  for (let depth = 0; depth < 5 && current !== undefined; depth += 1) {
    const described = (current as { description?: string }).description;
    if (described !== undefined) return described;
    current = (current as { def?: { innerType?: unknown; in?: unknown } }).def?.innerType ??
      (current as { def?: { in?: unknown } }).def?.in;
  }
  return undefined;
}

/** Lists config.json's env: every core and backend setting, then the fixed extras. */
export function pluginEnv(): PluginEnv[] {
  const sources: [string, Readonly<Record<string, z.ZodType<unknown>>>][] = [
    ['dsv', coreSettingsShape],
    ...backendDefinitions.map((definition): [string, Readonly<Record<string, z.ZodType<unknown>>>] => [
      `${definition.name} backend`,
      definition.settings,
    ]),
  ];
  const entries = new Map<string, PluginEnv>();
  for (const [owner, shape] of sources) {
    for (const [name, schema] of Object.entries(shape)) {
      if (entries.has(name)) continue;
      const description = describeSchema(schema) ?? fixedEnv[name]?.description ?? `${owner} setting, see the README`;
      entries.set(name, { name, description, value: '', settable: ['value'] });
    }
  }

  for (const [name, fixed] of Object.entries(fixedEnv)) {
    // The daemon rejects unknown DSV_* variables, so a pinned one must still be a real setting.
    if (name.startsWith('DSV_') && !entries.has(name)) {
      throw new Error(`config.json pins ${name}, but no settings schema declares it`);
    }
    const description = entries.get(name)?.description ?? fixed.description;
    entries.set(name, { name, description, value: fixed.value, settable: fixed.settable ? ['value'] : [] });
  }
  return [...entries.values()];
}

/** Builds the content of config.json. */
export async function pluginConfig(): Promise<Record<string, unknown>> {
  const pkg = JSON.parse(await readFile(path.join(repositoryRoot, 'package.json'), 'utf8')) as {
    description: string;
    homepage?: string;
  };
  const bindMount = (name: string, source: string, destination: string, description: string) => ({
    name,
    description,
    source,
    destination,
    type: 'bind',
    options: ['rbind', 'ro'],
    settable: ['source'],
  });
  return {
    description: pkg.description,
    // NOTE: package.json has no homepage yet, so the fallback points at the README by name.
    documentation: pkg.homepage ?? 'README.md in the dsv repository',
    entrypoint: [nodeInRootfs, '/app/dist/dsv.js', 'serve'],
    workdir: '/app',
    interface: { types: ['docker.volumedriver/1.0'], socket: 'dsv.sock' },
    network: { type: 'host' },
    propagatedMount: pluginPaths.propagatedMount,
    linux: { capabilities: ['CAP_SYS_ADMIN', 'CAP_CHOWN', 'CAP_FOWNER', 'CAP_DAC_OVERRIDE'] },
    mounts: [
      bindMount('files', '/var/lib/dsv/files', pluginPaths.files, 'host folder the file backend reads'),
      bindMount('credentials', '/var/lib/dsv/credentials', pluginPaths.credentials, 'host folder with backend credentials'),
    ],
    env: pluginEnv(),
  };
}

/** Returns the shared libraries and the loader that `ldd` lists for a binary. */
export async function sharedLibraries(binary: string): Promise<string[]> {
  const { stdout } = await run('ldd', [binary]);
  const libraries: string[] = [];
  for (const line of stdout.split('\n')) {
    const match = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (match?.[1] !== undefined) libraries.push(match[1]);
  }
  return libraries;
}

/** Copies a host file to the same path under rootfs, following symlinks to the content. */
async function copyIntoRootfs(rootfs: string, hostPath: string, rootfsPath = hostPath): Promise<void> {
  const target = path.join(rootfs, rootfsPath);
  await mkdir(path.dirname(target), { recursive: true });
  await copyFile(hostPath, target);
}

async function addNode(rootfs: string): Promise<void> {
  const binary = await realpath(path.join(repositoryRoot, 'node_modules', '.bin', 'node')).catch(() => {
    throw new Error('node_modules/.bin/node is missing: run "npm ci" first');
  });
  const header = (await readFile(binary)).subarray(0, 4);
  if (!header.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) {
    throw new Error(`${binary} is not an ELF binary: the "node" dev dependency did not install its binary`);
  }
  await copyIntoRootfs(rootfs, binary, nodeInRootfs);
  for (const library of await sharedLibraries(binary)) await copyIntoRootfs(rootfs, library);
}

/** Adds a static busybox; mount and umount are what the daemon runs to set up its tmpfs. */
async function addBusybox(rootfs: string): Promise<void> {
  const busybox = '/bin/busybox';
  const lddCheck = await run('ldd', [busybox]).then(
    (result) => result.stdout + result.stderr,
    (error: { stdout?: string; stderr?: string }) => `${error.stdout ?? ''}${error.stderr ?? ''}`,
  );
  if (!/not a dynamic executable|statically linked/.test(lddCheck)) {
    throw new Error(`${busybox} is missing or not static: install Debian's busybox-static package`);
  }
  await copyIntoRootfs(rootfs, busybox);
  for (const applet of ['sh', 'mount', 'umount', 'cat', 'ls']) {
    await symlink('busybox', path.join(rootfs, 'bin', applet));
  }
}

/** Installs production dependencies once per lockfile, in a staging folder reused by later builds. */
async function productionDependencies(): Promise<string> {
  const manifest = await readFile(path.join(repositoryRoot, 'package.json'));
  const lockfile = await readFile(path.join(repositoryRoot, 'package-lock.json'));
  const digest = createHash('sha256').update(manifest).update(lockfile).digest('hex');
  const stampFile = path.join(depsDir, 'lock.sha256');
  const stamp = await readFile(stampFile, 'utf8').catch(() => '');
  if (stamp === digest) return path.join(depsDir, 'node_modules');

  await rm(depsDir, { recursive: true, force: true });
  await mkdir(depsDir, { recursive: true });
  await writeFile(path.join(depsDir, 'package.json'), manifest);
  await writeFile(path.join(depsDir, 'package-lock.json'), lockfile);
  // --prefer-offline takes packages from the npm cache that `npm ci` filled for the repository.
  const args = ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];
  await run('npm', args, { cwd: depsDir, maxBuffer: 16 * 1024 * 1024 }).catch((error: { stderr?: string }) => {
    throw new Error(`npm ci for the production dependencies failed:\n${error.stderr ?? String(error)}`);
  });
  await writeFile(stampFile, digest);
  return path.join(depsDir, 'node_modules');
}

async function addApp(rootfs: string): Promise<void> {
  const app = path.join(rootfs, 'app');
  await cp(path.join(repositoryRoot, 'dist'), path.join(app, 'dist'), { recursive: true });
  await copyFile(path.join(repositoryRoot, 'package.json'), path.join(app, 'package.json'));
  const modules = await productionDependencies();
  await cp(modules, path.join(app, 'node_modules'), { recursive: true, verbatimSymlinks: true });
}

async function addSystemFiles(rootfs: string): Promise<void> {
  await mkdir(path.join(rootfs, 'tmp'), { recursive: true });
  await chmod(path.join(rootfs, 'tmp'), 0o1777);
  for (const folder of [pluginPaths.propagatedMount, pluginPaths.files, pluginPaths.credentials]) {
    await mkdir(path.join(rootfs, folder), { recursive: true });
  }
  const etc = path.join(rootfs, 'etc');
  await mkdir(etc, { recursive: true });
  await writeFile(path.join(etc, 'passwd'), 'root:x:0:0:root:/tmp:/bin/sh\n');
  await writeFile(path.join(etc, 'group'), 'root:x:0:\n');
  await writeFile(path.join(etc, 'nsswitch.conf'), 'hosts: files dns\n');
  // dockerd bind-mounts the host's hosts and resolv.conf over these for plugins with a network.
  await writeFile(path.join(etc, 'hosts'), '127.0.0.1 localhost\n');
  await writeFile(path.join(etc, 'resolv.conf'), '');

  // Cloud APIs use public CAs, which Node bundles; the system bundle adds CAs the host trusts.
  const caBundle = '/etc/ssl/certs/ca-certificates.crt';
  const hasBundle = await stat(caBundle).then((stats) => stats.isFile(), () => false);
  if (hasBundle) await copyIntoRootfs(rootfs, caBundle);
}

/** Checks whether a source, build script or the lockfile changed after build/plugin was written. */
export async function pluginIsStale(): Promise<boolean> {
  const builtAt = await stat(path.join(pluginDir, 'config.json')).then((stats) => stats.mtimeMs, () => 0);
  const sources = ['package.json', 'package-lock.json', 'scripts/build.ts', 'scripts/plugin-build.ts'];
  for (const entry of await readdir(path.join(repositoryRoot, 'src'), { recursive: true })) {
    sources.push(path.join('src', entry));
  }
  for (const source of sources) {
    const modifiedAt = await stat(path.join(repositoryRoot, source)).then((stats) => stats.mtimeMs, () => 0);
    if (modifiedAt > builtAt) return true;
  }
  return false;
}

/** Builds dist/ and then build/plugin from scratch; returns the plugin folder. */
export async function buildPlugin(options: { quiet?: boolean } = {}): Promise<string> {
  const started = performance.now();
  await buildDist(options);

  await rm(pluginDir, { recursive: true, force: true });
  const rootfs = path.join(pluginDir, 'rootfs');
  await mkdir(rootfs, { recursive: true });
  await addNode(rootfs);
  await addBusybox(rootfs);
  await addApp(rootfs);
  await addSystemFiles(rootfs);
  const config = await pluginConfig();
  await writeFile(path.join(pluginDir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);

  if (options.quiet !== true) {
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const settings = (config.env as PluginEnv[]).length;
    console.log(`plugin:build: wrote build/plugin (config.json with ${settings} settings, rootfs/) in ${seconds} s`);
  }
  return pluginDir;
}

if (import.meta.main) {
  await buildPlugin();
}
