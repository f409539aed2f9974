/**
 * `dsv serve`: runs the plugin daemon. The managed plugin's entrypoint runs it with settings from
 * config.json; on a host it runs as a legacy plugin on /run/docker/plugins/dsv.sock.
 */
import { backendDefinitions } from '../backends/definitions.ts';
import { BackendRegistry } from '../backends/registry.ts';
import { defaultRetryPolicy } from '../backends/retry.ts';
import { createLogger, type Logger } from '../log.ts';
import { volumeDriverRoutes } from '../protocol/routes.ts';
import { checkSocketFree, PluginServer } from '../protocol/server.ts';
import { parseSettings, type Settings } from '../settings/settings.ts';
import { mkdir } from 'node:fs/promises';
import { lockFolder } from '../volumes/lock.ts';
import { releaseStaging } from '../volumes/seal.ts';
import { StateStore } from '../volumes/state.ts';
import { ensureTmpfs, unmountTmpfs } from '../volumes/tmpfs.ts';
import { VolumeService, describeError } from '../volumes/volumes.ts';

export interface RunningDaemon {
  readonly settings: Settings;
  stop(): Promise<void>;
}

/** Starts the daemon and returns once the socket accepts requests. */
export async function startDaemon(env: Readonly<Record<string, string | undefined>>, logger?: Logger): Promise<RunningDaemon> {
  const settings = parseSettings(env, backendDefinitions);
  const log = logger ?? createLogger(settings.logLevel);
  // Each step that takes something pushes how to give it back; stop() and a failed start both
  // run them in reverse order.
  const teardown: Array<() => Promise<void>> = [];
  const runTeardown = async (): Promise<void> => {
    const steps = teardown.splice(0).reverse();
    for (const step of steps) {
      await step().catch((error: unknown) => log.warn({ err: describeError(error) }, 'shutdown step failed'));
    }
  };

  // Before anything else: a second daemon on the same paths would delete the first one's files.
  await checkSocketFree(settings.socket);
  await mkdir(settings.stateDir, { recursive: true, mode: 0o700 });
  const stateLock = await lockFolder(settings.stateDir, 'DSV_STATE_DIR');
  teardown.push(() => stateLock.release());

  const registry = new BackendRegistry(backendDefinitions, settings.env, log);
  const volumes = new VolumeService({
    registry,
    state: new StateStore(settings.stateDir),
    logger: log,
    mountDir: settings.mountDir,
    defaultBackend: settings.defaultBackend,
    retryPolicy: { ...defaultRetryPolicy, budgetMs: settings.fetchTimeoutMs },
  });
  const server = new PluginServer({ socket: settings.socket, routes: volumeDriverRoutes(volumes), logger: log });
  let tmpfsMounted = false;
  try {
    tmpfsMounted = (await ensureTmpfs(settings.mountDir, settings.tmpfsSizeMb)).mounted;
    // Fails while containers still hold files from it; those files are removed before this step.
    if (tmpfsMounted) teardown.push(() => unmountTmpfs(settings.mountDir));
    const mountLock = await lockFolder(settings.mountDir, 'DSV_MOUNT_DIR');
    teardown.push(() => mountLock.release());
    teardown.push(() => releaseStaging());

    await volumes.start();
    teardown.push(() => volumes.stop());
    await server.listen();
    teardown.push(() => server.close());
  } catch (error) {
    await runTeardown();
    throw error;
  }
  log.info(
    {
      socket: settings.socket,
      stateDir: settings.stateDir,
      mountDir: settings.mountDir,
      tmpfsMounted,
      defaultBackend: settings.defaultBackend,
      backends: registry.names(),
    },
    'dsv started',
  );

  return {
    settings,
    async stop() {
      await runTeardown();
      log.info('dsv stopped');
    },
  };
}

/** Runs the daemon until SIGTERM or SIGINT; a bad setting exits with status 2 before listening. */
export async function serve(env: Readonly<Record<string, string | undefined>>): Promise<void> {
  const bootLogger = createLogger(env.DSV_LOG_LEVEL === 'silent' ? 'silent' : 'info');
  let daemon: RunningDaemon;
  try {
    daemon = await startDaemon(env);
  } catch (error) {
    bootLogger.fatal({ err: describeError(error) }, 'dsv failed to start');
    process.exitCode = 2;
    return;
  }

  // Some SDKs refresh tokens in the background and drop the failures; log them, keep serving.
  process.on('unhandledRejection', (reason) => {
    bootLogger.error({ err: describeError(reason) }, 'unhandled promise rejection');
  });

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    bootLogger.info({ signal }, 'stopping');
    daemon.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        bootLogger.error({ err: describeError(error) }, 'stop failed');
        process.exit(1);
      },
    );
  };
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.once(signal, () => shutdown(signal));
}
