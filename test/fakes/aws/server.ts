/**
 * The HTTP(S) server on 127.0.0.1: reads each JSON 1.1 request, checks the SigV4 scope and
 * access key, applies the queued failures, and dispatches `X-Amz-Target` to the state.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { AwsError } from './errors.ts';
import { parseAuthorization } from './identity.ts';
import { AwsFakeState } from './state.ts';
import type { AwsFakeOptions } from './types.ts';

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

/** Starts one server with both demo entries. Its `close()` aborts pending delays and drops connections. */
export async function startServer(options: AwsFakeOptions = {}) {
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
