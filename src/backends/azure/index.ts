/**
 * The `azure` backend: secrets from Azure Key Vault through `@azure/keyvault-secrets`. The secret
 * reference is a secret name in the vault set by DSV_AZURE_VAULT_URL, or a full secret URL.
 * Tokens come from dsv's own Microsoft Entra ID credential (token-credential.ts), which reads
 * its credential files from the plugin's credentials mount. docs/azure-credentials.md explains
 * that choice and each credential source.
 */
import { z } from 'zod';
import type { BackendDefinition } from '../backend.ts';

const absolutePath = z.string().regex(/^\//, 'must be an absolute path');

/** Accepts an https URL without credentials, query or fragment; `allowPath` permits a path. */
function httpsUrl(example: string, allowPath: boolean) {
  return z.string().refine(
    (value) => {
      const url = URL.parse(value);
      if (url === null || url.protocol !== 'https:' || url.username !== '' || url.password !== '') return false;
      if (url.search !== '' || url.hash !== '') return false;
      return allowPath || url.pathname === '/';
    },
    { message: `must be an https URL such as ${example}${allowPath ? '' : ', without a path'}` },
  );
}

const httpUrl = z.string().refine((value) => /^https?:$/.test(URL.parse(value)?.protocol ?? ''), {
  message: 'must be an http or https URL',
});

/** Options the backend accepts besides the common ones. */
export const azureOptions = {
  version: {
    description: 'Secret version: 32 hexadecimal characters; the latest version when unset.',
    schema: z.string().regex(/^[0-9a-fA-F]{32}$/, 'must be 32 hexadecimal characters'),
  },
  decode: {
    description: 'Set to "base64" to decode a value stored as base64 text (strict, padded, no line breaks).',
    schema: z.enum(['base64'], { error: 'must be "base64", the only encoding dsv decodes' }),
  },
};

/** Settings the backend reads; files default to paths under /etc/dsv/credentials/azure when present. */
export const azureSettings = {
  DSV_AZURE_VAULT_URL: httpsUrl('https://myvault.vault.azure.net', false)
    .optional()
    .describe('Key Vault URL for secrets given by name; unset, each secret must be a full secret URL'),
  AZURE_TENANT_ID: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9.-]{0,253}$/, 'must be a tenant id (GUID) or a domain name')
    .optional()
    .describe('Microsoft Entra tenant of the application that signs in'),
  AZURE_CLIENT_ID: z
    .string()
    .regex(/^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$/, 'must be an application (client) id, a GUID')
    .optional()
    .describe('application (client) id; with managed identity, the client id of a user-assigned identity'),
  AZURE_AUTHORITY_HOST: httpsUrl('https://login.microsoftonline.com', true)
    .optional()
    .describe('Entra ID sign-in host; default https://login.microsoftonline.com'),
  DSV_AZURE_CLIENT_SECRET_FILE: absolutePath
    .optional()
    .describe('file with the client secret; default /etc/dsv/credentials/azure/client-secret if present'),
  AZURE_CLIENT_CERTIFICATE_PATH: absolutePath
    .optional()
    .describe('PEM file with private key and certificate; default /etc/dsv/credentials/azure/client-certificate.pem if present'),
  AZURE_FEDERATED_TOKEN_FILE: absolutePath
    .optional()
    .describe('federated token file (workload identity); default /etc/dsv/credentials/azure/federated-token if present'),
  IDENTITY_ENDPOINT: httpUrl.optional().describe('App Service style managed identity endpoint; unset, managed identity uses IMDS'),
  IDENTITY_HEADER: z
    .string()
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
    .optional()
    .describe('header value for IDENTITY_ENDPOINT'),
  DSV_AZURE_CA_FILE: absolutePath
    .optional()
    .describe('PEM file with extra CA certificates for Key Vault and Entra ID; default /etc/dsv/credentials/azure/ca.pem if present'),
};

export const azureBackend: BackendDefinition = {
  name: 'azure',
  description: 'Azure Key Vault secrets (DSV_AZURE_VAULT_URL, or a full secret URL as the secret).',
  options: azureOptions,
  settings: azureSettings,
  async create(environment) {
    const { createAzureBackend } = await import('./azure-backend.ts');
    return createAzureBackend(environment);
  },
};
