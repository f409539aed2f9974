/** The control handle tests get from `startAzureFake`: settings, credential files and failure injection. */
import { randomBytes, X509Certificate } from 'node:crypto';
import type https from 'node:https';
import path from 'node:path';
import type { FakeState } from './state.ts';
import type { AzureFake } from './types.ts';

/** Builds the handle over the fake's state. `caPem` is the server certificate that clients must trust. */
export function createHandle(state: FakeState, caPem: string, server: https.Server): AzureFake {
  return {
    backend: 'azure',
    url: state.url,
    demoSecret: 'demo-hello',
    demoValue: 'hello from the azure fake',
    tenantId: state.tenantId,
    clientId: state.clientId,
    caPem,
    get clientSecret() { return state.clientSecret; },
    get credentialFiles() { return { 'azure/client-secret': state.clientSecret, 'azure/ca.pem': caPem }; },
    get requests() { return state.requests; },
    get vaultDelayMs() { return state.vaultDelayMs; },
    set vaultDelayMs(value: number) { state.vaultDelayMs = value; },
    get tokenDelayMs() { return state.tokenDelayMs; },
    set tokenDelayMs(value: number) { state.tokenDelayMs = value; },
    settings: (credentialsDir: string) => ({
      DSV_AZURE_VAULT_URL: state.url,
      AZURE_TENANT_ID: state.tenantId,
      AZURE_CLIENT_ID: state.clientId,
      AZURE_AUTHORITY_HOST: state.url,
      DSV_AZURE_CLIENT_SECRET_FILE: path.join(credentialsDir, 'azure/client-secret'),
      DSV_AZURE_CA_FILE: path.join(credentialsDir, 'azure/ca.pem'),
    }),
    setSecret: (name, value, versionOptions) => state.setSecret(name, value, versionOptions),
    deleteSecret: (name) => { state.deleted.add(name); },
    deny: (name) => { state.denied.add(name); },
    throttleNext: (count, throttle) => { state.throttle = { remaining: count, retryAfterSeconds: throttle?.retryAfterSeconds }; },
    failNext: (count, status = 503) => { state.vaultFailures = { remaining: count, status }; },
    failTokenRequests: (count, status = 503) => { state.tokenFailures = { remaining: count, status }; },
    expireTokens: (expiry) => state.expireTokens(expiry?.claimsChallenge ?? true),
    rotateClientSecret: () => (state.clientSecret = `fake-secret-${randomBytes(12).toString('base64url')}`),
    trustClientCertificate: (pem) => { state.certificates.push(new X509Certificate(pem)); },
    trustFederatedToken: (token) => { state.federatedToken = token; },
    enableManagedIdentity: () => {
      state.identityHeader = randomBytes(16).toString('hex');
      return { endpoint: `${state.url}/msi/token`, header: state.identityHeader };
    },
    count: (kind) => state.requests.filter((request) => request.kind === kind).length,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
