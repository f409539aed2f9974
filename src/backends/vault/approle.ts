/**
 * AppRole login (`POST /v1/auth/<mount>/login`) with lazy renewal: no timer runs. Before a fetch,
 * a token past two thirds of its TTL is renewed with `auth/token/renew-self`, or replaced by a new
 * login when it cannot be renewed or renewal no longer extends it (its max TTL is reached).
 * Concurrent callers share one login or renewal.
 */
import { raceAbort } from '../abort.ts';
import type { Logger } from 'pino';
import { DsvError } from '../../errors.ts';
import type { TokenSource, TokenSourceDependencies } from './auth.ts';
import type { AppRoleConfig } from './config.ts';
import { readCredentialFile } from './credential-file.ts';
import { statusError, vaultErrorText } from './errors.ts';
import type { VaultHttp, VaultResponse } from './http.ts';

/** Time a shared login or renewal may take, in ms; each waiting fetch also stops at its own deadline. */
const loginTimeoutMs = 30_000;

/** Fraction of the TTL after which a fetch renews the token first. */
const renewAfterFraction = 2 / 3;

interface Lease {
  readonly token: string;
  readonly renewable: boolean;
  /** When Vault expires the token, in ms since the epoch; Infinity for a token without TTL. */
  readonly expiresAt: number;
  /** When the next fetch should renew first, in ms since the epoch. */
  readonly renewAt: number;
}

export class AppRoleTokenSource implements TokenSource {
  readonly #config: AppRoleConfig;
  readonly #http: VaultHttp;
  readonly #logger: Logger;
  readonly #now: () => number;
  #lease: Lease | undefined;
  #pending: Promise<Lease> | undefined;

  constructor(config: AppRoleConfig, dependencies: TokenSourceDependencies) {
    this.#config = config;
    this.#http = dependencies.http;
    this.#logger = dependencies.logger;
    this.#now = dependencies.now;
  }

  async current(signal: AbortSignal): Promise<string> {
    const lease = this.#lease;
    if (lease !== undefined && this.#now() < lease.renewAt) return lease.token;

    const refreshed = await untilAborted(this.#refresh(), signal);
    return refreshed.token;
  }

  async replace(rejected: string, signal: AbortSignal): Promise<boolean> {
    // Concurrent fetches rejected with the same token share the one login the first of them starts.
    if (this.#lease?.token === rejected) this.#lease = undefined;
    return (await this.current(signal)) !== rejected;
  }

  #refresh(): Promise<Lease> {
    this.#pending ??= this.#renewOrLogin().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #renewOrLogin(): Promise<Lease> {
    const lease = this.#lease;
    if (lease !== undefined && lease.renewable && this.#now() < lease.expiresAt) {
      const renewed = await this.#renew(lease).catch((error: unknown) => {
        this.#logger.warn({ err: error }, 'vault token renewal failed; logging in again');
        return undefined;
      });
      if (renewed !== undefined) return renewed;
    }
    return this.#login();
  }

  async #renew(lease: Lease): Promise<Lease | undefined> {
    const response = await this.#http.send({
      method: 'POST',
      path: '/v1/auth/token/renew-self',
      token: lease.token,
      body: {},
      signal: AbortSignal.timeout(loginTimeoutMs),
    });
    if (response.status !== 200) throw statusError(response, 'renewing the Vault token');

    const renewed = this.#leaseFrom(response, 'renewing the Vault token');
    // At the max TTL Vault still returns 200 with the remaining TTL, so the expiry barely moves.
    if (renewed.expiresAt - lease.expiresAt < 1000) {
      this.#logger.info('vault token reached its max TTL; logging in again');
      return undefined;
    }
    this.#lease = renewed;
    this.#logger.debug({ ttlSeconds: (renewed.expiresAt - this.#now()) / 1000 }, 'vault token renewed');
    return renewed;
  }

  async #login(): Promise<Lease> {
    const mount = this.#config.mount;
    const roleId = await this.#roleId();
    const secretId = await readCredentialFile({
      description: 'AppRole secret ID file',
      path: this.#config.secretIdFile,
      setting: 'DSV_VAULT_SECRET_ID_FILE',
    });

    const response = await this.#http.send({
      method: 'POST',
      path: `/v1/auth/${mount.split('/').map(encodeURIComponent).join('/')}/login`,
      body: { role_id: roleId, secret_id: secretId },
      signal: AbortSignal.timeout(loginTimeoutMs),
    });
    if (response.status === 400 || response.status === 403) {
      const quoted = vaultErrorText(response.body);
      const detail = quoted === '' ? `HTTP ${response.status}` : `HTTP ${response.status}: ${quoted}`;
      throw new DsvError(
        'INVALID_CREDENTIALS',
        `AppRole login at auth/${mount} failed (${detail}); check the role ID and the secret ID file (DSV_VAULT_SECRET_ID_FILE)`,
      );
    }
    if (response.status !== 200) throw statusError(response, `logging in with AppRole at auth/${mount}`);

    const lease = this.#leaseFrom(response, `logging in with AppRole at auth/${mount}`);
    this.#lease = lease;
    this.#logger.info({ authMount: mount, renewable: lease.renewable }, 'vault AppRole login succeeded');
    return lease;
  }

  async #roleId(): Promise<string> {
    const source = this.#config.roleId;
    if ('value' in source) return source.value;
    return readCredentialFile({ description: 'AppRole role ID file', path: source.file, setting: 'DSV_VAULT_ROLE_ID_FILE' });
  }

  /** Reads `auth.client_token`, `auth.lease_duration` (seconds, 0 for none) and `auth.renewable`. */
  #leaseFrom(response: VaultResponse, action: string): Lease {
    const auth = (response.body as { auth?: Record<string, unknown> } | undefined)?.auth;
    const token = auth?.client_token;
    const seconds = auth?.lease_duration;
    if (typeof token !== 'string' || token === '' || typeof seconds !== 'number' || seconds < 0) {
      throw new DsvError('BACKEND_ERROR', `Vault sent no token with a lease duration when ${action}`);
    }
    const now = this.#now();
    if (seconds === 0) return { token, renewable: false, expiresAt: Infinity, renewAt: Infinity };
    return {
      token,
      renewable: auth?.renewable === true,
      expiresAt: now + seconds * 1000,
      renewAt: now + seconds * 1000 * renewAfterFraction,
    };
  }
}

/** Waits for a shared promise, but gives up with TIMEOUT when this caller's own signal aborts. */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return raceAbort(promise, signal, () => abortedError(signal));
}

function abortedError(signal: AbortSignal): DsvError {
  return new DsvError('TIMEOUT', 'the Vault login or token renewal did not finish before the fetch deadline', {
    cause: signal.reason,
  });
}
