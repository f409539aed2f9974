/**
 * Secrets and parameters held by one fake server, the GetSecretValue and GetParameter
 * responses computed from them, and the failures queued for the next requests.
 */
import { accessDenied, AwsError } from './errors.ts';
import { parameterArn, secretArn } from './identity.ts';
import type { AwsFakeRequest, PutParameterOptions, PutSecretInput } from './types.ts';

interface SecretVersion {
  readonly versionId: string;
  readonly string: string | undefined;
  readonly binary: Uint8Array | undefined;
  readonly stages: Set<string>;
  readonly created: number;
}

interface ParameterVersion {
  readonly value: string;
  readonly type: string;
  readonly labels: Set<string>;
  readonly modified: number;
}

/** The state behind one fake server: secrets, parameters and the failures queued for the next requests. */
export class AwsFakeState {
  readonly secrets = new Map<string, { arn: string; versions: SecretVersion[]; deleted: boolean }>();
  readonly parameterVersions = new Map<string, Map<number, ParameterVersion>>();
  readonly denied = new Set<string>();
  readonly rejectedKeys = new Map<string, 'invalid' | 'expired'>();
  readonly requests: AwsFakeRequest[] = [];
  throttles: { count: number; retryAfterSeconds: number | undefined } = { count: 0, retryAfterSeconds: undefined };
  failures: { count: number; status: number } = { count: 0, status: 500 };
  malformed: { count: number; value: unknown } = { count: 0, value: undefined };
  delayMs = 0;

  putSecret(name: string, input: PutSecretInput): { arn: string; versionId: string } {
    const secret = this.secrets.get(name) ?? { arn: secretArn(name), versions: [], deleted: false };
    this.secrets.set(name, secret);
    const stages = new Set(input.stages ?? ['AWSCURRENT']);
    const versionId = input.versionId ?? crypto.randomUUID();
    for (const version of secret.versions) {
      // Moving AWSCURRENT moves AWSPREVIOUS to the version that had AWSCURRENT.
      if (stages.has('AWSCURRENT')) {
        version.stages.delete('AWSPREVIOUS');
        if (version.stages.has('AWSCURRENT')) version.stages.add('AWSPREVIOUS');
      }
      for (const stage of stages) version.stages.delete(stage);
    }
    const created = Date.now() / 1000;
    secret.versions.push({ versionId, string: input.string, binary: input.binary, stages, created });
    return { arn: secret.arn, versionId };
  }

  putParameter(name: string, value: string, options: PutParameterOptions = {}): { arn: string; version: number } {
    const versions = this.parameterVersions.get(name) ?? new Map<number, ParameterVersion>();
    this.parameterVersions.set(name, versions);
    const version = options.version ?? Math.max(0, ...versions.keys()) + 1;
    const labels = new Set(options.labels ?? []);
    for (const other of versions.values()) for (const label of labels) other.labels.delete(label);
    versions.set(version, { value, type: options.type ?? 'String', labels, modified: Date.now() / 1000 });
    return { arn: parameterArn(name), version };
  }

  getSecretValue(input: Record<string, unknown>): Record<string, unknown> {
    const secretId = String(input.SecretId ?? '');
    const versionId = input.VersionId as string | undefined;
    const stage = input.VersionStage as string | undefined;
    if (versionId !== undefined && (versionId.length < 32 || versionId.length > 64)) {
      throw new AwsError(
        'ValidationException',
        "1 validation error detected: Value at 'versionId' failed to satisfy constraint: " +
          'Member must have length between 32 and 64',
      );
    }
    const entry = [...this.secrets.entries()].find(([name, secret]) => matchesSecret(secretId, name, secret.arn));
    if (this.denied.has(secretId) || (entry !== undefined && this.denied.has(entry[0]))) {
      throw accessDenied('secretsmanager:GetSecretValue', secretId);
    }
    if (entry === undefined) {
      throw new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    }
    const [name, secret] = entry;
    if (secret.deleted) {
      throw new AwsError(
        'InvalidRequestException',
        "You can't perform this operation on the secret because it was marked for deletion.",
      );
    }

    const version = findSecretVersion(secret.versions, versionId, stage);
    const output: Record<string, unknown> = {
      ARN: secret.arn,
      Name: name,
      VersionId: version.versionId,
      VersionStages: [...version.stages],
      CreatedDate: version.created,
    };
    if (version.string !== undefined) output.SecretString = version.string;
    if (version.binary !== undefined) output.SecretBinary = Buffer.from(version.binary).toString('base64');
    return output;
  }

  getParameter(input: Record<string, unknown>): Record<string, unknown> {
    const reference = String(input.Name ?? '');
    const [path, selector, extra] = splitParameterReference(reference);
    if (path.includes('/') && !path.startsWith('/')) {
      // SSM's error for a hierarchical name without the leading "/", such as "demo/hello".
      throw new AwsError(
        'ValidationException',
        'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). If formed as a path, it can ' +
          'consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers ' +
          'and the following 3 symbols .-_',
      );
    }
    // A name without any "/" also finds the top-level parameter "/name".
    const candidates = path.startsWith('/') ? [path] : [path, `/${path}`];
    const name = candidates.find((candidate) => this.parameterVersions.has(candidate));
    if (this.denied.has(path) || (name !== undefined && this.denied.has(name))) {
      throw accessDenied('ssm:GetParameter', parameterArn(name ?? path));
    }
    const versions = name === undefined ? undefined : this.parameterVersions.get(name);
    if (name === undefined || versions === undefined || extra !== undefined) {
      throw new AwsError('ParameterNotFound', `Parameter ${reference} not found.`);
    }

    let version: number | undefined = Math.max(...versions.keys());
    if (selector !== undefined && /^\d+$/.test(selector)) {
      version = Number(selector);
      if (!versions.has(version)) {
        throw new AwsError(
          'ParameterVersionNotFound',
          `Systems Manager could not find version ${selector} of ${name}. Verify the version and try again.`,
        );
      }
    } else if (selector !== undefined) {
      version = [...versions.entries()].find(([, entry]) => entry.labels.has(selector))?.[0];
      if (version === undefined) throw new AwsError('ParameterNotFound', `Parameter ${reference} not found.`);
    }
    const entry = versions.get(version) as ParameterVersion;
    const encrypted = entry.type === 'SecureString' && input.WithDecryption !== true;
    return {
      Parameter: {
        Name: name,
        Type: entry.type,
        // Without WithDecryption, SSM returns the ciphertext of a SecureString.
        Value: encrypted ? Buffer.from(`kms-ciphertext:${name}:${version}`).toString('base64') : entry.value,
        Version: version,
        ...(selector === undefined ? {} : { Selector: `:${selector}` }),
        LastModifiedDate: entry.modified,
        ARN: parameterArn(name),
        DataType: 'text',
      },
    };
  }

  /** Puts the queued malformed value into a successful response, in place of the secret value. */
  malform(output: Record<string, unknown>): Record<string, unknown> {
    if (this.malformed.count === 0) return output;
    this.malformed.count--;
    const parameter = output.Parameter as Record<string, unknown> | undefined;
    if (parameter !== undefined) return { ...output, Parameter: { ...parameter, Value: this.malformed.value } };
    const field = 'SecretString' in output ? 'SecretString' : 'SecretBinary';
    return { ...output, [field]: this.malformed.value };
  }
}

/** Matches a secret by name, complete ARN, or partial ARN (without the 6-character suffix). */
function matchesSecret(secretId: string, name: string, arn: string): boolean {
  return secretId === name || secretId === arn || secretId === arn.slice(0, -7);
}

function findSecretVersion(versions: readonly SecretVersion[], versionId?: string, stage?: string): SecretVersion {
  if (versionId !== undefined) {
    const version = versions.find((entry) => entry.versionId === versionId);
    if (version === undefined) {
      throw new AwsError(
        'ResourceNotFoundException',
        `Secrets Manager can't find the specified secret value for VersionId: ${versionId}`,
      );
    }
    if (stage !== undefined && !version.stages.has(stage)) {
      throw new AwsError(
        'InvalidRequestException',
        'You provided a VersionStage that is not associated to the provided VersionId.',
      );
    }
    return version;
  }
  const label = stage ?? 'AWSCURRENT';
  const version = versions.find((entry) => entry.stages.has(label));
  if (version === undefined) {
    throw new AwsError(
      'ResourceNotFoundException',
      `Secrets Manager can't find the specified secret value for staging label: ${label}`,
    );
  }
  return version;
}

/** Splits `name[:selector]` or an ARN into the parameter path, the selector, and any text after a second `:`. */
function splitParameterReference(reference: string): [string, string | undefined, string | undefined] {
  const arn = /^arn:aws[a-z-]*:ssm:[^:]*:\d*:parameter(.*)$/.exec(reference);
  const [path = '', selector, extra] = (arn?.[1] ?? reference).split(':');
  return [path, selector, extra];
}
