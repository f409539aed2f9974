/**
 * Maps errors from the AWS SDK (service exceptions, credential provider errors, network errors)
 * to dsv error codes for the Secrets Manager and SSM backends. It loads no SDK, because it only
 * reads the fields SDK errors carry (`name`, `$fault`, `$metadata`, `$response`).
 */
import { DsvError, type ErrorCode } from '../../errors.ts';

/** The fields of an SDK error that the mapping reads. */
interface AwsErrorLike {
  readonly name?: string;
  readonly message?: string;
  readonly code?: string;
  readonly $fault?: 'client' | 'server';
  readonly $metadata?: { readonly httpStatusCode?: number };
  readonly $response?: { readonly headers?: Readonly<Record<string, string | undefined>> };
  readonly $retryable?: { readonly throttling?: boolean };
}

/** The failed request: the service's display name and the secret reference as the user gave it. */
export interface AwsRequestContext {
  readonly service: string;
  readonly reference: string;
}

const codesByName: Readonly<Record<string, ErrorCode>> = {
  ResourceNotFoundException: 'SECRET_NOT_FOUND',
  ParameterNotFound: 'SECRET_NOT_FOUND',
  ParameterVersionNotFound: 'SECRET_NOT_FOUND',
  AccessDeniedException: 'ACCESS_DENIED',
  AccessDenied: 'ACCESS_DENIED',
  // Secrets Manager could not decrypt with the secret's KMS key, most often for lack of kms:Decrypt.
  DecryptionFailure: 'ACCESS_DENIED',
  UnrecognizedClientException: 'INVALID_CREDENTIALS',
  InvalidClientTokenId: 'INVALID_CREDENTIALS',
  InvalidSignatureException: 'INVALID_CREDENTIALS',
  SignatureDoesNotMatch: 'INVALID_CREDENTIALS',
  IncompleteSignature: 'INVALID_CREDENTIALS',
  MissingAuthenticationToken: 'INVALID_CREDENTIALS',
  MissingAuthenticationTokenException: 'INVALID_CREDENTIALS',
  ExpiredTokenException: 'INVALID_CREDENTIALS',
  ExpiredToken: 'INVALID_CREDENTIALS',
  CredentialsProviderError: 'INVALID_CREDENTIALS',
  ProviderError: 'INVALID_CREDENTIALS',
  ThrottlingException: 'THROTTLED',
  Throttling: 'THROTTLED',
  TooManyRequestsException: 'THROTTLED',
  TooManyUpdates: 'THROTTLED',
  RequestLimitExceeded: 'THROTTLED',
  InternalServiceError: 'BACKEND_UNAVAILABLE',
  InternalServerError: 'BACKEND_UNAVAILABLE',
  InternalFailure: 'BACKEND_UNAVAILABLE',
  ServiceUnavailable: 'BACKEND_UNAVAILABLE',
  ServiceUnavailableException: 'BACKEND_UNAVAILABLE',
  ValidationException: 'INVALID_OPTION',
  InvalidParameterException: 'INVALID_OPTION',
};

/** Node socket and DNS errors: the endpoint could not be reached or dropped the connection. */
const networkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EADDRNOTAVAIL',
]);

/** OpenSSL certificate errors as Node reports them: the endpoint's certificate is not trusted. */
const tlsCodePattern = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS/;

/**
 * Converts anything the SDK throws into a DsvError. The message names the service, the secret
 * reference and the AWS error name. It quotes the service's own message only for error responses,
 * whose messages name resources but not values. It never quotes other errors, which may quote a
 * response body.
 */
export function mapAwsError(error: unknown, request: AwsRequestContext): DsvError {
  if (error instanceof DsvError) return error;
  const failure = (typeof error === 'object' && error !== null ? error : {}) as AwsErrorLike;
  const name = failure.name ?? 'Error';
  const status = failure.$metadata?.httpStatusCode;
  const where = `${request.service} request for "${request.reference}"`;
  // Only an error response (4xx or 5xx) carries a service message. A 2xx body may contain the value.
  const isErrorResponse = failure.$fault !== undefined && status !== undefined && status >= 400;
  const detail = isErrorResponse ? describeServiceError(name, failure.message) : name;
  const options = { cause: isErrorResponse || status === undefined ? error : undefined };

  if (name === 'AbortError') {
    return new DsvError('TIMEOUT', `${where} was aborted before a response arrived`, options);
  }
  if (failure.code !== undefined && networkCodes.has(failure.code)) {
    const message = `${where} failed: cannot reach the endpoint (${failure.code})`;
    return new DsvError('BACKEND_UNAVAILABLE', message, options);
  }
  if (failure.code !== undefined && tlsCodePattern.test(failure.code)) {
    const message = `${where} failed: the endpoint's TLS certificate is not trusted (${failure.code})`;
    return new DsvError('BACKEND_ERROR', `${message}. Set AWS_CA_BUNDLE if the endpoint uses a private CA`, options);
  }
  if (name === 'TimeoutError') {
    return new DsvError('BACKEND_UNAVAILABLE', `${where} failed: the connection timed out`, options);
  }

  const code = codeFor(name, failure);
  const retryAfterMs = code === 'THROTTLED' || code === 'BACKEND_UNAVAILABLE' ? retryAfter(failure) : undefined;
  return new DsvError(code, `${where} failed: ${describeOutcome(code, status)} (${detail})`, {
    ...options,
    retryAfterMs,
  });
}

/**
 * Builds the BACKEND_ERROR for a successful response whose value field has the wrong type, which
 * the SDK passes on unchecked. The message names the field and the type it had, never the value.
 */
export function malformedAnswer(request: AwsRequestContext, field: string, expected: string, value: unknown): DsvError {
  const where = `${request.service} request for "${request.reference}"`;
  return new DsvError('BACKEND_ERROR', `${where} returned a malformed response: ${field} is ${typeName(value)}, not ${expected}`);
}

/** Names the type of a decoded JSON value, such as "a number" or "an object". */
function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function codeFor(name: string, failure: AwsErrorLike): ErrorCode {
  const message = failure.message ?? '';
  if (name === 'InvalidRequestException' && /marked for deletion/i.test(message)) return 'SECRET_DELETED';
  // Secrets Manager's response when `version` and `stage` name different versions.
  if (name === 'InvalidRequestException' && /VersionStage/.test(message) && /VersionId/.test(message)) {
    return 'INVALID_OPTION';
  }
  const named = codesByName[name];
  if (named !== undefined) return named;

  const status = failure.$metadata?.httpStatusCode;
  if (failure.$retryable?.throttling === true || status === 429) return 'THROTTLED';
  if (failure.$fault === 'server' || (status !== undefined && status >= 500)) return 'BACKEND_UNAVAILABLE';
  return 'BACKEND_ERROR';
}

function describeOutcome(code: ErrorCode, status: number | undefined): string {
  switch (code) {
    case 'SECRET_NOT_FOUND':
      return 'not found';
    case 'SECRET_DELETED':
      return 'the secret is scheduled for deletion';
    case 'ACCESS_DENIED':
      return 'access denied';
    case 'INVALID_CREDENTIALS':
      return 'the AWS credentials are missing or were rejected';
    case 'THROTTLED':
      return 'throttled';
    case 'BACKEND_UNAVAILABLE':
      return status === undefined ? 'service unavailable' : `service unavailable (HTTP ${status})`;
    case 'INVALID_OPTION':
      return 'the request is invalid';
    default:
      return status === undefined ? 'unexpected error' : `unexpected error (HTTP ${status})`;
  }
}

/** Formats `Name: message` with the message on one line and cut to a readable length. */
function describeServiceError(name: string, message: string | undefined): string {
  const text = (message ?? '').replace(/\s+/g, ' ').trim();
  if (text === '' || text === name) return name;
  return `${name}: ${text.length > 300 ? `${text.slice(0, 300)}...` : text}`;
}

function retryAfter(failure: AwsErrorLike): number | undefined {
  const headers = failure.$response?.headers ?? {};
  const header = Object.entries(headers).find(([key]) => key.toLowerCase() === 'retry-after')?.[1];
  return parseRetryAfter(header);
}

/** Parses a Retry-After header (delay in seconds, or an HTTP date) into milliseconds from now. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Every HTTP date format names a day or month, and this keeps Date.parse from reading "-1" as a year.
  if (!/[A-Za-z]{3}/.test(text)) return undefined;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
