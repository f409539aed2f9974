/**
 * Turns what the Secret Manager client throws into DsvErrors. Two shapes arrive:
 * - google-gax 5 on REST (what dsv uses, checked with gax 5.0.8) rejects with a GaxiosError whose
 *   `status` is the HTTP status and whose `message` is the raw JSON error body
 *   `{"error": {"code", "message", "status", "details"}}`;
 * - gRPC, and gax 6 on REST, reject with a GoogleError whose `code` is the gRPC status number.
 * Both are reduced to a gRPC status name first. The original error never becomes the cause,
 * because a GaxiosError carries the request's Authorization header in its `config`.
 */
import { DsvError, type ErrorCode } from '../../errors.ts';

/** gRPC status names by number, as in google.rpc.Code. */
const grpcStatusNames = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];
const knownStatuses = new Set(grpcStatusNames);

/** Google's HTTP-to-gRPC mapping, used when an error body carries no `status` of its own. */
const statusByHttpCode: Readonly<Record<number, string>> = {
  400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND',
  409: 'ABORTED', 412: 'FAILED_PRECONDITION', 429: 'RESOURCE_EXHAUSTED', 499: 'CANCELLED',
  501: 'UNIMPLEMENTED', 503: 'UNAVAILABLE', 504: 'DEADLINE_EXCEEDED',
};

const codeByStatus: Readonly<Record<string, ErrorCode>> = {
  NOT_FOUND: 'SECRET_NOT_FOUND',
  PERMISSION_DENIED: 'ACCESS_DENIED',
  UNAUTHENTICATED: 'INVALID_CREDENTIALS',
  RESOURCE_EXHAUSTED: 'THROTTLED',
  UNAVAILABLE: 'BACKEND_UNAVAILABLE',
  INTERNAL: 'BACKEND_UNAVAILABLE',
  UNKNOWN: 'BACKEND_UNAVAILABLE',
  ABORTED: 'BACKEND_UNAVAILABLE',
  CANCELLED: 'BACKEND_UNAVAILABLE',
  DEADLINE_EXCEEDED: 'TIMEOUT',
  INVALID_ARGUMENT: 'INVALID_OPTION',
  OUT_OF_RANGE: 'INVALID_OPTION',
};

/** Node and undici codes for requests that never received an HTTP response. */
const connectionErrorCodes = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH',
  'ENETUNREACH', 'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_CLOSED',
]);

/** A client failure reduced to the facts dsv uses, none of which can hold a secret value. */
export interface GcpFailure {
  /** gRPC status name such as NOT_FOUND, or UNKNOWN_CLIENT_ERROR for a local failure. */
  readonly status: string;
  /** Whether Secret Manager itself sent this status, not a token server, the client or the network. */
  readonly fromSecretManager: boolean;
  readonly httpStatus: number | undefined;
  /** The server's own explanation, or a short description of a local failure. */
  readonly detail: string;
  readonly retryAfterMs: number | undefined;
}

/** Maps a client error for the version `name` to a DsvError. */
export function mapGcpError(error: unknown, name: string): DsvError {
  if (error instanceof DsvError) return error;
  return failureToDsvError(describeGcpError(error), name);
}

/** Reduces any thrown value to a GcpFailure. */
export function describeGcpError(error: unknown): GcpFailure {
  const fields = (typeof error === 'object' && error !== null ? error : {}) as Record<string, unknown>;
  if (typeof fields.status === 'number') return describeHttpError(fields, fields.status);
  if (typeof fields.code === 'number' && grpcStatusNames[fields.code] !== undefined) {
    return describeGrpcError(fields, grpcStatusNames[fields.code]!);
  }

  const connectionCode = findConnectionCode(fields);
  if (connectionCode !== undefined) {
    const detail = `connection failed (${connectionCode})`;
    return { status: 'UNAVAILABLE', fromSecretManager: false, httpStatus: undefined, detail, retryAfterMs: undefined };
  }
  // Decoding errors quote the response they failed on, which contains the payload, so only the
  // error's type is kept.
  const type = error instanceof Error ? error.name : typeof error;
  const detail = type === 'SyntaxError' ? 'the response is not valid JSON' : `the client failed with ${type}`;
  return { status: 'UNKNOWN_CLIENT_ERROR', fromSecretManager: false, httpStatus: undefined, detail, retryAfterMs: undefined };
}

function describeHttpError(fields: Record<string, unknown>, httpStatus: number): GcpFailure {
  const url = String((fields.config as { url?: unknown } | undefined)?.url ?? '');
  if (url !== '' && !url.includes(':access')) return describeTokenError(fields, httpStatus);

  const body = parseErrorBody(fields.message);
  const bodyStatus = typeof body?.status === 'string' && knownStatuses.has(body.status) ? body.status : undefined;
  const status = bodyStatus ?? statusByHttpCode[httpStatus] ?? (httpStatus >= 500 ? 'UNAVAILABLE' : 'UNKNOWN_HTTP_ERROR');
  const detail = typeof body?.message === 'string' ? truncate(body.message) : `HTTP ${httpStatus}`;
  const retryAfterMs = retryAfterHeaderMs(fields.response) ?? retryInfoMs(body?.details);
  return { status, fromSecretManager: true, httpStatus, detail, retryAfterMs };
}

/**
 * Describes a failed request to a token endpoint (an external-account or impersonation
 * exchange), whose OAuth error body is `{"error": "invalid_grant", "error_description": "..."}`.
 */
function describeTokenError(fields: Record<string, unknown>, httpStatus: number): GcpFailure {
  let description = `HTTP ${httpStatus}`;
  try {
    const body = JSON.parse(String(fields.message)) as { error?: unknown; error_description?: unknown };
    if (typeof body.error_description === 'string') description = truncate(body.error_description);
    else if (typeof body.error === 'string') description = body.error;
  } catch {
    // Not an OAuth JSON body: keep the HTTP status alone.
  }
  const status = httpStatus >= 500 || httpStatus === 429 ? 'UNAVAILABLE' : 'UNAUTHENTICATED';
  const detail = `getting an access token failed: ${description}`;
  return { status, fromSecretManager: false, httpStatus, detail, retryAfterMs: undefined };
}

function describeGrpcError(fields: Record<string, unknown>, status: string): GcpFailure {
  // grpc-js puts the server's text in `details`; GoogleError from REST puts it in `message`.
  const text = typeof fields.details === 'string' ? fields.details : fields.message;
  const detail = typeof text === 'string' && text !== '' ? truncate(text) : status;
  return { status, fromSecretManager: true, httpStatus: undefined, detail, retryAfterMs: retryInfoMs(fields.statusDetails) };
}

function parseErrorBody(message: unknown): Record<string, unknown> | undefined {
  if (typeof message !== 'string' || !message.startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(message) as { error?: unknown };
    return typeof parsed.error === 'object' && parsed.error !== null ? (parsed.error as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Reads Retry-After (seconds or an HTTP date) from a gaxios response. */
function retryAfterHeaderMs(response: unknown): number | undefined {
  const headers = (response as { headers?: unknown } | undefined)?.headers;
  let value: unknown;
  if (headers instanceof Headers) value = headers.get('retry-after');
  else if (typeof headers === 'object' && headers !== null) value = (headers as Record<string, unknown>)['retry-after'];
  if (typeof value !== 'string' || value.trim() === '') return undefined;

  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/**
 * Reads google.rpc.RetryInfo from error details: `retryDelay` is "1.5s" in JSON bodies and
 * `{seconds, nanos}` once gax has decoded gRPC details.
 */
function retryInfoMs(details: unknown): number | undefined {
  if (!Array.isArray(details)) return undefined;
  for (const detail of details as unknown[]) {
    const delay = (detail as { retryDelay?: unknown } | null)?.retryDelay;
    if (typeof delay === 'string') {
      const match = /^(\d+(?:\.\d+)?)s$/.exec(delay);
      if (match !== null) return Math.round(Number(match[1]) * 1000);
    } else if (typeof delay === 'object' && delay !== null) {
      const { seconds, nanos } = delay as { seconds?: unknown; nanos?: unknown };
      const wholeSeconds = Number(seconds ?? 0);
      const fraction = Number(nanos ?? 0) / 1e9;
      if (Number.isFinite(wholeSeconds) && Number.isFinite(fraction)) return Math.round((wholeSeconds + fraction) * 1000);
    }
  }
  return undefined;
}

function findConnectionCode(fields: Record<string, unknown>): string | undefined {
  // gaxios wraps the fetch failure in `error`; Node puts the socket error in `cause`.
  const nested = [fields, fields.error, fields.cause, (fields.cause as Record<string, unknown> | undefined)?.cause];
  for (const candidate of nested) {
    const code = (candidate as { code?: unknown } | undefined)?.code;
    if (typeof code === 'string' && connectionErrorCodes.has(code)) return code;
  }
  return undefined;
}

/** Chooses the DsvError code for a failure; FAILED_PRECONDITION depends on the version state. */
export function failureToDsvError(failure: GcpFailure, name: string): DsvError {
  let code: ErrorCode = codeByStatus[failure.status] ?? 'BACKEND_ERROR';
  if (failure.status === 'FAILED_PRECONDITION' && /\b(?:DISABLED|DESTROYED)\b/.test(failure.detail)) {
    code = 'SECRET_DELETED';
  }
  const http = failure.httpStatus === undefined ? '' : `HTTP ${failure.httpStatus} `;
  const message = failure.fromSecretManager
    ? `Secret Manager returned ${http}${failure.status} for "${name}": ${failure.detail}`
    : `request for "${name}" failed: ${failure.detail}`;
  const cause = new Error(`${http}${failure.status}: ${failure.detail}`);
  return new DsvError(code, message, { cause, retryAfterMs: code === 'THROTTLED' ? failure.retryAfterMs : undefined });
}

function truncate(text: string): string {
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
