/**
 * `npm run demo`: shows dsv end to end without touching the machine's own Docker. It starts a
 * private engine in a temporary folder, installs the plugin from build/plugin, mounts a demo
 * secret from the file backend into a busybox container, prints it, and stops everything.
 * Needs root, dockerd (docker.io) and busybox-static.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startEngine, type Engine } from '../test/e2e/engine.ts';
import { ensurePluginBuilt, importBusybox, installDsv } from '../test/e2e/plugin.ts';

const secretName = 'demo/greeting';
const secretValue = 'hello from dsv: this line came from a secret file on tmpfs\n';

function step(message: string): void {
  console.log(`demo: ${message}`);
}

/** Quotes an argument for display the way a POSIX shell would need it. */
function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}

/** Runs a docker command on the private engine, echoing it the way a user would type it. */
async function dockerStep(engine: Engine, ...args: string[]): Promise<string> {
  step(`$ docker ${args.map(shellQuote).join(' ')}`);
  return engine.dockerOk(...args);
}

async function runDemo(engine: Engine): Promise<void> {
  step('importing a busybox image made from /bin/busybox');
  await importBusybox(engine);

  step('building the plugin into build/plugin (skipped when it is up to date)');
  await ensurePluginBuilt();
  step('installing the plugin as "dsv" on the private engine');
  const plugin = await installDsv(engine, { log: (line) => step(`  ${line}`) });

  const secretFile = path.join(plugin.filesDir, secretName);
  await mkdir(path.dirname(secretFile), { recursive: true });
  await writeFile(secretFile, secretValue, { mode: 0o600 });
  step(`wrote the demo secret to ${secretFile} (the plugin's files folder)`);

  await dockerStep(engine, 'volume', 'create', '--driver', 'dsv', '-o', 'backend=file', '-o', `secret=${secretName}`, '-o', 'mode=0440', 'greeting');
  const output = await dockerStep(engine, ...demoRunArgs('greeting', '/run/secrets/greeting'));
  console.log(output.replace(/^/gm, '  | '));
}

/**
 * Returns the `docker run` arguments that show the mounted secret, its mode and its mount. The
 * volume is mounted read-only (`:ro`), as the README recommends for secrets.
 */
export function demoRunArgs(volume: string, target: string): string[] {
  const script = `cat ${target}; stat -c "mode %a, owner %u:%g" ${target}; grep ${target} /proc/mounts`;
  return ['run', '--rm', '--network', 'none', '-v', `${volume}:${target}:ro`, 'busybox', 'sh', '-c', script];
}

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) {
    console.error('demo: the demo starts its own Docker engine, which needs root; run it as root (sudo npm run demo)');
    return 1;
  }
  step('starting a private Docker engine (its own data root and socket; the machine\'s engine is not used)');
  const engine = await startEngine();
  step(`engine up: DOCKER_HOST=${engine.host}`);
  const interrupt = (): void => {
    step('interrupted, stopping the engine');
    void engine.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);

  try {
    await runDemo(engine);
    step('done: the secret reached the container as a file on tmpfs');
    return 0;
  } catch (error) {
    console.error(`demo: failed: ${(error as Error).message}`);
    console.error(`demo: last engine log lines:\n${engine.logTail(20)}`);
    return 1;
  } finally {
    step('stopping the private engine and removing its folder');
    await engine.stop();
  }
}

if (import.meta.main) {
  process.exitCode = await main().catch((error: unknown) => {
    console.error(`demo: failed: ${(error as Error).message}`);
    return 1;
  });
}
