import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { parseRetryAfter, statusError, vaultErrorText } from './errors.ts';

function response(status: number, body: unknown, headers: IncomingHttpHeaders = {}) {
  return { status, body, headers };
}

test('statusError maps statuses to codes', () => {
  const cases: Array<[number, string]> = [
    [400, 'INVALID_OPTION'],
    [403, 'ACCESS_DENIED'],
    [404, 'SECRET_NOT_FOUND'],
    [429, 'THROTTLED'],
    [500, 'BACKEND_UNAVAILABLE'],
    [502, 'BACKEND_UNAVAILABLE'],
    [503, 'BACKEND_UNAVAILABLE'],
    [412, 'BACKEND_ERROR'],
    [301, 'BACKEND_ERROR'],
  ];
  for (const [status, code] of cases) {
    const error = statusError(response(status, { errors: ['x'] }), 'reading "secret/a"');
    assert.equal(error.code, code, `HTTP ${status}`);
    assert.match(error.message, /reading "secret\/a"/);
    assert.match(error.message, new RegExp(`HTTP ${status}`));
  }
});

test('statusError quotes Vault errors', () => {
  const error = statusError(response(503, { errors: ['Vault is sealed'] }), 'reading "secret/a"');
  assert.match(error.message, /HTTP 503: Vault is sealed/);
});

test('throttling carries Retry-After in ms', () => {
  const error = statusError(response(429, { errors: [] }, { 'retry-after': '3' }), 'reading "secret/a"');
  assert.equal(error.retryAfterMs, 3000);
  const without = statusError(response(429, { errors: [] }), 'reading "secret/a"');
  assert.equal(without.retryAfterMs, undefined);
});

test('parseRetryAfter reads seconds and HTTP dates', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('0', now), 0);
  assert.equal(parseRetryAfter(' 12 ', now), 12_000);
  assert.equal(parseRetryAfter('Wed, 01 Jan 2025 00:00:05 GMT', now), 5000);
  assert.equal(parseRetryAfter('Tue, 31 Dec 2024 23:59:00 GMT', now), 0);
  assert.equal(parseRetryAfter('soon', now), undefined);
  assert.equal(parseRetryAfter('', now), undefined);
  assert.equal(parseRetryAfter(undefined, now), undefined);
});

test('vaultErrorText caps length and strips control characters', () => {
  const text = vaultErrorText({ errors: ['1 error occurred:\n\t* permission denied\n\n', 'x'.repeat(1000)] });
  assert.ok(text.startsWith('1 error occurred: * permission denied; x'));
  assert.ok(text.length <= 303, `length ${text.length}`);
  assert.ok(text.endsWith('...'));
});

test('vaultErrorText ignores bodies without an errors list', () => {
  assert.equal(vaultErrorText(undefined), '');
  assert.equal(vaultErrorText({ data: { password: 'x' } }), '');
  assert.equal(vaultErrorText({ errors: [42, { a: 1 }] }), '');
});
