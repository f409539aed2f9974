/** Options, recorded requests and the internal records of the Vault fake. */
export interface VaultFakeOptions {
  port?: number;
  /** Serve https with a fresh self-signed certificate for 127.0.0.1, offered as `vault/ca.pem`. */
  tls?: boolean;
  /** Reject requests whose X-Vault-Namespace header differs, with 403. */
  namespace?: string;
  /** TTL of tokens from AppRole login, in seconds; default 3600. */
  tokenTtlSeconds?: number;
  /** Max TTL of those tokens, which renewal cannot pass, in seconds; default none. */
  tokenMaxTtlSeconds?: number;
}

/** One request as the fake saw it; `path` is the decoded API path after `/v1/`. */
export interface VaultFakeRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly namespace: string | undefined;
  readonly token: string | undefined;
  status: number;
}

export interface KvVersionEntry {
  data: Record<string, unknown> | null;
  createdTime: string;
  deletionTime: string;
  destroyed: boolean;
}

export interface Mount {
  type: string;
  kvVersion: 1 | 2;
  secrets: Map<string, KvVersionEntry[]>;
}

export interface Token {
  expiresAt: number;
  maxExpiresAt: number;
  ttlSeconds: number;
  renewable: boolean;
}

export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}
