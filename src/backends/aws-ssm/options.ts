/**
 * Volume options of the `aws-ssm` backend and how they become the GetParameter `Name`. SSM takes
 * a version or a label as a selector after the name (`name:3`, `name:prod`). Loads no SDK.
 */
import { z } from 'zod';
import { DsvError } from '../../errors.ts';
import type { BackendOptions, BackendOptionSpec } from '../backend.ts';

export const parameterStoreOptions: Readonly<Record<string, BackendOptionSpec>> = {
  version: {
    description: 'Parameter version (a positive integer) to read instead of the latest one.',
    schema: z.string().regex(/^[1-9]\d{0,17}$/, 'must be a positive whole number'),
  },
  label: {
    description: 'Parameter label to read; the version that carries the label is returned.',
    // SSM rules: up to 100 letters, digits, dots, dashes or underscores, not starting with a
    // digit (that would read as a version) nor with "aws" or "ssm".
    schema: z
      .string()
      .regex(
        /^(?![0-9])(?!aws|ssm)[A-Za-z0-9._-]{1,100}$/i,
        'must be a label of up to 100 letters, digits, ".", "-" or "_", not starting with a digit, "aws" or "ssm"',
      ),
  },
};

/** Parameter names use letters, digits and `_.-/`, so a `:` can only be part of an ARN. */
const namePattern = /^[A-Za-z0-9_./-]{1,2048}$/;
const arnPattern = /^arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter\/[A-Za-z0-9_./-]{1,2048}$/;

/**
 * Builds the GetParameter `Name` from the secret reference and the options. Throws INVALID_OPTION
 * for a malformed reference, for a hierarchical name without its leading "/", and when both
 * `version` and `label` are given, since SSM accepts one selector only.
 */
export function parameterName(secret: string, options: BackendOptions): string {
  if (!namePattern.test(secret) && !arnPattern.test(secret)) {
    throw new DsvError(
      'INVALID_OPTION',
      `option "secret" is invalid: "${secret}" is neither a parameter name nor a parameter ARN; ` +
        'use the options "version" or "label" to pick a version',
    );
  }
  if (namePattern.test(secret) && secret.includes('/') && !secret.startsWith('/')) {
    // SSM rejects such a name with a ValidationException that does not say the leading "/" is missing.
    throw new DsvError(
      'INVALID_OPTION',
      `option "secret" is invalid: SSM requires a parameter name that contains "/" to start with "/", ` +
        `so add the leading "/": use "/${secret}" instead of "${secret}"`,
    );
  }
  if (options.version !== undefined && options.label !== undefined) {
    throw new DsvError('INVALID_OPTION', 'options "version" and "label" cannot be used together: choose one');
  }
  const selector = options.version ?? options.label;
  return selector === undefined ? secret : `${secret}:${selector}`;
}
