/**
 * Secret references and value handling: a reference is a secret name or a Key Vault secret URL
 * (`https://<vault>/secrets/<name>[/<version>]`, the `id` Key Vault shows for each secret).
 */
import { DsvError } from '../../errors.ts';

const secretNamePattern = /^[0-9a-zA-Z-]{1,127}$/;
const versionPattern = /^[0-9a-fA-F]{32}$/;

export interface SecretLocation {
  /** Vault URL without a trailing slash. */
  readonly vaultUrl: string;
  readonly name: string;
  /** Version from the URL or the `version` option; undefined means the latest version. */
  readonly version: string | undefined;
}

/**
 * Resolves a reference against the configured vault. A URL must point at that vault's host; with
 * no vault configured, the URL names the vault itself, and a bare name is INVALID_SETTING.
 */
export function parseSecretReference(
  reference: string,
  configuredVaultUrl: string | undefined,
  versionOption: string | undefined,
): SecretLocation {
  const location = reference.startsWith('https://') || reference.startsWith('http://')
    ? parseSecretUrl(reference, configuredVaultUrl)
    : parseSecretName(reference, configuredVaultUrl);

  if (versionOption === undefined) return location;
  if (location.version !== undefined && location.version.toLowerCase() !== versionOption.toLowerCase()) {
    throw new DsvError(
      'INVALID_OPTION',
      `option "version" (${versionOption}) does not match the version in secret URL "${reference}"; set only one`,
    );
  }
  return { ...location, version: versionOption };
}

function parseSecretName(reference: string, configuredVaultUrl: string | undefined): SecretLocation {
  if (!secretNamePattern.test(reference)) {
    throw new DsvError(
      'INVALID_OPTION',
      `option "secret" is invalid: "${reference}" must be a secret name (1 to 127 letters, digits and dashes) ` +
        'or a secret URL such as https://myvault.vault.azure.net/secrets/NAME',
    );
  }
  if (configuredVaultUrl === undefined) {
    throw new DsvError(
      'INVALID_SETTING',
      `secret "${reference}" is a secret name but no vault is set; ` +
        'set DSV_AZURE_VAULT_URL or use the full secret URL',
    );
  }
  return { vaultUrl: configuredVaultUrl, name: reference, version: undefined };
}

function parseSecretUrl(reference: string, configuredVaultUrl: string | undefined): SecretLocation {
  const invalid = (reason: string) =>
    new DsvError('INVALID_OPTION', `option "secret" is invalid: secret URL "${reference}" ${reason}`);
  const url = URL.parse(reference);
  if (url === null || url.protocol !== 'https:') throw invalid('must be an https URL');
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw invalid('must not contain credentials, a query or a fragment');
  }

  const parts = url.pathname.replace(/\/$/, '').split('/');
  const [empty, collection, name, version] = parts;
  if (parts.length < 3 || parts.length > 4 || empty !== '' || collection !== 'secrets') {
    throw invalid('must have the form https://VAULT/secrets/NAME or https://VAULT/secrets/NAME/VERSION');
  }
  if (name === undefined || !secretNamePattern.test(name)) throw invalid('has an invalid secret name');
  if (version !== undefined && !versionPattern.test(version)) {
    throw invalid('has an invalid version: it must be 32 hexadecimal characters');
  }

  if (configuredVaultUrl !== undefined && new URL(configuredVaultUrl).host !== url.host) {
    throw invalid(`points at ${url.host}, but DSV_AZURE_VAULT_URL is ${configuredVaultUrl}`);
  }
  return { vaultUrl: configuredVaultUrl ?? url.origin, name, version };
}

/** Describes a location for messages, such as `"db" (version 0123...) in https://myvault.vault.azure.net`. */
export function describeLocation(location: SecretLocation): string {
  const version = location.version === undefined ? '' : ` (version ${location.version})`;
  return `"${location.name}"${version} in ${location.vaultUrl}`;
}

const strictBase64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes standard, padded base64 without line breaks. Anything else is rejected, because Node's
 * decoder would silently skip invalid characters and return different bytes. The message never
 * quotes the value.
 */
export function decodeBase64Strict(value: string, secret: string): Uint8Array {
  const decoded = Buffer.from(value, 'base64');
  // The pattern rejects bad characters and padding; the round trip rejects non-zero spare bits.
  if (!strictBase64.test(value) || decoded.toString('base64') !== value) {
    throw new DsvError(
      'INVALID_OPTION',
      `option "decode" is base64, but the value of secret "${secret}" is not strict base64 ` +
        '(standard alphabet, "=" padding, no whitespace or line breaks); drop the option to mount the stored text',
    );
  }
  return decoded;
}

/** Whether a stored content type marks the value as base64 text, which dsv logs but never acts on. */
export function looksLikeBase64ContentType(contentType: string | undefined): boolean {
  return contentType !== undefined && /base64/i.test(contentType);
}
