/**
 * dsv's TokenCredential for the Key Vault client: one token request per call, for the source
 * picked at startup. The Key Vault client caches tokens and requests a new one shortly before
 * expiry, so this class keeps only the last token, as a fallback when a refresh fails.
 */
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import type { Logger } from 'pino';
import { DsvError, toDsvError } from '../../errors.ts';
import type { CredentialSource } from './config.ts';
import { sendTokenRequest, type TlsTrust } from './token-http.ts';
import { buildTokenRequest, readTokenResponse } from './token-sources.ts';

const guidPattern = /^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/i;

export class DsvTokenCredential implements TokenCredential {
  readonly #source: CredentialSource;
  readonly #trust: TlsTrust;
  readonly #logger: Logger;
  readonly #lastTokens = new Map<string, AccessToken>();

  constructor(source: CredentialSource, trust: TlsTrust, logger: Logger) {
    this.#source = source;
    this.#trust = trust;
    this.#logger = logger;
  }

  /**
   * Requests a token for one scope. If the request fails while the last token for that scope is
   * still valid, returns that token. The reason is that the Key Vault client refreshes tokens in
   * the background, and nothing catches a failed background refresh, so it would end the process.
   * A claims challenge means the last token was revoked, so then the error is thrown.
   */
  async getToken(scopes: string | string[], options: GetTokenOptions = {}): Promise<AccessToken> {
    const scope = Array.isArray(scopes) ? scopes.join(' ') : scopes;
    this.#checkTenant(options.tenantId);
    try {
      const token = await this.#requestToken(scope, options);
      this.#lastTokens.set(scope, token);
      return token;
    } catch (error) {
      const last = this.#lastTokens.get(scope);
      if (options.claims === undefined && last !== undefined && last.expiresOnTimestamp > Date.now()) {
        this.#logger.warn(
          { credential: this.#source.kind, code: toDsvError(error).code, expiresAt: new Date(last.expiresOnTimestamp).toISOString() },
          'token refresh failed; using the current token until it expires',
        );
        return last;
      }
      throw error;
    }
  }

  /** Drops the fallback tokens, after Key Vault rejected one of them. */
  forgetTokens(): void {
    this.#lastTokens.clear();
  }

  async #requestToken(scope: string, options: GetTokenOptions): Promise<AccessToken> {
    const claims = requestClaims(options);
    const request = await buildTokenRequest(this.#source, scope, claims);
    const response = await sendTokenRequest(request, this.#trust, toAbortSignal(options.abortSignal));
    this.#logger.debug({ credential: this.#source.kind, status: response.status, claimsChallenge: options.claims !== undefined }, 'token requested');
    return readTokenResponse(this.#source, response);
  }

  /**
   * Rejects a vault in another tenant with a clear message instead of a token Key Vault would
   * refuse. Only a GUID tenant can be compared, because the challenge names tenants by GUID.
   */
  #checkTenant(challengeTenant: string | undefined): void {
    if (this.#source.kind === 'managed-identity' || challengeTenant === undefined) return;
    const configured = this.#source.tenantId;
    if (guidPattern.test(configured) && configured.toLowerCase() !== challengeTenant.toLowerCase()) {
      throw new DsvError(
        'INVALID_CREDENTIALS',
        `the vault belongs to tenant ${challengeTenant}, but AZURE_TENANT_ID is ${configured}`,
      );
    }
  }
}

/**
 * Builds the `claims` request parameter. The Key Vault client requests CAE-capable tokens
 * (`enableCae`), which Entra ID recognises by the `xms_cc` claim with the `CP1` capability. A
 * claims challenge, which Key Vault sends after revoking a token, adds its own claims.
 */
export function requestClaims(options: Pick<GetTokenOptions, 'claims' | 'enableCae'>): string | undefined {
  if (options.claims === undefined && options.enableCae !== true) return undefined;
  let claims: Record<string, Record<string, unknown>> = {};
  if (options.claims !== undefined) {
    try {
      claims = JSON.parse(options.claims) as Record<string, Record<string, unknown>>;
    } catch (error) {
      throw new DsvError('BACKEND_ERROR', 'Key Vault sent a claims challenge that is not JSON', { cause: error });
    }
  }
  if (options.enableCae === true) {
    claims.access_token = { ...claims.access_token, xms_cc: { values: ['CP1'] } };
  }
  return JSON.stringify(claims);
}

/** Converts the SDK's AbortSignalLike into the AbortSignal that node:https needs. */
function toAbortSignal(signal: GetTokenOptions['abortSignal']): AbortSignal {
  if (signal === undefined) return new AbortController().signal;
  if (signal instanceof AbortSignal) return signal;
  const controller = new AbortController();
  if (signal.aborted) controller.abort();
  else signal.addEventListener('abort', () => controller.abort(), { once: true });
  return controller.signal;
}
