/**
 * The HTTP transport to Vault or OpenBao over node:http and node:https: one request per call, no
 * retries, JSON bodies, the namespace header on every request. Transport failures become
 * DsvErrors here. HTTP statuses are left to the caller, because only the caller can name the
 * request in a message.
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { DsvError } from '../../errors.ts';

/** Largest response body read, in bytes; Vault's own default request size limit is 32 MiB. */
const maxResponseBytes = 8 * 1024 * 1024;

export interface VaultRequest {
  readonly method: 'GET' | 'POST';
  /** Percent-encoded API path starting with `/v1/`, with its query string if any. */
  readonly path: string;
  readonly token?: string;
  readonly body?: Readonly<Record<string, unknown>>;
  readonly signal: AbortSignal;
}

export interface VaultResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The parsed JSON body; undefined when the body is empty or not JSON. */
  readonly body: unknown;
}

export interface VaultHttpOptions {
  /** VAULT_ADDR, already checked to be an http or https URL. */
  readonly address: URL;
  readonly namespace: string | undefined;
  /** PEM certificates from VAULT_CACERT, trusted instead of the system CAs. */
  readonly ca: Buffer | undefined;
}

const tlsErrorCode = /CERT|SSL|TLS|ISSUER|LEAF_SIGNATURE|EPROTO/;

export class VaultHttp {
  readonly #base: string;
  readonly #origin: string;
  readonly #namespace: string | undefined;
  readonly #caConfigured: boolean;
  readonly #agent: http.Agent;
  readonly #request: typeof http.request;

  constructor(options: VaultHttpOptions) {
    this.#base = options.address.href.replace(/\/+$/, '');
    this.#origin = options.address.origin;
    this.#namespace = options.namespace;
    this.#caConfigured = options.ca !== undefined;
    const secure = options.address.protocol === 'https:';
    // Idle keep-alive sockets are unref'd by the agent, so they do not keep the process running.
    this.#agent = secure ? new https.Agent({ keepAlive: true, ca: options.ca }) : new http.Agent({ keepAlive: true });
    this.#request = secure ? https.request : http.request;
  }

  /** The server's origin, for messages and logs. */
  get origin(): string {
    return this.#origin;
  }

  /** Sends one request and reads the whole response; throws a DsvError only when no HTTP response came. */
  send(request: VaultRequest): Promise<VaultResponse> {
    const headers: Record<string, string> = { 'X-Vault-Request': 'true' };
    if (request.token !== undefined) headers['X-Vault-Token'] = request.token;
    if (this.#namespace !== undefined) headers['X-Vault-Namespace'] = this.#namespace;
    const payload = request.body === undefined ? undefined : JSON.stringify(request.body);
    if (payload !== undefined) headers['Content-Type'] = 'application/json';

    return new Promise<VaultResponse>((resolve, reject) => {
      const fail = (error: unknown) => reject(this.#transportError(error, request.signal));
      const outgoing = this.#request(
        `${this.#base}${request.path}`,
        { method: request.method, agent: this.#agent, headers, signal: request.signal },
        (incoming) => {
          const chunks: Buffer[] = [];
          let size = 0;
          incoming.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > maxResponseBytes) {
              reject(new DsvError('BACKEND_ERROR', `Vault at ${this.#origin} sent a response larger than ${maxResponseBytes} bytes`));
              outgoing.destroy();
              return;
            }
            chunks.push(chunk);
          });
          incoming.on('end', () => {
            resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, body: parseJson(chunks) });
          });
          incoming.on('error', fail);
        },
      );
      outgoing.on('error', fail);
      outgoing.end(payload);
    });
  }

  #transportError(error: unknown, signal: AbortSignal): DsvError {
    if (error instanceof DsvError) return error;
    if (signal.aborted) {
      return new DsvError('TIMEOUT', `no response from Vault at ${this.#origin} before the fetch deadline`, {
        cause: error,
      });
    }
    const code = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
    // OpenSSL reports a plain http response to a TLS handshake as "wrong version number".
    const message = error instanceof Error ? error.message : '';
    if (/wrong.version.number/i.test(`${code} ${message}`)) {
      return new DsvError(
        'BACKEND_UNAVAILABLE',
        `TLS connection to Vault at ${this.#origin} failed (${code}): the server seems to use plain http, so check the scheme in VAULT_ADDR`,
        { cause: error },
      );
    }
    if (tlsErrorCode.test(code)) {
      const fix = this.#caConfigured
        ? 'check that VAULT_CACERT contains the CA certificate that signed the server certificate and that VAULT_ADDR names a host the certificate covers'
        : 'set VAULT_CACERT to the CA certificate file that signed the server certificate';
      return new DsvError('BACKEND_UNAVAILABLE', `TLS connection to Vault at ${this.#origin} failed (${code}): ${fix}`, {
        cause: error,
      });
    }
    return new DsvError('BACKEND_UNAVAILABLE', `cannot reach Vault at ${this.#origin} (${code})`, { cause: error });
  }
}

function parseJson(chunks: Buffer[]): unknown {
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
