/** Small files that hold Vault credentials: a token, an AppRole role ID or secret ID. */
import { readFile } from 'node:fs/promises';
import { DsvError } from '../../errors.ts';

export interface CredentialFile {
  /** Description of the file in messages, such as `token file`. */
  readonly description: string;
  readonly path: string;
  /** The setting that names the file. */
  readonly setting: string;
  /** Alternative offered when the file is missing, such as another setting. */
  readonly alternative?: string;
}

/** Reads the file and trims the line break that editors and `echo` add. */
export async function readCredentialFile(file: CredentialFile): Promise<string> {
  const content = await readFile(file.path, 'utf8').catch((error: unknown) => {
    throw credentialFileError(file, error);
  });
  const value = content.trim();
  if (value === '') throw new DsvError('INVALID_CREDENTIALS', `the Vault ${file.description} ${file.path} is empty`);
  return value;
}

/** Builds the INVALID_CREDENTIALS error for a file that cannot be read. */
export function credentialFileError(file: CredentialFile, error: unknown): DsvError {
  const code = (error as NodeJS.ErrnoException).code ?? String(error);
  const alternative = file.alternative === undefined ? '' : ` ${file.alternative}`;
  const reason =
    code === 'ENOENT'
      ? `it does not exist; create it, point ${file.setting} at the right file${alternative}`
      : `it cannot be read (${code})`;
  return new DsvError('INVALID_CREDENTIALS', `cannot use the Vault ${file.description} ${file.path}: ${reason}`, {
    cause: error,
  });
}
