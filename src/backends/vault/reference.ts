/**
 * Secret references and volume options of the vault backend. A reference is `<mount>/<path>`,
 * such as `secret/myapp/db`, written the way `vault kv get` takes it: without the `data/` part
 * that KV version 2 inserts into API paths.
 */
import { DsvError } from '../../errors.ts';
import type { BackendOptions } from '../backend.ts';

export type KvVersion = 1 | 2;

/** A checked reference, with the mount and version that the volume options set. */
export interface VaultReference {
  /** The reference as the user wrote it, for messages. */
  readonly secret: string;
  readonly segments: readonly string[];
  /** Set when the `kv` option names the engine version, which skips detection. */
  readonly explicitMount: KvMount | undefined;
  /** KV version 2 version number from the `version` option; undefined means the latest. */
  readonly version: number | undefined;
}

/** A KV mount: its path without the trailing slash and its engine version. */
export interface KvMount {
  readonly path: string;
  readonly kvVersion: KvVersion;
}

/** Location of one secret: its mount and its path inside that mount. */
export interface KvLocation {
  readonly mount: KvMount;
  readonly path: string;
}

/** Checks the reference and the `kv`, `mount` and `version` options together. */
export function parseReference(secret: string, options: BackendOptions): VaultReference {
  const segments = splitPath(secret, 'secret');
  if (segments.length < 2) {
    throw new DsvError(
      'INVALID_OPTION',
      `option "secret" is invalid: "${secret}" must be <mount>/<path>, such as "secret/myapp/db"`,
    );
  }

  const version = options.version === undefined ? undefined : Number(options.version);
  const explicitMount = parseExplicitMount(secret, segments, options);
  if (explicitMount?.kvVersion === 1 && version !== undefined) {
    throw new DsvError(
      'INVALID_OPTION',
      'option "version" is invalid with kv=1: KV version 1 keeps only the latest value; drop "version" or use a KV version 2 mount',
    );
  }
  return { secret, segments, explicitMount, version };
}

function parseExplicitMount(secret: string, segments: readonly string[], options: BackendOptions): KvMount | undefined {
  if (options.kv === undefined) {
    if (options.mount !== undefined) {
      throw new DsvError('INVALID_OPTION', 'option "mount" needs option "kv" (1 or 2) to say which KV version the mount runs');
    }
    return undefined;
  }

  const kvVersion: KvVersion = options.kv === '1' ? 1 : 2;
  if (options.mount === undefined) return { path: segments[0]!, kvVersion };

  const mountSegments = splitPath(options.mount.replace(/\/$/, ''), 'mount');
  const inside =
    mountSegments.length < segments.length && mountSegments.every((segment, index) => segments[index] === segment);
  if (!inside) {
    throw new DsvError(
      'INVALID_OPTION',
      `option "mount" is invalid: "${secret}" does not start with the mount path "${options.mount}" followed by a secret path`,
    );
  }
  return { path: mountSegments.join('/'), kvVersion };
}

/** Splits a slash-separated path, rejecting empty, `.` and `..` segments that Vault would not resolve as written. */
function splitPath(value: string, option: string): string[] {
  const segments = value.split('/');
  if (segments.some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw new DsvError(
      'INVALID_OPTION',
      `option "${option}" is invalid: "${value}" must be a path of non-empty segments without leading, trailing or double slashes, "." or ".."`,
    );
  }
  return segments;
}

/** Splits a reference at a known mount, or returns undefined when the mount does not contain it. */
export function locateInMount(reference: VaultReference, mount: KvMount): KvLocation | undefined {
  const mountSegments = mount.path.split('/');
  if (mountSegments.length >= reference.segments.length) return undefined;
  if (!mountSegments.every((segment, index) => reference.segments[index] === segment)) return undefined;
  return { mount, path: reference.segments.slice(mountSegments.length).join('/') };
}

/** Builds the API path that reads a secret: `<mount>/data/<path>` on KV version 2, `<mount>/<path>` on version 1. */
export function readPath(location: KvLocation, version: number | undefined): string {
  const mount = encodePath(location.mount.path);
  const path = encodePath(location.path);
  if (location.mount.kvVersion === 1) return `/v1/${mount}/${path}`;
  const query = version === undefined ? '' : `?version=${version}`;
  return `/v1/${mount}/data/${path}${query}`;
}

/** Percent-encodes each segment, so characters such as `?`, `#` and `%` stay part of the path. */
export function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}
