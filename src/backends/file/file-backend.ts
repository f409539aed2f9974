import { access, open, realpath, type FileHandle } from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import { DsvError } from '../../errors.ts';
import type { FetchContext, SecretBackend, SecretRequest } from '../backend.ts';

/** Largest file the backend reads; cloud managers cap secrets far lower (64 KiB on AWS and GCP). */
const maxFileBytes = 4 * 1024 * 1024;

export class FileBackend implements SecretBackend {
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
  }

  async fetch(request: SecretRequest, context: FetchContext): Promise<Uint8Array> {
    const { root, file } = await this.#resolve(request.secret);
    // O_NOFOLLOW closes the gap between the realpath check and the open for the last component.
    // O_NONBLOCK keeps a FIFO from blocking the open; the isFile() check below then rejects it.
    const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch((error: unknown) => {
      throw mapFsError(error, request.secret);
    });
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) {
        throw new DsvError('SECRET_NOT_FOUND', `"${request.secret}" is not a regular file in the files folder`);
      }
      // A folder renamed between the realpath check and the open could lead out of the root, so
      // the file actually opened is checked again through its descriptor.
      const opened = await realpath(`/proc/self/fd/${handle.fd}`);
      if (!isInside(root, opened)) throw outsideError(request.secret);
      return await readCapped(handle, request.secret, context.signal);
    } finally {
      await handle.close();
    }
  }

  /** Maps a secret name to a file inside the root, following symlinks only if they stay inside. */
  async #resolve(secret: string): Promise<{ root: string; file: string }> {
    if (path.isAbsolute(secret) || secret.split('/').includes('..') || secret.includes('\0')) {
      throw new DsvError(
        'INVALID_OPTION',
        `option "secret" is invalid: "${secret}" must be a path relative to the files folder, without ".."`,
      );
    }
    const root = await realpath(this.#root).catch((error: unknown) => {
      throw new DsvError('BACKEND_UNAVAILABLE', `files folder ${this.#root} is not readable: ${describe(error)}`, {
        cause: error,
      });
    });
    // realpath needs no permission on the folder itself, so check it here to report the folder.
    await access(root, constants.R_OK | constants.X_OK).catch((error: unknown) => {
      throw new DsvError('BACKEND_UNAVAILABLE', `files folder ${this.#root} is not readable: ${describe(error)}`, {
        cause: error,
      });
    });
    const candidate = path.join(root, secret);
    const resolved = await realpath(candidate).catch((error: unknown) => {
      throw mapFsError(error, secret);
    });
    if (!isInside(root, resolved)) throw outsideError(secret);
    return { root, file: resolved };
  }
}

function isInside(root: string, file: string): boolean {
  return file === root || file.startsWith(root + path.sep);
}

function outsideError(secret: string): DsvError {
  return new DsvError(
    'INVALID_OPTION',
    `option "secret" is invalid: "${secret}" resolves through a symlink to a path outside the files folder`,
  );
}

/** Reads at most the size limit, so a file that grows after the size check cannot exhaust memory. */
async function readCapped(handle: FileHandle, secret: string, signal: AbortSignal): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let length = 0;
  for (;;) {
    signal.throwIfAborted();
    const chunk = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
    if (bytesRead === 0) break;
    chunks.push(chunk.subarray(0, bytesRead));
    length += bytesRead;
    if (length > maxFileBytes) {
      for (const part of chunks) part.fill(0);
      throw new DsvError('SECRET_TOO_LARGE', `"${secret}" is larger than the ${maxFileBytes / 1024 / 1024} MiB the file backend reads`);
    }
  }
  const value = Buffer.concat(chunks, length);
  for (const part of chunks) part.fill(0);
  return value;
}

function mapFsError(error: unknown, secret: string): DsvError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new DsvError('SECRET_NOT_FOUND', `no file "${secret}" in the files folder`, { cause: error });
  }
  if (code === 'ELOOP') {
    return new DsvError('INVALID_OPTION', `option "secret" is invalid: "${secret}" is a symlink loop`, { cause: error });
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new DsvError('ACCESS_DENIED', `cannot read "${secret}": ${code}`, { cause: error });
  }
  return new DsvError('BACKEND_UNAVAILABLE', `cannot read "${secret}": ${describe(error)}`, { cause: error });
}

function describe(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? String(error);
}
