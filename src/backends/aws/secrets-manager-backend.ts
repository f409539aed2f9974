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
import { malformedAnswer, mapAwsError } from './errors.ts';
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

    const where = { service, reference: request.secret };
    let output: GetSecretValueCommandOutput;
    try {
      const client = await this.#clients.get();
      output = await client.send(new GetSecretValueCommand(input), { abortSignal: context.signal });
    } catch (error) {
      throw mapAwsError(error, where);
    }

    // The SDK does not check the response's types: a number in SecretString would be written as text.
    const text: unknown = output.SecretString;
    const binary: unknown = output.SecretBinary;
    if (text !== undefined) {
      if (typeof text !== 'string') throw malformedAnswer(where, 'SecretString', 'a string', text);
      return new TextEncoder().encode(text);
    }
    if (binary !== undefined) {
      if (!(binary instanceof Uint8Array)) throw malformedAnswer(where, 'SecretBinary', 'base64 bytes', binary);
      return new Uint8Array(binary);
    }
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
