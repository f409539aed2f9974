/**
 * Keeps one SDK client per version of the shared credentials and config files. An AWS client
 * resolves credentials once and keeps credentials without an expiry (access keys from a file) for
 * its whole life, so picking up rotated keys means building a new client when a file changes.
 */
import { stat } from 'node:fs/promises';

/**
 * Returns a string that changes whenever one of the files is replaced, rewritten or touched:
 * inode, size and modification time per file, or the error code when a file cannot be read.
 */
export async function filesStamp(files: readonly string[]): Promise<string> {
  const parts = await Promise.all(
    files.map(async (file) => {
      try {
        const stats = await stat(file, { bigint: true });
        return `${stats.ino}:${stats.size}:${stats.mtimeNs}`;
      } catch (error) {
        return (error as NodeJS.ErrnoException).code ?? 'error';
      }
    }),
  );
  return parts.join('|');
}

/** A client rebuilt by `create` whenever the stamp of `files` changes. */
export class ReloadingClient<Client> {
  readonly #files: readonly string[];
  readonly #create: () => Client;
  readonly #onRebuild: (() => void) | undefined;
  #current: { stamp: string; client: Client } | undefined;

  /**
   * `files` may be empty (credentials from settings), and then the first client is kept.
   * `onRebuild` is called each time a change replaces an existing client, for logging.
   */
  constructor(files: readonly string[], create: () => Client, onRebuild?: () => void) {
    this.#files = files;
    this.#create = create;
    this.#onRebuild = onRebuild;
  }

  /** Returns the client for the files as they are now, at the cost of one `stat` per file. */
  async get(): Promise<Client> {
    const stamp = await filesStamp(this.#files);
    if (this.#current === undefined || this.#current.stamp !== stamp) {
      if (this.#current !== undefined) this.#onRebuild?.();
      // The old client is dropped, not destroyed: fetches still running on it finish normally,
      // and the HTTP agents it uses are shared with the new client.
      this.#current = { stamp, client: this.#create() };
    }
    return this.#current.client;
  }
}
