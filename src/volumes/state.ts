/**
 * The plugin's state file: every volume's name, raw options and creation time, and the mounts
 * counted per mount ID. It never contains a secret value. Each write goes to a temporary file that
 * is synced and renamed over the old one, so a crash leaves either the old or the new state.
 *
 * In memory the state is kept in Maps and null-prototype objects, so names such as
 * "constructor" or "__proto__" are plain keys and never reach Object.prototype.
 */
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { DsvError } from '../errors.ts';
import { isVolumeName } from './names.ts';

export interface VolumeRecord {
  /** Options exactly as Create received them, in a null-prototype object. */
  readonly options: Readonly<Record<string, string>>;
  /** RFC 3339, because dockerd drops a whole List response that contains anything else. */
  readonly createdAt: string;
  /** Mount count per mount ID; reset at startup because no mount outlives the plugin process. */
  readonly mounts: Map<string, number>;
}

export type VolumeTable = Map<string, VolumeRecord>;

export const stateFileName = 'volumes.json';

const rfc3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

/** Builds a null-prototype record, so that any key, "__proto__" included, is an own property. */
export function stringRecord(entries: Iterable<[string, string]>): Record<string, string> {
  const record = Object.create(null) as Record<string, string>;
  for (const [key, value] of entries) record[key] = value;
  return record;
}

export class StateStore {
  readonly #directory: string;
  readonly #file: string;
  #writing: Promise<void> = Promise.resolve();
  /** The write waiting for the current one to finish, shared by every save() until it starts. */
  #queued: Promise<void> | undefined;
  #latest: VolumeTable = new Map();

  constructor(directory: string) {
    this.#directory = directory;
    this.#file = path.join(directory, stateFileName);
  }

  get file(): string {
    return this.#file;
  }

  /**
   * Reads the state file; a missing file is an empty state, an unreadable or invalid one stops the
   * plugin with STATE_FAILED. Temporary files left by a crash during a write are removed.
   */
  async load(): Promise<VolumeTable> {
    const text = await this.#readText();
    if (text === undefined) return new Map();

    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      throw this.#invalid('it is not valid JSON');
    }
    return this.#parse(data);
  }

  /**
   * Writes the state atomically. Calls that arrive while a write runs share one follow-up write,
   * which serializes the state passed last, so a burst of operations costs two writes, not one
   * each. Every caller's promise settles after a write that includes its state.
   */
  save(volumes: VolumeTable): Promise<void> {
    this.#latest = volumes;
    if (this.#queued !== undefined) return this.#queued;

    const queued = this.#writing.then(() => {
      this.#queued = undefined;
      return this.#write(`${JSON.stringify(serialize(this.#latest), null, 2)}\n`);
    });
    this.#queued = queued;
    // The queue goes on after a failed write; the callers of that write get the error.
    this.#writing = queued.catch(() => undefined);
    return queued;
  }

  async #readText(): Promise<string | undefined> {
    try {
      await mkdir(this.#directory, { recursive: true, mode: 0o700 });
      await this.#removeTemporaryFiles();
      return await readFile(this.#file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new DsvError('STATE_FAILED', `reading state file ${this.#file} failed: ${errorCode(error)}`, { cause: error });
    }
  }

  async #removeTemporaryFiles(): Promise<void> {
    for (const name of await readdir(this.#directory)) {
      if (name.startsWith(`${stateFileName}.`) && name.endsWith('.tmp')) {
        await unlink(path.join(this.#directory, name)).catch(() => undefined);
      }
    }
  }

  #parse(data: unknown): VolumeTable {
    if (!isObject(data) || data.version !== 1 || !isObject(data.volumes)) {
      throw this.#invalid('expected {"version": 1, "volumes": {...}}');
    }
    const volumes: VolumeTable = new Map();
    for (const [name, entry] of Object.entries(data.volumes)) {
      const record = parseRecord(entry);
      if (!isVolumeName(name) || typeof record === 'string') {
        throw this.#invalid(`volume ${JSON.stringify(name.slice(0, 300))} ${typeof record === 'string' ? record : 'has an invalid name'}`);
      }
      volumes.set(name, record);
    }
    return volumes;
  }

  async #write(text: string): Promise<void> {
    const temporary = `${this.#file}.${process.pid}.tmp`;
    try {
      const handle = await open(temporary, 'w', 0o600);
      try {
        await handle.writeFile(text);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, this.#file);
      await syncDirectory(this.#directory);
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      throw new DsvError('STATE_FAILED', `writing state file ${this.#file} failed: ${errorCode(error)}`, { cause: error });
    }
  }

  #invalid(reason: string): DsvError {
    return new DsvError(
      'STATE_FAILED',
      `state file ${this.#file} is invalid: ${reason}; fix it, or move it aside to start with no volumes and recreate them`,
    );
  }
}

/** Returns the record, or a reason why the entry is invalid. */
function parseRecord(entry: unknown): VolumeRecord | string {
  if (!isObject(entry) || !isObject(entry.options) || !isObject(entry.mounts)) {
    return 'needs "options", "createdAt" and "mounts"';
  }
  const options = Object.entries(entry.options);
  if (!options.every((pair): pair is [string, string] => typeof pair[1] === 'string')) {
    return 'has an option whose value is not a string';
  }
  if (typeof entry.createdAt !== 'string' || !rfc3339.test(entry.createdAt)) {
    return 'has a "createdAt" that is not an RFC 3339 time';
  }
  const mounts = new Map<string, number>();
  for (const [id, count] of Object.entries(entry.mounts)) {
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1) return `has an invalid mount count for ID ${JSON.stringify(id)}`;
    mounts.set(id, count);
  }
  return { options: stringRecord(options), createdAt: entry.createdAt, mounts };
}

function serialize(volumes: VolumeTable): unknown {
  // Object.fromEntries defines own properties, so even a key named "__proto__" is written out.
  const entries = [...volumes].map(([name, record]) => [
    name,
    { options: Object.fromEntries(Object.entries(record.options)), createdAt: record.createdAt, mounts: Object.fromEntries(record.mounts) },
  ]);
  return { version: 1, volumes: Object.fromEntries(entries) };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? String(error);
}

/** Makes the rename itself durable; without it a power loss can bring the old file back. */
async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
