/**
 * The `aws-ssm` backend: parameters from AWS Systems Manager Parameter Store, SecureString
 * decrypted. The secret reference is a parameter name such as `/app/db/password` or its ARN;
 * `version` or `label` picks a version other than the latest.
 */
import type { BackendDefinition } from '../backend.ts';
import { awsCommonSettings, endpointUrl } from '../aws/settings.ts';
import { parameterStoreOptions } from './options.ts';

export const awsSsmBackend: BackendDefinition = {
  name: 'aws-ssm',
  description: 'AWS SSM Parameter Store (GetParameter, decrypted); secret is a parameter name or ARN.',
  options: parameterStoreOptions,
  settings: {
    ...awsCommonSettings,
    AWS_ENDPOINT_URL_SSM: endpointUrl
      .optional()
      .describe('SSM endpoint URL, which wins over AWS_ENDPOINT_URL'),
  },
  async create(environment) {
    const { createParameterStoreBackend } = await import('./parameter-store-backend.ts');
    return createParameterStoreBackend(environment.env, environment.logger);
  },
};
