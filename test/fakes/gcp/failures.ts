/** Injected failures (5xx, throttling) and the JSON error bodies Google returns. */
import { tokenIsValid, type Token } from './auth.ts';
import type { GcpState } from './state.ts';
import type { ErrorAnswer } from './types.ts';

/** Returns the injected failure or the authentication error this request gets, if any. */
export function injectedError(state: GcpState, token: Token | undefined): ErrorAnswer | undefined {
  if (state.failures.count > 0) {
    state.failures.count--;
    return errorAnswer(state.failures.httpStatus, statusForHttp(state.failures.httpStatus), 'Injected failure.');
  }
  if (state.throttled.count > 0) {
    state.throttled.count--;
    return throttleAnswer(state.throttled.retryAfterSeconds);
  }
  if (!tokenIsValid(token, state.publicKeys, state.tokensValidFromMs)) {
    const message = 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.';
    return errorAnswer(401, 'UNAUTHENTICATED', message);
  }
  return undefined;
}

export function errorAnswer(httpStatus: number, status: string, message: string): ErrorAnswer {
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
