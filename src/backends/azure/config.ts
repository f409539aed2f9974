/**
 * Turns the checked settings into the backend's configuration, and picks the credential source.
 * The source is picked once, when the backend loads, so a credential file that disappears for a
 * moment during a rotation fails one token request instead of switching to another identity.
 */
import { DsvError } from '../../errors.ts';

/** Default credential file paths, used when no setting names a file. */
export const defaultCredentialFiles = {
  clientSecret: '/etc/dsv/credentials/azure/client-secret',
  clientCertificate: '/etc/dsv/credentials/azure/client-certificate.pem',
  federatedToken: '/etc/dsv/credentials/azure/federated-token',
  ca: '/etc/dsv/credentials/azure/ca.pem',
} as const;

export const defaultAuthorityHost = 'https://login.microsoftonline.com';

/** An Entra ID application that proves itself with a secret, a certificate or a federated token. */
export interface ApplicationSource {
  readonly kind: 'client-secret' | 'client-certificate' | 'workload-identity';
  readonly tenantId: string;
  readonly clientId: string;
  /** The client secret, the PEM (private key and certificate) or the federated token. */
  readonly file: string;
  readonly authorityHost: string;
}

/** The identity of the machine: IMDS on a VM, or an App Service style endpoint when set. */
export interface ManagedIdentitySource {
  readonly kind: 'managed-identity';
  /** Client id of a user-assigned identity; the system-assigned identity when unset. */
  readonly clientId: string | undefined;
  readonly endpoint: { readonly url: string; readonly header: string } | undefined;
}

export type CredentialSource = ApplicationSource | ManagedIdentitySource;

export interface AzureConfig {
  /** Vault URL without a trailing slash, or undefined when every secret is a full URL. */
  readonly vaultUrl: string | undefined;
  readonly credential: CredentialSource;
  /** PEM file with extra CA certificates, trusted besides Node's bundled ones. */
  readonly caFile: string | undefined;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Builds the configuration; `fileExists` decides whether a default credential file applies. */
export function readAzureConfig(env: Env, fileExists: (path: string) => boolean): AzureConfig {
  const vaultUrl = env.DSV_AZURE_VAULT_URL?.replace(/\/+$/, '');
  const caFile = env.DSV_AZURE_CA_FILE ?? existing(defaultCredentialFiles.ca, fileExists);
  return { vaultUrl, credential: selectCredentialSource(env, fileExists), caFile };
}

/**
 * Picks the credential source. Settings win over default files; among either, the order is
 * client secret, certificate, federated token, the same order as Azure's EnvironmentCredential.
 * Managed identity applies only when nothing else is set.
 */
export function selectCredentialSource(env: Env, fileExists: (path: string) => boolean): CredentialSource {
  const explicit: [ApplicationSource['kind'], string | undefined][] = [
    ['client-secret', env.DSV_AZURE_CLIENT_SECRET_FILE],
    ['client-certificate', env.AZURE_CLIENT_CERTIFICATE_PATH],
    ['workload-identity', env.AZURE_FEDERATED_TOKEN_FILE],
  ];
  const defaults: [ApplicationSource['kind'], string | undefined][] = [
    ['client-secret', existing(defaultCredentialFiles.clientSecret, fileExists)],
    ['client-certificate', existing(defaultCredentialFiles.clientCertificate, fileExists)],
    ['workload-identity', existing(defaultCredentialFiles.federatedToken, fileExists)],
  ];
  const chosen = explicit.find(([, file]) => file !== undefined) ?? defaults.find(([, file]) => file !== undefined);
  if (chosen !== undefined) return applicationSource(chosen[0], chosen[1] as string, env);

  const endpointUrl = env.IDENTITY_ENDPOINT;
  const header = env.IDENTITY_HEADER;
  if ((endpointUrl === undefined) !== (header === undefined)) {
    throw new DsvError('INVALID_SETTING', 'IDENTITY_ENDPOINT and IDENTITY_HEADER must be set together');
  }
  const endpoint = endpointUrl !== undefined && header !== undefined ? { url: endpointUrl, header } : undefined;
  return { kind: 'managed-identity', clientId: env.AZURE_CLIENT_ID, endpoint };
}

function applicationSource(kind: ApplicationSource['kind'], file: string, env: Env): ApplicationSource {
  const missing = ['AZURE_TENANT_ID', 'AZURE_CLIENT_ID'].filter((name) => env[name] === undefined);
  if (missing.length > 0) {
    throw new DsvError('INVALID_SETTING', `${missing.join(' and ')} must be set to sign in with ${kind} file ${file}`);
  }
  return {
    kind,
    tenantId: env.AZURE_TENANT_ID as string,
    clientId: env.AZURE_CLIENT_ID as string,
    file,
    authorityHost: (env.AZURE_AUTHORITY_HOST ?? defaultAuthorityHost).replace(/\/+$/, ''),
  };
}

function existing(path: string, fileExists: (path: string) => boolean): string | undefined {
  return fileExists(path) ? path : undefined;
}
