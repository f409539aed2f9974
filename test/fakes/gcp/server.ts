/** The GCP fake's HTTP request handler, which logs every request with its token's key id and `iat`. */
import type http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { readToken } from './auth.ts';
import { answerFor } from './secret-manager.ts';
import type { GcpState } from './state.ts';

/** Sends the response to one request in Google's JSON format, after the configured delay. */
export async function handleRequest(state: GcpState, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  const path = (request.url ?? '/').split('?')[0]!;
  const token = readToken(request.headers.authorization);
  const respond = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
    state.requests.push({ method: request.method ?? '', path, status, keyId: token?.keyId, issuedAt: token?.issuedAt });
    if (response.destroyed) return;
    response.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
    response.end(JSON.stringify(body));
  };
  if (state.delayMs > 0) await sleep(state.delayMs, undefined, { signal: state.closing.signal }).catch(() => undefined);

  const answer = answerFor(state, request.method, path, token);
  if ('httpStatus' in answer) {
    const error = { code: answer.httpStatus, message: answer.message, status: answer.status, details: answer.details };
    respond(answer.httpStatus, { error }, answer.headers);
  } else {
    respond(200, answer);
  }
}
