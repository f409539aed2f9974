import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { DsvError } from '../../errors.ts';
import type { ApplicationSource, ManagedIdentitySource } from './config.ts';
import { parseSigningCertificate } from './assertion.ts';
import { requestClaims } from './token-credential.ts';
import { buildTokenRequest, readTokenResponse } from './token-sources.ts';

const app: ApplicationSource = {
  kind: 'client-secret',
  tenantId: 'contoso.onmicrosoft.com',
  clientId: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
  file: '/nonexistent/client-secret',
  authorityHost: 'https://login.example',
};
const imds: ManagedIdentitySource = { kind: 'managed-identity', clientId: undefined, endpoint: undefined };

function response(status: number, json: unknown, headers: Record<string, string> = {}) {
  return { status, json, headers };
}

test('claims add the CP1 capability for CAE', () => {
  assert.equal(requestClaims({}), undefined);
  assert.deepEqual(JSON.parse(requestClaims({ enableCae: true }) ?? ''), { access_token: { xms_cc: { values: ['CP1'] } } });
  const challenge = JSON.stringify({ access_token: { nbf: { essential: true, value: '1' } } });
  assert.deepEqual(JSON.parse(requestClaims({ enableCae: true, claims: challenge }) ?? ''), {
    access_token: { nbf: { essential: true, value: '1' }, xms_cc: { values: ['CP1'] } },
  });
  assert.equal(requestClaims({ claims: challenge }), challenge);
  assert.throws(() => requestClaims({ claims: 'not json' }), /claims challenge that is not JSON/);
});

test('token response yields token and expiry', () => {
  const now = 1_000_000;
  const entra = readTokenResponse(app, response(200, { access_token: 't', expires_in: 3599, refresh_in: 1800 }), now);
  assert.deepEqual(entra, { token: 't', expiresOnTimestamp: now + 3_599_000, refreshAfterTimestamp: now + 1_800_000, tokenType: 'Bearer' });
  const managed = readTokenResponse(imds, response(200, { access_token: 'm', expires_on: '2000' }), now);
  assert.equal(managed.expiresOnTimestamp, 2_000_000);
  assert.throws(() => readTokenResponse(app, response(200, { expires_in: 1 }), now), /without access_token/);
  assert.throws(() => readTokenResponse(app, response(200, undefined), now), /without access_token/);
});

test('token errors map to codes', () => {
  const invalidSecret = { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x' };
  const cases: [ReturnType<typeof response>, string][] = [
    [response(401, invalidSecret), 'INVALID_CREDENTIALS'],
    [response(400, { error: 'unauthorized_client', error_description: 'AADSTS700016: Application not found.' }), 'INVALID_CREDENTIALS'],
    [response(404, { message: 'Identity not found' }), 'INVALID_CREDENTIALS'],
    [response(429, {}, { 'retry-after': '2' }), 'THROTTLED'],
    [response(503, undefined), 'BACKEND_UNAVAILABLE'],
    [response(302, undefined), 'BACKEND_ERROR'],
  ];
  for (const [answer, code] of cases) {
    assert.throws(() => readTokenResponse(app, answer), (error: unknown) => error instanceof DsvError && error.code === code);
  }
  assert.throws(() => readTokenResponse(app, response(401, invalidSecret)), (error: unknown) => {
    assert.match((error as Error).message, /invalid_client: AADSTS7000215: Invalid client secret provided\.\)$/);
    return true;
  });
  assert.throws(() => readTokenResponse(app, response(429, {}, { 'retry-after': '2' })), (error: unknown) => (error as DsvError).retryAfterMs === 2000);
});

test('IMDS request shape, built without sending', async () => {
  const request = await buildTokenRequest({ ...imds, clientId: app.clientId }, 'https://vault.azure.net/.default', undefined);
  assert.equal(request.method, 'GET');
  assert.equal(request.url.origin + request.url.pathname, 'http://169.254.169.254/metadata/identity/oauth2/token');
  assert.equal(request.url.searchParams.get('resource'), 'https://vault.azure.net');
  assert.equal(request.url.searchParams.get('client_id'), app.clientId);
  assert.deepEqual(request.headers, { metadata: 'true' });
});

test('missing credential file is INVALID_CREDENTIALS', async () => {
  await assert.rejects(buildTokenRequest(app, 'https://vault.azure.net/.default', undefined), (error: unknown) => {
    assert.ok(error instanceof DsvError);
    assert.equal(error.code, 'INVALID_CREDENTIALS');
    assert.match(error.message, /cannot read client-secret file \/nonexistent\/client-secret \(ENOENT\)/);
    return true;
  });
});

test('certificate file needs an RSA key and its certificate', () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  assert.throws(() => parseSigningCertificate(ec, '/c.pem'), /unencrypted private key and its certificate/);
  assert.throws(() => parseSigningCertificate('garbage', '/c.pem'), (error: unknown) => (error as DsvError).code === 'INVALID_CREDENTIALS');
});
