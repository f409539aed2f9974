/**
 * The shape every vendor fake returns, so that tests, the end-to-end harness and
 * `npm run fake -- NAME` can start any of them the same way.
 */
export interface RunningFake {
  /** Backend name as used in the `backend` volume option, such as `aws` or `vault`. */
  readonly backend: string;
  /** Base URL on 127.0.0.1, such as `http://127.0.0.1:40123`. */
  readonly url: string;
  /** A secret reference the fake serves out of the box, for demos and smoke tests. */
  readonly demoSecret: string;
  /** The demo secret's value as the container sees it, byte for byte. */
  readonly demoValue: string;
  /** Volume options besides `backend` and `secret` that the demo needs, such as `key`. */
  readonly demoOptions?: Readonly<Record<string, string>>;
  /**
   * Files the plugin needs in its credentials folder (dummy keys, CA certificates, token files),
   * keyed by path relative to that folder.
   */
  readonly credentialFiles: Readonly<Record<string, string | Uint8Array>>;
  /**
   * Plugin settings that point dsv at this fake, given where the plugin sees the credentials
   * folder (`/etc/dsv/credentials` in the managed plugin, a temporary folder for the host daemon).
   */
  settings(credentialsDir: string): Record<string, string>;
  /** Stops the server and closes open connections. */
  close(): Promise<void>;
}
