/**
 * Client configuration shared by the Secrets Manager and SSM backends: region, endpoint, one
 * attempt per call, a private CA bundle, and credentials that follow rotated files.
 */
import http from 'node:http';
import https from 'node:https';
import { readFile } from 'node:fs/promises';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import type { SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import { DsvError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import { ReloadingClient } from './reloading-client.ts';
import type { AwsClientSettings } from './settings.ts';

/** The part of a client configuration that both service clients accept unchanged. */
export interface AwsClientConfig {
  readonly region: string;
  readonly endpoint?: string;
  readonly maxAttempts: number;
  readonly credentials: NonNullable<SecretsManagerClientConfig['credentials']>;
  readonly requestHandler: { httpAgent: http.Agent; httpsAgent: https.Agent };
}

/**
 * Builds a ReloadingClient for one service, passing `create` a fresh configuration per client.
 * With default-chain credentials a client is rebuilt whenever the credentials or config file
 * changes. All clients share the HTTP agents, so a rebuild leaks no connections.
 */
export async function createReloadingClient<Client>(
  settings: AwsClientSettings,
  create: (config: AwsClientConfig) => Client,
  logger: Logger,
): Promise<ReloadingClient<Client>> {
  const requestHandler = {
    httpAgent: new http.Agent({ keepAlive: true, maxSockets: 50 }),
    httpsAgent: new https.Agent({ keepAlive: true, maxSockets: 50, ca: await readCaBundle(settings.caBundleFile) }),
  };
  const base = {
    region: settings.region,
    ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
    // fetchWithRetry owns retries and their budget, so the SDK makes exactly one attempt.
    maxAttempts: 1,
    requestHandler,
  };

  const source = settings.credentials;
  if (source.kind === 'static') {
    const credentials = {
      accessKeyId: source.accessKeyId,
      secretAccessKey: source.secretAccessKey,
      ...(source.sessionToken === undefined ? {} : { sessionToken: source.sessionToken }),
    };
    return new ReloadingClient([], () => create({ ...base, credentials }));
  }

  const files = [source.credentialsFile, source.configFile];
  const onRebuild = () => logger.info({ files }, 'AWS credentials or config file changed; reading credentials again');
  return new ReloadingClient(files, () =>
    create({
      ...base,
      // The standard chain: environment, SSO, shared files, credential_process, web identity,
      // container and instance roles. ignoreCache makes each new chain read the files again,
      // because the SDK otherwise keeps their first contents for the life of the process.
      credentials: defaultProvider({
        profile: source.profile,
        filepath: source.credentialsFile,
        configFilepath: source.configFile,
        ignoreCache: true,
      }),
    }),
    onRebuild,
  );
}

/** Reads AWS_CA_BUNDLE. Without it the agent trusts Node's built-in CA list, and with it only the bundle. */
async function readCaBundle(file: string | undefined): Promise<string | undefined> {
  if (file === undefined) return undefined;
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new DsvError('INVALID_SETTING', `AWS_CA_BUNDLE: cannot read ${file} (${code})`, { cause: error });
  }
}
