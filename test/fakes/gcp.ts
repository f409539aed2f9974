/**
 * A loopback fake of Google Cloud Secret Manager's REST API, enough for the official Node client
 * with `fallback: true`: `GET /v1/projects/P[/locations/L]/secrets/S/versions/V:access` returns
 * `{name, payload: {data, dataCrc32c}}`, and errors are `{"error": {code, message, status}}`.
 *
 * Authentication is checked as Google checks a self-signed JWT: the client signs a token with
 * the dummy service-account key from `credentialFiles['gcp/key.json']` (no token server is
 * involved), and the fake verifies signature, key id, issuer, expiry and scope. Requests to the
 * key's `token_uri` or to `/computeMetadata/` get 404 errors and are logged, so tests can
 * assert that the client never tried to reach a token or metadata server.
 */
import http from 'node:http';
import { generateKeyPair, randomBytes, verify, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AddressInfo } from 'node:net';
import { crc32c } from '../../src/backends/gcp/crc32c.ts';
import type { RunningFake } from './fake.ts';

const project = 'dsv-demo';
const clientEmail = `dsv-fake@${project}.iam.gserviceaccount.com`;
const demoValue = 'hello from the gcp fake';

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

type VersionState = 'ENABLED' | 'DISABLED' | 'DESTROYED';

interface StoredSecret {
  versions: { data: Buffer; state: VersionState }[];
  aliases: Map<string, number>;
}

interface ErrorAnswer {
  httpStatus: number;
  status: string;
  message: string;
  headers?: Record<string, string>;
  details?: unknown[];
}

const accessPath = /^\/v1\/(projects\/([^/]+)(?:\/locations\/([^/]+))?\/secrets\/([^/]+))\/versions\/([^/:]+):access$/;

/** Starts the fake on 127.0.0.1 with the demo secret `demo-hello` in project `dsv-demo`. */
export async function startGcpFake(options: { port?: number } = {}): Promise<GcpFake> {
  const secrets = new Map<string, StoredSecret>();
  const denied = new Set<string>();
  const publicKeys = new Map<string, KeyObject>();
  const requests: GcpFakeRequest[] = [];
  let throttled = { count: 0, retryAfterSeconds: undefined as number | undefined };
  let failures = { count: 0, httpStatus: 503 };
  let corruptChecksums = 0;
  let tokensValidFromMs = 0;
  const closing = new AbortController();

  const secretOf = (projectId: string, secret: string, location: string | undefined, create = false): StoredSecret => {
    const key = secretKey(projectId, secret, location);
    let stored = secrets.get(key);
    if (stored === undefined) {
      if (!create) throw new Error(`the fake has no secret ${key}`);
      stored = { versions: [], aliases: new Map() };
      secrets.set(key, stored);
    }
    return stored;
  };
  const setState = (state: VersionState) => (projectId: string, secret: string, version: number, where: LocationOption = {}) => {
    const stored = secretOf(projectId, secret, where.location).versions[version - 1];
    if (stored === undefined) throw new Error(`the fake has no version ${version} of ${secret}`);
    stored.state = state;
  };

  const firstKey = await newServiceAccountKey(publicKeys);
  const server = http.createServer((request, response) => {
    // A malformed path (a bad %-escape) must not crash the fake, only this request.
    handle(request, response).catch(() => response.destroy());
  });

  async function handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0]!;
    const token = readToken(request.headers.authorization);
    const respond = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      requests.push({ method: request.method ?? '', path, status, keyId: token?.keyId, issuedAt: token?.issuedAt });
      if (response.destroyed) return;
      response.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
      response.end(JSON.stringify(body));
    };
    if (fake.delayMs > 0) await sleep(fake.delayMs, undefined, { signal: closing.signal }).catch(() => undefined);

    const answer = answerFor(request.method, path, token);
    if ('httpStatus' in answer) {
      const error = { code: answer.httpStatus, message: answer.message, status: answer.status, details: answer.details };
      respond(answer.httpStatus, { error }, answer.headers);
    } else {
      respond(200, answer);
    }
  }

  function answerFor(method: string | undefined, path: string, token: Token | undefined): ErrorAnswer | object {
    const match = accessPath.exec(path);
    if (method !== 'GET' || match === null) {
      return errorAnswer(404, 'NOT_FOUND', `The fake does not serve ${method} ${path}.`);
    }
    const injected = injectedError(token);
    if (injected !== undefined) return injected;

    const [, secretName, projectId, location, secretId, version] = match.map((part) => part && decodeURIComponent(part));
    if (denied.has(secretName!)) {
      const resource = `${secretName}/versions/${version}`;
      return errorAnswer(403, 'PERMISSION_DENIED', `Permission 'secretmanager.versions.access' denied for resource '${resource}' (or it may not exist).`);
    }
    const found = findVersion(secrets.get(secretKey(projectId!, secretId!, location)), secretName!, version!);
    if ('httpStatus' in found) return found;

    let checksum = crc32c(found.data);
    if (corruptChecksums > 0) {
      corruptChecksums--;
      checksum = (checksum + 1) >>> 0;
    }
    return { name: found.name, payload: { data: found.data.toString('base64'), dataCrc32c: String(checksum) } };
  }

  /** Returns the injected failure or the authentication error this request gets, if any. */
  function injectedError(token: Token | undefined): ErrorAnswer | undefined {
    if (failures.count > 0) {
      failures.count--;
      return errorAnswer(failures.httpStatus, statusForHttp(failures.httpStatus), 'Injected failure.');
    }
    if (throttled.count > 0) {
      throttled.count--;
      return throttleAnswer(throttled.retryAfterSeconds);
    }
    if (!tokenIsValid(token, publicKeys, tokensValidFromMs)) {
      const message = 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.';
      return errorAnswer(401, 'UNAUTHENTICATED', message);
    }
    return undefined;
  }

  const addVersion = (projectId: string, secret: string, value: Uint8Array | string, versionOptions: VersionOptions = {}): number => {
    const stored = secretOf(projectId, secret, versionOptions.location, true);
    stored.versions.push({ data: Buffer.from(value), state: 'ENABLED' });
    for (const alias of versionOptions.aliases ?? []) stored.aliases.set(alias, stored.versions.length);
    return stored.versions.length;
  };
  addVersion(project, 'demo-hello', demoValue);

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const keyFileFor = (key: ServiceAccountKey): string => JSON.stringify(serviceAccountKeyFile(key, url), null, 2);

  const fake: GcpFake = {
    backend: 'gcp',
    url,
    project,
    demoSecret: 'demo-hello',
    demoValue,
    credentialFiles: { 'gcp/key.json': keyFileFor(firstKey) },
    settings: (credentialsDir) => ({
      DSV_GCP_PROJECT: project,
      DSV_GCP_ENDPOINT: url,
      GOOGLE_APPLICATION_CREDENTIALS: `${credentialsDir}/gcp/key.json`,
    }),
    requests,
    addVersion,
    disableVersion: setState('DISABLED'),
    destroyVersion: setState('DESTROYED'),
    deny: (projectId, secret, where = {}) => void denied.add(secretKey(projectId, secret, where.location)),
    throttleNext: (count, throttleOptions = {}) => void (throttled = { count, retryAfterSeconds: throttleOptions.retryAfterSeconds }),
    failNext: (count, httpStatus = 503) => void (failures = { count, httpStatus }),
    corruptChecksumNext: (count) => void (corruptChecksums = count),
    delayMs: 0,
    rejectTokensIssuedBefore: (time) => void (tokensValidFromMs = time.getTime()),
    rotateKey: async () => {
      const key = await newServiceAccountKey(publicKeys);
      return { keyId: key.keyId, keyFile: keyFileFor(key) };
    },
    revokeKey: (keyId) => void publicKeys.delete(keyId),
    close: async () => {
      closing.abort();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}

function secretKey(projectId: string, secret: string, location: string | undefined): string {
  return location === undefined ? `projects/${projectId}/secrets/${secret}` : `projects/${projectId}/locations/${location}/secrets/${secret}`;
}

/** Resolves `latest`, a number or an alias the way Secret Manager does, with its error texts. */
function findVersion(stored: StoredSecret | undefined, secretName: string, version: string): ErrorAnswer | { name: string; data: Buffer } {
  if (stored === undefined || stored.versions.length === 0) {
    return errorAnswer(404, 'NOT_FOUND', `Secret [${secretName}] not found or has no versions.`);
  }
  let number: number | undefined;
  if (version === 'latest') number = stored.versions.length;
  else if (/^\d+$/.test(version)) number = Number(version);
  else number = stored.aliases.get(version);

  const found = number === undefined ? undefined : stored.versions[number - 1];
  if (found === undefined) {
    return errorAnswer(404, 'NOT_FOUND', `Secret Version [${secretName}/versions/${version}] not found.`);
  }
  const name = `${secretName}/versions/${number}`;
  if (found.state !== 'ENABLED') {
    return errorAnswer(400, 'FAILED_PRECONDITION', `Secret Version [${name}] is in ${found.state} state.`);
  }
  return { name, data: found.data };
}

function errorAnswer(httpStatus: number, status: string, message: string): ErrorAnswer {
  return { httpStatus, status, message };
}

function statusForHttp(httpStatus: number): string {
  const statuses: Record<number, string> = { 500: 'INTERNAL', 503: 'UNAVAILABLE', 504: 'DEADLINE_EXCEEDED' };
  return statuses[httpStatus] ?? 'UNKNOWN';
}

function throttleAnswer(retryAfterSeconds: number | undefined): ErrorAnswer {
  const message = "Quota exceeded for quota metric 'Access requests' and limit 'Access requests per minute per project'.";
  if (retryAfterSeconds === undefined) return errorAnswer(429, 'RESOURCE_EXHAUSTED', message);
  return {
    ...errorAnswer(429, 'RESOURCE_EXHAUSTED', message),
    headers: { 'retry-after': String(retryAfterSeconds) },
    details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${retryAfterSeconds}s` }],
  };
}

interface ServiceAccountKey {
  keyId: string;
  privateKeyPem: string;
}

async function newServiceAccountKey(publicKeys: Map<string, KeyObject>): Promise<ServiceAccountKey> {
  const { publicKey, privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
  const keyId = randomBytes(20).toString('hex');
  publicKeys.set(keyId, publicKey);
  return { keyId, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

function serviceAccountKeyFile(key: ServiceAccountKey, url: string): Record<string, string> {
  return {
    type: 'service_account',
    project_id: project,
    private_key_id: key.keyId,
    private_key: key.privateKeyPem,
    client_email: clientEmail,
    client_id: '100000000000000000001',
    // The client signs its own tokens; if it ever asked a token server, the fake would see it.
    token_uri: `${url}/token`,
    universe_domain: 'googleapis.com',
  };
}

interface Token {
  keyId: string | undefined;
  issuedAt: number | undefined;
  signedPart: string;
  signature: Buffer;
  claims: Record<string, unknown>;
}

function readToken(authorization: string | undefined): Token | undefined {
  const match = /^Bearer ([\w-]+)\.([\w-]+)\.([\w-]+)$/.exec(authorization ?? '');
  if (match === null) return undefined;
  try {
    const header = JSON.parse(Buffer.from(match[1]!, 'base64url').toString()) as Record<string, unknown>;
    const claims = JSON.parse(Buffer.from(match[2]!, 'base64url').toString()) as Record<string, unknown>;
    if (header.alg !== 'RS256') return undefined;
    return {
      keyId: typeof header.kid === 'string' ? header.kid : undefined,
      issuedAt: typeof claims.iat === 'number' ? claims.iat : undefined,
      signedPart: `${match[1]}.${match[2]}`,
      signature: Buffer.from(match[3]!, 'base64url'),
      claims,
    };
  } catch {
    return undefined;
  }
}

function tokenIsValid(token: Token | undefined, publicKeys: Map<string, KeyObject>, validFromMs: number): boolean {
  const publicKey = token?.keyId === undefined ? undefined : publicKeys.get(token.keyId);
  if (token === undefined || publicKey === undefined || token.issuedAt === undefined) return false;
  if (!verify('RSA-SHA256', Buffer.from(token.signedPart), publicKey, token.signature)) return false;

  const { iss, exp, scope, aud } = token.claims;
  const scoped = typeof scope === 'string' && scope.split(' ').includes('https://www.googleapis.com/auth/cloud-platform');
  const audienced = aud === 'https://secretmanager.googleapis.com/';
  return (
    iss === clientEmail &&
    typeof exp === 'number' &&
    exp * 1000 > Date.now() &&
    token.issuedAt * 1000 >= validFromMs &&
    (scoped || audienced)
  );
}
