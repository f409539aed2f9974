/**
 * The `aws` backend's implementation: one GetSecretValue call per fetch with the official client.
 * Imported lazily by the definition in index.ts, because the SDK takes tens of ms to load.
 */
import {
  GetSecretValueCommand,
  SecretsManagerClient,
  type GetSecretValueCommandOutput,
} from '@aws-sdk/client-secrets-manager';
import { DsvError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { FetchContext, SecretBackend, SecretRequest } from '../backend.ts';
import { createReloadingClient } from './client.ts';
import { mapAwsError } from './errors.ts';
import { getSecretValueInput } from './options.ts';
import type { ReloadingClient } from './reloading-client.ts';
import { resolveAwsClientSettings } from './settings.ts';

const service = 'Secrets Manager';

export class SecretsManagerBackend implements SecretBackend {
  readonly #clients: ReloadingClient<SecretsManagerClient>;

  constructor(clients: ReloadingClient<SecretsManagerClient>) {
    this.#clients = clients;
  }

  /** Returns SecretString as UTF-8 bytes, or SecretBinary byte for byte. */
  async fetch(request: SecretRequest, context: FetchContext): Promise<Uint8Array> {
    const input = getSecretValueInput(request.secret, request.options);

    let output: GetSecretValueCommandOutput;
    try {
      const client = await this.#clients.get();
      output = await client.send(new GetSecretValueCommand(input), { abortSignal: context.signal });
    } catch (error) {
      throw mapAwsError(error, { service, reference: request.secret });
    }

    if (output.SecretString !== undefined) return new TextEncoder().encode(output.SecretString);
    if (output.SecretBinary !== undefined) return new Uint8Array(output.SecretBinary);
    throw new DsvError(
      'BACKEND_ERROR',
      `${service} request for "${request.secret}" returned neither SecretString nor SecretBinary`,
    );
  }
}

/** Builds the backend from the checked settings. Throws INVALID_SETTING for a missing region. */
export async function createSecretsManagerBackend(
  env: Readonly<Record<string, string | undefined>>,
  logger: Logger,
): Promise<SecretsManagerBackend> {
  const settings = resolveAwsClientSettings(env, 'AWS_ENDPOINT_URL_SECRETS_MANAGER');
  const clients = await createReloadingClient(settings, (config) => new SecretsManagerClient(config), logger);
  return new SecretsManagerBackend(clients);
}
