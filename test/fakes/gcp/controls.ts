/** The control handle tests get from `startGcpFake`: settings, the key file, versions and failure injection. */
import type http from 'node:http';
import { newServiceAccountKey, project, serviceAccountKeyFile, type ServiceAccountKey } from './auth.ts';
import { addVersion, secretKey, setVersionState, type GcpState } from './state.ts';
import type { GcpFake } from './types.ts';

export const demoValue = 'hello from the gcp fake';

/** Builds the handle over the fake's state. The key file of `firstKey` goes into the credentials folder. */
export function createHandle(state: GcpState, server: http.Server, url: string, firstKey: ServiceAccountKey): GcpFake {
  const keyFileFor = (key: ServiceAccountKey): string => JSON.stringify(serviceAccountKeyFile(key, url), null, 2);
  return {
    backend: 'gcp',
    url,
    project,
    demoSecret: 'demo-hello',
    demoValue,
    credentialFiles: { 'gcp/key.json': keyFileFor(firstKey) },
    settings: (credentialsDir) => ({
      DSV_GCP_PROJECT: project,
      DSV_GCP_ENDPOINT: url,
      GOOGLE_APPLICATION_CREDENTIALS: `${credentialsDir}/gcp/key.json`,
    }),
    requests: state.requests,
    addVersion: (projectId, secret, value, versionOptions) => addVersion(state, projectId, secret, value, versionOptions),
    disableVersion: setVersionState(state, 'DISABLED'),
    destroyVersion: setVersionState(state, 'DESTROYED'),
    deny: (projectId, secret, where = {}) => void state.denied.add(secretKey(projectId, secret, where.location)),
    throttleNext: (count, throttleOptions = {}) => void (state.throttled = { count, retryAfterSeconds: throttleOptions.retryAfterSeconds }),
    failNext: (count, httpStatus = 503) => void (state.failures = { count, httpStatus }),
    corruptChecksumNext: (count) => void (state.corruptChecksums = count),
    get delayMs() { return state.delayMs; },
    set delayMs(value: number) { state.delayMs = value; },
    rejectTokensIssuedBefore: (time) => void (state.tokensValidFromMs = time.getTime()),
    rotateKey: async () => {
      const key = await newServiceAccountKey(state.publicKeys);
      return { keyId: key.keyId, keyFile: keyFileFor(key) };
    },
    revokeKey: (keyId) => void state.publicKeys.delete(keyId),
    close: async () => {
      state.closing.abort();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
