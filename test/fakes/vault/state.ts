/**
 * What one Vault fake holds: KV mounts and their versions, tokens, the AppRole credentials, the
 * fake's clock, and the failures queued for the next requests. Subclasses serve it over HTTP.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { KvVersionEntry, Mount, Token, VaultFakeOptions, VaultFakeRequest } from './types.ts';

const demoValue = 'hello from the vault fake';

/** The fake's state and the controls tests use to change it and inject failures. */
export class VaultFakeState {
  readonly backend = 'vault';
  readonly demoSecret = 'secret/demo/hello';
  readonly demoValue = demoValue;
  /** JSON field of the demo secret that contains `demoValue`. */
  readonly demoKey = 'value';
  readonly demoOptions = { key: 'value' };
  readonly roleId = randomUUID();
  /** Every request received, in order. */
  readonly requests: VaultFakeRequest[] = [];
  /** Token with no TTL, as written to `vault/token`. */
  readonly rootToken: string;
  secretId = randomUUID();
  /** Successful AppRole logins so far. */
  logins = 0;
  renewals = 0;
  /** Delay before every response, in ms. */
  delayMs = 0;
  protected readonly options: VaultFakeOptions;
  protected readonly caCert: string | undefined;
  protected readonly mounts = new Map<string, Mount>();
  protected readonly tokens = new Map<string, Token>();
  protected deny: readonly string[] = [];
  protected throttle = { count: 0, retryAfterSeconds: undefined as number | undefined };
  protected failures = { count: 0, status: 500 };
  protected sealed = false;
  protected clockOffsetMs = 0;

  constructor(options: VaultFakeOptions, caCert: string | undefined) {
    this.options = options;
    this.caCert = caCert;
    this.addMount('secret', 2);
    this.addMount('kv1', 1);
    this.mounts.set('transit', { type: 'transit', kvVersion: 1, secrets: new Map() });
    this.put(this.demoSecret, { value: demoValue });
    this.rootToken = this.issueToken({ ttlSeconds: 0, renewable: false });
  }

  addMount(mountPath: string, kvVersion: 1 | 2): void {
    this.mounts.set(mountPath.replace(/\/$/, ''), { type: 'kv', kvVersion, secrets: new Map() });
  }

  /** Writes a secret at `<mount>/<path>`; returns the new version (always 1 on KV version 1). */
  put(secretPath: string, data: Record<string, unknown>): number {
    const { mount, rest } = this.mountOf(secretPath);
    const entry = { data: structuredClone(data), createdTime: this.isoNow(), deletionTime: '', destroyed: false };
    const versions = mount.kvVersion === 2 ? (mount.secrets.get(rest) ?? []) : [];
    versions.push(entry);
    mount.secrets.set(rest, versions);
    return versions.length;
  }

  /** Soft-deletes a KV version 2 version; default: the latest. */
  softDelete(secretPath: string, version?: number): void {
    this.versionEntry(secretPath, version).deletionTime = this.isoNow();
  }

  destroy(secretPath: string, version?: number): void {
    const entry = this.versionEntry(secretPath, version);
    entry.destroyed = true;
    entry.data = null;
  }

  /** Denies every request whose API path starts with one of the prefixes, such as `secret/data/private`. */
  setPolicy(policy: { deny: readonly string[] }): void {
    this.deny = [...policy.deny];
  }

  issueToken(options: { ttlSeconds?: number; renewable?: boolean } = {}): string {
    const token = `hvs.${randomBytes(18).toString('base64url')}`;
    const ttlSeconds = options.ttlSeconds ?? this.options.tokenTtlSeconds ?? 3600;
    const maxTtl = this.options.tokenMaxTtlSeconds;
    this.tokens.set(token, {
      ttlSeconds,
      renewable: options.renewable ?? true,
      expiresAt: ttlSeconds === 0 ? Infinity : this.now() + ttlSeconds * 1000,
      maxExpiresAt: maxTtl === undefined ? Infinity : this.now() + maxTtl * 1000,
    });
    return token;
  }

  expireAllTokens(): void {
    for (const token of this.tokens.values()) token.expiresAt = this.now() - 1;
  }

  /** Replaces the AppRole secret ID; the old one stops working. */
  rotateSecretId(): string {
    this.secretId = randomUUID();
    return this.secretId;
  }

  throttleNext(count: number, options: { retryAfterSeconds?: number } = {}): void {
    this.throttle = { count, retryAfterSeconds: options.retryAfterSeconds };
  }

  failNext(count: number, status = 500): void {
    this.failures = { count, status };
  }

  setSealed(sealed: boolean): void {
    this.sealed = sealed;
  }

  /** Moves the fake's clock forward, which ages tokens. */
  advanceTime(ms: number): void {
    this.clockOffsetMs += ms;
  }

  protected findMount(apiPath: string): { name: string; mount: Mount } | undefined {
    for (const [name, mount] of this.mounts) {
      if (apiPath.startsWith(`${name}/`)) return { name, mount };
    }
    return undefined;
  }

  protected mountOf(secretPath: string): { mount: Mount; rest: string } {
    const found = this.findMount(secretPath);
    if (found === undefined || found.mount.type !== 'kv') throw new Error(`fake: no KV mount holds ${secretPath}`);
    return { mount: found.mount, rest: secretPath.slice(found.name.length + 1) };
  }

  protected versionEntry(secretPath: string, version: number | undefined): KvVersionEntry {
    const { mount, rest } = this.mountOf(secretPath);
    const versions = mount.secrets.get(rest) ?? [];
    const entry = versions[(version ?? versions.length) - 1];
    if (mount.kvVersion !== 2 || entry === undefined) throw new Error(`fake: no KV version 2 version of ${secretPath}`);
    return entry;
  }

  protected now(): number {
    return Date.now() + this.clockOffsetMs;
  }

  protected isoNow(): string {
    return new Date(this.now()).toISOString();
  }
}
