/** Types of the Azure fake's handle, and the reply shape its route handlers return. */
import type { RunningFake } from '../fake.ts';

export interface AzureFakeOptions {
  port?: number;
  /** Lifetime of issued tokens; the fake rejects a token after it. Defaults to 3600. */
  tokenLifetimeSeconds?: number;
}

export interface SecretVersionOptions {
  version?: string;
  contentType?: string;
  enabled?: boolean;
}

/** One request the fake received; bodies and tokens are never recorded. */
export interface AzureFakeRequest {
  readonly kind: 'vault' | 'token' | 'managed-identity' | 'other';
  readonly method: string;
  readonly path: string;
  readonly status: number;
  /** Whether the request carried an Authorization header. */
  readonly authorized: boolean;
  /** Whether a token request carried claims from a claims challenge, besides client capabilities. */
  readonly claimsChallenge: boolean;
}

export interface AzureFake extends RunningFake {
  readonly tenantId: string;
  readonly clientId: string;
  /** The current client secret; `rotateClientSecret` replaces it. */
  readonly clientSecret: string;
  readonly caPem: string;
  readonly requests: readonly AzureFakeRequest[];
  /** Delay before each vault response, in ms. */
  vaultDelayMs: number;
  /** Delay before each token response, in ms. */
  tokenDelayMs: number;
  /** Stores a new version and returns its id (32 hex characters); it becomes the latest. */
  setSecret(name: string, value: string, options?: SecretVersionOptions): string;
  /** Soft-deletes a secret: Key Vault then returns 404, as for a secret that never existed. */
  deleteSecret(name: string): void;
  /** Makes reads of this secret fail with 403, as when the identity lacks permission. */
  deny(name: string): void;
  throttleNext(count: number, options?: { retryAfterSeconds?: number }): void;
  /** Fails the next `count` authorized vault reads with `status` (default 503). */
  failNext(count: number, status?: number): void;
  /** Fails the next `count` token requests with `status` (default 503). */
  failTokenRequests(count: number, status?: number): void;
  /**
   * Invalidates every issued token. By default the vault then responds with a CAE claims
   * challenge, as Key Vault does for revoked CAE tokens, and otherwise with a plain 401 challenge.
   */
  expireTokens(options?: { claimsChallenge?: boolean }): void;
  /** Replaces the client secret and returns the new one; the old one stops working. */
  rotateClientSecret(): string;
  /** Accepts certificate-signed client assertions from this certificate (PEM). */
  trustClientCertificate(pem: string): void;
  /** Accepts this exact federated token as a client assertion, instead of any earlier one. */
  trustFederatedToken(token: string): void;
  /** Turns on `GET /msi/token` and returns the IDENTITY_ENDPOINT and IDENTITY_HEADER values. */
  enableManagedIdentity(): { endpoint: string; header: string };
  /** Counts received requests of one kind. */
  count(kind: AzureFakeRequest['kind']): number;
}

/** An HTTP reply that a route handler returns and the server writes as JSON. */
export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}
