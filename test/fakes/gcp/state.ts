/** The GCP fake's mutable state: secrets, trusted keys, the request log and injected failures. */
import type { KeyObject } from 'node:crypto';
import type { GcpFakeRequest, LocationOption, StoredSecret, VersionOptions, VersionState } from './types.ts';

/** Everything the fake stores. The handle and the request handler share one instance. */
export interface GcpState {
  readonly secrets: Map<string, StoredSecret>;
  readonly denied: Set<string>;
  /** Public keys of the service account's valid keys, by key id. */
  readonly publicKeys: Map<string, KeyObject>;
  readonly requests: GcpFakeRequest[];
  throttled: { count: number; retryAfterSeconds: number | undefined };
  failures: { count: number; httpStatus: number };
  corruptChecksums: number;
  tokensValidFromMs: number;
  /** Delay before each response, in ms. */
  delayMs: number;
  /** Aborted by `close()`, so that delayed responses stop waiting. */
  readonly closing: AbortController;
}

export function createState(): GcpState {
  return {
    secrets: new Map<string, StoredSecret>(),
    denied: new Set<string>(),
    publicKeys: new Map<string, KeyObject>(),
    requests: [],
    throttled: { count: 0, retryAfterSeconds: undefined },
    failures: { count: 0, httpStatus: 503 },
    corruptChecksums: 0,
    tokensValidFromMs: 0,
    delayMs: 0,
    closing: new AbortController(),
  };
}

export function secretKey(projectId: string, secret: string, location: string | undefined): string {
  return location === undefined ? `projects/${projectId}/secrets/${secret}` : `projects/${projectId}/locations/${location}/secrets/${secret}`;
}

/** Returns the stored secret. It creates a missing one when `create` is set, and throws otherwise. */
export function secretOf(state: GcpState, projectId: string, secret: string, location: string | undefined, create = false): StoredSecret {
  const key = secretKey(projectId, secret, location);
  let stored = state.secrets.get(key);
  if (stored === undefined) {
    if (!create) throw new Error(`the fake has no secret ${key}`);
    stored = { versions: [], aliases: new Map() };
    state.secrets.set(key, stored);
  }
  return stored;
}

/** Returns a control that moves one version of a secret to `versionState`. */
export function setVersionState(state: GcpState, versionState: VersionState) {
  return (projectId: string, secret: string, version: number, where: LocationOption = {}): void => {
    const stored = secretOf(state, projectId, secret, where.location).versions[version - 1];
    if (stored === undefined) throw new Error(`the fake has no version ${version} of ${secret}`);
    stored.state = versionState;
  };
}

/** Adds a version and returns its number; `aliases` point at it from now on. */
export function addVersion(state: GcpState, projectId: string, secret: string, value: Uint8Array | string, versionOptions: VersionOptions = {}): number {
  const stored = secretOf(state, projectId, secret, versionOptions.location, true);
  stored.versions.push({ data: Buffer.from(value), state: 'ENABLED' });
  for (const alias of versionOptions.aliases ?? []) stored.aliases.set(alias, stored.versions.length);
  return stored.versions.length;
}
