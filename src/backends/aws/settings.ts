/**
 * Plugin settings shared by the `aws` and `aws-ssm` backends. They keep the names the AWS SDKs
 * and CLI define, so a user's existing environment or files work unchanged. This module loads no
 * SDK, so backend definitions can import it cheaply.
 */
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { DsvError } from '../../errors.ts';

const absolutePath = z.string().regex(/^\//, 'must be an absolute path');

/** An endpoint setting: an http:// or https:// URL. */
export const endpointUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

/** Settings that both AWS backends read. Each backend adds its service-specific endpoint setting. */
export const awsCommonSettings = {
  AWS_REGION: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS region such as us-east-1')
    .optional()
    .describe('AWS region of the secrets and parameters, such as us-east-1; required by the aws backends'),
  AWS_ENDPOINT_URL: endpointUrl
    .optional()
    .describe('endpoint URL for all AWS services, such as a VPC endpoint (unset: the public regional endpoint)'),
  AWS_PROFILE: z
    .string()
    .regex(/^[^\s[\]]+$/, 'must be a profile name without spaces or brackets')
    .optional()
    .describe('profile to read from the AWS credentials and config files (unset: default)'),
  AWS_ACCESS_KEY_ID: z
    .string()
    .regex(/^\w{16,128}$/, 'must be an access key id of 16 to 128 letters or digits')
    .optional()
    .describe('AWS access key id; visible in "docker plugin inspect", so prefer the credentials file'),
  AWS_SECRET_ACCESS_KEY: z
    .string()
    .optional()
    .describe('AWS secret access key, set with AWS_ACCESS_KEY_ID; visible in "docker plugin inspect"'),
  AWS_SESSION_TOKEN: z.string().optional().describe('AWS session token for temporary keys'),
  AWS_SHARED_CREDENTIALS_FILE: absolutePath
    .optional()
    .describe('AWS credentials file, read again when it changes (unset: ~/.aws/credentials)'),
  AWS_CONFIG_FILE: absolutePath
    .optional()
    .describe('AWS config file (profiles, roles, web identity), read again when it changes (unset: ~/.aws/config)'),
  AWS_CA_BUNDLE: absolutePath
    .optional()
    .describe('PEM file of the CAs to trust for AWS endpoints, in place of the built-in list'),
  // The SDK reads this one from the process environment itself. It is declared so that a managed
  // plugin can be set to skip the instance metadata service.
  AWS_EC2_METADATA_DISABLED: z
    .enum(['true', 'false'])
    .optional()
    .describe('"true" stops the AWS SDK from querying the EC2 instance metadata service for credentials'),
};

/** The source of a client's credentials: a key pair from settings, or the SDK's default chain. */
export type AwsCredentialSource =
  | {
      readonly kind: 'static';
      readonly accessKeyId: string;
      readonly secretAccessKey: string;
      readonly sessionToken: string | undefined;
    }
  | {
      readonly kind: 'chain';
      readonly profile: string | undefined;
      readonly credentialsFile: string;
      readonly configFile: string;
    };

/** The settings one AWS client needs, checked and with defaults applied. */
export interface AwsClientSettings {
  readonly region: string;
  readonly endpoint: string | undefined;
  /** PEM file of the CAs to trust instead of Node's built-in list. */
  readonly caBundleFile: string | undefined;
  readonly credentials: AwsCredentialSource;
}

/**
 * Reads one backend's client settings from the checked environment. `endpointSetting` is the
 * service-specific endpoint variable, which wins over AWS_ENDPOINT_URL as in the AWS SDKs.
 * Throws INVALID_SETTING for a missing region or a half-set key pair.
 */
export function resolveAwsClientSettings(
  env: Readonly<Record<string, string | undefined>>,
  endpointSetting: string,
): AwsClientSettings {
  const region = env.AWS_REGION;
  if (region === undefined) {
    throw new DsvError(
      'INVALID_SETTING',
      'AWS_REGION is not set: set it to the region of your secrets, such as us-east-1',
    );
  }

  return {
    region,
    endpoint: env[endpointSetting] ?? env.AWS_ENDPOINT_URL,
    caBundleFile: env.AWS_CA_BUNDLE,
    credentials: resolveCredentialSource(env),
  };
}

function resolveCredentialSource(env: Readonly<Record<string, string | undefined>>): AwsCredentialSource {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    const missing = accessKeyId === undefined ? 'AWS_ACCESS_KEY_ID' : 'AWS_SECRET_ACCESS_KEY';
    throw new DsvError(
      'INVALID_SETTING',
      `${missing} is not set: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY together, or neither`,
    );
  }
  if (accessKeyId !== undefined && secretAccessKey !== undefined) {
    if (env.AWS_PROFILE !== undefined) {
      throw new DsvError(
        'INVALID_SETTING',
        'AWS_PROFILE and AWS_ACCESS_KEY_ID are both set: use either a profile or a key pair',
      );
    }
    return { kind: 'static', accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN };
  }

  // The same defaults as the AWS SDKs, made explicit so that dsv can watch the files for changes.
  const awsDir = path.join(os.homedir(), '.aws');
  return {
    kind: 'chain',
    profile: env.AWS_PROFILE,
    credentialsFile: env.AWS_SHARED_CREDENTIALS_FILE ?? path.join(awsDir, 'credentials'),
    configFile: env.AWS_CONFIG_FILE ?? path.join(awsDir, 'config'),
  };
}
