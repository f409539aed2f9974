/**
 * A private Docker engine for end-to-end tests: its own data root, exec root, socket and pidfile
 * under one temporary folder, no bridge and no iptables changes, so it never touches the host's
 * engine. `stop()` removes what the tests left, stops dockerd by its PID and unmounts leftovers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, readdir, readlink, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { dockerBinary, runCommand, runCommandRaw, type CommandOptions, type CommandResult } from '../../scripts/plugin-install.ts';

export type { CommandResult };

/**
 * Returns why end-to-end tests cannot run here, or undefined when they can. In CI (CI set) they
 * always run, so a missing engine fails the build instead of passing silently.
 */
export function e2eSkipReason(): string | undefined {
  if (process.env.CI !== undefined && process.env.CI !== '') return undefined;
  if (process.getuid?.() !== 0) return 'end-to-end tests need root to run a private Docker engine (CI=true makes this a failure)';
  if (findDockerd() === undefined) return 'end-to-end tests need dockerd (apt-get install docker.io)';
  return undefined;
}

function findDockerd(): string | undefined {
  return ['/usr/sbin/dockerd', '/usr/bin/dockerd', '/usr/local/bin/dockerd'].find((candidate) => existsSync(candidate));
}

/** Polls `check` every `intervalMs` until it returns true or `timeoutMs` passes. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, intervalMs = 200): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await delay(intervalMs);
  }
  return check();
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Sends SIGTERM, waits, then SIGKILL; returns whether the process had to be killed. */
async function stopProcess(pid: number, graceMs: number): Promise<boolean> {
  if (!isAlive(pid)) return false;
  process.kill(pid, 'SIGTERM');
  if (await waitFor(() => !isAlive(pid), graceMs)) return false;
  process.kill(pid, 'SIGKILL');
  await waitFor(() => !isAlive(pid), 5_000);
  return true;
}

/** Lists mount points below a folder, deepest first, from /proc/self/mountinfo. */
async function mountsUnder(folder: string): Promise<string[]> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  const points = mountinfo
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((point): point is string => point !== undefined)
    .map((point) => point.replace(/\\(\d{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8))))
    .filter((point) => point.startsWith(`${folder}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/** Lists processes whose root folder or command line lies in the engine's folder: its leftovers. */
async function processesUnder(folder: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const root = await readlink(`/proc/${pid}/root`).catch(() => '');
    const commandLine = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (root.startsWith(`${folder}/`) || commandLine.includes(`${folder}/`)) pids.push(pid);
  }
  return pids;
}

/** One running private engine. Create it with `startEngine()`. */
export class Engine {
  /** Temporary folder containing everything the engine writes. */
  readonly dir: string;
  readonly dataRoot: string;
  readonly host: string;
  readonly #daemon: ChildProcess;
  readonly #transcript: string[] = [];
  #stopped = false;

  constructor(dir: string, daemon: ChildProcess) {
    this.dir = dir;
    this.dataRoot = path.join(dir, 'root');
    this.host = `unix://${path.join(dir, 'docker.sock')}`;
    this.#daemon = daemon;
  }

  /** Environment for docker and docker-compose: this engine, no user config, no proxies. */
  env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: this.host, DOCKER_CONFIG: path.join(this.dir, 'client') };
    for (const name of ['DOCKER_CONTEXT', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH', 'HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy']) {
      delete env[name];
    }
    return env;
  }

  /** Runs any command against this engine; its stderr is kept for leak checks. */
  async command(file: string, args: readonly string[], options: CommandOptions = {}): Promise<CommandResult> {
    const result = await runCommand(file, args, { env: this.env(), ...options });
    this.#transcript.push(result.stderr);
    if (result.code !== 0) this.#transcript.push(result.stdout);
    return result;
  }

  /** Runs `docker ARGS...`; never throws for a non-zero exit. */
  docker = (...args: string[]): Promise<CommandResult> => this.command(dockerBinary(), args);

  /** Runs `docker ARGS...` and keeps stdout as bytes, for binary secrets. */
  async dockerRaw(args: readonly string[]): Promise<CommandResult<Buffer>> {
    const result = await runCommandRaw(dockerBinary(), args, { env: this.env() });
    this.#transcript.push(result.stderr);
    return result;
  }

  /** Runs `docker ARGS...` and returns its trimmed stdout, or throws with its stderr. */
  async dockerOk(...args: string[]): Promise<string> {
    const result = await this.docker(...args);
    if (result.code !== 0) throw new Error(`docker ${args.join(' ')} exited with ${result.code}: ${result.stderr.trim()}`);
    return result.stdout.trim();
  }

  /** Returns the engine's log so far, which includes every line a managed plugin writes to stdout. */
  log(): string {
    return readFileSync(path.join(this.dir, 'engine.log'), 'utf8');
  }

  /** Returns every stderr (and the stdout of failed commands) seen so far, for leak checks. */
  outputs(): string {
    return this.#transcript.join('\n');
  }

  logTail(lines = 30): string {
    return this.log().trimEnd().split('\n').slice(-lines).join('\n');
  }

  async waitUntilReady(timeoutMs: number): Promise<void> {
    const ready = await waitFor(async () => {
      if (this.#daemon.exitCode !== null) return true;
      return (await runCommand(dockerBinary(), ['version'], { env: this.env(), timeoutMs: 5_000 })).code === 0;
    }, timeoutMs, 250);
    if (!ready || this.#daemon.exitCode !== null) {
      const reason = this.#daemon.exitCode === null ? `did not answer within ${timeoutMs / 1000} s` : `exited with ${this.#daemon.exitCode}`;
      throw new Error(`private dockerd ${reason}; last lines of ${this.dir}/engine.log:\n${this.logTail()}`);
    }
  }

  /** Removes containers, volumes and plugins, stops the engine by PID and deletes its folder. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    const pid = this.#daemon.pid;
    if (pid !== undefined && isAlive(pid)) await this.#removeAll();
    const killed = pid !== undefined && (await stopProcess(pid, 30_000));

    const containerdPid = await readFile(path.join(this.dir, 'run', 'containerd', 'containerd.pid'), 'utf8').catch(() => '');
    if (containerdPid.trim() !== '') await stopProcess(Number(containerdPid), 10_000);
    // A forced stop leaves shims and plugin processes behind; they run from this folder only.
    if (killed) for (const leftover of await processesUnder(this.dir)) await stopProcess(leftover, 2_000);

    for (const point of await mountsUnder(this.dir)) {
      const result = await runCommand('umount', [point]);
      if (result.code !== 0) await runCommand('umount', ['-l', point]);
    }
    const remaining = await mountsUnder(this.dir);
    if (remaining.length > 0 || process.env.DSV_E2E_KEEP === '1') {
      console.error(`engine folder ${this.dir} kept (${remaining.length} mounts remain)`);
      return;
    }
    await rm(this.dir, { recursive: true, force: true });
  }

  async #removeAll(): Promise<void> {
    const quick = (...args: string[]) => runCommand(dockerBinary(), args, { env: this.env(), timeoutMs: 60_000 });
    const list = async (...args: string[]) => (await quick(...args)).stdout.split('\n').filter((line) => line !== '');
    const containers = await list('ps', '-aq');
    if (containers.length > 0) await quick('rm', '-f', ...containers);
    const volumes = await list('volume', 'ls', '-q');
    if (volumes.length > 0) await quick('volume', 'rm', '-f', ...volumes);
    for (const plugin of await list('plugin', 'ls', '--format', '{{.Name}}')) {
      await quick('plugin', 'disable', '-f', plugin);
      await quick('plugin', 'rm', '-f', plugin);
    }
  }
}

/** Starts a private dockerd and waits up to 30 s for its API; stops it again on failure. */
export async function startEngine(): Promise<Engine> {
  const dockerd = findDockerd();
  if (dockerd === undefined) throw new Error('dockerd not found: apt-get install docker.io');
  // A short base path keeps the sockets dockerd and containerd create under it within the 107-byte
  // unix socket limit, whatever TMPDIR is. NOTE: dockerd 20.10 still puts managed plugin sockets
  // in the host's /run/docker/plugins/<id>/, whatever --exec-root says; ids are unique per engine.
  const dir = await mkdtemp('/tmp/dsv-');
  const logFd = openSync(path.join(dir, 'engine.log'), 'a');
  const args = [
    `--data-root=${path.join(dir, 'root')}`,
    `--exec-root=${path.join(dir, 'run')}`,
    `--host=unix://${path.join(dir, 'docker.sock')}`,
    `--pidfile=${path.join(dir, 'docker.pid')}`,
    '--bridge=none',
    '--iptables=false',
    '--ip6tables=false',
  ];
  const daemon = spawn(dockerd, args, { stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  const engine = new Engine(dir, daemon);
  // Last resort if the test process ends without stop(): dockerd must not outlive it.
  process.once('exit', () => {
    if (daemon.exitCode === null) daemon.kill('SIGTERM');
  });
  try {
    await engine.waitUntilReady(30_000);
  } catch (error) {
    await engine.stop();
    throw error;
  }
  return engine;
}
