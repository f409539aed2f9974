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
import { isVolumeName } from './names.ts';
import { describeOptions, parseVolumeOptions, type VolumeOptions } from './options.ts';
import { canSeal, removeStaleVolumeFiles, removeVolumeFiles, secretFilePath, writeSecretFile } from './secret-file.ts';
import { stringRecord, type StateStore, type VolumeRecord, type VolumeTable } from './state.ts';
import { isTmpfs } from './tmpfs.ts';

export { isVolumeName };

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
  #volumes: VolumeTable = new Map();

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
    this.#volumes = await this.#store.load();
    for (const [name, record] of this.#volumes) {
      record.mounts.clear();
      try {
        this.#parse(name, record.options);
      } catch (error) {
        this.#logger.warn({ volume: name, err: describeError(error) }, 'volume options no longer valid');
      }
    }
    if (!canSeal()) {
      this.#logger.warn('dsv runs without root, so secret files are not sealed read-only and containers that mount them without :ro can change them');
    }
    const removed = await removeStaleVolumeFiles(this.#mountDir, this.#volumes.keys());
    await this.#store.save(this.#volumes);
    this.#logger.info({ volumes: this.#volumes.size, staleFilesRemoved: removed.length }, 'state loaded');
  }

  /** Removes every mounted file at shutdown; running containers keep the files they mounted. */
  async stop(): Promise<void> {
    for (const [name, record] of this.#volumes) {
      if (totalMounts(record) > 0) await removeVolumeFiles(this.#mountDir, name);
    }
  }

  /** Validates the options and checks the secret can be read; keeps no value. */
  async create(name: string, rawOptions: Readonly<Record<string, string>>): Promise<void> {
    checkName(name);
    const deadline = this.#deadline();
    return this.#lock.run(name, async () => {
      const options = this.#parse(name, rawOptions);
      const existing = this.#volumes.get(name);
      if (existing !== undefined) {
        if (this.#sameOptions(name, existing.options, options)) return;
        throw new DsvError('VOLUME_EXISTS', 'a volume with this name exists with other options', {
          context: contextOf(name, options),
        });
      }

      const started = performance.now();
      const value = await this.#read(name, options, deadline);
      value.fill(0);
      // The backend is fixed now, so a later change of DSV_DEFAULT_BACKEND moves no volume.
      const stored = stringRecord([['backend', options.backend], ...Object.entries(rawOptions)]);
      const record = { options: stored, createdAt: new Date().toISOString(), mounts: new Map() };
      this.#volumes.set(name, record);
      try {
        await this.#store.save(this.#volumes);
      } catch (error) {
        this.#volumes.delete(name);
        throw toDsvError(error).withContext(contextOf(name, options));
      }
      this.#logger.info({ ...logFields(name, options), durationMs: elapsed(started) }, 'volume created');
    });
  }

  /** Forgets the volume and removes its file if one is left; never calls the backend. */
  remove(name: string): Promise<void> {
    return this.#lock.run(name, async () => {
      const record = this.#record(name);
      this.#volumes.delete(name);
      try {
        await this.#store.save(this.#volumes);
      } catch (error) {
        this.#volumes.set(name, record);
        throw toDsvError(error).withContext({ volume: name });
      }

      const mountIds = [...record.mounts.keys()];
      if (mountIds.length > 0) {
        // Docker removes only volumes it considers unused, so these are Unmounts that never came.
        this.#logger.warn({ ...this.#referenceFields(name, record), mountIds }, 'removing a volume with mounts still counted');
      }
      await this.#removeFiles(name);
      this.#logger.info(this.#referenceFields(name, record), 'volume removed');
    });
  }

  /**
   * Counts a mount for `id` and returns the file's path. The first mount fetches the value and
   * writes the file; later mounts, of this or another ID, share the file already written.
   */
  mount(name: string, id: string): Promise<string> {
    const deadline = this.#deadline();
    return this.#lock.run(name, async () => {
      const record = this.#record(name);
      const options = this.#parse(name, record.options);
      const started = performance.now();

      if (totalMounts(record) === 0) {
        await this.#checkTmpfs(name, options);
        const value = await this.#read(name, options, deadline);
        try {
          await writeSecretFile(this.#mountDir, name, value, options);
        } catch (error) {
          await this.#removeFiles(name).catch(() => undefined);
          const failure =
            error instanceof DsvError
              ? error
              : new DsvError('MOUNT_FAILED', `writing the secret file failed: ${describeError(error)}`, { cause: error });
          throw failure.withContext(contextOf(name, options));
        } finally {
          value.fill(0);
        }
      }

      record.mounts.set(id, (record.mounts.get(id) ?? 0) + 1);
      await this.#saveMounts(name);
      this.#logger.info({ ...logFields(name, options), mountId: id, mounts: totalMounts(record), durationMs: elapsed(started) }, 'volume mounted');
      return secretFilePath(this.#mountDir, name);
    });
  }

  /** Takes one mount of `id` away; the file goes when no mount is left. Unknown IDs are harmless. */
  unmount(name: string, id: string): Promise<void> {
    return this.#lock.run(name, async () => {
      const record = this.#record(name);
      const count = record.mounts.get(id);
      if (count === undefined) {
        this.#logger.info({ ...this.#referenceFields(name, record), mountId: id }, 'unmount of an unknown mount ID ignored');
        return;
      }
      if (count > 1) record.mounts.set(id, count - 1);
      else record.mounts.delete(id);

      if (totalMounts(record) === 0) await this.#removeFiles(name);
      await this.#saveMounts(name);
      this.#logger.info({ ...this.#referenceFields(name, record), mountId: id, mounts: totalMounts(record) }, 'volume unmounted');
    });
  }

  /** Returns one volume from local state; throws VOLUME_NOT_FOUND at once for unknown names. */
  get(name: string): VolumeInfo {
    return this.#info(name, this.#record(name));
  }

  list(): VolumeInfo[] {
    return [...this.#volumes].map(([name, record]) => this.#info(name, record));
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

  #record(name: string): VolumeRecord {
    const record = this.#volumes.get(name);
    if (record === undefined) {
      throw new DsvError('VOLUME_NOT_FOUND', `no dsv volume named ${JSON.stringify(name.slice(0, 300))}`);
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
      // Raw values, because parsing failed; they are references and never secret values.
      const backend = rawOptions.backend ?? this.#defaultBackend;
      throw toDsvError(error).withContext({ volume: name, backend, secret: rawOptions.secret ?? name });
    }
  }

  /** Compares parsed options, so `mode=0400` spelled out equals the default. */
  #sameOptions(name: string, existing: Readonly<Record<string, string>>, requested: VolumeOptions): boolean {
    try {
      return JSON.stringify(describeOptions(this.#parse(name, existing))) === JSON.stringify(describeOptions(requested));
    } catch {
      return false;
    }
  }

  /**
   * One deadline per request, taken before the volume lock: a request that waited behind others
   * gets only what is left of its budget, so Docker's client timeout is never outlasted.
   */
  #deadline(): number {
    return performance.now() + this.#retryPolicy.budgetMs;
  }

  /** Fetches the value under the retry policy and applies `key`; errors carry the volume context. */
  async #read(name: string, options: VolumeOptions, deadline: number): Promise<Uint8Array> {
    const context = contextOf(name, options);
    try {
      const budgetMs = Math.floor(deadline - performance.now());
      if (budgetMs < 1) {
        throw new DsvError('TIMEOUT', 'the fetch budget ran out while earlier requests for this volume were served');
      }
      const backend = await this.#registry.backend(options.backend);
      const request = { secret: options.secret, options: options.backendOptions };
      const value = await fetchWithRetry(backend, request, { ...this.#retryPolicy, budgetMs }, {
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

  /**
   * Checks the tmpfs is still there before a value is written: if someone unmounted it, the file
   * would land on the disk below.
   */
  async #checkTmpfs(name: string, options: VolumeOptions): Promise<void> {
    if (await isTmpfs(this.#mountDir).catch(() => false)) return;
    this.#logger.error({ mountDir: this.#mountDir }, 'secret folder is no longer on tmpfs');
    throw new DsvError('MOUNT_FAILED', `${this.#mountDir} is no longer on tmpfs, so no secret is written there; restart the plugin`, {
      context: contextOf(name, options),
    });
  }

  async #removeFiles(name: string): Promise<void> {
    const complete = await removeVolumeFiles(this.#mountDir, name);
    if (!complete) this.#logger.warn({ volume: name }, 'volume folder kept because it contains files dsv did not write');
  }

  /**
   * Saves changed mount counts. A failed save only logs, because counts start afresh at every
   * start anyway, and failing the Mount would leave Docker without the Unmount that follows.
   */
  async #saveMounts(name: string): Promise<void> {
    await this.#store.save(this.#volumes).catch((error: unknown) =>
      this.#logger.error({ volume: name, err: describeError(error) }, 'saving mount counts failed'),
    );
  }

  /** Builds log fields naming the volume's backend and secret from raw options, which cannot fail to parse. */
  #referenceFields(name: string, record: VolumeRecord): Record<string, string> {
    return {
      volume: name,
      backend: record.options.backend ?? this.#defaultBackend,
      secret: record.options.secret ?? name,
    };
  }
}

function checkName(name: string): void {
  if (!isVolumeName(name)) {
    throw new DsvError(
      'INVALID_REQUEST',
      `volume name ${JSON.stringify(name.slice(0, 300))} is invalid: use 1 to 255 letters, digits, "_", "." or "-", starting with a letter or digit`,
    );
  }
}

function totalMounts(record: VolumeRecord): number {
  let total = 0;
  for (const count of record.mounts.values()) total += count;
  return total;
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
