/**
 * Maps failures of a Key Vault request to dsv error codes. Messages name the secret and the
 * service's error code, never a value: Key Vault error bodies carry no secret values, and the
 * token credential throws DsvErrors that pass through unchanged.
 */
import { DsvError } from '../../errors.ts';

/** Node and OpenSSL codes for a server certificate that failed verification. */
const tlsVerifyCodes = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The fields of the SDK's RestError that the mapping reads. */
interface RestErrorFields {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly statusCode?: number;
  readonly response?: { readonly headers: { get(name: string): string | undefined } };
  readonly details?: { readonly error?: { readonly innerError?: { readonly code?: string } } };
}

/**
 * Maps anything `SecretClient.getSecret` throws. `secret` describes the reference for messages.
 */
export function mapKeyVaultError(error: unknown, secret: string): DsvError {
  if (error instanceof DsvError) return error;
  const failure = error as Partial<RestErrorFields>;
  const options = { cause: error };

  if (failure.name === 'AbortError') {
    return new DsvError('TIMEOUT', `reading secret ${secret} was aborted: the fetch budget ran out`, options);
  }
  if (failure.name !== 'RestError') {
    // The SDK throws plain errors for a challenge it rejects, such as a resource outside vault.azure.net.
    return new DsvError('BACKEND_ERROR', `reading secret ${secret} failed: ${String(failure.message)}`, options);
  }
  if (failure.statusCode === undefined) return mapTransportError(failure, secret, options);
  return mapStatus(failure as RestErrorFields & { statusCode: number }, secret, options);
}

function mapStatus(failure: RestErrorFields & { statusCode: number }, secret: string, options: { cause: unknown }): DsvError {
  const status = failure.statusCode;
  const service = `Key Vault returned ${status} ${failure.code ?? ''}`.trimEnd();
  const innerCode = failure.details?.error?.innerError?.code;

  if (status === 404) {
    // Key Vault returns the same 404 for a soft-deleted secret as for one that never existed.
    return new DsvError('SECRET_NOT_FOUND', `secret ${secret} was not found (${service}); a secret deleted recently may still be recoverable`, options);
  }
  if (status === 403 && (innerCode === 'SecretDisabled' || /disabled secret/i.test(failure.message))) {
    return new DsvError('SECRET_DELETED', `secret ${secret} is disabled (${service}); enable it or choose another version`, options);
  }
  if (status === 403) {
    return new DsvError('ACCESS_DENIED', `reading secret ${secret} was denied (${service}: ${brief(failure.message)})`, options);
  }
  if (status === 401) {
    return new DsvError('INVALID_CREDENTIALS', `Key Vault rejected the access token for secret ${secret} (${service})`, options);
  }
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(failure.response?.headers.get('retry-after'));
    return new DsvError('THROTTLED', `reading secret ${secret} was throttled (${service})`, { ...options, retryAfterMs });
  }
  if (status >= 500) {
    return new DsvError('BACKEND_UNAVAILABLE', `reading secret ${secret} failed (${service})`, options);
  }
  if (status === 400 && failure.code === 'BadParameter') {
    return new DsvError('INVALID_OPTION', `Key Vault rejected the request for secret ${secret} (${service}: ${brief(failure.message)})`, options);
  }
  return new DsvError('BACKEND_ERROR', `reading secret ${secret} failed (${service}: ${brief(failure.message)})`, options);
}

function mapTransportError(failure: Partial<RestErrorFields>, secret: string, options: { cause: unknown }): DsvError {
  const code = failure.code ?? 'unknown error';
  if (tlsVerifyCodes.has(code)) {
    return new DsvError(
      'BACKEND_UNAVAILABLE',
      `the vault's TLS certificate was rejected (${code}) while reading secret ${secret}; ` +
        'for a private CA, put its certificate in DSV_AZURE_CA_FILE',
      options,
    );
  }
  return new DsvError('BACKEND_UNAVAILABLE', `cannot reach the vault for secret ${secret} (${code})`, options);
}

/**
 * Parses a Retry-After header: delay seconds or an HTTP date. Returns ms, or undefined when the
 * header is missing or invalid.
 */
export function parseRetryAfter(header: string | null | undefined, now: number = Date.now()): number | undefined {
  if (header === undefined || header === null || header.trim() === '') return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Shortens a service message to its first line, so trace ids and long text stay in the cause. */
export function brief(message: string): string {
  const firstLine = message.split(/\r?\n/, 1)[0] ?? '';
  return firstLine.length > 200 ? `${firstLine.slice(0, 200)}...` : firstLine;
}
