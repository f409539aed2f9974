/**
 * Plugin settings. A managed plugin receives them as environment variables declared settable in
 * config.json (`docker plugin set dsv KEY=VALUE`); the host daemon reads its own environment.
 * They are parsed once at startup with one schema, and every problem is reported at once.
 */
import { z } from 'zod';
import { DsvError } from '../errors.ts';
import type { BackendDefinition } from '../backends/backend.ts';

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const absolutePath = z.string().regex(/^\//, 'must be an absolute path');

function integer(min: number, max: number) {
  return z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
}

/** Settings that dsv itself reads; backend settings are added from each backend definition. */
export const coreSettingsShape = {
  DSV_LOG_LEVEL: z.enum(logLevels).default('info').describe('log level: fatal, error, warn, info, debug, trace or silent'),
  DSV_DEFAULT_BACKEND: z.string().min(1).default('file').describe('backend for volumes without a backend option'),
  DSV_SOCKET: absolutePath.default('/run/docker/plugins/dsv.sock').describe('unix socket the plugin listens on'),
  DSV_STATE_DIR: absolutePath.default('/var/lib/dsv/state').describe('folder of the state file, which holds no secret value'),
  DSV_MOUNT_DIR: absolutePath
    .default('/run/dsv/volumes')
    .describe('folder of the secret files; dsv mounts a tmpfs there unless it already is one'),
  DSV_TMPFS_SIZE_MB: integer(1, 65_536).default(64).describe('size of the tmpfs for secret files, in MiB'),
  // Docker gives a managed plugin 30 s per request. A fetch that outlasts it finishes after
  // dockerd gave up, leaving a counted mount no Unmount will ever end, so the cap stays below.
  DSV_FETCH_TIMEOUT_SECONDS: integer(1, 25)
    .default(20)
    .describe('time budget of one fetch, every retry included, in seconds'),
};

export interface Settings {
  readonly logLevel: (typeof logLevels)[number];
  readonly defaultBackend: string;
  readonly socket: string;
  readonly stateDir: string;
  readonly mountDir: string;
  readonly tmpfsSizeMb: number;
  readonly fetchTimeoutMs: number;
  /** The environment as checked, for backends to read their own settings from. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * Parses settings from the environment. Unknown DSV_* variables are rejected (they are almost
 * always typos); other variables are read only when a backend declares them.
 */
export function parseSettings(
  env: Readonly<Record<string, string | undefined>>,
  backends: readonly BackendDefinition[],
): Settings {
  const shape: Record<string, z.ZodType<unknown>> = { ...coreSettingsShape };
  for (const backend of backends) Object.assign(shape, backend.settings);

  const problems: string[] = [];
  const known = new Set(Object.keys(shape));
  for (const name of Object.keys(env)) {
    if (name.startsWith('DSV_') && !known.has(name)) problems.push(`${name}: unknown setting`);
  }

  const input: Record<string, string | undefined> = {};
  for (const name of known) {
    // An empty value means "not set": config.json declares every setting, most of them empty.
    const value = env[name];
    input[name] = value === '' ? undefined : value;
  }
  const parsed = z.object(shape).safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join('.')}: ${issue.message}`);
  }
  const defaultBackend = input.DSV_DEFAULT_BACKEND ?? 'file';
  if (!backends.some((backend) => backend.name === defaultBackend)) {
    const names = backends.map((backend) => backend.name).join(', ');
    problems.push(`DSV_DEFAULT_BACKEND: unknown backend "${defaultBackend}"; known backends: ${names}`);
  }
  if (problems.length > 0 || !parsed.success) {
    throw new DsvError('INVALID_SETTING', `invalid plugin settings: ${problems.join('; ')}`);
  }

  const values = parsed.data as Record<string, unknown>;

  const checkedEnv: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined) checkedEnv[name] = String(value);
  }
  return Object.freeze({
    logLevel: values.DSV_LOG_LEVEL as Settings['logLevel'],
    defaultBackend,
    socket: values.DSV_SOCKET as string,
    stateDir: values.DSV_STATE_DIR as string,
    mountDir: values.DSV_MOUNT_DIR as string,
    tmpfsSizeMb: values.DSV_TMPFS_SIZE_MB as number,
    fetchTimeoutMs: (values.DSV_FETCH_TIMEOUT_SECONDS as number) * 1000,
    env: Object.freeze(checkedEnv),
  });
}
