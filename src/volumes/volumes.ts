/**
 * The volume lifecycle behind the Docker protocol: Create checks the secret, Mount fetches it onto
 * the tmpfs, Unmount and Remove clean up. Get, List and Path read local state only, never a backend.
 */
import type { Logger } from 'pino';
import { DsvError, toDsvError, type ErrorContext } from '../errors.ts';
import type { BackendRegistry } from '../backends/registry.ts';
import { fetchWithRetry, type RetryPolicy } from '../backends/retry.ts';
import { extractKey } from './json-key.ts';
import { KeyedLock } from './keyed-lock.ts';
import { describeOptions, parseVolumeOptions, type VolumeOptions } from './options.ts';
import { removeStaleVolumeFiles, removeVolumeFiles, secretFilePath, writeSecretFile } from './secret-file.ts';
import type { StateFile, StateStore, VolumeRecord } from './state.ts';

/** Docker's rule for volume names (one character allowed); it keeps names safe as path components. */
const volumeNamePattern = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}$/;

export function isVolumeName(name: string): boolean {
  return volumeNamePattern.test(name);
}

export interface VolumeInfo {
  readonly name: string;
  /** Path of the mounted file, or undefined while no container mounts the volume. */
  readonly mountpoint: string | undefined;
  readonly createdAt: string;
  readonly status: Record<string, string | number>;
}

export interface VolumeServiceOptions {
  readonly registry: BackendRegistry;
  readonly state: StateStore;
  readonly logger: Logger;
  readonly mountDir: string;
  readonly defaultBackend: string;
  readonly retryPolicy: RetryPolicy;
}

export class VolumeService {
  readonly #registry: BackendRegistry;
  readonly #store: StateStore;
  readonly #logger: Logger;
  readonly #mountDir: string;
  readonly #defaultBackend: string;
  readonly #retryPolicy: RetryPolicy;
  readonly #lock = new KeyedLock();
  #state: StateFile = { version: 1, volumes: {} };

  constructor(options: VolumeServiceOptions) {
    this.#registry = options.registry;
    this.#store = options.state;
    this.#logger = options.logger;
    this.#mountDir = options.mountDir;
    this.#defaultBackend = options.defaultBackend;
    this.#retryPolicy = options.retryPolicy;
  }

  /**
   * Loads the state, forgets every mount of the previous run and removes the files it left.
   * Volumes whose options no longer parse (a backend removed, say) are kept and logged, so that
   * Docker can still list and remove them.
   */
  async start(): Promise<void> {
    this.#state = await this.#store.load();
    for (const [name, record] of Object.entries(this.#state.volumes)) {
      record.mounts = {};
      try {
        this.#parse(name, record.options);
      } catch (error) {
        this.#logger.warn({ volume: name, err: describeError(error) }, 'volume options no longer valid');
      }
    }
    const removed = await removeStaleVolumeFiles(this.#mountDir, isVolumeName);
    await this.#store.save(this.#state);
    this.#logger.info(
      { volumes: Object.keys(this.#state.volumes).length, staleFilesRemoved: removed.length },
      'state loaded',
    );
  }

  /** Removes every mounted file at shutdown; running containers keep the files they mounted. */
  async stop(): Promise<void> {
    for (const [name, record] of Object.entries(this.#state.volumes)) {
      if (totalMounts(record) > 0) await removeVolumeFiles(this.#mountDir, name);
    }
  }

  /** Validates the options and checks the secret can be read; keeps no value. */
  async create(name: string, rawOptions: Readonly<Record<string, string>>): Promise<void> {
    checkName(name);
    return this.#lock.run(name, async () => {
      const options = this.#parse(name, rawOptions);
      const existing = this.#state.volumes[name];
      if (existing !== undefined) {
        if (sameOptions(existing.options, rawOptions)) return;
        throw new DsvError('VOLUME_EXISTS', 'a volume with this name exists with other options', {
          context: contextOf(name, options),
        });
      }

      const started = performance.now();
      const value = await this.#read(name, options);
      value.fill(0);
      this.#state.volumes[name] = { options: { ...rawOptions }, createdAt: new Date().toISOString(), mounts: {} };
      await this.#store.save(this.#state);
      this.#logger.info({ ...logFields(name, options), durationMs: elapsed(started) }, 'volume created');
    });
  }

  /** Forgets the volume and removes its file if one is left; never calls the backend. */
  remove(name: string): Promise<void> {
    return this.#lock.run(name, async () => {
      const record = this.#record(name);
      const mountIds = Object.keys(record.mounts);
      if (mountIds.length > 0) {
        // Docker removes only volumes it considers unused, so these are Unmounts that never came.
        this.#logger.warn({ ...this.#referenceFields(name, record), mountIds }, 'removing a volume with mounts still counted');
      }
      await removeVolumeFiles(this.#mountDir, name);
      delete this.#state.volumes[name];
      await this.#store.save(this.#state);
      this.#logger.info(this.#referenceFields(name, record), 'volume removed');
    });
  }

  /**
   * Counts a mount for `id` and returns the file's path. The first mount fetches the value and
   * writes the file; later mounts, of this or another ID, share the file already written.
   */
  mount(name: string, id: string): Promise<string> {
    return this.#lock.run(name, async () => {
      const record = this.#record(name);
      const options = this.#parse(name, record.options);
      const started = performance.now();

      if (totalMounts(record) === 0) {
        const value = await this.#read(name, options);
        try {
          await writeSecretFile(this.#mountDir, name, value, options);
        } catch (error) {
          await removeVolumeFiles(this.#mountDir, name).catch(() => undefined);
          throw new DsvError('MOUNT_FAILED', `writing the secret file failed: ${describeError(error)}`, {
            cause: error,
            context: contextOf(name, options),
          });
        } finally {
          value.fill(0);
        }
      }

      record.mounts[id] = (record.mounts[id] ?? 0) + 1;
      await this.#store.save(this.#state);
      this.#logger.info({ ...logFields(name, options), mountId: id, mounts: totalMounts(record), durationMs: elapsed(started) }, 'volume mounted');
      return secretFilePath(this.#mountDir, name);
    });
  }

  /** Takes one mount of `id` away; the file goes when no mount is left. Unknown IDs are harmless. */
  unmount(name: string, id: string): Promise<void> {
    return this.#lock.run(name, async () => {
      const record = this.#record(name);
      const count = record.mounts[id];
      if (count === undefined) {
        this.#logger.info({ ...this.#referenceFields(name, record), mountId: id }, 'unmount of an unknown mount ID ignored');
        return;
      }
      if (count > 1) record.mounts[id] = count - 1;
      else delete record.mounts[id];

      if (totalMounts(record) === 0) await removeVolumeFiles(this.#mountDir, name);
      await this.#store.save(this.#state);
      this.#logger.info({ ...this.#referenceFields(name, record), mountId: id, mounts: totalMounts(record) }, 'volume unmounted');
    });
  }

  /** Returns one volume from local state; throws VOLUME_NOT_FOUND at once for unknown names. */
  get(name: string): VolumeInfo {
    return this.#info(name, this.#record(name));
  }

  list(): VolumeInfo[] {
    return Object.entries(this.#state.volumes).map(([name, record]) => this.#info(name, record));
  }

  #info(name: string, record: VolumeRecord): VolumeInfo {
    const mounts = totalMounts(record);
    let status: Record<string, string | number>;
    try {
      status = describeOptions(this.#parse(name, record.options));
    } catch {
      status = { ...record.options };
    }
    return {
      name,
      mountpoint: mounts > 0 ? secretFilePath(this.#mountDir, name) : undefined,
      createdAt: record.createdAt,
      status: { ...status, mounts },
    };
  }

  /** Log fields naming the volume's backend and secret, read from raw options so they never throw. */
  #referenceFields(name: string, record: VolumeRecord): Record<string, string> {
    return {
      volume: name,
      backend: record.options.backend ?? this.#defaultBackend,
      secret: record.options.secret ?? name,
    };
  }

  #record(name: string): VolumeRecord {
    const record = isVolumeName(name) ? this.#state.volumes[name] : undefined;
    if (record === undefined) {
      throw new DsvError('VOLUME_NOT_FOUND', `no dsv volume named "${name}"`);
    }
    return record;
  }

  #parse(name: string, rawOptions: Readonly<Record<string, string>>): VolumeOptions {
    try {
      return parseVolumeOptions(rawOptions, {
        volume: name,
        defaultBackend: this.#defaultBackend,
        definition: (backend) => this.#registry.definition(backend),
      });
    } catch (error) {
      throw toDsvError(error).withContext({ volume: name });
    }
  }

  /** Fetches the value under the retry policy and applies `key`; errors carry the volume context. */
  async #read(name: string, options: VolumeOptions): Promise<Uint8Array> {
    const context = contextOf(name, options);
    try {
      const backend = await this.#registry.backend(options.backend);
      const request = { secret: options.secret, options: options.backendOptions };
      const value = await fetchWithRetry(backend, request, this.#retryPolicy, {
        onRetry: (error, attempt, delayMs) =>
          this.#logger.warn({ ...logFields(name, options), code: error.code, attempt, delayMs }, 'fetch failed, retrying'),
      });
      if (options.key === undefined) return value;
      try {
        return extractKey(value, options.key);
      } finally {
        value.fill(0);
      }
    } catch (error) {
      // The protocol server logs the failure once, with this context in its message.
      throw toDsvError(error).withContext(context);
    }
  }
}

function checkName(name: string): void {
  if (!isVolumeName(name)) {
    throw new DsvError(
      'INVALID_REQUEST',
      `volume name "${name.slice(0, 300)}" is invalid: use 1 to 255 letters, digits, "_", "." or "-", starting with a letter or digit`,
    );
  }
}

function sameOptions(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keysA = Object.keys(a);
  return keysA.length === Object.keys(b).length && keysA.every((key) => a[key] === b[key]);
}

function totalMounts(record: VolumeRecord): number {
  return Object.values(record.mounts).reduce((sum, count) => sum + count, 0);
}

function contextOf(name: string, options: VolumeOptions): ErrorContext {
  return { volume: name, backend: options.backend, secret: options.secret };
}

function logFields(name: string, options: VolumeOptions): Record<string, string> {
  const fields: Record<string, string> = { volume: name, backend: options.backend, secret: options.secret };
  if (options.key !== undefined) fields.key = options.key;
  return fields;
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}

/** Describes an error for a log line: the catalog form for DsvErrors, name and message otherwise. */
export function describeError(error: unknown): string {
  if (error instanceof DsvError) return error.describe();
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
