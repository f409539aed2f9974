/**
 * A loopback fake of Azure Key Vault and the Entra ID token endpoint, over HTTPS with a
 * certificate generated at start. It speaks the wire protocol @azure/keyvault-secrets expects:
 * `GET /secrets/{name}[/{version}]?api-version=...` returns 401 with a Bearer challenge until the
 * client sends a token from `POST /{tenant}/oauth2/v2.0/token`. It also serves an App Service
 * style managed identity endpoint (`GET /msi/token`) when enabled.
 */
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createServerCertificate } from './azure/certificate.ts';
import { createHandle } from './azure/controls.ts';
import { handleRequest } from './azure/server.ts';
import { FakeState } from './azure/state.ts';
import type { AzureFake, AzureFakeOptions } from './azure/types.ts';

export type { AzureFake, AzureFakeOptions, AzureFakeRequest, SecretVersionOptions } from './azure/types.ts';

/** Starts the fake on 127.0.0.1 with the demo secret `demo-hello`. */
export async function startAzureFake(options: AzureFakeOptions = {}): Promise<AzureFake> {
  const { key, cert } = await createServerCertificate();
  const state = new FakeState(options.tokenLifetimeSeconds ?? 3600);
  const server = https.createServer({ key, cert }, (request, response) => {
    handleRequest(state, request, response).catch((error: unknown) => {
      // A malformed request (such as an assertion that is not JSON) must not stop the fake.
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { code: 'InternalServerError', message: String(error) } }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  state.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.setSecret('demo-hello', 'hello from the azure fake');
  return createHandle(state, cert, server);
}
