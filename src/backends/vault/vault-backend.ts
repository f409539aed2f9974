/**
 * The vault backend: reads KV version 1 and 2 secrets from HashiCorp Vault or OpenBao through
 * the documented HTTP API. Each fetch makes one read. A mount detection comes first when the
 * mount is not yet known, and a 403 gets one retry with a re-read or newly logged-in token.
 */
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { DsvError } from '../../errors.ts';
import type { FetchContext, SecretBackend, SecretRequest } from '../backend.ts';
import { type TokenSource, createTokenSource } from './auth.ts';
import { resolveVaultConfig } from './config.ts';
import { statusError } from './errors.ts';
import { VaultHttp, type VaultRequest, type VaultResponse } from './http.ts';
import { mountFromDetection, notFoundError, secretBytes } from './kv.ts';
import {
  type KvLocation,
  type KvMount,
  type VaultReference,
  encodePath,
  locateInMount,
  parseReference,
  readPath,
} from './reference.ts';

export interface VaultBackendOptions {
  /** Clock in ms since the epoch, for token renewal; replaced in tests. */
  readonly now?: () => number;
}

/** Builds the backend from its settings; throws INVALID_SETTING for missing or unreadable ones. */
export async function createVaultBackend(
  env: Readonly<Record<string, string | undefined>>,
  logger: Logger,
  options: VaultBackendOptions = {},
): Promise<VaultBackend> {
  const config = resolveVaultConfig(env);
  const ca =
    config.caCertFile === undefined
      ? undefined
      : await readFile(config.caCertFile).catch((error: unknown) => {
          const code = (error as NodeJS.ErrnoException).code ?? String(error);
          throw new DsvError('INVALID_SETTING', `VAULT_CACERT file ${config.caCertFile} cannot be read (${code})`, {
            cause: error,
          });
        });
  const http = new VaultHttp({ address: config.address, namespace: config.namespace, ca });
  const tokens = createTokenSource(config.auth, { http, logger, now: options.now ?? Date.now });

  if (config.address.protocol === 'http:' && !['127.0.0.1', 'localhost', '[::1]'].includes(config.address.hostname)) {
    logger.warn({ address: http.origin }, 'VAULT_ADDR uses plain http, so Vault tokens cross the network unencrypted');
  }
  logger.info({ address: http.origin, namespace: config.namespace, auth: config.auth.kind }, 'vault backend configured');
  return new VaultBackend(http, tokens, logger);
}

export class VaultBackend implements SecretBackend {
  readonly #http: VaultHttp;
  readonly #tokens: TokenSource;
  /** Detected mounts, keyed by path; a mount's KV version rarely changes, see #read. */
  readonly #mounts = new Map<string, KvMount>();
  readonly #logger: Logger;

  constructor(http: VaultHttp, tokens: TokenSource, logger: Logger) {
    this.#http = http;
    this.#tokens = tokens;
    this.#logger = logger;
  }

  async fetch(request: SecretRequest, context: FetchContext): Promise<Uint8Array> {
    const reference = parseReference(request.secret, request.options);
    const session = new AuthorizedSession(this.#http, this.#tokens, context.signal, () => {
      this.#logger.info({ secret: reference.secret }, 'vault denied the token (403); retrying once with a replaced token');
    });

    const location = await this.#locate(reference, session);
    if (location.mount.kvVersion === 1 && reference.version !== undefined) {
      throw new DsvError(
        'INVALID_OPTION',
        `option "version" is invalid: mount ${location.mount.path}/ runs KV version 1, which keeps only the latest value`,
      );
    }
    return this.#read(reference, location, session);
  }

  async #read(reference: VaultReference, location: KvLocation, session: AuthorizedSession): Promise<Uint8Array> {
    const response = await session.send('GET', readPath(location, reference.version));
    if (response.status === 200) return secretBytes(response.body, location, reference.secret);
    if (response.status === 404) {
      // Forgetting the mount makes the next fetch detect it again, which finds a mount upgraded
      // from KV version 1 to 2 since the last detection.
      if (reference.explicitMount === undefined) this.#mounts.delete(location.mount.path);
      throw notFoundError(response.body, location, reference);
    }
    throw statusError(response, `reading "${reference.secret}"`);
  }

  async #locate(reference: VaultReference, session: AuthorizedSession): Promise<KvLocation> {
    if (reference.explicitMount !== undefined) {
      // parseReference checked that the reference starts with the mount and goes on past it.
      return locateInMount(reference, reference.explicitMount)!;
    }
    for (const mount of this.#mounts.values()) {
      const location = locateInMount(reference, mount);
      if (location !== undefined) return location;
    }

    const response = await session.send('GET', `/v1/sys/internal/ui/mounts/${encodePath(reference.segments.join('/'))}`);
    if (response.status !== 200) throw detectionError(reference, response);
    const location = mountFromDetection(response.body, reference);
    this.#mounts.set(location.mount.path, location.mount);
    return location;
  }
}

const skipDetection =
  'To skip detection, set option kv=1 or kv=2, plus option mount when the mount path has more than one segment';

/**
 * Builds the error for a failed mount detection. Vault returns 403 both for a mount that does not
 * exist and for a token without access. Old servers lack the endpoint and return 404, which the
 * vault CLI's own detection also expects.
 */
function detectionError(reference: VaultReference, response: VaultResponse): DsvError {
  const error = statusError(response, `detecting the KV version of "${reference.secret}"`);
  if (response.status === 403) {
    return new DsvError(
      'ACCESS_DENIED',
      `${error.message}. The mount may not exist, or the token may not read sys/internal/ui/mounts for this path. ${skipDetection}`,
    );
  }
  if (response.status === 404) {
    return new DsvError('BACKEND_ERROR', `${error.message}. The server does not offer mount detection. ${skipDetection}`);
  }
  return error;
}

/**
 * The requests of one fetch. A 403 may mean an expired token as well as a policy denial, so the
 * first 403 gets the token replaced and the request sent once more. Later 403s are final.
 */
class AuthorizedSession {
  readonly #http: VaultHttp;
  readonly #tokens: TokenSource;
  readonly #signal: AbortSignal;
  readonly #onRetry: () => void;
  #retried = false;

  constructor(http: VaultHttp, tokens: TokenSource, signal: AbortSignal, onRetry: () => void) {
    this.#http = http;
    this.#tokens = tokens;
    this.#signal = signal;
    this.#onRetry = onRetry;
  }

  async send(method: VaultRequest['method'], path: string): Promise<VaultResponse> {
    const token = await this.#tokens.current(this.#signal);
    const response = await this.#http.send({ method, path, token, signal: this.#signal });
    if (response.status !== 403 || this.#retried) return response;

    this.#retried = true;
    if (!(await this.#tokens.replace(token, this.#signal))) return response;
    this.#onRetry();
    const replaced = await this.#tokens.current(this.#signal);
    return this.#http.send({ method, path, token: replaced, signal: this.#signal });
  }
}
