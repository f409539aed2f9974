/**
 * One HTTP request to a token endpoint (Entra ID or a managed identity endpoint) over node:https,
 * with the extra CA, the caller's abort signal and a cap on the response size.
 */
import http from 'node:http';
import https from 'node:https';
import { DsvError } from '../../errors.ts';

/** Largest token response read; real ones are a few KiB. */
const maxResponseBytes = 256 * 1024;

/**
 * Upper bound for one token request. A background token refresh keeps the abort signal of the
 * fetch that started it, so this bound, not that signal, ends a hung refresh.
 */
const requestTimeoutMs = 30_000;

export interface TokenRequest {
  readonly url: URL;
  readonly method: 'GET' | 'POST';
  readonly headers: Readonly<Record<string, string>>;
  /** Form body for POST, already encoded. */
  readonly body?: string;
}

export interface TokenResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** Parsed JSON body, or undefined when the body is not JSON. */
  readonly json: unknown;
}

/** CA certificates to trust for token requests; undefined keeps Node's defaults. */
export interface TlsTrust {
  readonly ca: readonly string[] | undefined;
}

// TODO: token requests ignore HTTPS_PROXY, while the Key Vault client honours it from the environment.

/** Sends one request. Connection and TLS failures become BACKEND_UNAVAILABLE, an abort or timeout TIMEOUT. */
export function sendTokenRequest(request: TokenRequest, trust: TlsTrust, signal: AbortSignal): Promise<TokenResponse> {
  const combined = AbortSignal.any([signal, AbortSignal.timeout(requestTimeoutMs)]);
  const transport = request.url.protocol === 'https:' ? https : http;
  const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
  if (request.body !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    headers['content-length'] = String(Buffer.byteLength(request.body));
  }

  return new Promise((resolve, reject) => {
    const outgoing = transport.request(
      request.url,
      { method: request.method, headers, signal: combined, agent: false, ca: trust.ca as string[] | undefined },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxResponseBytes) {
            response.destroy(new DsvError('BACKEND_ERROR', `token endpoint ${request.url.host} sent more than ${maxResponseBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        response.on('error', (error) => reject(transportError(error, request.url, combined)));
        response.on('end', () => {
          resolve({ status: response.statusCode ?? 0, headers: response.headers, json: parseJson(Buffer.concat(chunks)) });
        });
      },
    );
    outgoing.on('error', (error) => reject(transportError(error, request.url, combined)));
    outgoing.end(request.body);
  });
}

function transportError(error: Error, url: URL, signal: AbortSignal): unknown {
  if (error instanceof DsvError) return error;
  if (signal.aborted) {
    return new DsvError('TIMEOUT', `token request to ${url.host} timed out or was aborted`, { cause: error });
  }
  const code = (error as NodeJS.ErrnoException).code ?? error.message;
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/.test(code)) {
    return new DsvError(
      'BACKEND_UNAVAILABLE',
      `the TLS certificate of token endpoint ${url.host} was rejected (${code}); for a private CA, put its certificate in DSV_AZURE_CA_FILE`,
      { cause: error },
    );
  }
  return new DsvError('BACKEND_UNAVAILABLE', `cannot reach token endpoint ${url.host} (${code})`, { cause: error });
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}
