/**
 * Installs build/plugin as the managed plugin `dsv` on the engine DOCKER_HOST names (or the
 * default engine): replaces an older `dsv`, creates the default mount sources on a local engine,
 * applies KEY=VALUE settings while the plugin is still disabled, and enables it.
 *
 *   npm run plugin:install -- files.source=/srv/secrets DSV_LOG_LEVEL=debug
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { buildPlugin, pluginDir, pluginIsStale } from './plugin-build.ts';
import { checkSettings, readPluginConfig, type PluginConfigFile } from './plugin-settings.ts';

export { checkSettings };

/** Output of one finished command; `code` is the exit status, or -1 when it was killed. */
export interface CommandResult<Output = string> {
  readonly stdout: Output;
  readonly stderr: string;
  readonly code: number;
}

export interface CommandOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly timeoutMs?: number;
  readonly input?: Uint8Array | string;
}

/** Runs a command to completion, keeping stdout as bytes; never throws for a non-zero exit. */
export function runCommandRaw(file: string, args: readonly string[], options: CommandOptions = {}): Promise<CommandResult<Buffer>> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: 'pipe' });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 180_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${file}: ${error.message}`, { cause: error }));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString('utf8'), code: code ?? -1 });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Runs a command to completion with text output; never throws for a non-zero exit. */
export async function runCommand(file: string, args: readonly string[], options: CommandOptions = {}): Promise<CommandResult> {
  const result = await runCommandRaw(file, args, options);
  return { ...result, stdout: result.stdout.toString('utf8') };
}

/**
 * Returns the docker client to use: Debian's /usr/bin/docker matches Debian's engine, while a
 * newer client earlier on PATH may speak an API version that engine does not have.
 */
export function dockerBinary(): string {
  return existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
}

/** Runs one docker command against an engine and returns its output. */
export type DockerRunner = (...args: string[]) => Promise<CommandResult>;

export interface InstallOptions {
  readonly docker: DockerRunner;
  /** Plugin folder with config.json and rootfs/. */
  readonly pluginDir: string;
  /** `docker plugin set` arguments, such as `files.source=/srv/secrets` or `DSV_LOG_LEVEL=debug`. */
  readonly settings: readonly string[];
  /** Whether the engine runs on this machine, so missing mount sources can be created here. */
  readonly localEngine: boolean;
  readonly log: (line: string) => void;
  readonly name?: string;
}

async function checked(docker: DockerRunner, action: string, ...args: string[]): Promise<string> {
  const result = await docker(...args);
  if (result.code !== 0) {
    throw new Error(`${action} failed (docker ${args.join(' ')}): ${result.stderr.trim() || `exit code ${result.code}`}`);
  }
  return result.stdout.trim();
}

/** Disables and removes an installed plugin with this name, warning about volumes that use it. */
async function removeExisting(options: InstallOptions, name: string): Promise<void> {
  const { docker, log } = options;
  const inspected = await docker('plugin', 'inspect', '--format', '{{.Id}} {{.Enabled}}', name);
  if (inspected.code !== 0) return;

  const listed = await checked(docker, 'listing volumes', 'volume', 'ls', '--format', '{{.Name}} {{.Driver}}');
  const drivers = new Set([name, `${name}:latest`]);
  const volumes = listed
    .split('\n')
    .map((line) => line.split(' '))
    .filter(([, driver]) => driver !== undefined && drivers.has(driver))
    .map(([volume]) => volume);
  if (volumes.length > 0) {
    log(`WARNING: ${volumes.length} volume(s) still use plugin ${name}: ${volumes.join(', ')}.`);
    log('  The new plugin starts with empty state, so the engine forgets these volumes when it next asks for them;');
    log('  recreate them with "docker volume create -d dsv ..." after the install.');
  }

  const [id, enabled] = inspected.stdout.trim().split(' ');
  if (enabled === 'true') await checked(docker, `disabling plugin ${name}`, 'plugin', 'disable', '-f', name);
  await checked(docker, `removing plugin ${name}`, 'plugin', 'rm', '-f', name);
  log(`removed the installed plugin ${name} (${id?.slice(0, 12) ?? 'unknown id'})`);
}

/** The parts of config.json that `docker plugin set` can change. */
async function prepareMountSources(options: InstallOptions, config: PluginConfigFile): Promise<void> {
  for (const mount of config.mounts) {
    const prefix = `${mount.name}.source=`;
    const requested = options.settings.findLast((setting) => setting.startsWith(prefix))?.slice(prefix.length);
    const source = requested ?? mount.source;
    if (!options.localEngine) {
      options.log(`mount ${mount.name}: the engine is remote, so ${source} must exist on the engine's host`);
      continue;
    }
    // checkSettings has already made sure that a requested source exists.
    if (requested !== undefined) continue;
    const exists = await stat(source).then((stats) => stats.isDirectory(), () => false);
    if (exists) continue;
    await mkdir(source, { recursive: true, mode: 0o700 });
    options.log(`created ${source} (mode 0700) as the source of mount ${mount.name}`);
  }
}

/** Runs `docker plugin set`. Messages name only the keys, because values may be credentials. */
async function applySettings(options: InstallOptions, name: string): Promise<void> {
  const keys = options.settings.map((setting) => setting.slice(0, setting.indexOf('=')));
  const result = await options.docker('plugin', 'set', name, ...options.settings);
  if (result.code !== 0) {
    const reason = result.stderr.trim() || `exit code ${result.code}`;
    throw new Error(`setting ${keys.join(', ')} failed (plugin ${name} stays installed but disabled): ${reason}`);
  }
  options.log(`set ${keys.join(', ')}`);
}

/** Installs and enables the plugin; returns its id. */
export async function installPlugin(options: InstallOptions): Promise<string> {
  const name = options.name ?? 'dsv';
  const { docker, log } = options;

  // Every argument is checked before the engine is touched, so a typo does not cost the working plugin.
  const config = await readPluginConfig(options.pluginDir);
  await checkSettings(config, options.settings, options.localEngine);
  await prepareMountSources(options, config);
  await removeExisting(options, name);

  await checked(docker, `creating plugin ${name}`, 'plugin', 'create', name, options.pluginDir);
  log(`created plugin ${name} from ${path.relative(process.cwd(), options.pluginDir) || options.pluginDir}`);
  if (options.settings.length > 0) await applySettings(options, name);
  try {
    await checked(docker, `enabling plugin ${name}`, 'plugin', 'enable', name);
  } catch (error) {
    const hint =
      'the plugin stays installed but disabled. Its own output is in the engine log: ' +
      'run "journalctl -u docker" on systemd hosts, or read the output of dockerd elsewhere';
    throw new Error(`${(error as Error).message}\n${hint}`, { cause: error });
  }
  const id = await checked(docker, `inspecting plugin ${name}`, 'plugin', 'inspect', '--format', '{{.Id}}', name);
  log(`enabled plugin ${name} (${id.slice(0, 12)})`);
  return id;
}

/** Checks whether DOCKER_HOST names an engine on this machine (unset means the local default socket). */
export function isLocalEngine(dockerHost: string | undefined): boolean {
  return dockerHost === undefined || dockerHost === '' || dockerHost.startsWith('unix://');
}

async function main(args: readonly string[]): Promise<void> {
  const log = (line: string): void => console.log(`plugin:install: ${line}`);
  if (!existsSync(path.join(pluginDir, 'config.json')) || (await pluginIsStale())) {
    log('building the plugin first');
    await buildPlugin();
  }

  const docker: DockerRunner = (...dockerArgs) => runCommand(dockerBinary(), dockerArgs);
  const engine = process.env.DOCKER_HOST ?? 'the default engine';
  log(`installing on ${engine}`);
  await installPlugin({ docker, pluginDir, settings: args, localEngine: isLocalEngine(process.env.DOCKER_HOST), log });
  const filesSource = args.findLast((arg) => arg.startsWith('files.source='))?.slice('files.source='.length) ?? '/var/lib/dsv/files';
  log('done. Try it:');
  log(`  echo hello > ${filesSource}/greeting`);
  log('  docker run --rm --volume-driver dsv -v greeting:/run/secrets/greeting:ro busybox cat /run/secrets/greeting');
}

if (import.meta.main) {
  await main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(`plugin:install: ${(error as Error).message}`);
    process.exitCode = 1;
  });
}
