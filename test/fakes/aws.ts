/**
 * A loopback fake of AWS Secrets Manager (GetSecretValue) and SSM Parameter Store (GetParameter).
 * Both speak JSON 1.1 over `POST /` with `X-Amz-Target`, so one server serves both official
 * clients. Errors are HTTP 400 with `{"__type", "message"}` as the real services send them,
 * throttling included, and dates are epoch seconds.
 *
 * `startAwsFake()` describes the server as the `aws` backend, with demo secret `demo/hello`.
 * `startAwsSsmFake()` starts the same kind of server and describes it as the `aws-ssm` backend,
 * with demo parameter `/demo/hello`. Every server contains both demo entries, so one running fake
 * can serve both backends, and its `settings()` work unchanged for `aws-ssm`.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunningFake } from './fake.ts';

const account = '123456789012';
const region = 'us-east-1';
const caller = `arn:aws:iam::${account}:user/dsv-fake`;

/** Access key id of the dummy key in `credentialFiles`. */
export const awsFakeAccessKeyId = 'AKIADSVFAKE000000001';

export interface AwsFakeRequest {
  /** `X-Amz-Target` without the service prefix, such as `GetSecretValue`. */
  readonly target: string;
  /** Attempt number from the client's `amz-sdk-request` header. */
  readonly attempt: number | undefined;
  readonly accessKeyId: string | undefined;
  /** `SecretId` or `Name` from the request body. */
  readonly reference: string | undefined;
}

export interface PutSecretInput {
  readonly string?: string;
  readonly binary?: Uint8Array;
  /** Defaults to a new random id. */
  readonly versionId?: string;
  /** Defaults to `['AWSCURRENT']`. As in AWS, a stage moves from the version that had it. */
  readonly stages?: readonly string[];
}

export interface PutParameterOptions {
  readonly type?: 'String' | 'StringList' | 'SecureString';
  /** Defaults to the latest version plus one. */
  readonly version?: number;
  /** Labels attached to this version. A label moves from the version that had it. */
  readonly labels?: readonly string[];
}

export interface AwsFake extends RunningFake {
  putSecret(name: string, input: PutSecretInput): { arn: string; versionId: string };
  putParameter(name: string, value: string, options?: PutParameterOptions): { arn: string; version: number };
  /** Schedules a secret for deletion: reads fail with InvalidRequestException. */
  markDeleted(name: string): void;
  /** Makes reads of this secret or parameter name fail with AccessDeniedException. */
  deny(name: string): void;
  /** Fails the next `count` requests with ThrottlingException, with Retry-After if given. */
  throttleNext(count: number, options?: { retryAfterSeconds?: number }): void;
  /** Fails the next `count` requests with this 5xx status and the service's internal error. */
  failNext(count: number, status: number): void;
  /**
   * Sends `value`, such as a number or an object, in the next `count` successful responses in
   * place of `SecretString` (`SecretBinary` for a binary secret) or `Parameter.Value`, as a
   * broken endpoint or proxy might.
   */
  malformNext(count: number, value: unknown): void;
  /** Delay before each response, in ms. */
  delayMs: number;
  /** Rejects requests signed with this access key id, as AWS does for an unknown or expired key. */
  rejectAccessKey(accessKeyId: string, reason?: 'invalid' | 'expired'): void;
  readonly requests: readonly AwsFakeRequest[];
}

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

class AwsError extends Error {
  readonly type: string;
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(type: string, message: string, status = 400, headers: Record<string, string> = {}) {
    super(message);
    this.type = type;
    this.status = status;
    this.headers = headers;
  }
}

/** The state behind one fake server: secrets, parameters and the failures queued for the next requests. */
class AwsFakeState {
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

function secretArn(name: string): string {
  const suffix = crypto.randomUUID().replaceAll('-', '').slice(0, 6);
  return `arn:aws:secretsmanager:${region}:${account}:secret:${name}-${suffix}`;
}

function parameterArn(name: string): string {
  return `arn:aws:ssm:${region}:${account}:parameter${name.startsWith('/') ? '' : '/'}${name}`;
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

function accessDenied(action: string, resource: string): AwsError {
  return new AwsError(
    'AccessDeniedException',
    `User: ${caller} is not authorized to perform: ${action} on resource: ${resource} ` +
      `because no identity-based policy allows the ${action} action`,
  );
}

/** Returns a shared credentials file whose `[default]` profile has this access key id and a dummy secret key. */
export function credentialsFile(accessKeyId: string): string {
  return `[default]\naws_access_key_id = ${accessKeyId}\naws_secret_access_key = dsv-fake-secret-access-key\n`;
}

/** Reads the access key id and service from a SigV4 `Authorization` header. */
function parseAuthorization(header: string | undefined): { accessKeyId: string; service: string } | undefined {
  const match = /Credential=([^/]+)\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(header ?? '');
  return match === null ? undefined : { accessKeyId: match[1] as string, service: match[2] as string };
}

const services: Record<string, { signingName: string; internalError: string }> = {
  secretsmanager: { signingName: 'secretsmanager', internalError: 'InternalServiceError' },
  AmazonSSM: { signingName: 'ssm', internalError: 'InternalServerError' },
};

async function handle(state: AwsFakeState, request: IncomingMessage, body: string, signal: AbortSignal) {
  const [prefix = '', operation = ''] = String(request.headers['x-amz-target'] ?? '').split('.');
  const input = JSON.parse(body === '' ? '{}' : body) as Record<string, unknown>;
  const auth = parseAuthorization(request.headers.authorization);
  const attempt = /attempt=(\d+)/.exec(String(request.headers['amz-sdk-request'] ?? ''))?.[1];
  state.requests.push({
    target: operation,
    attempt: attempt === undefined ? undefined : Number(attempt),
    accessKeyId: auth?.accessKeyId,
    reference: (input.SecretId ?? input.Name) as string | undefined,
  });
  if (state.delayMs > 0) await sleep(state.delayMs, undefined, { signal });

  const service = services[prefix];
  if (service === undefined) throw new AwsError('UnknownOperationException', `unknown target ${prefix}.${operation}`);
  if (auth === undefined) throw new AwsError('MissingAuthenticationTokenException', 'Missing Authentication Token');
  if (auth.service !== service.signingName) {
    const message = `Credential should be scoped to correct service: '${service.signingName}'.`;
    throw new AwsError('InvalidSignatureException', message);
  }
  const rejected = state.rejectedKeys.get(auth.accessKeyId);
  if (rejected === 'invalid') {
    throw new AwsError('UnrecognizedClientException', 'The security token included in the request is invalid.');
  }
  if (rejected === 'expired') {
    throw new AwsError('ExpiredTokenException', 'The security token included in the request is expired');
  }
  if (state.failures.count > 0) {
    state.failures.count--;
    throw new AwsError(service.internalError, 'An internal error occurred in the fake.', state.failures.status);
  }
  if (state.throttles.count > 0) {
    state.throttles.count--;
    const seconds = state.throttles.retryAfterSeconds;
    const headers: Record<string, string> = seconds === undefined ? {} : { 'retry-after': String(seconds) };
    throw new AwsError('ThrottlingException', 'Rate exceeded', 400, headers);
  }

  if (prefix === 'secretsmanager' && operation === 'GetSecretValue') return state.malform(state.getSecretValue(input));
  if (prefix === 'AmazonSSM' && operation === 'GetParameter') return state.malform(state.getParameter(input));
  throw new AwsError('UnknownOperationException', `the fake does not implement ${prefix}.${operation}`);
}

function send(response: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'x-amzn-requestid': crypto.randomUUID(),
    ...headers,
  });
  response.end(JSON.stringify(payload));
}

/** Fake options: a fixed port, and a TLS key and certificate to serve https instead of http. */
export interface AwsFakeOptions {
  readonly port?: number;
  readonly tls?: { readonly key: string; readonly cert: string };
}

async function startServer(options: AwsFakeOptions = {}) {
  const state = new AwsFakeState();
  state.putSecret('demo/hello', { string: 'hello from the aws fake' });
  state.putParameter('/demo/hello', 'hello from the aws-ssm fake', { type: 'SecureString' });
  const closing = new AbortController();

  const listener = (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      handle(state, request, Buffer.concat(chunks).toString('utf8'), closing.signal).then(
        (output) => send(response, 200, output),
        (error: unknown) => {
          if (closing.signal.aborted) return;
          const failure = error instanceof AwsError ? error : new AwsError('InternalFailure', String(error), 500);
          send(response, failure.status, { __type: failure.type, message: failure.message }, failure.headers);
        },
      );
    });
  };
  const server = options.tls === undefined ? http.createServer(listener) : https.createServer(options.tls, listener);
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    state,
    url: `${options.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    async close() {
      closing.abort();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Builds the AwsFake for one running server, described as the given backend. */
function describeFake(
  server: Awaited<ReturnType<typeof startServer>>,
  demo: { backend: string; secret: string; value: string },
): AwsFake {
  const { state } = server;
  return {
    backend: demo.backend,
    url: server.url,
    demoSecret: demo.secret,
    demoValue: demo.value,
    credentialFiles: {
      'aws/credentials': credentialsFile(awsFakeAccessKeyId),
    },
    settings: (credentialsDir) => ({
      AWS_REGION: region,
      // The service-specific name, so that an aws and an aws-ssm fake can serve one plugin.
      [demo.backend === 'aws-ssm' ? 'AWS_ENDPOINT_URL_SSM' : 'AWS_ENDPOINT_URL_SECRETS_MANAGER']: server.url,
      AWS_SHARED_CREDENTIALS_FILE: `${credentialsDir}/aws/credentials`,
      AWS_CONFIG_FILE: `${credentialsDir}/aws/config`,
      // Keeps the credential chain off the instance metadata address if the file is missing.
      AWS_EC2_METADATA_DISABLED: 'true',
    }),
    close: () => server.close(),
    putSecret: (name, input) => state.putSecret(name, input),
    putParameter: (name, value, options) => state.putParameter(name, value, options),
    markDeleted(name) {
      const secret = state.secrets.get(name);
      if (secret === undefined) throw new Error(`the fake has no secret ${name}`);
      secret.deleted = true;
    },
    deny: (name) => void state.denied.add(name),
    throttleNext(count, options = {}) {
      state.throttles = { count, retryAfterSeconds: options.retryAfterSeconds };
    },
    failNext(count, status) {
      state.failures = { count, status };
    },
    malformNext(count, value) {
      state.malformed = { count, value };
    },
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(value: number) {
      state.delayMs = value;
    },
    rejectAccessKey: (accessKeyId, reason = 'invalid') => void state.rejectedKeys.set(accessKeyId, reason),
    get requests() {
      return state.requests;
    },
  };
}

/** Starts the fake as the `aws` (Secrets Manager) backend's server on 127.0.0.1. */
export async function startAwsFake(options: AwsFakeOptions = {}): Promise<AwsFake> {
  const server = await startServer(options);
  return describeFake(server, { backend: 'aws', secret: 'demo/hello', value: 'hello from the aws fake' });
}

/** Starts the fake as the `aws-ssm` (Parameter Store) backend's server on 127.0.0.1. */
export async function startAwsSsmFake(options: AwsFakeOptions = {}): Promise<AwsFake> {
  const server = await startServer(options);
  return describeFake(server, { backend: 'aws-ssm', secret: '/demo/hello', value: 'hello from the aws-ssm fake' });
}
