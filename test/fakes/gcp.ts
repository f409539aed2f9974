/**
 * A loopback fake of Google Cloud Secret Manager's REST API, enough for the official Node client
 * with `fallback: true`: `GET /v1/projects/P[/locations/L]/secrets/S/versions/V:access` returns
 * `{name, payload: {data, dataCrc32c}}`, and errors are `{"error": {code, message, status}}`.
 *
 * Authentication is checked as Google checks a self-signed JWT: the client signs a token with
 * the dummy service-account key from `credentialFiles['gcp/key.json']` (no token server is
 * involved), and the fake verifies signature, key id, issuer, expiry and scope. Requests to the
 * key's `token_uri` or to `/computeMetadata/` get 404 errors and are logged, so tests can
 * assert that the client never tried to reach a token or metadata server.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { newServiceAccountKey, project } from './gcp/auth.ts';
import { createHandle, demoValue } from './gcp/controls.ts';
import { handleRequest } from './gcp/server.ts';
import { addVersion, createState } from './gcp/state.ts';
import type { GcpFake } from './gcp/types.ts';

export type { GcpFake, GcpFakeRequest, LocationOption, VersionOptions } from './gcp/types.ts';

/** Starts the fake on 127.0.0.1 with the demo secret `demo-hello` in project `dsv-demo`. */
export async function startGcpFake(options: { port?: number } = {}): Promise<GcpFake> {
  const state = createState();
  const firstKey = await newServiceAccountKey(state.publicKeys);
  const server = http.createServer((request, response) => {
    // A malformed path (a bad %-escape) must not crash the fake, only this request.
    handleRequest(state, request, response).catch(() => response.destroy());
  });
  addVersion(state, project, 'demo-hello', demoValue);

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return createHandle(state, server, url, firstKey);
}
