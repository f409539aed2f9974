/** Vault's wire format: `{"errors": [...]}` for failures, the envelope with `data` and `auth` otherwise. */
import { randomUUID } from 'node:crypto';
import type { Reply } from './types.ts';

export const denied: Reply = { status: 403, body: { errors: ['permission denied'] } };
export const missing: Reply = { status: 404, body: { errors: [] } };

/** Builds the envelope that every successful Vault response shares. */
export function envelope(data: unknown, auth: unknown = null): Record<string, unknown> {
  return { request_id: randomUUID(), lease_id: '', renewable: false, lease_duration: 0, data, wrap_info: null, warnings: null, auth };
}

/** Parses a request body, or returns undefined when it is not JSON. */
export function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
