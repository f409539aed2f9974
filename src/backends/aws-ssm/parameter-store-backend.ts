/**
 * The `aws-ssm` backend's implementation: one GetParameter call with decryption per fetch, with
 * the official client. Imported lazily by the definition in index.ts.
 */
import { GetParameterCommand, SSMClient, type GetParameterCommandOutput } from '@aws-sdk/client-ssm';
import { DsvError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { FetchContext, SecretBackend, SecretRequest } from '../backend.ts';
import { createReloadingClient } from '../aws/client.ts';
import { malformedAnswer, mapAwsError } from '../aws/errors.ts';
import type { ReloadingClient } from '../aws/reloading-client.ts';
import { resolveAwsClientSettings } from '../aws/settings.ts';
import { parameterName } from './options.ts';

const service = 'SSM Parameter Store';

export class ParameterStoreBackend implements SecretBackend {
  readonly #clients: ReloadingClient<SSMClient>;

  constructor(clients: ReloadingClient<SSMClient>) {
    this.#clients = clients;
  }

  /** Returns the parameter value as UTF-8 bytes. SSM decrypts SecureString values first. */
  async fetch(request: SecretRequest, context: FetchContext): Promise<Uint8Array> {
    const name = parameterName(request.secret, request.options);

    const where = { service, reference: name };
    let output: GetParameterCommandOutput;
    try {
      const client = await this.#clients.get();
      const command = new GetParameterCommand({ Name: name, WithDecryption: true });
      output = await client.send(command, { abortSignal: context.signal });
    } catch (error) {
      throw mapAwsError(error, where);
    }

    // The SDK does not check the response's types: an object in Value would be written as "[object Object]".
    const value: unknown = output.Parameter?.Value;
    if (value === undefined) {
      throw new DsvError('BACKEND_ERROR', `${service} request for "${name}" returned no parameter value`);
    }
    if (typeof value !== 'string') throw malformedAnswer(where, 'Parameter.Value', 'a string', value);
    return new TextEncoder().encode(value);
  }
}

/** Builds the backend from the checked settings. Throws INVALID_SETTING for a missing region. */
export async function createParameterStoreBackend(
  env: Readonly<Record<string, string | undefined>>,
  logger: Logger,
): Promise<ParameterStoreBackend> {
  const settings = resolveAwsClientSettings(env, 'AWS_ENDPOINT_URL_SSM');
  const clients = await createReloadingClient(settings, (config) => new SSMClient(config), logger);
  return new ParameterStoreBackend(clients);
}
