/**
 * The Entra ID token endpoint (client secret, certificate assertion or federated token) and the
 * App Service style managed identity endpoint.
 */
import { constants, createHash, randomUUID, verify } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FakeState } from './state.ts';
import type { Reply } from './types.ts';

const vaultScope = 'https://vault.azure.net/.default';
const jwtBearer = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Handles `POST /{tenant}/oauth2/v2.0/token` with the client credentials grant. */
export async function handleTokenRequest(state: FakeState, url: URL, form: URLSearchParams): Promise<Reply> {
  if (state.tokenDelayMs > 0) await sleep(state.tokenDelayMs);
  if (state.tokenFailures.remaining > 0) {
    state.tokenFailures.remaining--;
    return aadError(state.tokenFailures.status, 'temporarily_unavailable', 'AADSTS50000: The service is temporarily unavailable.');
  }
  const tenant = url.pathname.split('/')[1];
  if (tenant !== state.tenantId) return aadError(400, 'invalid_request', `AADSTS90002: Tenant '${tenant}' not found.`);
  if (form.get('grant_type') !== 'client_credentials') return aadError(400, 'unsupported_grant_type', 'AADSTS70003: Unsupported grant type.');
  if (form.get('client_id') !== state.clientId) {
    return aadError(400, 'unauthorized_client', `AADSTS700016: Application with identifier '${form.get('client_id')}' was not found in the directory.`);
  }
  if (form.get('scope') !== vaultScope) return aadError(400, 'invalid_scope', 'AADSTS70011: The provided scope is not valid.');

  const secret = form.get('client_secret');
  const assertion = form.get('client_assertion');
  if (secret !== null) {
    if (secret !== state.clientSecret) return aadError(401, 'invalid_client', 'AADSTS7000215: Invalid client secret provided.');
  } else if (assertion !== null && form.get('client_assertion_type') === jwtBearer) {
    const problem = assertion === state.federatedToken ? undefined : checkAssertion(state, assertion, url);
    if (problem !== undefined) return aadError(401, 'invalid_client', `AADSTS700027: Client assertion failed validation: ${problem}.`);
  } else {
    return aadError(400, 'invalid_request', 'AADSTS7000218: The request body must contain client_assertion or client_secret.');
  }
  const token = state.issueToken();
  return { status: 200, body: { token_type: 'Bearer', expires_in: state.tokenLifetimeSeconds, ext_expires_in: state.tokenLifetimeSeconds, access_token: token } };
}

/** Checks a certificate-signed assertion; returns what is wrong, or undefined when valid. */
function checkAssertion(state: FakeState, assertion: string, url: URL): string | undefined {
  const [headerPart, claimsPart, signaturePart] = assertion.split('.');
  if (headerPart === undefined || claimsPart === undefined || signaturePart === undefined) return 'not a JWT';
  const header = JSON.parse(Buffer.from(headerPart, 'base64url').toString()) as Record<string, unknown>;
  const claims = JSON.parse(Buffer.from(claimsPart, 'base64url').toString()) as Record<string, unknown>;
  const certificate = state.certificates.find(
    (candidate) => createHash('sha256').update(candidate.raw).digest('base64url') === header['x5t#S256'],
  );
  if (header.alg !== 'PS256' || certificate === undefined) return 'unknown certificate or algorithm';
  const valid = verify('sha256', Buffer.from(`${headerPart}.${claimsPart}`), {
    key: certificate.publicKey,
    padding: constants.RSA_PKCS1_PSS_PADDING,
    saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
  }, Buffer.from(signaturePart, 'base64url'));
  if (!valid) return 'invalid signature';
  const now = Date.now() / 1000;
  if (claims.aud !== `${state.url}${url.pathname}`) return 'wrong audience';
  if (claims.iss !== state.clientId || claims.sub !== state.clientId) return 'wrong issuer or subject';
  if (typeof claims.exp !== 'number' || claims.exp < now || typeof claims.jti !== 'string') return 'expired or without jti';
  return undefined;
}

/** Handles the App Service managed identity endpoint `GET /msi/token`, once enabled. */
export function handleManagedIdentityRequest(state: FakeState, url: URL, header: string | string[] | undefined): Reply {
  if (state.identityHeader === undefined || header !== state.identityHeader) {
    return { status: 401, body: { statusCode: 401, message: 'The identity header is missing or wrong.' } };
  }
  if (url.searchParams.get('resource') !== 'https://vault.azure.net' || url.searchParams.get('api-version') !== '2019-08-01') {
    return { status: 400, body: { statusCode: 400, message: 'Unsupported resource or api-version.' } };
  }
  const token = state.issueToken();
  const expiresOn = Math.floor(Date.now() / 1000) + state.tokenLifetimeSeconds;
  return { status: 200, body: { access_token: token, expires_on: String(expiresOn), resource: 'https://vault.azure.net', token_type: 'Bearer', client_id: state.clientId } };
}

function aadError(status: number, error: string, description: string): Reply {
  const codes = /AADSTS(\d+)/.exec(description);
  return { status, body: { error, error_description: `${description}\r\nTrace ID: ${randomUUID()}`, error_codes: codes === null ? [] : [Number(codes[1])] } };
}
