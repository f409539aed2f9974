/**
 * Token requests for each credential source, and what their responses mean. Entra ID sources use
 * the OAuth 2.0 client credentials grant on `<authority>/<tenant>/oauth2/v2.0/token`. Managed
 * identity requests its token from the App Service style endpoint (IDENTITY_ENDPOINT) or the VM's IMDS.
 */
import { readFile } from 'node:fs/promises';
import type { AccessToken } from '@azure/core-auth';
import { DsvError } from '../../errors.ts';
import { createClientAssertion, parseSigningCertificate } from './assertion.ts';
import type { ApplicationSource, CredentialSource } from './config.ts';
import { brief, parseRetryAfter } from './errors.ts';
import type { TokenRequest, TokenResponse } from './token-http.ts';

const jwtBearer = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const imdsTokenUrl = 'http://169.254.169.254/metadata/identity/oauth2/token';
const maxCredentialFileBytes = 64 * 1024;

/** Builds the request for a token for `scope`; reads the credential file on every call. */
export async function buildTokenRequest(source: CredentialSource, scope: string, claims: string | undefined): Promise<TokenRequest> {
  if (source.kind === 'managed-identity') return managedIdentityRequest(source, scope);

  const url = tokenEndpoint(source);
  const form = new URLSearchParams({ client_id: source.clientId, scope, grant_type: 'client_credentials' });
  const contents = await readCredentialFile(source);
  if (source.kind === 'client-secret') {
    form.set('client_secret', contents);
  } else {
    const assertion = source.kind === 'client-certificate'
      ? createClientAssertion(parseSigningCertificate(contents, source.file), source.clientId, url.href)
      : contents;
    form.set('client_assertion_type', jwtBearer);
    form.set('client_assertion', assertion);
  }
  if (claims !== undefined) form.set('claims', claims);
  return { url, method: 'POST', headers: {}, body: form.toString() };
}

export function tokenEndpoint(source: ApplicationSource): URL {
  return new URL(`${source.authorityHost}/${encodeURIComponent(source.tenantId)}/oauth2/v2.0/token`);
}

function managedIdentityRequest(source: CredentialSource & { kind: 'managed-identity' }, scope: string): TokenRequest {
  // Managed identity endpoints take a resource, which is the scope without "/.default".
  const resource = scope.replace(/\/\.default$/, '');
  if (source.endpoint !== undefined) {
    const url = new URL(source.endpoint.url);
    url.searchParams.set('api-version', '2019-08-01');
    url.searchParams.set('resource', resource);
    if (source.clientId !== undefined) url.searchParams.set('client_id', source.clientId);
    return { url, method: 'GET', headers: { 'x-identity-header': source.endpoint.header } };
  }
  // NOTE: no test sends this IMDS request, because tests must never reach 169.254.169.254. A unit
  // test checks its shape against Microsoft's page "How to use managed identities for Azure
  // resources on an Azure VM to acquire an access token".
  const url = new URL(imdsTokenUrl);
  url.searchParams.set('api-version', '2018-02-01');
  url.searchParams.set('resource', resource);
  if (source.clientId !== undefined) url.searchParams.set('client_id', source.clientId);
  return { url, method: 'GET', headers: { metadata: 'true' } };
}

async function readCredentialFile(source: ApplicationSource): Promise<string> {
  let contents: string;
  try {
    const buffer = await readFile(source.file);
    if (buffer.length > maxCredentialFileBytes) throw new Error(`larger than ${maxCredentialFileBytes} bytes`);
    contents = buffer.toString('utf8').trim();
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new DsvError('INVALID_CREDENTIALS', `cannot read ${source.kind} file ${source.file} (${reason})`, { cause: error });
  }
  if (contents === '') throw new DsvError('INVALID_CREDENTIALS', `${source.kind} file ${source.file} is empty`);
  return contents;
}

/** Turns a token endpoint's response into an AccessToken, or throws the matching DsvError. */
export function readTokenResponse(source: CredentialSource, response: TokenResponse, nowMs: number = Date.now()): AccessToken {
  const host = source.kind === 'managed-identity' ? 'the managed identity endpoint' : `Entra ID (${tokenEndpoint(source).host})`;
  const body = (response.json ?? {}) as Record<string, unknown>;
  if (response.status !== 200) throw tokenError(source, host, response.status, body, response.headers['retry-after']);

  const token = body.access_token;
  const expiresOnTimestamp = readExpiry(body, nowMs);
  if (typeof token !== 'string' || token === '' || expiresOnTimestamp === undefined) {
    throw new DsvError('BACKEND_ERROR', `${host} returned a token response without access_token or expiry`);
  }
  const refreshIn = Number(body.refresh_in);
  const refreshAfterTimestamp = Number.isFinite(refreshIn) && refreshIn > 0 ? nowMs + refreshIn * 1000 : undefined;
  return { token, expiresOnTimestamp, refreshAfterTimestamp, tokenType: 'Bearer' };
}

/** Entra ID sends `expires_in` seconds; managed identity endpoints send `expires_on` epoch seconds. */
function readExpiry(body: Record<string, unknown>, nowMs: number): number | undefined {
  const expiresIn = Number(body.expires_in);
  if (body.expires_in !== undefined && Number.isFinite(expiresIn)) return nowMs + expiresIn * 1000;
  const expiresOn = Number(body.expires_on);
  if (body.expires_on !== undefined && Number.isFinite(expiresOn)) return expiresOn * 1000;
  return undefined;
}

function tokenError(
  source: CredentialSource,
  host: string,
  status: number,
  body: Record<string, unknown>,
  retryAfter: string | string[] | undefined,
): DsvError {
  const code = typeof body.error === 'string' ? body.error : undefined;
  const description = typeof body.error_description === 'string' ? brief(body.error_description) : '';
  const detail = [code, description].filter((part) => part !== undefined && part !== '').join(': ');
  const message = `token request for ${source.kind} to ${host} failed with ${status}${detail === '' ? '' : ` (${detail})`}`;

  if (status === 429) {
    const retryAfterMs = parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
    return new DsvError('THROTTLED', message, { retryAfterMs });
  }
  if (status >= 500) return new DsvError('BACKEND_UNAVAILABLE', message);
  // Entra ID returns 400 or 401 for wrong secrets, unknown clients and bad assertions. A managed
  // identity endpoint returns 400 or 404 for an unknown identity and 401 or 403 for a wrong header.
  if (status >= 400 && status < 500) return new DsvError('INVALID_CREDENTIALS', message);
  return new DsvError('BACKEND_ERROR', message);
}
