/**
 * The `aws` backend: secrets from AWS Secrets Manager. The secret reference is a secret name or
 * ARN, and the options `version` and `stage` pick a version other than AWSCURRENT.
 */
import type { BackendDefinition } from '../backend.ts';
import { secretsManagerOptions } from './options.ts';
import { awsCommonSettings, endpointUrl } from './settings.ts';

export const awsBackend: BackendDefinition = {
  name: 'aws',
  description: 'AWS Secrets Manager (GetSecretValue); secret is a secret name or ARN.',
  options: secretsManagerOptions,
  settings: {
    ...awsCommonSettings,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpointUrl
      .optional()
      .describe('Secrets Manager endpoint URL, which wins over AWS_ENDPOINT_URL'),
  },
  async create(environment) {
    const { createSecretsManagerBackend } = await import('./secrets-manager-backend.ts');
    return createSecretsManagerBackend(environment.env, environment.logger);
  },
};
