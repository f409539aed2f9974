/**
 * A loopback fake of Azure Key Vault and the Entra ID token endpoint, over HTTPS with a
 * certificate generated at start. It speaks the wire protocol @azure/keyvault-secrets expects:
 * `GET /secrets/{name}[/{version}]?api-version=...` returns 401 with a Bearer challenge until the
 * client sends a token from `POST /{tenant}/oauth2/v2.0/token`. It also serves an App Service
 * style managed identity endpoint (`GET /msi/token`) when enabled.
 */
import { execFile } from 'node:child_process';
import { constants, createHash, randomBytes, randomUUID, verify, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { RunningFake } from './fake.ts';

const vaultScope = 'https://vault.azure.net/.default';
const jwtBearer = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

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

interface StoredVersion {
  readonly version: string;
  readonly value: string;
  readonly contentType: string | undefined;
  readonly enabled: boolean;
  readonly created: number;
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Starts the fake on 127.0.0.1 with the demo secret `demo-hello`. */
export async function startAzureFake(options: AzureFakeOptions = {}): Promise<AzureFake> {
  const { key, cert } = await createServerCertificate();
  const state = new FakeState(options.tokenLifetimeSeconds ?? 3600);
  const server = https.createServer({ key, cert }, (request, response) => {
    state.handle(request, response).catch((error: unknown) => {
      // A malformed request (such as an assertion that is not JSON) must not stop the fake.
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { code: 'InternalServerError', message: String(error) } }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  state.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.setSecret('demo-hello', 'hello from the azure fake');
  return createHandle(state, cert, server);
}

function createHandle(state: FakeState, caPem: string, server: https.Server): AzureFake {
  return {
    backend: 'azure',
    url: state.url,
    demoSecret: 'demo-hello',
    demoValue: 'hello from the azure fake',
    tenantId: state.tenantId,
    clientId: state.clientId,
    caPem,
    get clientSecret() { return state.clientSecret; },
    get credentialFiles() { return { 'azure/client-secret': state.clientSecret, 'azure/ca.pem': caPem }; },
    get requests() { return state.requests; },
    get vaultDelayMs() { return state.vaultDelayMs; },
    set vaultDelayMs(value: number) { state.vaultDelayMs = value; },
    get tokenDelayMs() { return state.tokenDelayMs; },
    set tokenDelayMs(value: number) { state.tokenDelayMs = value; },
    settings: (credentialsDir: string) => ({
      DSV_AZURE_VAULT_URL: state.url,
      AZURE_TENANT_ID: state.tenantId,
      AZURE_CLIENT_ID: state.clientId,
      AZURE_AUTHORITY_HOST: state.url,
      DSV_AZURE_CLIENT_SECRET_FILE: path.join(credentialsDir, 'azure/client-secret'),
      DSV_AZURE_CA_FILE: path.join(credentialsDir, 'azure/ca.pem'),
    }),
    setSecret: (name, value, versionOptions) => state.setSecret(name, value, versionOptions),
    deleteSecret: (name) => { state.deleted.add(name); },
    deny: (name) => { state.denied.add(name); },
    throttleNext: (count, throttle) => { state.throttle = { remaining: count, retryAfterSeconds: throttle?.retryAfterSeconds }; },
    failNext: (count, status = 503) => { state.vaultFailures = { remaining: count, status }; },
    failTokenRequests: (count, status = 503) => { state.tokenFailures = { remaining: count, status }; },
    expireTokens: (expiry) => state.expireTokens(expiry?.claimsChallenge ?? true),
    rotateClientSecret: () => (state.clientSecret = `fake-secret-${randomBytes(12).toString('base64url')}`),
    trustClientCertificate: (pem) => { state.certificates.push(new X509Certificate(pem)); },
    trustFederatedToken: (token) => { state.federatedToken = token; },
    enableManagedIdentity: () => {
      state.identityHeader = randomBytes(16).toString('hex');
      return { endpoint: `${state.url}/msi/token`, header: state.identityHeader };
    },
    count: (kind) => state.requests.filter((request) => request.kind === kind).length,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

class FakeState {
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

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.url);
    const body = await readBody(request);
    let kind: AzureFakeRequest['kind'] = 'other';
    let reply: Reply = { status: 404, body: { error: { code: 'NotFound', message: 'No route.' } } };
    if (request.method === 'POST' && /^\/[^/]+\/oauth2\/v2\.0\/token$/.test(url.pathname)) {
      kind = 'token';
      reply = await this.token(url, new URLSearchParams(body));
    } else if (request.method === 'GET' && url.pathname === '/msi/token') {
      kind = 'managed-identity';
      reply = this.managedIdentity(url, request.headers['x-identity-header']);
    } else if (request.method === 'GET' && url.pathname.startsWith('/secrets/')) {
      kind = 'vault';
      reply = await this.vault(url, request.headers.authorization);
    }
    this.requests.push({
      kind,
      method: request.method ?? '',
      path: url.pathname,
      status: reply.status,
      authorized: request.headers.authorization !== undefined,
      claimsChallenge: hasChallengeClaims(new URLSearchParams(body).get('claims')),
    });
    response.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8', ...reply.headers });
    response.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
  }

  async token(url: URL, form: URLSearchParams): Promise<Reply> {
    if (this.tokenDelayMs > 0) await sleep(this.tokenDelayMs);
    if (this.tokenFailures.remaining > 0) {
      this.tokenFailures.remaining--;
      return aadError(this.tokenFailures.status, 'temporarily_unavailable', 'AADSTS50000: The service is temporarily unavailable.');
    }
    const tenant = url.pathname.split('/')[1];
    if (tenant !== this.tenantId) return aadError(400, 'invalid_request', `AADSTS90002: Tenant '${tenant}' not found.`);
    if (form.get('grant_type') !== 'client_credentials') return aadError(400, 'unsupported_grant_type', 'AADSTS70003: Unsupported grant type.');
    if (form.get('client_id') !== this.clientId) {
      return aadError(400, 'unauthorized_client', `AADSTS700016: Application with identifier '${form.get('client_id')}' was not found in the directory.`);
    }
    if (form.get('scope') !== vaultScope) return aadError(400, 'invalid_scope', 'AADSTS70011: The provided scope is not valid.');

    const secret = form.get('client_secret');
    const assertion = form.get('client_assertion');
    if (secret !== null) {
      if (secret !== this.clientSecret) return aadError(401, 'invalid_client', 'AADSTS7000215: Invalid client secret provided.');
    } else if (assertion !== null && form.get('client_assertion_type') === jwtBearer) {
      const problem = assertion === this.federatedToken ? undefined : this.checkAssertion(assertion, url);
      if (problem !== undefined) return aadError(401, 'invalid_client', `AADSTS700027: Client assertion failed validation: ${problem}.`);
    } else {
      return aadError(400, 'invalid_request', 'AADSTS7000218: The request body must contain client_assertion or client_secret.');
    }
    const token = this.issueToken();
    return { status: 200, body: { token_type: 'Bearer', expires_in: this.tokenLifetimeSeconds, ext_expires_in: this.tokenLifetimeSeconds, access_token: token } };
  }

  /** Checks a certificate-signed assertion; returns what is wrong, or undefined when valid. */
  checkAssertion(assertion: string, url: URL): string | undefined {
    const [headerPart, claimsPart, signaturePart] = assertion.split('.');
    if (headerPart === undefined || claimsPart === undefined || signaturePart === undefined) return 'not a JWT';
    const header = JSON.parse(Buffer.from(headerPart, 'base64url').toString()) as Record<string, unknown>;
    const claims = JSON.parse(Buffer.from(claimsPart, 'base64url').toString()) as Record<string, unknown>;
    const certificate = this.certificates.find(
      (candidate) => createHash('sha256').update(candidate.raw).digest('base64url') === header['x5t#S256'],
    );
    if (header.alg !== 'PS256' || certificate === undefined) return 'unknown certificate or algorithm';
    const valid = verify('sha256', Buffer.from(`${headerPart}.${claimsPart}`), {
      key: certificate.publicKey,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
    }, Buffer.from(signaturePart, 'base64url'));
    if (!valid) return 'invalid signature';
    const now = Date.now() / 1000;
    if (claims.aud !== `${this.url}${url.pathname}`) return 'wrong audience';
    if (claims.iss !== this.clientId || claims.sub !== this.clientId) return 'wrong issuer or subject';
    if (typeof claims.exp !== 'number' || claims.exp < now || typeof claims.jti !== 'string') return 'expired or without jti';
    return undefined;
  }

  managedIdentity(url: URL, header: string | string[] | undefined): Reply {
    if (this.identityHeader === undefined || header !== this.identityHeader) {
      return { status: 401, body: { statusCode: 401, message: 'The identity header is missing or wrong.' } };
    }
    if (url.searchParams.get('resource') !== 'https://vault.azure.net' || url.searchParams.get('api-version') !== '2019-08-01') {
      return { status: 400, body: { statusCode: 400, message: 'Unsupported resource or api-version.' } };
    }
    const token = this.issueToken();
    const expiresOn = Math.floor(Date.now() / 1000) + this.tokenLifetimeSeconds;
    return { status: 200, body: { access_token: token, expires_on: String(expiresOn), resource: 'https://vault.azure.net', token_type: 'Bearer', client_id: this.clientId } };
  }

  issueToken(): string {
    const token = randomBytes(24).toString('base64url');
    this.tokens.set(token, { expiresAt: Date.now() + this.tokenLifetimeSeconds * 1000, revoked: false });
    return token;
  }

  async vault(url: URL, authorization: string | undefined): Promise<Reply> {
    if (this.vaultDelayMs > 0) await sleep(this.vaultDelayMs);
    const unauthorized = this.checkVaultToken(authorization);
    if (unauthorized !== undefined) return unauthorized;
    if (!url.searchParams.has('api-version')) return vaultError(400, 'BadParameter', 'The api-version query parameter is missing.');
    if (this.vaultFailures.remaining > 0) {
      this.vaultFailures.remaining--;
      return vaultError(this.vaultFailures.status, 'ServiceUnavailable', 'The service is unavailable.');
    }
    if (this.throttle.remaining > 0) {
      this.throttle.remaining--;
      const retryAfter = this.throttle.retryAfterSeconds;
      return { ...vaultError(429, 'Throttled', 'Request was not processed because too many requests were received.'), headers: retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) } };
    }
    return this.readSecret(url);
  }

  checkVaultToken(authorization: string | undefined): Reply | undefined {
    const token = authorization?.startsWith('Bearer ') ? this.tokens.get(authorization.slice(7)) : undefined;
    const challenge = `Bearer authorization="${this.url}/${this.tenantId}", resource="https://vault.azure.net"`;
    if (token === undefined || token.expiresAt <= Date.now() || (token.revoked && !this.claimsChallenge)) {
      return { ...vaultError(401, 'Unauthorized', 'Request is missing a valid bearer token.'), headers: { 'www-authenticate': challenge } };
    }
    if (token.revoked) {
      const claims = Buffer.from(JSON.stringify({ access_token: { nbf: { essential: true, value: String(Math.floor(Date.now() / 1000)) } } })).toString('base64');
      const caeChallenge = `Bearer realm="", authorization_uri="${this.url}/common/oauth2/authorize", error="insufficient_claims", claims="${claims}"`;
      return { ...vaultError(401, 'Unauthorized', 'The access token has been revoked.'), headers: { 'www-authenticate': caeChallenge } };
    }
    return undefined;
  }

  readSecret(url: URL): Reply {
    const [, , name = '', version] = url.pathname.replace(/\/$/, '').split('/');
    if (!/^[0-9a-zA-Z-]{1,127}$/.test(name)) return vaultError(400, 'BadParameter', 'The secret name is invalid.');
    if (this.denied.has(name)) {
      return vaultError(403, 'Forbidden', 'Caller is not authorized to perform action on resource.', 'ForbiddenByRbac');
    }
    const versions = this.deleted.has(name) ? undefined : this.secrets.get(name);
    const stored = version === undefined || version === '' ? versions?.at(-1) : versions?.find((candidate) => candidate.version === version);
    if (stored === undefined) {
      return vaultError(404, 'SecretNotFound', `A secret with (name/id) ${name} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command.`);
    }
    if (!stored.enabled) return vaultError(403, 'Forbidden', 'Operation get is not allowed on a disabled secret.', 'SecretDisabled');
    return {
      status: 200,
      body: {
        value: stored.value,
        contentType: stored.contentType,
        id: `${this.url}/secrets/${name}/${stored.version}`,
        attributes: { enabled: true, created: stored.created, updated: stored.created, recoveryLevel: 'Recoverable+Purgeable', recoverableDays: 90 },
        tags: {},
      },
    };
  }
}

/** Client capabilities (`xms_cc`) come with every CAE-capable request; other claims come from a challenge. */
function hasChallengeClaims(claims: string | null): boolean {
  if (claims === null) return false;
  const parsed = JSON.parse(claims) as { access_token?: Record<string, unknown> };
  return Object.keys(parsed.access_token ?? {}).some((name) => name !== 'xms_cc');
}

function aadError(status: number, error: string, description: string): Reply {
  const codes = /AADSTS(\d+)/.exec(description);
  return { status, body: { error, error_description: `${description}\r\nTrace ID: ${randomUUID()}`, error_codes: codes === null ? [] : [Number(codes[1])] } };
}

function vaultError(status: number, code: string, message: string, innerCode?: string): Reply {
  return { status, body: { error: { code, message, ...(innerCode === undefined ? {} : { innererror: { code: innerCode } }) } } };
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Generates a throwaway certificate for 127.0.0.1 with the openssl CLI. */
async function createServerCertificate(): Promise<{ key: string; cert: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dsv-azure-fake-'));
  try {
    await promisify(execFile)('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '2',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ]);
    const [key, cert] = await Promise.all([readFile(path.join(dir, 'key.pem'), 'utf8'), readFile(path.join(dir, 'cert.pem'), 'utf8')]);
    return { key, cert };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
