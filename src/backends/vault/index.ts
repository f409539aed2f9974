/**
 * The `vault` backend: KV version 1 and 2 secrets in HashiCorp Vault or OpenBao, read through the
 * HTTP API with node:http and node:https, so no client library is loaded. The secret reference is
 * `<mount>/<path>`, such as `secret/myapp/db`; the mounted value is the secret's data object as
 * compact JSON, so `-o key=password` picks one field.
 */
import { z } from 'zod';
import type { BackendDefinition } from '../backend.ts';
import { defaultAuthMount, defaultSecretIdFile, defaultTokenFile } from './config.ts';

const absolutePath = z.string().regex(/^\//, 'must be an absolute path');

export const vaultBackend: BackendDefinition = {
  name: 'vault',
  description:
    'HashiCorp Vault or OpenBao KV secrets (version 1 or 2), as <mount>/<path>. ' +
    'Credentials, first match wins: AppRole login when DSV_VAULT_ROLE_ID or DSV_VAULT_ROLE_ID_FILE is set; ' +
    'else VAULT_TOKEN (visible in docker plugin inspect); ' +
    'else the token file DSV_VAULT_TOKEN_FILE, re-read when it changes.',
  options: {
    kv: {
      description:
        'KV engine version of the mount, 1 or 2; default: detected through sys/internal/ui/mounts. ' +
        'Set it when policy denies detection.',
      schema: z.string().regex(/^[12]$/, 'must be 1 or 2'),
    },
    mount: {
      description:
        'Mount path that starts the secret reference, such as "team/kv"; needs option kv. ' +
        'Default with kv: the first segment of the reference.',
      schema: z
        .string()
        .max(512)
        .regex(/^[^/\u0000-\u001f]+(\/[^/\u0000-\u001f]+)*\/?$/, 'must be a mount path such as "secret" or "team/kv"'),
    },
    version: {
      description: 'KV version 2 version number to read; default: the latest version.',
      schema: z.string().regex(/^[1-9]\d{0,9}$/, 'must be a positive whole number'),
    },
  },
  settings: {
    VAULT_ADDR: z
      .string()
      .regex(/^https?:\/\/[^/]/, 'must be an http:// or https:// URL')
      .optional()
      .describe('Vault or OpenBao address, such as https://vault.example.com:8200; required by the vault backend'),
    VAULT_NAMESPACE: z.string().optional().describe('Vault Enterprise or OpenBao namespace, sent as X-Vault-Namespace'),
    VAULT_CACERT: absolutePath.optional().describe('PEM file of the CA that signed the Vault server certificate'),
    VAULT_TOKEN: z.string().optional().describe('Vault token; visible in "docker plugin inspect", so prefer the token file'),
    DSV_VAULT_TOKEN_FILE: absolutePath.default(defaultTokenFile).describe('file with a Vault token, read again when it changes'),
    DSV_VAULT_ROLE_ID: z.string().optional().describe('AppRole role id; setting it switches to AppRole login'),
    DSV_VAULT_ROLE_ID_FILE: absolutePath.optional().describe('file with the AppRole role id, in place of DSV_VAULT_ROLE_ID'),
    DSV_VAULT_SECRET_ID_FILE: absolutePath.default(defaultSecretIdFile).describe('file with the AppRole secret id, read at every login'),
    DSV_VAULT_AUTH_MOUNT: z
      .string()
      .regex(/^[^/\s]+(\/[^/\s]+)*$/, 'must be the path the AppRole auth method is enabled at, such as "approle"')
      .default(defaultAuthMount)
      .describe('path the AppRole auth method is enabled at'),
  },
  async create(environment) {
    const { createVaultBackend } = await import('./vault-backend.ts');
    return createVaultBackend(environment.env, environment.logger);
  },
};
