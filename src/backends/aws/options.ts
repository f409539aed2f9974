/**
 * Volume options of the `aws` backend and how they become a GetSecretValue request. Loads no SDK.
 */
import { z } from 'zod';
import { DsvError } from '../../errors.ts';
import type { BackendOptions, BackendOptionSpec } from '../backend.ts';

export const secretsManagerOptions: Readonly<Record<string, BackendOptionSpec>> = {
  version: {
    description: 'Version id (VersionId) to read instead of the AWSCURRENT version.',
    schema: z.string().regex(/^[A-Za-z0-9-]{32,64}$/, 'must be a version id of 32 to 64 letters, digits or dashes'),
  },
  stage: {
    description: 'Staging label (VersionStage) to read, such as AWSCURRENT, AWSPREVIOUS or a custom label.',
    schema: z
      .string()
      .regex(/^[^\s\p{Cc}]{1,256}$/u, 'must be a staging label of 1 to 256 characters without spaces'),
  },
};

/** Secret names use letters, digits and `/_+=.@-`, and an ARN may be complete or partial. */
const secretNamePattern = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const secretArnPattern = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}$/;

/** The fields of GetSecretValueCommandInput that dsv sets. */
export interface GetSecretValueInput {
  readonly SecretId: string;
  readonly VersionId?: string;
  readonly VersionStage?: string;
}

/**
 * Builds the GetSecretValue input. `version` and `stage` may be given together: Secrets Manager
 * then checks that the label is attached to that version, and rejects the request otherwise.
 */
export function getSecretValueInput(secret: string, options: BackendOptions): GetSecretValueInput {
  if (!secretNamePattern.test(secret) && !secretArnPattern.test(secret)) {
    throw new DsvError(
      'INVALID_OPTION',
      `option "secret" is invalid: "${secret}" is neither a Secrets Manager secret name nor a secret ARN`,
    );
  }
  return {
    SecretId: secret,
    ...(options.version === undefined ? {} : { VersionId: options.version }),
    ...(options.stage === undefined ? {} : { VersionStage: options.stage }),
  };
}
