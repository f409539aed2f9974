/** The errors the fake sends, as HTTP status plus `{"__type", "message"}` like the real services. */
import { caller } from './identity.ts';

/** An AWS error response: `type` becomes `__type`, `headers` are sent as they are. */
export class AwsError extends Error {
  readonly type: string;
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(type: string, message: string, status = 400, headers: Record<string, string> = {}) {
    super(message);
    this.type = type;
    this.status = status;
    this.headers = headers;
  }
}

/** Builds the AccessDeniedException AWS sends when no identity-based policy allows `action`. */
export function accessDenied(action: string, resource: string): AwsError {
  return new AwsError(
    'AccessDeniedException',
    `User: ${caller} is not authorized to perform: ${action} on resource: ${resource} ` +
      `because no identity-based policy allows the ${action} action`,
  );
}
