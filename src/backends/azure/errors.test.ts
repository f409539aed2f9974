import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DsvError } from '../../errors.ts';
import { mapKeyVaultError, parseRetryAfter } from './errors.ts';

/** Builds an object shaped like the SDK's RestError for a Key Vault error response. */
function restError(statusCode: number | undefined, code: string | undefined, message: string, extra: Record<string, unknown> = {}) {
  const headers = (extra.headers ?? {}) as Record<string, string>;
  return {
    name: 'RestError',
    message,
    code,
    statusCode,
    response: { headers: { get: (name: string) => headers[name] } },
    details: extra.details,
  };
}

const secret = '"db" in https://myvault.vault.azure.net';

test('Key Vault statuses map to error codes', () => {
  const cases: [ReturnType<typeof restError>, string][] = [
    [restError(404, 'SecretNotFound', 'A secret with (name/id) db was not found in this key vault.'), 'SECRET_NOT_FOUND'],
    [restError(403, 'Forbidden', 'Operation get is not allowed on a disabled secret.', { details: { error: { innerError: { code: 'SecretDisabled' } } } }), 'SECRET_DELETED'],
    [restError(403, 'Forbidden', 'Operation get is not allowed on a disabled secret.'), 'SECRET_DELETED'],
    [restError(403, 'Forbidden', 'Caller is not authorized to perform action on resource.'), 'ACCESS_DENIED'],
    [restError(401, 'Unauthorized', 'AKV10000: Request is missing a Bearer or PoP token.'), 'INVALID_CREDENTIALS'],
    [restError(429, 'Throttled', 'Too many requests.'), 'THROTTLED'],
    [restError(500, 'InternalServerError', 'Oops.'), 'BACKEND_UNAVAILABLE'],
    [restError(503, 'ServiceUnavailable', 'Down.'), 'BACKEND_UNAVAILABLE'],
    [restError(400, 'BadParameter', 'The secret name is invalid.'), 'INVALID_OPTION'],
    [restError(400, 'Other', 'Something else.'), 'BACKEND_ERROR'],
    [restError(409, 'Conflict', 'Conflict.'), 'BACKEND_ERROR'],
    [restError(undefined, 'ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'), 'BACKEND_UNAVAILABLE'],
    [restError(undefined, 'REQUEST_SEND_ERROR', 'socket hang up'), 'BACKEND_UNAVAILABLE'],
    [restError(undefined, 'DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'), 'BACKEND_UNAVAILABLE'],
  ];
  for (const [error, code] of cases) {
    const mapped = mapKeyVaultError(error, secret);
    assert.equal(mapped.code, code, `${error.statusCode} ${error.code}`);
    assert.ok(mapped.message.includes(secret), mapped.message);
    assert.equal(mapped.cause, error);
  }
});

test('throttling carries Retry-After', () => {
  const withHeader = mapKeyVaultError(restError(429, 'Throttled', 'Slow down.', { headers: { 'retry-after': '7' } }), secret);
  assert.equal(withHeader.retryAfterMs, 7000);
  const withoutHeader = mapKeyVaultError(restError(429, 'Throttled', 'Slow down.'), secret);
  assert.equal(withoutHeader.retryAfterMs, undefined);
});

test('TLS failures name the CA setting', () => {
  const mapped = mapKeyVaultError(restError(undefined, 'SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in chain'), secret);
  assert.match(mapped.message, /DSV_AZURE_CA_FILE/);
});

test('aborts become TIMEOUT and DsvErrors pass through', () => {
  const abort = new DOMException('The operation was aborted.', 'AbortError');
  assert.equal(mapKeyVaultError(abort, secret).code, 'TIMEOUT');
  const original = new DsvError('INVALID_CREDENTIALS', 'token request failed');
  assert.equal(mapKeyVaultError(original, secret), original);
});

test('plain errors become BACKEND_ERROR', () => {
  const mapped = mapKeyVaultError(new Error("The challenge resource 'evil.example' does not match the requested domain."), secret);
  assert.equal(mapped.code, 'BACKEND_ERROR');
  assert.match(mapped.message, /challenge resource/);
});

test('Retry-After parses seconds and dates', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('3', now), 3000);
  assert.equal(parseRetryAfter(' 0 ', now), 0);
  assert.equal(parseRetryAfter('Wed, 01 Jan 2025 00:00:05 GMT', now), 5000);
  assert.equal(parseRetryAfter('Tue, 31 Dec 2024 00:00:00 GMT', now), 0);
  assert.equal(parseRetryAfter('soon', now), undefined);
  assert.equal(parseRetryAfter(undefined, now), undefined);
  assert.equal(parseRetryAfter('', now), undefined);
});
