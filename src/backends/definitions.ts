/** Every backend dsv ships, in the order `dsv backends` and the README list them. */
import type { BackendDefinition } from './backend.ts';
import { awsBackend } from './aws/index.ts';
import { awsSsmBackend } from './aws-ssm/index.ts';
import { azureBackend } from './azure/index.ts';
import { fileBackend } from './file/index.ts';
import { gcpBackend } from './gcp/index.ts';
import { vaultBackend } from './vault/index.ts';

export const backendDefinitions: readonly BackendDefinition[] = [
  fileBackend,
  awsBackend,
  awsSsmBackend,
  gcpBackend,
  azureBackend,
  vaultBackend,
];
