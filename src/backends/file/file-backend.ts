import { access, open, realpath } from 'node:fs/promises';
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
    const file = await this.#resolve(request.secret);
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
      if (stats.size > maxFileBytes) {
        throw new DsvError('SECRET_TOO_LARGE', `"${request.secret}" is larger than the ${maxFileBytes / 1024 / 1024} MiB the file backend reads`);
      }
      return await handle.readFile({ signal: context.signal });
    } finally {
      await handle.close();
    }
  }

  /** Maps a secret name to a file inside the root, following symlinks only if they stay inside. */
  async #resolve(secret: string): Promise<string> {
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
    if (resolved !== root && !resolved.startsWith(root + path.sep)) {
      throw new DsvError(
        'INVALID_OPTION',
        `option "secret" is invalid: "${secret}" resolves through a symlink to a path outside the files folder`,
      );
    }
    return resolved;
  }
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
