/**
 * Vault's HTTP API over the fake's state: routing, injected failures, AppRole login, token
 * renewal, mount detection and KV version 1 and 2 reads.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { VaultFakeState } from './state.ts';
import type { Reply, Token, VaultFakeRequest } from './types.ts';
import { denied, envelope, missing, parseJson } from './wire.ts';

/** The fake's state plus the handler that responds to HTTP requests from it. */
export class VaultFakeApi extends VaultFakeState {
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
    if (this.options.namespace !== undefined && request.namespace !== this.options.namespace) return denied;
    if (request.method === 'POST' && request.path === 'auth/approle/login') return this.#login(body);

    const token = request.token === undefined ? undefined : this.tokens.get(request.token);
    if (token === undefined || token.expiresAt <= this.now()) return denied;
    if (request.method === 'POST' && request.path === 'auth/token/renew-self') return this.#renew(request.token!, token);
    if (this.deny.some((prefix) => request.path.startsWith(prefix))) return denied;
    if (request.method !== 'GET') return { status: 405, body: { errors: ['unsupported operation'] } };
    if (request.path.startsWith('sys/internal/ui/mounts/')) {
      return this.#describeMount(request.path.slice('sys/internal/ui/mounts/'.length));
    }
    return this.#read(request.path, query);
  }

  #injectedFailure(request: VaultFakeRequest): Reply | undefined {
    if (this.sealed) return { status: 503, body: { errors: ['Vault is sealed'] } };
    if (this.failures.count > 0) {
      this.failures.count--;
      return { status: this.failures.status, body: { errors: ['internal error'] } };
    }
    if (this.throttle.count > 0) {
      this.throttle.count--;
      const seconds = this.throttle.retryAfterSeconds;
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
    const { ttlSeconds } = this.tokens.get(token)!;
    return { status: 200, body: envelope(null, this.#auth(token, ttlSeconds, true)) };
  }

  #renew(tokenId: string, token: Token): Reply {
    if (!token.renewable) return { status: 400, body: { errors: ['lease is not renewable'] } };
    this.renewals++;
    token.expiresAt = Math.min(this.now() + token.ttlSeconds * 1000, token.maxExpiresAt);
    const leaseSeconds = Math.floor((token.expiresAt - this.now()) / 1000);
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
    const found = this.findMount(secretPath);
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
    const found = this.findMount(apiPath);
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
}
