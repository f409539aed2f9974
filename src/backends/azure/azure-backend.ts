/**
 * The Azure Key Vault backend: one SecretClient per vault, sharing dsv's token credential. This
 * module imports the Key Vault SDK, so the definition in index.ts loads it only on first use.
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { rootCertificates } from 'node:tls';
import { SecretClient, type KeyVaultSecret } from '@azure/keyvault-secrets';
import type { Logger } from 'pino';
import { DsvError } from '../../errors.ts';
import type { BackendEnvironment, FetchContext, SecretBackend, SecretRequest } from '../backend.ts';
import { readAzureConfig, type AzureConfig } from './config.ts';
import { mapKeyVaultError } from './errors.ts';
import { decodeBase64Strict, describeLocation, looksLikeBase64ContentType, parseSecretReference } from './reference.ts';
import { DsvTokenCredential } from './token-credential.ts';
import type { TlsTrust } from './token-http.ts';

/** Reads the settings, picks the credential source and logs the choice (never a credential). */
export function createAzureBackend(environment: BackendEnvironment): AzureBackend {
  const config = readAzureConfig(environment.env, existsSync);
  environment.logger.info(
    { credential: config.credential.kind, vaultUrl: config.vaultUrl ?? null, caFile: config.caFile ?? null },
    'azure backend configured',
  );
  return new AzureBackend(config, environment.logger);
}

interface Transport {
  /** File identity and change time of the CA file, or '' without one. */
  readonly stamp: string;
  readonly credential: DsvTokenCredential;
  readonly clients: Map<string, SecretClient>;
  readonly trust: TlsTrust;
}

export class AzureBackend implements SecretBackend {
  readonly #config: AzureConfig;
  readonly #logger: Logger;
  #transport: Transport | undefined;

  constructor(config: AzureConfig, logger: Logger) {
    this.#config = config;
    this.#logger = logger;
  }

  async fetch(request: SecretRequest, context: FetchContext): Promise<Uint8Array> {
    const location = parseSecretReference(request.secret, this.#config.vaultUrl, request.options.version);
    const transport = await this.#currentTransport();
    const client = clientFor(transport, location.vaultUrl);

    let secret: KeyVaultSecret;
    try {
      secret = await client.getSecret(location.name, { version: location.version, abortSignal: context.signal });
    } catch (error) {
      const failure = mapKeyVaultError(error, describeLocation(location));
      // The client keeps a token until the expiry the credential reported. After Key Vault
      // rejected that token, a new client and no fallback token make the next attempt start fresh.
      if (failure.code === 'INVALID_CREDENTIALS') {
        transport.clients.delete(location.vaultUrl);
        transport.credential.forgetTokens();
      }
      throw failure;
    }

    const contentType = secret.properties.contentType;
    this.#logger.debug(
      { secret: request.secret, version: secret.properties.version, contentType, storedAsBase64: looksLikeBase64ContentType(contentType) },
      'secret read',
    );
    if (secret.value === undefined) {
      throw new DsvError('BACKEND_ERROR', `Key Vault returned no value for secret ${describeLocation(location)}`);
    }
    // Only the decode option decodes, because a content type is a free-form label set by the writer.
    if (request.options.decode === 'base64') return decodeBase64Strict(secret.value, request.secret);
    return Buffer.from(secret.value, 'utf8');
  }

  /** Returns the credential and clients, rebuilt when the CA file changed since the last fetch. */
  async #currentTransport(): Promise<Transport> {
    const caFile = this.#config.caFile;
    const stamp = caFile === undefined ? '' : await fileStamp(caFile);
    if (this.#transport?.stamp === stamp) return this.#transport;

    const trust: TlsTrust = { ca: caFile === undefined ? undefined : [...rootCertificates, await readCa(caFile)] };
    if (this.#transport !== undefined) this.#logger.info({ caFile }, 'CA file changed; reconnecting to Key Vault');
    this.#transport = {
      stamp,
      trust,
      credential: new DsvTokenCredential(this.#config.credential, trust, this.#logger),
      clients: new Map(),
    };
    return this.#transport;
  }
}

function clientFor(transport: Transport, vaultUrl: string): SecretClient {
  let client = transport.clients.get(vaultUrl);
  if (client === undefined) {
    client = new SecretClient(vaultUrl, transport.credential, {
      // fetchWithRetry owns retries, so the client makes one attempt.
      retryOptions: { maxRetries: 0 },
      // Key Vault never redirects; following one would send the request to another host.
      redirectOptions: { handleRedirects: false },
      tlsOptions: transport.trust.ca === undefined ? undefined : { ca: [...transport.trust.ca] },
      // The client checks that the challenge's resource (vault.azure.net) is a suffix of the
      // vault's host name, which no loopback address passes. Skipping the check only for loopback
      // keeps it for every remote vault, so no setting can send a vault token to another host.
      disableChallengeResourceVerification: isLoopback(vaultUrl),
      userAgentOptions: { userAgentPrefix: 'dsv' },
    });
    transport.clients.set(vaultUrl, client);
  }
  return client;
}

function isLoopback(vaultUrl: string): boolean {
  const hostname = new URL(vaultUrl).hostname;
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

async function fileStamp(file: string): Promise<string> {
  try {
    const stats = await stat(file);
    return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}`;
  } catch (error) {
    throw caError(file, error);
  }
}

async function readCa(file: string): Promise<string> {
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (error) {
    throw caError(file, error);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new DsvError('INVALID_SETTING', `DSV_AZURE_CA_FILE: ${file} contains no PEM certificate`);
  }
  return pem;
}

function caError(file: string, error: unknown): DsvError {
  const code = (error as NodeJS.ErrnoException).code ?? String(error);
  return new DsvError('INVALID_SETTING', `DSV_AZURE_CA_FILE: cannot read ${file} (${code})`, { cause: error });
}
