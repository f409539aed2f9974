/**
 * The vault backend's settings, resolved into one configuration. Which credential dsv uses is
 * decided here, in this order:
 * 1. AppRole, when DSV_VAULT_ROLE_ID or DSV_VAULT_ROLE_ID_FILE is set: dsv logs in itself, renews
 *    the token and logs in again when it expires. Setting a role ID is a deliberate choice, so it
 *    wins over the token sources.
 * 2. VAULT_TOKEN, when set: a fixed token, as the vault CLI reads it. Plugin settings show in
 *    `docker plugin inspect`, so this suits development only.
 * 3. The token file DSV_VAULT_TOKEN_FILE (default /etc/dsv/credentials/vault/token), re-read when
 *    it changes, so Vault Agent or an operator can rotate the token without restarting the plugin.
 */
import { DsvError } from '../../errors.ts';

export const defaultTokenFile = '/etc/dsv/credentials/vault/token';
export const defaultSecretIdFile = '/etc/dsv/credentials/vault/secret-id';
export const defaultAuthMount = 'approle';

export interface AppRoleConfig {
  readonly kind: 'approle';
  /**
   * The role ID itself (DSV_VAULT_ROLE_ID), since role IDs are identifiers rather than secrets,
   * or the file that contains it (DSV_VAULT_ROLE_ID_FILE), read at every login.
   */
  readonly roleId: { readonly value: string } | { readonly file: string };
  /** File holding the secret ID, read at every login so a rotated secret ID is picked up. */
  readonly secretIdFile: string;
  /** Path the AppRole auth method is enabled at, without `auth/`. */
  readonly mount: string;
}

export interface EnvTokenConfig {
  readonly kind: 'env-token';
  readonly token: string;
}

export interface TokenFileConfig {
  readonly kind: 'token-file';
  readonly file: string;
}

export type VaultAuthConfig = AppRoleConfig | EnvTokenConfig | TokenFileConfig;

export interface VaultConfig {
  readonly address: URL;
  readonly namespace: string | undefined;
  readonly caCertFile: string | undefined;
  readonly auth: VaultAuthConfig;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Resolves the settings; throws INVALID_SETTING for a missing VAULT_ADDR or conflicting settings. */
export function resolveVaultConfig(env: Env): VaultConfig {
  const read = (name: string): string | undefined => (env[name] === '' ? undefined : env[name]);

  return {
    address: parseAddress(read('VAULT_ADDR')),
    namespace: read('VAULT_NAMESPACE'),
    caCertFile: read('VAULT_CACERT'),
    auth: resolveAuth(read),
  };
}

function parseAddress(value: string | undefined): URL {
  if (value === undefined) {
    throw new DsvError(
      'INVALID_SETTING',
      'VAULT_ADDR is not set: the vault backend needs the server address, such as https://vault.example.com:8200',
    );
  }
  let address: URL;
  try {
    address = new URL(value);
  } catch (error) {
    throw new DsvError('INVALID_SETTING', `VAULT_ADDR "${value}" is not a URL`, { cause: error });
  }
  if (address.protocol !== 'http:' && address.protocol !== 'https:') {
    throw new DsvError('INVALID_SETTING', `VAULT_ADDR "${value}" must start with https:// or http://`);
  }
  if (address.search !== '' || address.hash !== '' || address.username !== '' || address.password !== '') {
    throw new DsvError('INVALID_SETTING', 'VAULT_ADDR must not contain credentials, a query or a fragment');
  }
  return address;
}

function resolveAuth(read: (name: string) => string | undefined): VaultAuthConfig {
  const roleId = read('DSV_VAULT_ROLE_ID');
  const roleIdFile = read('DSV_VAULT_ROLE_ID_FILE');
  if (roleId !== undefined && roleIdFile !== undefined) {
    throw new DsvError('INVALID_SETTING', 'set only one of DSV_VAULT_ROLE_ID and DSV_VAULT_ROLE_ID_FILE');
  }
  if (roleId !== undefined || roleIdFile !== undefined) {
    return {
      kind: 'approle',
      roleId: roleId === undefined ? { file: roleIdFile! } : { value: roleId },
      secretIdFile: read('DSV_VAULT_SECRET_ID_FILE') ?? defaultSecretIdFile,
      mount: (read('DSV_VAULT_AUTH_MOUNT') ?? defaultAuthMount).replace(/^\/+|\/+$/g, ''),
    };
  }

  const token = read('VAULT_TOKEN');
  if (token !== undefined) return { kind: 'env-token', token };
  return { kind: 'token-file', file: read('DSV_VAULT_TOKEN_FILE') ?? defaultTokenFile };
}
