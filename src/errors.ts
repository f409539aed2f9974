/**
 * The error catalog. Every failure dsv reports carries one of these codes, so users can look it up
 * in docs/errors.md, and retry logic can decide from the code alone. A test keeps this table, the
 * documentation page and the codes thrown by the code in step.
 */

/** Party that has to act: the user (request, options, secret, permissions), the backend, or dsv itself. */
export type Fault = 'caller' | 'backend' | 'internal';

export interface ErrorSpec {
  readonly fault: Fault;
  /** Whether the same request may succeed if sent again later. */
  readonly retryable: boolean;
  /** Advice for the user, appended to the message Docker shows. */
  readonly hint: string;
}

export const errorCatalog = {
  INVALID_REQUEST: {
    fault: 'caller',
    retryable: false,
    hint: 'The request did not follow the Docker plugin protocol; check the client that sent it.',
  },
  INVALID_OPTION: {
    fault: 'caller',
    retryable: false,
    hint: 'Fix the volume option; the README lists every option and the values it accepts.',
  },
  INVALID_SETTING: {
    fault: 'caller',
    retryable: false,
    hint: 'Fix the plugin setting with "docker plugin set" while the plugin is disabled.',
  },
  VOLUME_NOT_FOUND: {
    fault: 'caller',
    retryable: false,
    hint: 'Create the volume first with "docker volume create -d dsv".',
  },
  VOLUME_EXISTS: {
    fault: 'caller',
    retryable: false,
    hint: 'Remove the existing volume first or choose another name.',
  },
  SECRET_NOT_FOUND: {
    fault: 'caller',
    retryable: false,
    hint: "Check the secret name and version, and the backend's settings (region, project, vault or files folder).",
  },
  SECRET_DELETED: {
    fault: 'caller',
    retryable: false,
    hint: 'Restore the secret or version in the backend, or choose another version.',
  },
  SECRET_TOO_LARGE: {
    fault: 'caller',
    retryable: false,
    hint: 'Store a smaller value, or split it into several secrets and volumes.',
  },
  KEY_NOT_FOUND: {
    fault: 'caller',
    retryable: false,
    hint: 'Check the key option against the fields of the JSON secret.',
  },
  SECRET_NOT_JSON: {
    fault: 'caller',
    retryable: false,
    hint: 'The key option needs a secret whose value is a JSON object; drop the option to mount the whole value.',
  },
  ACCESS_DENIED: {
    fault: 'caller',
    retryable: false,
    hint: "Grant the plugin's identity read access to this secret.",
  },
  INVALID_CREDENTIALS: {
    fault: 'caller',
    retryable: false,
    hint: 'Check the credentials handed to the plugin; the README shows how to pass them for each backend.',
  },
  THROTTLED: {
    fault: 'backend',
    retryable: true,
    hint: 'The backend is rate limiting requests; try again later or lower the request rate.',
  },
  BACKEND_UNAVAILABLE: {
    fault: 'backend',
    retryable: true,
    hint: 'Check that the plugin can reach the backend endpoint and that the service is up.',
  },
  TIMEOUT: {
    fault: 'backend',
    retryable: true,
    hint: 'The backend did not answer within the fetch budget; check the network and the backend, or raise DSV_FETCH_TIMEOUT_SECONDS (at most 25).',
  },
  BACKEND_ERROR: {
    fault: 'backend',
    retryable: false,
    hint: 'The backend returned a response dsv did not expect; check the endpoint setting and the plugin log.',
  },
  MOUNT_FAILED: {
    fault: 'internal',
    retryable: false,
    hint: "Check the plugin log; the plugin's tmpfs may be full or not mounted.",
  },
  STATE_FAILED: {
    fault: 'internal',
    retryable: false,
    hint: "Check the state folder (DSV_STATE_DIR, or the managed plugin's propagated mount): it must be writable, have free space and hold a valid volumes.json.",
  },
  INTERNAL: {
    fault: 'internal',
    retryable: false,
    hint: 'This is a bug in dsv; check the plugin log and report it.',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof errorCatalog;

/** Location of a failure, named in the message Docker shows. It never contains a secret value. */
export interface ErrorContext {
  volume?: string;
  backend?: string;
  secret?: string;
}

export interface DsvErrorOptions {
  cause?: unknown;
  /** Delay the backend asked for before the next attempt (for example from Retry-After), in ms. */
  retryAfterMs?: number;
  context?: ErrorContext;
}

/**
 * The one error type dsv throws on purpose. The message says what failed without naming the
 * volume; `context` adds the volume, backend and secret reference when the error crosses the
 * volume layer. Messages must never contain a secret value.
 */
export class DsvError extends Error {
  override readonly name = 'DsvError';
  readonly code: ErrorCode;
  readonly retryAfterMs: number | undefined;
  readonly context: ErrorContext;

  constructor(code: ErrorCode, message: string, options: DsvErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryAfterMs = options.retryAfterMs;
    this.context = options.context ?? {};
  }

  get fault(): Fault {
    return errorCatalog[this.code].fault;
  }

  get retryable(): boolean {
    return errorCatalog[this.code].retryable;
  }

  /** Returns a copy with more context; fields already set win, since they are the most specific. */
  withContext(context: ErrorContext): DsvError {
    return new DsvError(this.code, this.message, {
      cause: this.cause,
      retryAfterMs: this.retryAfterMs,
      context: { ...context, ...this.context },
    });
  }

  /** Formats the full message for users: where, what, the code, and what to do. */
  describe(): string {
    const where = describeContext(this.context);
    const prefix = where === '' ? '' : `${where}: `;
    return `${prefix}${this.message} [${this.code}] ${errorCatalog[this.code].hint}`;
  }
}

function describeContext(context: ErrorContext): string {
  const parts: string[] = [];
  if (context.volume !== undefined) parts.push(`volume "${context.volume}"`);
  if (context.backend !== undefined && context.secret !== undefined) {
    parts.push(`${context.backend} secret "${context.secret}"`);
  } else if (context.backend !== undefined) {
    parts.push(`backend ${context.backend}`);
  }
  return parts.join(', ');
}

/** Wraps anything thrown into a DsvError; unknown errors become INTERNAL with the original as cause. */
export function toDsvError(error: unknown): DsvError {
  if (error instanceof DsvError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new DsvError('INTERNAL', `unexpected error: ${message}`, { cause: error });
}

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(errorCatalog, value);
}
