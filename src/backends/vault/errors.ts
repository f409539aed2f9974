/**
 * Maps Vault's HTTP responses to dsv error codes. Vault reports failures as `{"errors": [...]}`.
 * Those strings describe the request (paths, "permission denied", "Vault is sealed") and never
 * contain secret data, so messages quote them, shortened.
 */
import { DsvError } from '../../errors.ts';
import type { VaultResponse } from './http.ts';

/** Maximum length of the quoted Vault error strings in one message, in characters. */
const maxQuotedChars = 300;

/** Returns Vault's error strings from a response body, joined, stripped of control characters and capped. */
export function vaultErrorText(body: unknown): string {
  const errors = (body as { errors?: unknown } | undefined)?.errors;
  if (!Array.isArray(errors)) return '';
  const text = errors
    .filter((error): error is string => typeof error === 'string')
    .map((error) => error.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim())
    .filter((error) => error !== '')
    .join('; ');
  return text.length > maxQuotedChars ? `${text.slice(0, maxQuotedChars)}...` : text;
}

/**
 * Parses a Retry-After header, which contains either seconds or an HTTP date, into milliseconds.
 * Returns undefined for a missing or malformed header.
 */
export function parseRetryAfter(header: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * Builds the error for a response that is not a success. `action` names the request, such as
 * `reading "secret/myapp/db"`. Callers handle a KV read's 404 themselves before calling this,
 * because a deleted version also returns 404.
 */
export function statusError(response: VaultResponse, action: string): DsvError {
  const { status } = response;
  const quoted = vaultErrorText(response.body);
  const detail = quoted === '' ? `HTTP ${status}` : `HTTP ${status}: ${quoted}`;

  if (status === 400) return new DsvError('INVALID_OPTION', `Vault rejected the request when ${action} (${detail})`);
  if (status === 403) return new DsvError('ACCESS_DENIED', `Vault denied access when ${action} (${detail})`);
  if (status === 404) return new DsvError('SECRET_NOT_FOUND', `Vault found nothing when ${action} (${detail})`);
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(response.headers['retry-after']);
    return new DsvError('THROTTLED', `Vault rate limited the request when ${action} (${detail})`, { retryAfterMs });
  }
  if (status >= 500) {
    // A sealed or standby Vault returns 503; the quoted text names the cause.
    return new DsvError('BACKEND_UNAVAILABLE', `Vault is unavailable or failed when ${action} (${detail})`);
  }
  return new DsvError('BACKEND_ERROR', `unexpected response from Vault when ${action} (${detail})`);
}
