/** Key Vault's `GET /secrets/{name}[/{version}]`, with its bearer challenges and injected failures. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FakeState } from './state.ts';
import type { Reply } from './types.ts';

/** Handles a Key Vault read: delay, token check, injected failures or throttling, then the secret. */
export async function handleVaultRequest(state: FakeState, url: URL, authorization: string | undefined): Promise<Reply> {
  if (state.vaultDelayMs > 0) await sleep(state.vaultDelayMs);
  const unauthorized = checkVaultToken(state, authorization);
  if (unauthorized !== undefined) return unauthorized;
  if (!url.searchParams.has('api-version')) return vaultError(400, 'BadParameter', 'The api-version query parameter is missing.');
  if (state.vaultFailures.remaining > 0) {
    state.vaultFailures.remaining--;
    return vaultError(state.vaultFailures.status, 'ServiceUnavailable', 'The service is unavailable.');
  }
  if (state.throttle.remaining > 0) {
    state.throttle.remaining--;
    const retryAfter = state.throttle.retryAfterSeconds;
    return { ...vaultError(429, 'Throttled', 'Request was not processed because too many requests were received.'), headers: retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) } };
  }
  return readSecret(state, url);
}

function checkVaultToken(state: FakeState, authorization: string | undefined): Reply | undefined {
  const token = authorization?.startsWith('Bearer ') ? state.tokens.get(authorization.slice(7)) : undefined;
  const challenge = `Bearer authorization="${state.url}/${state.tenantId}", resource="https://vault.azure.net"`;
  if (token === undefined || token.expiresAt <= Date.now() || (token.revoked && !state.claimsChallenge)) {
    return { ...vaultError(401, 'Unauthorized', 'Request is missing a valid bearer token.'), headers: { 'www-authenticate': challenge } };
  }
  if (token.revoked) {
    const claims = Buffer.from(JSON.stringify({ access_token: { nbf: { essential: true, value: String(Math.floor(Date.now() / 1000)) } } })).toString('base64');
    const caeChallenge = `Bearer realm="", authorization_uri="${state.url}/common/oauth2/authorize", error="insufficient_claims", claims="${claims}"`;
    return { ...vaultError(401, 'Unauthorized', 'The access token has been revoked.'), headers: { 'www-authenticate': caeChallenge } };
  }
  return undefined;
}

function readSecret(state: FakeState, url: URL): Reply {
  const [, , name = '', version] = url.pathname.replace(/\/$/, '').split('/');
  if (!/^[0-9a-zA-Z-]{1,127}$/.test(name)) return vaultError(400, 'BadParameter', 'The secret name is invalid.');
  if (state.denied.has(name)) {
    return vaultError(403, 'Forbidden', 'Caller is not authorized to perform action on resource.', 'ForbiddenByRbac');
  }
  const versions = state.deleted.has(name) ? undefined : state.secrets.get(name);
  const stored = version === undefined || version === '' ? versions?.at(-1) : versions?.find((candidate) => candidate.version === version);
  if (stored === undefined) {
    return vaultError(404, 'SecretNotFound', `A secret with (name/id) ${name} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command.`);
  }
  if (!stored.enabled) return vaultError(403, 'Forbidden', 'Operation get is not allowed on a disabled secret.', 'SecretDisabled');
  return {
    status: 200,
    body: {
      value: stored.value,
      contentType: stored.contentType,
      id: `${state.url}/secrets/${name}/${stored.version}`,
      attributes: { enabled: true, created: stored.created, updated: stored.created, recoveryLevel: 'Recoverable+Purgeable', recoverableDays: 90 },
      tags: {},
    },
  };
}

function vaultError(status: number, code: string, message: string, innerCode?: string): Reply {
  return { status, body: { error: { code, message, ...(innerCode === undefined ? {} : { innererror: { code: innerCode } }) } } };
}
