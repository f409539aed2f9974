/** Request routing for the Azure fake's HTTPS server, with the request log it keeps. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { handleVaultRequest } from './keyvault.ts';
import type { FakeState } from './state.ts';
import { handleManagedIdentityRequest, handleTokenRequest } from './token.ts';
import type { AzureFakeRequest, Reply } from './types.ts';

/** Routes one request to the token, managed identity or Key Vault handler and logs it. */
export async function handleRequest(state: FakeState, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', state.url);
  const body = await readBody(request);
  let kind: AzureFakeRequest['kind'] = 'other';
  let reply: Reply = { status: 404, body: { error: { code: 'NotFound', message: 'No route.' } } };
  if (request.method === 'POST' && /^\/[^/]+\/oauth2\/v2\.0\/token$/.test(url.pathname)) {
    kind = 'token';
    reply = await handleTokenRequest(state, url, new URLSearchParams(body));
  } else if (request.method === 'GET' && url.pathname === '/msi/token') {
    kind = 'managed-identity';
    reply = handleManagedIdentityRequest(state, url, request.headers['x-identity-header']);
  } else if (request.method === 'GET' && url.pathname.startsWith('/secrets/')) {
    kind = 'vault';
    reply = await handleVaultRequest(state, url, request.headers.authorization);
  }
  state.requests.push({
    kind,
    method: request.method ?? '',
    path: url.pathname,
    status: reply.status,
    authorized: request.headers.authorization !== undefined,
    claimsChallenge: hasChallengeClaims(new URLSearchParams(body).get('claims')),
  });
  response.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8', ...reply.headers });
  response.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
}

/** Client capabilities (`xms_cc`) come with every CAE-capable request; other claims come from a challenge. */
function hasChallengeClaims(claims: string | null): boolean {
  if (claims === null) return false;
  const parsed = JSON.parse(claims) as { access_token?: Record<string, unknown> };
  return Object.keys(parsed.access_token ?? {}).some((name) => name !== 'xms_cc');
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
