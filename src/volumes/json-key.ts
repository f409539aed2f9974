/**
 * The `key` option: picks one field out of a JSON secret. Errors name the key and never quote the
 * secret, which rules out passing on JSON.parse's own messages (they echo the input).
 */
import { DsvError } from '../errors.ts';

// JSON.rawJSON and JSON.isRawJSON ship in Node 22 and later, but TypeScript 5.9's libraries lack them.
declare global {
  interface JSON {
    rawJSON(text: string): object;
    isRawJSON(value: unknown): boolean;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/**
 * Returns the bytes to write for `key`. A literal top-level key wins over a dotted path, so
 * `{"a.b": 1}` with key `a.b` gives `1`. Strings are written as their text, numbers and booleans
 * as their JSON text exactly as stored, objects and arrays as compact JSON.
 */
export function extractKey(value: Uint8Array, key: string): Uint8Array {
  const document = parseObject(value, key);
  const found = lookUp(document, key);

  if (found === undefined) {
    throw new DsvError('KEY_NOT_FOUND', `key "${key}" is not in the JSON secret`);
  }
  if (found === null) {
    throw new DsvError('KEY_NOT_FOUND', `key "${key}" is null in the JSON secret`);
  }
  if (typeof found === 'string') {
    if (found === '') throw new DsvError('KEY_NOT_FOUND', `key "${key}" is an empty string in the JSON secret`);
    return encoder.encode(found);
  }
  return encoder.encode(JSON.stringify(found));
}

function parseObject(value: Uint8Array, key: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    // Numbers keep their source text (JSON.rawJSON), so 1.10 and 2^64 are written as stored.
    parsed = JSON.parse(utf8.decode(value), (_name, item: unknown, context?: { source?: string }) =>
      typeof item === 'number' && context?.source !== undefined ? JSON.rawJSON(context.source) : item,
    );
  } catch {
    throw new DsvError('SECRET_NOT_JSON', `option "key" is "${key}" but the secret is not valid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new DsvError('SECRET_NOT_JSON', `option "key" is "${key}" but the secret is not a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

function lookUp(document: Record<string, unknown>, key: string): unknown {
  if (Object.hasOwn(document, key)) return document[key];

  let current: unknown = document;
  for (const part of key.split('.')) {
    if (typeof current !== 'object' || current === null || Array.isArray(current) || JSON.isRawJSON(current)) {
      return undefined;
    }
    if (!Object.hasOwn(current, part)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}
