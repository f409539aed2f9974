/**
 * An in-memory backend for tests of the volume layer and the protocol: secrets live in a map,
 * failures and delays are queued by the test, and every fetch is counted.
 */
import { z } from 'zod';
import { DsvError, type ErrorCode } from '../../src/errors.ts';
import type { BackendDefinition, FetchContext, SecretBackend, SecretRequest } from '../../src/backends/backend.ts';

export class MemoryBackend implements SecretBackend {
  readonly secrets = new Map<string, Uint8Array>();
  readonly fetches: SecretRequest[] = [];
  readonly #failures: Array<{ code: ErrorCode; retryAfterMs?: number }> = [];
  /** Delay before each response in ms; a fetch waits for its signal when it is Infinity. */
  delayMs = 0;

  set(secret: string, value: string | Uint8Array): void {
    this.secrets.set(secret, typeof value === 'string' ? new TextEncoder().encode(value) : value);
  }

  failNext(code: ErrorCode, times = 1, retryAfterMs?: number): void {
    for (let i = 0; i < times; i++) {
      this.#failures.push(retryAfterMs === undefined ? { code } : { code, retryAfterMs });
    }
  }

  async fetch(request: SecretRequest, context: FetchContext): Promise<Uint8Array> {
    this.fetches.push(request);
    if (this.delayMs > 0) await waitOrAbort(this.delayMs, context.signal);

    const failure = this.#failures.shift();
    if (failure !== undefined) {
      throw new DsvError(failure.code, `memory backend failure ${failure.code}`, { retryAfterMs: failure.retryAfterMs });
    }
    const value = this.secrets.get(request.secret);
    if (value === undefined) throw new DsvError('SECRET_NOT_FOUND', `no secret "${request.secret}" in memory`);
    // A copy, because the volume layer zeroes the buffers it is given.
    return Uint8Array.from(value);
  }
}

function waitOrAbort(delayMs: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = Number.isFinite(delayMs)
      ? setTimeout(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        }, delayMs)
      : undefined;
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Builds a definition named `memory` that serves `backend`, with one extra option `version`. */
export function memoryBackendDefinition(backend: MemoryBackend): BackendDefinition {
  return {
    name: 'memory',
    description: 'In-memory secrets for tests.',
    options: {
      version: { description: 'A version number.', schema: z.string().regex(/^\d+$/, 'must be a number') },
    },
    settings: {},
    create: async () => backend,
  };
}
