/** The Azure fake's mutable state: secrets, issued tokens, trusted credentials and injected failures. */
import { randomBytes, randomUUID, type X509Certificate } from 'node:crypto';
import type { AzureFakeRequest, SecretVersionOptions } from './types.ts';

interface StoredVersion {
  readonly version: string;
  readonly value: string;
  readonly contentType: string | undefined;
  readonly enabled: boolean;
  readonly created: number;
}

/** Everything the fake stores. The handle and the route handlers share one instance. */
export class FakeState {
  url = '';
  readonly tenantId = randomUUID();
  readonly clientId = randomUUID();
  clientSecret = `fake-secret-${randomBytes(12).toString('base64url')}`;
  readonly tokenLifetimeSeconds: number;
  readonly secrets = new Map<string, StoredVersion[]>();
  readonly deleted = new Set<string>();
  readonly denied = new Set<string>();
  readonly tokens = new Map<string, { expiresAt: number; revoked: boolean }>();
  readonly certificates: X509Certificate[] = [];
  federatedToken: string | undefined;
  readonly requests: AzureFakeRequest[] = [];
  identityHeader: string | undefined;
  claimsChallenge = true;
  vaultDelayMs = 0;
  tokenDelayMs = 0;
  throttle = { remaining: 0, retryAfterSeconds: undefined as number | undefined };
  vaultFailures = { remaining: 0, status: 503 };
  tokenFailures = { remaining: 0, status: 503 };

  constructor(tokenLifetimeSeconds: number) {
    this.tokenLifetimeSeconds = tokenLifetimeSeconds;
  }

  setSecret(name: string, value: string, options: SecretVersionOptions = {}): string {
    const version = options.version ?? randomBytes(16).toString('hex');
    const versions = this.secrets.get(name) ?? [];
    versions.push({ version, value, contentType: options.contentType, enabled: options.enabled ?? true, created: Math.floor(Date.now() / 1000) });
    this.secrets.set(name, versions);
    this.deleted.delete(name);
    return version;
  }

  expireTokens(claimsChallenge: boolean): void {
    this.claimsChallenge = claimsChallenge;
    for (const token of this.tokens.values()) token.revoked = true;
  }

  issueToken(): string {
    const token = randomBytes(24).toString('base64url');
    this.tokens.set(token, { expiresAt: Date.now() + this.tokenLifetimeSeconds * 1000, revoked: false });
    return token;
  }
}
