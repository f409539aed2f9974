/**
 * A loopback fake of HashiCorp Vault's HTTP API, covering what the vault backend uses: KV version
 * 1 and 2 reads, mount detection through `sys/internal/ui/mounts`, AppRole login and token
 * renewal. It also produces the failures of a real server: 404 bodies of deleted versions, 403,
 * 429 and the 503 of a sealed Vault. Bodies follow Vault's wire format, which is
 * `{"errors": [...]}` for failures and the envelope with `data`, `warnings` and `auth` otherwise.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { RunningFake } from './fake.ts';

export interface VaultFakeOptions {
  port?: number;
  /** Serve https with a fresh self-signed certificate for 127.0.0.1, offered as `vault/ca.pem`. */
  tls?: boolean;
  /** Reject requests whose X-Vault-Namespace header differs, with 403. */
  namespace?: string;
  /** TTL of tokens from AppRole login, in seconds; default 3600. */
  tokenTtlSeconds?: number;
  /** Max TTL of those tokens, which renewal cannot pass, in seconds; default none. */
  tokenMaxTtlSeconds?: number;
}

/** One request as the fake saw it; `path` is the decoded API path after `/v1/`. */
export interface VaultFakeRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly namespace: string | undefined;
  readonly token: string | undefined;
  status: number;
}

interface KvVersionEntry {
  data: Record<string, unknown> | null;
  createdTime: string;
  deletionTime: string;
  destroyed: boolean;
}

interface Mount {
  type: string;
  kvVersion: 1 | 2;
  secrets: Map<string, KvVersionEntry[]>;
}

interface Token {
  expiresAt: number;
  maxExpiresAt: number;
  ttlSeconds: number;
  renewable: boolean;
}

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

const demoValue = 'hello from the vault fake';
const denied: Reply = { status: 403, body: { errors: ['permission denied'] } };
const missing: Reply = { status: 404, body: { errors: [] } };

/** A running fake plus the controls tests use to change its state and inject failures. */
export class VaultFake implements RunningFake {
  readonly backend = 'vault';
  readonly demoSecret = 'secret/demo/hello';
  readonly demoValue = demoValue;
  /** JSON field of the demo secret that contains `demoValue`. */
  readonly demoKey = 'value';
  readonly demoOptions = { key: 'value' };
  readonly roleId = randomUUID();
  /** Every request received, in order. */
  readonly requests: VaultFakeRequest[] = [];
  url = '';
  /** Token with no TTL, as written to `vault/token`. */
  readonly rootToken: string;
  secretId = randomUUID();
  /** Successful AppRole logins so far. */
  logins = 0;
  renewals = 0;
  /** Delay before every response, in ms. */
  delayMs = 0;
  server: http.Server | undefined;
  readonly #options: VaultFakeOptions;
  readonly #caCert: string | undefined;
  readonly #mounts = new Map<string, Mount>();
  readonly #tokens = new Map<string, Token>();
  #deny: readonly string[] = [];
  #throttle = { count: 0, retryAfterSeconds: undefined as number | undefined };
  #failures = { count: 0, status: 500 };
  #sealed = false;
  #clockOffsetMs = 0;

  constructor(options: VaultFakeOptions, caCert: string | undefined) {
    this.#options = options;
    this.#caCert = caCert;
    this.addMount('secret', 2);
    this.addMount('kv1', 1);
    this.#mounts.set('transit', { type: 'transit', kvVersion: 1, secrets: new Map() });
    this.put(this.demoSecret, { value: demoValue });
    this.rootToken = this.issueToken({ ttlSeconds: 0, renewable: false });
  }

  get credentialFiles(): Record<string, string> {
    const files: Record<string, string> = {
      'vault/token': `${this.rootToken}\n`,
      'vault/role-id': `${this.roleId}\n`,
      'vault/secret-id': `${this.secretId}\n`,
    };
    if (this.#caCert !== undefined) files['vault/ca.pem'] = this.#caCert;
    return files;
  }

  settings(credentialsDir: string): Record<string, string> {
    const settings: Record<string, string> = {
      VAULT_ADDR: this.url,
      DSV_VAULT_TOKEN_FILE: `${credentialsDir}/vault/token`,
    };
    if (this.#caCert !== undefined) settings.VAULT_CACERT = `${credentialsDir}/vault/ca.pem`;
    if (this.#options.namespace !== undefined) settings.VAULT_NAMESPACE = this.#options.namespace;
    return settings;
  }

  async close(): Promise<void> {
    if (this.server === undefined) return;
    const closed = once(this.server, 'close');
    this.server.close();
    this.server.closeAllConnections();
    await closed;
  }

  addMount(mountPath: string, kvVersion: 1 | 2): void {
    this.#mounts.set(mountPath.replace(/\/$/, ''), { type: 'kv', kvVersion, secrets: new Map() });
  }

  /** Writes a secret at `<mount>/<path>`; returns the new version (always 1 on KV version 1). */
  put(secretPath: string, data: Record<string, unknown>): number {
    const { mount, rest } = this.#mountOf(secretPath);
    const entry = { data: structuredClone(data), createdTime: this.#isoNow(), deletionTime: '', destroyed: false };
    const versions = mount.kvVersion === 2 ? (mount.secrets.get(rest) ?? []) : [];
    versions.push(entry);
    mount.secrets.set(rest, versions);
    return versions.length;
  }

  /** Soft-deletes a KV version 2 version; default: the latest. */
  softDelete(secretPath: string, version?: number): void {
    this.#version(secretPath, version).deletionTime = this.#isoNow();
  }

  destroy(secretPath: string, version?: number): void {
    const entry = this.#version(secretPath, version);
    entry.destroyed = true;
    entry.data = null;
  }

  /** Denies every request whose API path starts with one of the prefixes, such as `secret/data/private`. */
  setPolicy(policy: { deny: readonly string[] }): void {
    this.#deny = [...policy.deny];
  }

  issueToken(options: { ttlSeconds?: number; renewable?: boolean } = {}): string {
    const token = `hvs.${randomBytes(18).toString('base64url')}`;
    const ttlSeconds = options.ttlSeconds ?? this.#options.tokenTtlSeconds ?? 3600;
    const maxTtl = this.#options.tokenMaxTtlSeconds;
    this.#tokens.set(token, {
      ttlSeconds,
      renewable: options.renewable ?? true,
      expiresAt: ttlSeconds === 0 ? Infinity : this.#now() + ttlSeconds * 1000,
      maxExpiresAt: maxTtl === undefined ? Infinity : this.#now() + maxTtl * 1000,
    });
    return token;
  }

  expireAllTokens(): void {
    for (const token of this.#tokens.values()) token.expiresAt = this.#now() - 1;
  }

  /** Replaces the AppRole secret ID; the old one stops working. */
  rotateSecretId(): string {
    this.secretId = randomUUID();
    return this.secretId;
  }

  throttleNext(count: number, options: { retryAfterSeconds?: number } = {}): void {
    this.#throttle = { count, retryAfterSeconds: options.retryAfterSeconds };
  }

  failNext(count: number, status = 500): void {
    this.#failures = { count, status };
  }

  setSealed(sealed: boolean): void {
    this.#sealed = sealed;
  }

  /** Moves the fake's clock forward, which ages tokens. */
  advanceTime(ms: number): void {
    this.#clockOffsetMs += ms;
  }

  /** Serves one HTTP request: records it, waits `delayMs`, then responds. */
  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const apiPath = url.pathname.replace(/^\/v1\//, '').split('/').map(decodeURIComponent).join('/');
    const header = (name: string) => request.headers[name] as string | undefined;
    const entry: VaultFakeRequest = {
      method: request.method ?? '',
      path: apiPath,
      query: url.search,
      namespace: header('x-vault-namespace'),
      token: header('x-vault-token'),
      status: 0,
    };
    this.requests.push(entry);
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    if (this.delayMs > 0) await sleep(this.delayMs);

    const reply = this.#route(entry, url.searchParams, Buffer.concat(chunks).toString('utf8'));
    entry.status = reply.status;
    response.writeHead(reply.status, { 'Content-Type': 'application/json', ...reply.headers });
    response.end(JSON.stringify(reply.body));
  }

  #route(request: VaultFakeRequest, query: URLSearchParams, body: string): Reply {
    const injected = this.#injectedFailure(request);
    if (injected !== undefined) return injected;
    if (this.#options.namespace !== undefined && request.namespace !== this.#options.namespace) return denied;
    if (request.method === 'POST' && request.path === 'auth/approle/login') return this.#login(body);

    const token = request.token === undefined ? undefined : this.#tokens.get(request.token);
    if (token === undefined || token.expiresAt <= this.#now()) return denied;
    if (request.method === 'POST' && request.path === 'auth/token/renew-self') return this.#renew(request.token!, token);
    if (this.#deny.some((prefix) => request.path.startsWith(prefix))) return denied;
    if (request.method !== 'GET') return { status: 405, body: { errors: ['unsupported operation'] } };
    if (request.path.startsWith('sys/internal/ui/mounts/')) {
      return this.#describeMount(request.path.slice('sys/internal/ui/mounts/'.length));
    }
    return this.#read(request.path, query);
  }

  #injectedFailure(request: VaultFakeRequest): Reply | undefined {
    if (this.#sealed) return { status: 503, body: { errors: ['Vault is sealed'] } };
    if (this.#failures.count > 0) {
      this.#failures.count--;
      return { status: this.#failures.status, body: { errors: ['internal error'] } };
    }
    if (this.#throttle.count > 0) {
      this.#throttle.count--;
      const seconds = this.#throttle.retryAfterSeconds;
      const headers: Record<string, string> = seconds === undefined ? {} : { 'Retry-After': String(seconds) };
      const errors = [`request path "${request.path}": rate limit quota exceeded`];
      return { status: 429, body: { errors }, headers };
    }
    return undefined;
  }

  #login(body: string): Reply {
    const credentials = parseJson(body);
    if (credentials?.role_id !== this.roleId || credentials?.secret_id !== this.secretId) {
      return { status: 400, body: { errors: ['invalid role or secret ID'] } };
    }
    this.logins++;
    const token = this.issueToken();
    const { ttlSeconds } = this.#tokens.get(token)!;
    return { status: 200, body: envelope(null, this.#auth(token, ttlSeconds, true)) };
  }

  #renew(tokenId: string, token: Token): Reply {
    if (!token.renewable) return { status: 400, body: { errors: ['lease is not renewable'] } };
    this.renewals++;
    token.expiresAt = Math.min(this.#now() + token.ttlSeconds * 1000, token.maxExpiresAt);
    const leaseSeconds = Math.floor((token.expiresAt - this.#now()) / 1000);
    return { status: 200, body: envelope(null, this.#auth(tokenId, leaseSeconds, true)) };
  }

  #auth(token: string, leaseSeconds: number, renewable: boolean): Record<string, unknown> {
    const policies = ['default', 'dsv-reader'];
    return {
      client_token: token,
      accessor: randomBytes(12).toString('base64url'),
      policies,
      token_policies: policies,
      metadata: { role_name: 'dsv' },
      lease_duration: leaseSeconds,
      renewable,
      entity_id: randomUUID(),
      token_type: 'service',
      orphan: true,
      num_uses: 0,
    };
  }

  #describeMount(secretPath: string): Reply {
    const found = this.#findMount(secretPath);
    if (found === undefined) {
      const error = `preflight capability check returned 403, please ensure client's policies grant access to path "${secretPath}/"`;
      return { status: 403, body: { errors: [error] } };
    }
    const { name, mount } = found;
    const options = mount.type === 'kv' ? { version: String(mount.kvVersion) } : null;
    const data = { type: mount.type, path: `${name}/`, options, description: '', local: false, seal_wrap: false };
    return { status: 200, body: envelope({ ...data, accessor: `${mount.type}_${name.length}`, config: {} }) };
  }

  #read(apiPath: string, query: URLSearchParams): Reply {
    const found = this.#findMount(apiPath);
    if (found === undefined) return { status: 404, body: { errors: [`no handler for route "${apiPath}". route entry not found.`] } };
    const rest = apiPath.slice(found.name.length + 1);
    const { mount } = found;
    if (mount.kvVersion === 1) {
      const data = mount.secrets.get(rest)?.[0]?.data;
      return data === undefined || data === null ? missing : { status: 200, body: { ...envelope(data), lease_duration: 2_764_800 } };
    }
    if (!rest.startsWith('data/')) {
      const warning = "Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API endpoints to use. If using the Vault CLI, use 'vault kv get' for this operation.";
      return { status: 404, body: { ...envelope(null), warnings: [warning] } };
    }
    const versions = mount.secrets.get(rest.slice('data/'.length));
    const requested = Number(query.get('version') ?? 0);
    const number = requested === 0 ? (versions?.length ?? 0) : requested;
    const entry = versions?.[number - 1];
    if (entry === undefined) return missing;

    const metadata = {
      created_time: entry.createdTime,
      custom_metadata: null,
      deletion_time: entry.deletionTime,
      destroyed: entry.destroyed,
      version: number,
    };
    if (entry.destroyed || entry.deletionTime !== '') return { status: 404, body: envelope({ data: null, metadata }) };
    return { status: 200, body: envelope({ data: entry.data, metadata }) };
  }

  #findMount(apiPath: string): { name: string; mount: Mount } | undefined {
    for (const [name, mount] of this.#mounts) {
      if (apiPath.startsWith(`${name}/`)) return { name, mount };
    }
    return undefined;
  }

  #mountOf(secretPath: string): { mount: Mount; rest: string } {
    const found = this.#findMount(secretPath);
    if (found === undefined || found.mount.type !== 'kv') throw new Error(`fake: no KV mount holds ${secretPath}`);
    return { mount: found.mount, rest: secretPath.slice(found.name.length + 1) };
  }

  #version(secretPath: string, version: number | undefined): KvVersionEntry {
    const { mount, rest } = this.#mountOf(secretPath);
    const versions = mount.secrets.get(rest) ?? [];
    const entry = versions[(version ?? versions.length) - 1];
    if (mount.kvVersion !== 2 || entry === undefined) throw new Error(`fake: no KV version 2 version of ${secretPath}`);
    return entry;
  }

  #now(): number {
    return Date.now() + this.#clockOffsetMs;
  }

  #isoNow(): string {
    return new Date(this.#now()).toISOString();
  }
}

function envelope(data: unknown, auth: unknown = null): Record<string, unknown> {
  return { request_id: randomUUID(), lease_id: '', renewable: false, lease_duration: 0, data, wrap_info: null, warnings: null, auth };
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** Creates a self-signed certificate for 127.0.0.1 with the openssl command. */
async function selfSignedCertificate(): Promise<{ cert: string; key: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dsv-vault-fake-'));
  try {
    const keyFile = path.join(dir, 'key.pem');
    const certFile = path.join(dir, 'cert.pem');
    await promisify(execFile)('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1',
    ]);
    return { cert: await readFile(certFile, 'utf8'), key: await readFile(keyFile, 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Starts the fake on 127.0.0.1, with the demo secret on the KV version 2 mount `secret/` and a KV version 1 mount `kv1/`. */
export async function startVaultFake(options: VaultFakeOptions = {}): Promise<VaultFake> {
  const tls = options.tls === true ? await selfSignedCertificate() : undefined;
  const fake = new VaultFake(options, tls?.cert);
  const listener = (request: IncomingMessage, response: ServerResponse) => {
    fake.handle(request, response).catch((error: unknown) => {
      response.writeHead(500, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify({ errors: [`fake failed: ${String(error)}`] }));
    });
  };
  const server = tls === undefined ? http.createServer(listener) : https.createServer(tls, listener);
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  fake.server = server;
  fake.url = `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}
