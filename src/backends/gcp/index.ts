/**
 * The `gcp` backend: Google Cloud Secret Manager. The secret is a secret id in the default
 * project or a resource name such as `projects/P/secrets/S/versions/3`. The Google client is
 * loaded only when a volume first uses this backend.
 */
import { z } from 'zod';
import { DsvError } from '../../errors.ts';
import type { Logger } from 'pino';
import type { BackendDefinition } from '../backend.ts';
import { defaultCredentialsFile } from './credentials.ts';
import { isLoopbackHost, parseEndpointUrl } from './endpoint.ts';
import { locationPattern, projectPattern, versionProblem } from './reference.ts';

export const gcpBackend: BackendDefinition = {
  name: 'gcp',
  description: 'Google Cloud Secret Manager, global and regional secrets.',
  options: {
    version: {
      description: 'Secret version: a version number, "latest" (the default) or a version alias.',
      schema: z.string().superRefine((value, context) => {
        const problem = versionProblem(value);
        if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
      }),
    },
    location: {
      description: 'Location of a regional secret, such as us-central1; requests go to its regional endpoint.',
      schema: z.string().regex(locationPattern, 'must be a location such as us-central1'),
    },
  },
  settings: {
    DSV_GCP_PROJECT: z
      .string()
      .regex(projectPattern, 'must be a project id (6 to 30 lowercase letters, digits or dashes) or a project number')
      .optional()
      .describe("project of secrets given by id; unset: the key file's project_id"),
    DSV_GCP_ENDPOINT: z
      .string()
      .refine((value) => parseEndpointUrl(value) !== undefined, 'must be an http or https URL without a path, such as http://127.0.0.1:8085')
      .optional()
      .describe('Secret Manager endpoint URL for emulators and tests; unset: the public endpoint'),
    GOOGLE_APPLICATION_CREDENTIALS: z
      .string()
      .regex(/^\//, 'must be an absolute path')
      .optional()
      .describe('service-account key or external-account file; unset: /etc/dsv/credentials/gcp/key.json if present'),
  },
  async create(environment) {
    const { env, logger } = environment;
    disableGoogleDebugLog(logger);
    const { GcpBackend } = await import('./gcp-backend.ts');
    const endpointSetting = nonEmpty(env.DSV_GCP_ENDPOINT);
    const endpoint = endpointSetting === undefined ? undefined : parseEndpointUrl(endpointSetting);
    if (endpointSetting !== undefined && endpoint === undefined) {
      throw new DsvError('INVALID_SETTING', `DSV_GCP_ENDPOINT "${endpointSetting}" is not an http or https URL without a path`);
    }
    if (endpoint?.protocol === 'http' && !isLoopbackHost(endpoint.host)) {
      logger.warn({ endpoint: endpointSetting }, 'DSV_GCP_ENDPOINT uses plain HTTP; access tokens are sent unencrypted');
    }
    return new GcpBackend({
      project: nonEmpty(env.DSV_GCP_PROJECT),
      endpoint,
      credentialsFile: nonEmpty(env.GOOGLE_APPLICATION_CREDENTIALS),
      defaultCredentialsFile,
      logger,
    });
  },
};

function nonEmpty(value: string | undefined): string | undefined {
  return value === '' ? undefined : value;
}

/**
 * Unsets GOOGLE_SDK_NODE_LOGGING before the Google libraries load, because their debug log
 * (google-logging-utils) prints every response body, secret payloads included. Each logger
 * reads the variable once, when it is created, so unsetting it first keeps them all silent.
 */
function disableGoogleDebugLog(logger: Logger): void {
  if (process.env.GOOGLE_SDK_NODE_LOGGING === undefined) return;
  delete process.env.GOOGLE_SDK_NODE_LOGGING;
  logger.warn('GOOGLE_SDK_NODE_LOGGING is ignored: the Google client debug log prints secret values');
}
