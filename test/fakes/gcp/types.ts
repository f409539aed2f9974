/** Types of the GCP fake's handle, its stored secrets and its error responses. */
import type { RunningFake } from '../fake.ts';

export interface GcpFakeRequest {
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  readonly status: number;
  /** `kid` of the bearer token's JWT header, when a token came. */
  readonly keyId: string | undefined;
  /** `iat` of the bearer token, in seconds since the epoch. */
  readonly issuedAt: number | undefined;
}

export interface GcpFake extends RunningFake {
  /** The project of the dummy key and the demo secret. */
  readonly project: string;
  /** Every request in arrival order. */
  readonly requests: readonly GcpFakeRequest[];
  /** Adds a version and returns its number; `aliases` point at it from now on. */
  addVersion(project: string, secret: string, value: Uint8Array | string, options?: VersionOptions): number;
  disableVersion(project: string, secret: string, version: number, options?: LocationOption): void;
  destroyVersion(project: string, secret: string, version: number, options?: LocationOption): void;
  /** Returns PERMISSION_DENIED for every version of this secret. */
  deny(project: string, secret: string, options?: LocationOption): void;
  /** Returns 429 RESOURCE_EXHAUSTED, with Retry-After and RetryInfo if given, to the next `count` requests. */
  throttleNext(count: number, options?: { retryAfterSeconds?: number }): void;
  /** Returns `httpStatus` (default 503) in Google's error format to the next `count` requests. */
  failNext(count: number, httpStatus?: number): void;
  /** Sends a wrong `dataCrc32c` with the next `count` payloads. */
  corruptChecksumNext(count: number): void;
  /** Delay before each response, in ms. */
  delayMs: number;
  /** Rejects tokens whose `iat` is before `time`, as if they had been revoked. */
  rejectTokensIssuedBefore(time: Date): void;
  /** Creates a second key for the service account; both keys stay valid until revoked. */
  rotateKey(): Promise<{ keyId: string; keyFile: string }>;
  /** Makes tokens signed with this key fail, as when a key is deleted in IAM. */
  revokeKey(keyId: string): void;
}

export interface LocationOption {
  /** Location of a regional secret; omit for a global one. */
  location?: string;
}

export interface VersionOptions extends LocationOption {
  aliases?: string[];
}

export type VersionState = 'ENABLED' | 'DISABLED' | 'DESTROYED';

export interface StoredSecret {
  versions: { data: Buffer; state: VersionState }[];
  aliases: Map<string, number>;
}

export interface ErrorAnswer {
  httpStatus: number;
  status: string;
  message: string;
  headers?: Record<string, string>;
  details?: unknown[];
}
