import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DsvError, type ErrorCode } from '../../errors.ts';
import { mapAwsError, parseRetryAfter } from './errors.ts';
import { assertNoSecret } from '../../../test/support/no-secret.ts';

const request = { service: 'Secrets Manager', reference: 'prod/db/password' };

/** Builds an error shaped like the SDK's service exception for an error response. */
function serviceError(name: string, options: { status?: number; message?: string; headers?: Record<string, string> } = {}) {
  const status = options.status ?? 400;
  const error = Object.assign(new Error(options.message ?? `${name} message`), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });
  // The SDK keeps the raw response as a hidden field.
  Object.defineProperty(error, '$response', { value: { statusCode: status, headers: options.headers ?? {} } });
  return error;
}

function networkError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:1`), { code, $metadata: { attempts: 1 } });
}

const cases: ReadonlyArray<[string, unknown, ErrorCode]> = [
  ['ResourceNotFoundException', serviceError('ResourceNotFoundException'), 'SECRET_NOT_FOUND'],
  ['ParameterNotFound', serviceError('ParameterNotFound'), 'SECRET_NOT_FOUND'],
  ['ParameterVersionNotFound', serviceError('ParameterVersionNotFound'), 'SECRET_NOT_FOUND'],
  [
    'secret marked for deletion',
    serviceError('InvalidRequestException', {
      message: "You can't perform this operation on the secret because it was marked for deletion.",
    }),
    'SECRET_DELETED',
  ],
  [
    'version and stage disagree',
    serviceError('InvalidRequestException', {
      message: 'You provided a VersionStage that is not associated to the provided VersionId.',
    }),
    'INVALID_OPTION',
  ],
  ['other InvalidRequestException', serviceError('InvalidRequestException'), 'BACKEND_ERROR'],
  ['AccessDeniedException', serviceError('AccessDeniedException'), 'ACCESS_DENIED'],
  [
    'KMS access denied',
    serviceError('AccessDeniedException', { message: 'Access to KMS is not allowed' }),
    'ACCESS_DENIED',
  ],
  ['DecryptionFailure', serviceError('DecryptionFailure'), 'ACCESS_DENIED'],
  ['UnrecognizedClientException', serviceError('UnrecognizedClientException'), 'INVALID_CREDENTIALS'],
  ['InvalidSignatureException', serviceError('InvalidSignatureException'), 'INVALID_CREDENTIALS'],
  ['ExpiredTokenException', serviceError('ExpiredTokenException'), 'INVALID_CREDENTIALS'],
  [
    'credential provider error',
    Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }),
    'INVALID_CREDENTIALS',
  ],
  ['ThrottlingException', serviceError('ThrottlingException'), 'THROTTLED'],
  ['TooManyUpdates', serviceError('TooManyUpdates'), 'THROTTLED'],
  ['HTTP 429 with an unknown name', serviceError('SlowDown', { status: 429 }), 'THROTTLED'],
  ['InternalServiceError', serviceError('InternalServiceError', { status: 500 }), 'BACKEND_UNAVAILABLE'],
  ['InternalServerError', serviceError('InternalServerError', { status: 500 }), 'BACKEND_UNAVAILABLE'],
  ['HTTP 503 with an unknown name', serviceError('Unknown', { status: 503 }), 'BACKEND_UNAVAILABLE'],
  ['ECONNREFUSED', networkError('ECONNREFUSED'), 'BACKEND_UNAVAILABLE'],
  ['ECONNRESET', networkError('ECONNRESET'), 'BACKEND_UNAVAILABLE'],
  ['ENOTFOUND', networkError('ENOTFOUND'), 'BACKEND_UNAVAILABLE'],
  ['SDK connection timeout', Object.assign(new Error('timed out'), { name: 'TimeoutError' }), 'BACKEND_UNAVAILABLE'],
  ['untrusted certificate', networkError('SELF_SIGNED_CERT_IN_CHAIN'), 'BACKEND_ERROR'],
  ['aborted request', Object.assign(new Error('Request aborted'), { name: 'AbortError' }), 'TIMEOUT'],
  ['ValidationException', serviceError('ValidationException'), 'INVALID_OPTION'],
  ['InvalidParameterException', serviceError('InvalidParameterException'), 'INVALID_OPTION'],
  ['unknown service error', serviceError('SomethingNew'), 'BACKEND_ERROR'],
  ['plain value', 'a thrown string', 'BACKEND_ERROR'],
];

for (const [label, error, code] of cases) {
  test(`maps ${label} to ${code}`, () => {
    assert.equal(mapAwsError(error, request).code, code);
  });
}

test('message names the service, reference and AWS error', () => {
  const mapped = mapAwsError(serviceError('ResourceNotFoundException', { message: "can't find it" }), request);
  assert.match(mapped.message, /^Secrets Manager request for "prod\/db\/password" failed: not found/);
  assert.match(mapped.message, /ResourceNotFoundException: can't find it/);
});

test('message cuts long service messages', () => {
  const mapped = mapAwsError(serviceError('AccessDeniedException', { message: 'x'.repeat(1000) }), request);
  assert.ok(mapped.message.length < 450, `message is ${mapped.message.length} characters`);
  assert.match(mapped.message, /x\.\.\.\)$/);
});

test('message of a network error names the errno code', () => {
  const mapped = mapAwsError(networkError('ECONNREFUSED'), request);
  assert.match(mapped.message, /cannot reach the endpoint \(ECONNREFUSED\)/);
});

test('failure on a 2xx body keeps its text and cause out', () => {
  const sentinel = 'sentinel-value-4b1c';
  const error = Object.assign(new Error(`Deserialization error: ${sentinel}`), {
    name: 'SyntaxError',
    $fault: 'client',
    $metadata: { httpStatusCode: 200 },
  });
  const mapped = mapAwsError(error, request);
  assert.equal(mapped.code, 'BACKEND_ERROR');
  assertNoSecret(mapped.message, sentinel, 'the message');
  assert.equal(mapped.cause, undefined);
});

test('credential provider message is left out', () => {
  const error = Object.assign(new Error('provider detail text'), { name: 'CredentialsProviderError' });
  const mapped = mapAwsError(error, request);
  assert.ok(!mapped.message.includes('provider detail text'), mapped.message);
  assert.match(mapped.message, /CredentialsProviderError/);
});

test('throttling carries Retry-After in ms', () => {
  const error = serviceError('ThrottlingException', { headers: { 'retry-after': '3' } });
  assert.equal(mapAwsError(error, request).retryAfterMs, 3000);
});

test('throttling without Retry-After has no delay', () => {
  assert.equal(mapAwsError(serviceError('ThrottlingException'), request).retryAfterMs, undefined);
});

test('503 carries Retry-After in ms', () => {
  const error = serviceError('ServiceUnavailable', { status: 503, headers: { 'Retry-After': '2' } });
  assert.equal(mapAwsError(error, request).retryAfterMs, 2000);
});

test('not found ignores Retry-After', () => {
  const error = serviceError('ResourceNotFoundException', { headers: { 'retry-after': '2' } });
  assert.equal(mapAwsError(error, request).retryAfterMs, undefined);
});

test('DsvError passes through unchanged', () => {
  const original = new DsvError('INVALID_SETTING', 'AWS_REGION is not set');
  assert.equal(mapAwsError(original, request), original);
});

test('parseRetryAfter reads seconds', () => {
  assert.equal(parseRetryAfter('0'), 0);
  assert.equal(parseRetryAfter(' 12 '), 12_000);
});

test('parseRetryAfter reads an HTTP date', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now), 5000);
  assert.equal(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', now), 0);
});

test('parseRetryAfter ignores missing and malformed values', () => {
  assert.equal(parseRetryAfter(undefined), undefined);
  assert.equal(parseRetryAfter('soon'), undefined);
  assert.equal(parseRetryAfter('-1'), undefined);
});
