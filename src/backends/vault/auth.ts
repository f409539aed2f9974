/**
 * Sources of the Vault token: a fixed token, a token file re-read when it changes, or an AppRole
 * login that dsv renews and repeats itself. config.ts chooses one of them.
 */
import { stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { VaultAuthConfig } from './config.ts';
import type { VaultHttp } from './http.ts';
import { AppRoleTokenSource } from './approle.ts';
import { type CredentialFile, credentialFileError, readCredentialFile } from './credential-file.ts';

export interface TokenSource {
  /** Returns the token to send now, logging in or renewing first when it is due. */
  current(signal: AbortSignal): Promise<string>;
  /**
   * Replaces a token that Vault rejected with 403, by re-reading the file or logging in again.
   * Returns true when a different token is now current, so the request is worth one more try.
   */
  replace(rejected: string, signal: AbortSignal): Promise<boolean>;
}

export interface TokenSourceDependencies {
  readonly http: VaultHttp;
  readonly logger: Logger;
  /** Clock in ms since the epoch; replaced in tests. */
  readonly now: () => number;
}

export function createTokenSource(config: VaultAuthConfig, dependencies: TokenSourceDependencies): TokenSource {
  switch (config.kind) {
    case 'approle':
      return new AppRoleTokenSource(config, dependencies);
    case 'env-token':
      return new FixedTokenSource(config.token);
    case 'token-file':
      return new TokenFileSource({
        description: 'token file',
        path: config.file,
        setting: 'DSV_VAULT_TOKEN_FILE',
        alternative: 'or set DSV_VAULT_ROLE_ID for an AppRole login',
      });
  }
}

/** VAULT_TOKEN: nothing to refresh, so a rejected token stays rejected. */
class FixedTokenSource implements TokenSource {
  readonly #token: string;

  constructor(token: string) {
    this.#token = token;
  }

  async current(): Promise<string> {
    return this.#token;
  }

  async replace(): Promise<boolean> {
    return false;
  }
}

/**
 * A token file, such as a Vault Agent sink. Each fetch checks the file's mtime, size and inode
 * and re-reads the file when one of them changed. A 403 forces a re-read too, because a rewrite
 * within the mtime resolution leaves all three unchanged. Renewing that token is the writer's job.
 */
class TokenFileSource implements TokenSource {
  readonly #file: CredentialFile;
  #cached: { token: string; stamp: string } | undefined;

  constructor(file: CredentialFile) {
    this.#file = file;
  }

  async current(): Promise<string> {
    const stats = await stat(this.#file.path).catch((error: unknown) => {
      throw credentialFileError(this.#file, error);
    });
    const stamp = `${stats.mtimeMs}:${stats.size}:${stats.ino}`;
    if (this.#cached?.stamp === stamp) return this.#cached.token;

    const token = await this.#read();
    this.#cached = { token, stamp };
    return token;
  }

  async replace(rejected: string): Promise<boolean> {
    const token = await this.#read();
    if (this.#cached !== undefined) this.#cached = { ...this.#cached, token };
    return token !== rejected;
  }

  async #read(): Promise<string> {
    return readCredentialFile(this.#file);
  }
}
