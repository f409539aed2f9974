/**
 * Finds the credentials file for the Secret Manager client and notices when it changes. The file
 * is GOOGLE_APPLICATION_CREDENTIALS when set, else /etc/dsv/credentials/gcp/key.json when that
 * file exists (the managed plugin's credentials mount). With neither, the client falls back to
 * application default credentials: the gcloud ADC file, then the GCE metadata server.
 */
import { readFile, stat } from 'node:fs/promises';
import { createPrivateKey } from 'node:crypto';
import { DsvError } from '../../errors.ts';
import { projectPattern } from './reference.ts';

export const defaultCredentialsFile = '/etc/dsv/credentials/gcp/key.json';

/** Credential file types google-auth-library accepts. */
const knownTypes = new Set([
  'service_account',
  'external_account',
  'authorized_user',
  'impersonated_service_account',
  'external_account_authorized_user',
]);

/** The credentials in use; `version` changes whenever the file is replaced or rewritten. */
export type CredentialsSource =
  | { readonly kind: 'default'; readonly version: string }
  | {
      readonly kind: 'file';
      readonly version: string;
      readonly path: string;
      /** The parsed file, handed to the client so it never reads a different copy. */
      readonly json: Readonly<Record<string, unknown>>;
      /** `project_id` of a service-account key. */
      readonly projectId: string | undefined;
    };

export class CredentialsFileWatcher {
  readonly #explicitPath: string | undefined;
  readonly #defaultPath: string;
  #current: CredentialsSource | undefined;

  /** `explicitPath` is GOOGLE_APPLICATION_CREDENTIALS; `defaultPath` is used only if it exists. */
  constructor(explicitPath: string | undefined, defaultPath: string) {
    this.#explicitPath = explicitPath;
    this.#defaultPath = defaultPath;
  }

  /**
   * Returns the current credentials, re-reading the file when its inode, size or mtime changed.
   * Costs one or two stat calls when nothing changed.
   */
  async current(): Promise<CredentialsSource> {
    const path = this.#explicitPath ?? (await fileExists(this.#defaultPath) ? this.#defaultPath : undefined);
    if (path === undefined) {
      this.#current = { kind: 'default', version: 'default' };
      return this.#current;
    }

    const stats = await stat(path).catch((error: unknown) => {
      throw unreadable(path, error);
    });
    const version = `${path}:${stats.ino}:${stats.size}:${stats.mtimeMs}`;
    if (this.#current?.version === version) return this.#current;

    const text = await readFile(path, 'utf8').catch((error: unknown) => {
      throw unreadable(path, error);
    });
    const json = parseCredentials(path, text);
    this.#current = { kind: 'file', version, path, json, projectId: projectIdOf(path, json) };
    return this.#current;
  }
}

async function fileExists(path: string): Promise<boolean> {
  return stat(path).then(
    (stats) => stats.isFile(),
    () => false,
  );
}

/** Checks the file's shape. Messages never quote the content, which contains a private key. */
export function parseCredentials(path: string, text: string): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw invalidFile(path, 'is not valid JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw invalidFile(path, 'is not a JSON object');
  }
  const fields = json as Record<string, unknown>;
  if (typeof fields.type !== 'string' || !knownTypes.has(fields.type)) {
    throw invalidFile(path, `has no known "type"; expected one of ${[...knownTypes].join(', ')}`);
  }
  if (fields.type === 'service_account') checkServiceAccountKey(path, fields);
  return fields;
}

function checkServiceAccountKey(path: string, fields: Record<string, unknown>): void {
  if (typeof fields.client_email !== 'string' || fields.client_email === '') {
    throw invalidFile(path, 'is a service-account key without "client_email"');
  }
  if (typeof fields.private_key !== 'string') {
    throw invalidFile(path, 'is a service-account key without "private_key"');
  }
  try {
    createPrivateKey(fields.private_key);
  } catch {
    throw invalidFile(path, 'has a "private_key" that is not a PEM private key');
  }
}

function projectIdOf(path: string, fields: Record<string, unknown>): string | undefined {
  if (fields.project_id === undefined) return undefined;
  if (typeof fields.project_id !== 'string' || !projectPattern.test(fields.project_id)) {
    throw invalidFile(path, 'has a "project_id" that is not a valid project id');
  }
  return fields.project_id;
}

function unreadable(path: string, error: unknown): DsvError {
  const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
  const reason = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`;
  return new DsvError('INVALID_CREDENTIALS', `GCP credentials file ${path} ${reason}`);
}

function invalidFile(path: string, reason: string): DsvError {
  return new DsvError('INVALID_CREDENTIALS', `GCP credentials file ${path} ${reason}`);
}
