/** The public shape of the AWS fake: its controls, recorded requests and start options. */
import type { RunningFake } from '../fake.ts';

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

/** Fake options: a fixed port, and a TLS key and certificate to serve https instead of http. */
export interface AwsFakeOptions {
  readonly port?: number;
  readonly tls?: { readonly key: string; readonly cert: string };
}
