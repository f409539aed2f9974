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
import { awsFakeAccessKeyId, credentialsFile, region } from './aws/identity.ts';
import { startServer } from './aws/server.ts';
import type { AwsFake, AwsFakeOptions } from './aws/types.ts';

export { awsFakeAccessKeyId, credentialsFile } from './aws/identity.ts';
export type { AwsFake, AwsFakeOptions, AwsFakeRequest, PutParameterOptions, PutSecretInput } from './aws/types.ts';

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
