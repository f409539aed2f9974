/**
 * A loopback fake of HashiCorp Vault's HTTP API, covering what the vault backend uses: KV version
 * 1 and 2 reads, mount detection through `sys/internal/ui/mounts`, AppRole login and token
 * renewal. It also produces the failures of a real server: 404 bodies of deleted versions, 403,
 * 429 and the 503 of a sealed Vault. Bodies follow Vault's wire format, which is
 * `{"errors": [...]}` for failures and the envelope with `data`, `warnings` and `auth` otherwise.
 */
import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { RunningFake } from './fake.ts';
import { VaultFakeApi } from './vault/api.ts';
import { selfSignedCertificate } from './vault/tls.ts';
import type { VaultFakeOptions } from './vault/types.ts';

export type { VaultFakeOptions, VaultFakeRequest } from './vault/types.ts';

/** A running fake plus the controls tests use to change its state and inject failures. */
export class VaultFake extends VaultFakeApi implements RunningFake {
  url = '';
  server: http.Server | undefined;

  get credentialFiles(): Record<string, string> {
    const files: Record<string, string> = {
      'vault/token': `${this.rootToken}\n`,
      'vault/role-id': `${this.roleId}\n`,
      'vault/secret-id': `${this.secretId}\n`,
    };
    if (this.caCert !== undefined) files['vault/ca.pem'] = this.caCert;
    return files;
  }

  settings(credentialsDir: string): Record<string, string> {
    const settings: Record<string, string> = {
      VAULT_ADDR: this.url,
      DSV_VAULT_TOKEN_FILE: `${credentialsDir}/vault/token`,
    };
    if (this.caCert !== undefined) settings.VAULT_CACERT = `${credentialsDir}/vault/ca.pem`;
    if (this.options.namespace !== undefined) settings.VAULT_NAMESPACE = this.options.namespace;
    return settings;
  }

  async close(): Promise<void> {
    if (this.server === undefined) return;
    const closed = once(this.server, 'close');
    this.server.close();
    this.server.closeAllConnections();
    await closed;
  }
}

/** Starts the fake on 127.0.0.1, with the demo secret on the KV version 2 mount `secret/` and a KV version 1 mount `kv1/`. */
export async function startVaultFake(options: VaultFakeOptions = {}): Promise<VaultFake> {
  const tls = options.tls === true ? await selfSignedCertificate() : undefined;
  const fake = new VaultFake(options, tls?.cert);
  const listener = (request: IncomingMessage, response: ServerResponse) => {
    fake.handle(request, response).catch((error: unknown) => {
      response.writeHead(500, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify({ errors: [`fake failed: ${String(error)}`] }));
    });
  };
  const server = tls === undefined ? http.createServer(listener) : https.createServer(tls, listener);
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  fake.server = server;
  fake.url = `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}
