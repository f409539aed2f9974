/**
 * The `gcp` backend: AccessSecretVersion through the official Node client, over REST
 * (`fallback: true`) in production as in tests, so the tested path is the shipped one.
 */
import { raceAbort } from '../abort.ts';
import { v1, type protos } from '@google-cloud/secret-manager';
import type { Logger } from 'pino';
import { DsvError } from '../../errors.ts';
import type { FetchContext, SecretBackend, SecretRequest } from '../backend.ts';
import { crc32c } from './crc32c.ts';
import { CredentialsFileWatcher, type CredentialsSource } from './credentials.ts';
import { endpointFor, type ApiEndpoint } from './endpoint.ts';
import { mapGcpError } from './error-mapping.ts';
import { formatVersionName, parseSecretReference } from './reference.ts';

type SecretManagerClient = InstanceType<typeof v1.SecretManagerServiceClient>;
type ClientOptions = NonNullable<ConstructorParameters<typeof v1.SecretManagerServiceClient>[0]>;
type AccessResponse = protos.google.cloud.secretmanager.v1.IAccessSecretVersionResponse;
type CancellablePromise<T> = Promise<T> & { cancel?: () => void };

export interface GcpBackendConfig {
  /** DSV_GCP_PROJECT: the project for bare secret ids; wins over the key file's project_id. */
  readonly project: string | undefined;
  /** DSV_GCP_ENDPOINT, parsed; replaces the global and regional endpoints. */
  readonly endpoint: ApiEndpoint | undefined;
  /** GOOGLE_APPLICATION_CREDENTIALS. */
  readonly credentialsFile: string | undefined;
  /** Used when GOOGLE_APPLICATION_CREDENTIALS is unset and this file exists. */
  readonly defaultCredentialsFile: string;
  readonly logger: Logger;
}

interface CachedClient {
  readonly client: SecretManagerClient;
  /** Set once a request went out; a used client may hold a cached token that is now stale. */
  used: boolean;
}

export class GcpBackend implements SecretBackend {
  readonly #config: GcpBackendConfig;
  readonly #credentials: CredentialsFileWatcher;
  #credentialsVersion: string | undefined;
  /** One client per endpoint: the global one and one per regional endpoint in use. */
  readonly #clients = new Map<string, CachedClient>();

  constructor(config: GcpBackendConfig) {
    this.#config = config;
    this.#credentials = new CredentialsFileWatcher(config.credentialsFile, config.defaultCredentialsFile);
  }

  async fetch(request: SecretRequest, context: FetchContext): Promise<Uint8Array> {
    const reference = parseSecretReference(request.secret, request.options);
    const credentials = await this.#credentials.current();
    this.#dropClientsIfChanged(credentials);

    const keyProject = credentials.kind === 'file' ? credentials.projectId : undefined;
    const name = formatVersionName(reference, this.#config.project ?? keyProject);
    const endpoint = endpointFor(reference.location, this.#config.endpoint);
    const response = await this.#accessRenewingToken(name, endpoint, credentials, context.signal);
    return verifiedPayload(response, name);
  }

  /**
   * Sends one AccessSecretVersion request. A client caches its self-signed token for up to an
   * hour, and the server may reject that token before it expires. So when the server rejects a
   * client that has sent requests before, the client is rebuilt and the request is sent once
   * more with a freshly signed token. A client built for this fetch gets no second request,
   * because its rejection means that the credentials themselves are bad.
   */
  async #accessRenewingToken(
    name: string,
    endpoint: ApiEndpoint,
    credentials: CredentialsSource,
    signal: AbortSignal,
  ): Promise<AccessResponse> {
    const cached = this.#client(endpoint, credentials);
    const wasUsed = cached.used;
    try {
      return await this.#access(cached, name, signal);
    } catch (error) {
      const failure = mapGcpError(error, name);
      if (failure.code !== 'INVALID_CREDENTIALS') throw failure;

      this.#forgetClient(endpoint, cached);
      if (!wasUsed || signal.aborted) throw failure;
      this.#config.logger.info({ secret: name }, 'GCP rejected a cached token; retrying once with a new client');
      return await this.#access(this.#client(endpoint, credentials), name, signal).catch((retryError: unknown) => {
        throw mapGcpError(retryError, name);
      });
    }
  }

  async #access(cached: CachedClient, name: string, signal: AbortSignal): Promise<AccessResponse> {
    cached.used = true;
    // initialize() loads the credentials (gax builds its REST stub from them). Doing that first
    // keeps credential errors, whose text is useful, apart from the API call's errors, whose
    // text is never shown because decoding errors can quote the payload.
    await abortable(cached.client.initialize(), signal, name).catch((error: unknown) => {
      if (error instanceof DsvError) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new DsvError('INVALID_CREDENTIALS', `loading GCP credentials failed: ${reason}`);
    });

    // innerApiCalls is the generated method without its wrapper, which returns a promise that
    // cannot be cancelled and logs whole responses when GOOGLE_SDK_NODE_LOGGING is set.
    // retry: null makes gax send exactly one request. maxRetries must stay unset, because gax
    // 5.0.8 then reads backoff settings from the null retry options and throws a TypeError.
    // gax on REST ignores `timeout`, so the signal alone bounds the request.
    const accessSecretVersion = cached.client.innerApiCalls.accessSecretVersion!;
    const call: CancellablePromise<[AccessResponse]> = accessSecretVersion(
      { name },
      { retry: null, otherArgs: { headers: { 'x-goog-request-params': `name=${encodeURIComponent(name)}` } } },
    );
    const [response] = await abortable(call, signal, name);
    return response;
  }

  #client(endpoint: ApiEndpoint, credentials: CredentialsSource): CachedClient {
    const key = endpointKey(endpoint);
    const existing = this.#clients.get(key);
    if (existing !== undefined) return existing;

    const options: ClientOptions = {
      fallback: true,
      apiEndpoint: endpoint.host,
      port: endpoint.port,
      protocol: endpoint.protocol,
    };
    if (credentials.kind === 'file') options.credentials = credentials.json as ClientOptions['credentials'];
    const created = { client: new v1.SecretManagerServiceClient(options), used: false };
    this.#clients.set(key, created);

    const source = credentials.kind === 'file' ? credentials.path : 'application default credentials';
    this.#config.logger.debug({ endpoint: key, credentials: source }, 'Secret Manager client created');
    return created;
  }

  #forgetClient(endpoint: ApiEndpoint, cached: CachedClient): void {
    const key = endpointKey(endpoint);
    // A concurrent fetch may already have replaced it; keep the newer client then.
    if (this.#clients.get(key) === cached) this.#clients.delete(key);
    closeQuietly(cached.client);
  }

  #dropClientsIfChanged(credentials: CredentialsSource): void {
    if (credentials.version === this.#credentialsVersion) return;
    if (this.#credentialsVersion !== undefined) {
      const source = credentials.kind === 'file' ? credentials.path : 'application default credentials';
      this.#config.logger.info({ credentials: source }, 'GCP credentials changed; rebuilding clients');
    }
    this.#credentialsVersion = credentials.version;
    for (const cached of this.#clients.values()) closeQuietly(cached.client);
    this.#clients.clear();
  }
}

function endpointKey(endpoint: ApiEndpoint): string {
  return `${endpoint.protocol}://${endpoint.host}:${endpoint.port}`;
}

function closeQuietly(client: SecretManagerClient): void {
  // On REST, close() only marks the client as terminated; requests in flight finish normally.
  client.close().catch(() => undefined);
}

/**
 * Settles with `promise`, or rejects with TIMEOUT as soon as `signal` aborts, cancelling the
 * request when the promise allows it. gax leaves a cancelled REST call unsettled, so the
 * rejection here cannot wait for it.
 */
function abortable<T>(promise: CancellablePromise<T>, signal: AbortSignal, name: string): Promise<T> {
  return raceAbort(promise, signal, () => {
    promise.cancel?.();
    return new DsvError('TIMEOUT', `request for "${name}" was aborted before Secret Manager responded`);
  });
}

/** Returns the payload bytes after checking them against `dataCrc32c` when the server sent it. */
export function verifiedPayload(response: AccessResponse, name: string): Uint8Array {
  const payload = response.payload;
  if (payload === null || payload === undefined) {
    throw new DsvError('BACKEND_ERROR', `Secret Manager returned no payload for "${name}"`);
  }
  const data = toBytes(payload.data);
  if (payload.dataCrc32c !== null && payload.dataCrc32c !== undefined) {
    // int64 arrives as a decimal string on REST and as a Long on gRPC; both print as decimal.
    if (String(payload.dataCrc32c) !== String(crc32c(data))) {
      // The checksums stay out of the message: a CRC of a short secret helps guess it.
      throw new DsvError(
        'BACKEND_ERROR',
        `payload of "${name}" does not match its CRC32C checksum; it was corrupted between Secret Manager and dsv`,
      );
    }
  }
  return data;
}

function toBytes(data: Uint8Array | string | null | undefined): Uint8Array {
  if (data === null || data === undefined) return new Uint8Array(0);
  if (typeof data === 'string') return Buffer.from(data, 'base64');
  return data;
}
