/**
 * The plugin's state file: every volume's name, raw options and creation time, and the mounts
 * counted per mount ID. It never holds a secret value. Each write goes to a temporary file that
 * is synced and renamed over the old one, so a crash leaves either the old or the new state.
 */
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { DsvError } from '../errors.ts';

const volumeRecordSchema = z.object({
  /** Options exactly as Create received them; parsed again at load so a bad file is caught. */
  options: z.record(z.string(), z.string()),
  createdAt: z.string(),
  /** Mount count per mount ID; reset at startup because no mount outlives the plugin process. */
  mounts: z.record(z.string(), z.number().int().positive()),
});

const stateFileSchema = z.object({
  version: z.literal(1),
  volumes: z.record(z.string(), volumeRecordSchema),
});

export type VolumeRecord = z.infer<typeof volumeRecordSchema>;
export type StateFile = z.infer<typeof stateFileSchema>;

export const stateFileName = 'volumes.json';

export class StateStore {
  readonly #file: string;
  #writing: Promise<void> = Promise.resolve();

  constructor(directory: string) {
    this.#file = path.join(directory, stateFileName);
  }

  get file(): string {
    return this.#file;
  }

  /** Reads the state file; a missing file is an empty state, a corrupt one stops the plugin. */
  async load(): Promise<StateFile> {
    await mkdir(path.dirname(this.#file), { recursive: true, mode: 0o700 });
    let text: string;
    try {
      text = await readFile(this.#file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, volumes: {} };
      throw error;
    }

    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      throw corrupt(this.#file, 'it is not valid JSON');
    }
    const parsed = stateFileSchema.safeParse(data);
    if (!parsed.success) {
      throw corrupt(this.#file, parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
    }
    return parsed.data;
  }

  /** Writes the state atomically. Writes are queued, so the last call's state is the one kept. */
  save(state: StateFile): Promise<void> {
    const text = `${JSON.stringify(state, null, 2)}\n`;
    const write = this.#writing.then(() => this.#write(text));
    // The queue goes on after a failed write; the caller of that write gets the error.
    this.#writing = write.catch(() => undefined);
    return write;
  }

  async #write(text: string): Promise<void> {
    const temporary = `${this.#file}.${process.pid}.tmp`;
    const handle = await open(temporary, 'w', 0o600);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(temporary, this.#file);
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      throw error;
    }
    await syncDirectory(path.dirname(this.#file));
  }
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

function corrupt(file: string, reason: string): DsvError {
  return new DsvError(
    'INTERNAL',
    `state file ${file} is unreadable: ${reason}; move it aside to start with no volumes, then recreate them`,
  );
}
