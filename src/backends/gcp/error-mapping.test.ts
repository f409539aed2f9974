/**
 * Error shapes below copy what the installed clients throw. The HTTP ones were seen with
 * google-gax 5.0.8 on REST against a loopback server: a GaxiosError whose `message` is the JSON
 * body. The gRPC ones follow grpc-js ServiceError (`code`, `details`, decoded `statusDetails`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DsvError, type ErrorCode } from '../../errors.ts';
import { mapGcpError } from './error-mapping.ts';

const name = 'projects/p-roject/secrets/db/versions/latest';
const accessUrl = `https://secretmanager.googleapis.com/v1/${name}:access`;

function httpError(status: number, body: unknown, headers: Record<string, string> = {}, url = accessUrl): object {
  return {
    name: 'GaxiosError',
    status,
    code: status,
    message: typeof body === 'string' ? body : JSON.stringify(body),
    config: { url: new URL(url), headers: { authorization: 'Bearer secret-token' } },
    response: { status, headers: new Headers(headers) },
  };
}

function googleBody(code: number, status: string, message: string, details?: unknown[]): object {
  return { error: { code, status, message, details } };
}

function mapped(error: unknown, code: ErrorCode): DsvError {
  const result = mapGcpError(error, name);
  assert.equal(result.code, code, result.message);
  return result;
}

test('HTTP statuses from the JSON body', () => {
  const cases: Array<[number, string, string, ErrorCode]> = [
    [404, 'NOT_FOUND', 'Secret [x] not found or has no versions.', 'SECRET_NOT_FOUND'],
    [403, 'PERMISSION_DENIED', "Permission 'secretmanager.versions.access' denied", 'ACCESS_DENIED'],
    [401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.', 'INVALID_CREDENTIALS'],
    [429, 'RESOURCE_EXHAUSTED', 'Quota exceeded', 'THROTTLED'],
    [503, 'UNAVAILABLE', 'The service is currently unavailable.', 'BACKEND_UNAVAILABLE'],
    [500, 'INTERNAL', 'Internal error encountered.', 'BACKEND_UNAVAILABLE'],
    [504, 'DEADLINE_EXCEEDED', 'Deadline exceeded.', 'TIMEOUT'],
    [400, 'INVALID_ARGUMENT', 'Invalid resource field value in the request.', 'INVALID_OPTION'],
    [400, 'FAILED_PRECONDITION', 'Secret Version [x/versions/1] is in DISABLED state.', 'SECRET_DELETED'],
    [400, 'FAILED_PRECONDITION', 'Secret Version [x/versions/1] is in DESTROYED state.', 'SECRET_DELETED'],
    [400, 'FAILED_PRECONDITION', 'The Cloud KMS key is disabled.', 'BACKEND_ERROR'],
    [501, 'UNIMPLEMENTED', 'Method not found.', 'BACKEND_ERROR'],
  ];
  for (const [httpStatus, status, message, code] of cases) {
    const error = mapped(httpError(httpStatus, googleBody(httpStatus, status, message)), code);
    assert.ok(error.message.includes(message), error.message);
    assert.ok(error.message.includes(name), error.message);
  }
});

test('HTTP status alone when the body is not Google JSON', () => {
  mapped(httpError(502, '<html>Bad Gateway</html>'), 'BACKEND_UNAVAILABLE');
  mapped(httpError(404, 'not found'), 'SECRET_NOT_FOUND');
  mapped(httpError(429, ''), 'THROTTLED');
  mapped(httpError(418, 'teapot'), 'BACKEND_ERROR');
});

test('Retry-After seconds, date and RetryInfo', () => {
  const body = googleBody(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded');
  const withDetails = googleBody(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded', [
    { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1.500s' },
  ]);
  const inTenSeconds = new Date(Date.now() + 10_000).toUTCString();

  assert.equal(mapped(httpError(429, body, { 'retry-after': '3' }), 'THROTTLED').retryAfterMs, 3_000);
  const fromDate = mapped(httpError(429, body, { 'retry-after': inTenSeconds }), 'THROTTLED').retryAfterMs ?? 0;
  assert.ok(fromDate > 8_000, `retryAfterMs ${fromDate}`);
  assert.ok(fromDate <= 10_000, `retryAfterMs ${fromDate}`);
  assert.equal(mapped(httpError(429, withDetails), 'THROTTLED').retryAfterMs, 1_500);
  assert.equal(mapped(httpError(429, withDetails, { 'retry-after': '2' }), 'THROTTLED').retryAfterMs, 2_000);
  assert.equal(mapped(httpError(429, body), 'THROTTLED').retryAfterMs, undefined);
});

test('retryAfterMs only on throttling', () => {
  const error = mapped(httpError(503, googleBody(503, 'UNAVAILABLE', 'down'), { 'retry-after': '5' }), 'BACKEND_UNAVAILABLE');

  assert.equal(error.retryAfterMs, undefined);
});

test('gRPC status codes', () => {
  const cases: Array<[number, ErrorCode]> = [
    [5, 'SECRET_NOT_FOUND'],
    [7, 'ACCESS_DENIED'],
    [16, 'INVALID_CREDENTIALS'],
    [8, 'THROTTLED'],
    [14, 'BACKEND_UNAVAILABLE'],
    [4, 'TIMEOUT'],
    [3, 'INVALID_OPTION'],
    [6, 'BACKEND_ERROR'],
  ];
  for (const [code, expected] of cases) {
    mapped(Object.assign(new Error(`${code} STATUS: text`), { code, details: 'text' }), expected);
  }
});

test('gRPC FAILED_PRECONDITION and RetryInfo', () => {
  const disabled = Object.assign(new Error('9 FAILED_PRECONDITION'), {
    code: 9,
    details: 'Secret Version [x/versions/2] is in DISABLED state.',
  });
  const throttled = Object.assign(new Error('8 RESOURCE_EXHAUSTED'), {
    code: 8,
    details: 'Quota exceeded',
    statusDetails: [{ retryDelay: { seconds: '2', nanos: 250_000_000 } }],
  });

  mapped(disabled, 'SECRET_DELETED');
  assert.equal(mapped(throttled, 'THROTTLED').retryAfterMs, 2_250);
});

test('connection failures', () => {
  const refused = Object.assign(new Error('request failed'), { error: { code: 'ECONNREFUSED' } });
  const reset = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } });
  const nested = Object.assign(new TypeError('fetch failed'), { cause: { cause: { code: 'UND_ERR_SOCKET' } } });

  assert.match(mapped(refused, 'BACKEND_UNAVAILABLE').message, /ECONNREFUSED/);
  mapped(reset, 'BACKEND_UNAVAILABLE');
  mapped(nested, 'BACKEND_UNAVAILABLE');
});

test('token endpoint failures are credential errors', () => {
  const tokenUrl = 'https://sts.googleapis.com/v1/token';
  const invalidGrant = httpError(400, { error: 'invalid_grant', error_description: 'The token has expired.' }, {}, tokenUrl);

  const error = mapped(invalidGrant, 'INVALID_CREDENTIALS');
  assert.match(error.message, /access token.*The token has expired/);
  assert.doesNotMatch(error.message, /Secret Manager returned/);
  mapped(httpError(503, 'unavailable', {}, tokenUrl), 'BACKEND_UNAVAILABLE');
});

test('decoding errors never quote the response', () => {
  const syntax = new SyntaxError('Unexpected token in JSON at position 9: "payload": {"data": "c2VjcmV0"');
  const decoding = new Error('field data of type bytes cannot contain value c2VjcmV0');

  const fromSyntax = mapped(syntax, 'BACKEND_ERROR');
  const fromDecoding = mapped(decoding, 'BACKEND_ERROR');

  for (const error of [fromSyntax, fromDecoding]) {
    assert.ok(!error.message.includes('c2VjcmV0'), error.message);
    assert.ok(!String((error.cause as Error).message).includes('c2VjcmV0'));
  }
});

test('cause never carries the request headers', () => {
  const error = mapped(httpError(404, googleBody(404, 'NOT_FOUND', 'gone')), 'SECRET_NOT_FOUND');

  assert.ok(error.cause instanceof Error);
  assert.ok(!JSON.stringify(error.cause, Object.getOwnPropertyNames(error.cause)).includes('secret-token'));
  assert.ok(!error.describe().includes('secret-token'));
});

test('DsvError passes through', () => {
  const original = new DsvError('TIMEOUT', 'aborted');

  assert.equal(mapGcpError(original, name), original);
});
