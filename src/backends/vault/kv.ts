/**
 * Reads the bodies of KV responses: the mount description from `sys/internal/ui/mounts/<path>`,
 * a secret's data, and the 404s that tell a deleted or destroyed KV version 2 version from a
 * missing secret.
 */
import { DsvError } from '../../errors.ts';
import { type KvLocation, type KvMount, type VaultReference, locateInMount } from './reference.ts';

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Finds the mount in a `sys/internal/ui/mounts` response and splits the reference at it. Its
 * `data.path` carries the namespace prefix when the mount sits in a child of the request's
 * namespace, so leading segments are dropped until the rest starts the reference.
 */
export function mountFromDetection(body: unknown, reference: VaultReference): KvLocation {
  const data = isObject(body) && isObject(body.data) ? body.data : undefined;
  const type = data?.type;
  const mountPath = data?.path;
  if (typeof type !== 'string' || typeof mountPath !== 'string') {
    throw new DsvError('BACKEND_ERROR', `Vault sent no mount path and type when detecting the mount of "${reference.secret}"`);
  }
  // "generic" is the name KV version 1 had before Vault 0.8.
  if (type !== 'kv' && type !== 'generic') {
    throw new DsvError(
      'INVALID_OPTION',
      `"${reference.secret}" is on a ${type} secrets engine mounted at ${mountPath}; the vault backend reads KV secrets only`,
    );
  }

  const options = isObject(data?.options) ? data.options : undefined;
  const kvVersion = options?.version === '2' ? 2 : 1;
  const mountSegments = mountPath.replace(/\/+$/, '').split('/');
  for (let skip = 0; skip < mountSegments.length; skip++) {
    const mount: KvMount = { path: mountSegments.slice(skip).join('/'), kvVersion };
    const location = locateInMount(reference, mount);
    if (location !== undefined) return location;
  }
  throw new DsvError(
    'INVALID_OPTION',
    `option "secret" is invalid: "${reference.secret}" names the KV mount ${mountPath} but no secret path inside it`,
  );
}

/** Returns the secret's data object, as compact JSON bytes, from a 200 response. */
export function secretBytes(body: unknown, location: KvLocation, secret: string): Uint8Array {
  let data = isObject(body) ? body.data : undefined;
  // KV version 2 wraps the secret's data next to its metadata: {"data": {"data": ..., "metadata": ...}}.
  if (location.mount.kvVersion === 2) data = isObject(data) ? data.data : undefined;
  if (!isObject(data)) {
    throw new DsvError('BACKEND_ERROR', `Vault sent no data object for "${secret}"`);
  }
  return new TextEncoder().encode(JSON.stringify(data));
}

/** Builds the error for a 404 on a KV read: SECRET_DELETED for a deleted or destroyed version. */
export function notFoundError(body: unknown, location: KvLocation, reference: VaultReference): DsvError {
  const { secret, version } = reference;
  const mount = `${location.mount.path}/`;
  const outer = isObject(body) && isObject(body.data) ? body.data : undefined;
  const metadata = isObject(outer?.metadata) ? outer.metadata : undefined;
  const versionName = typeof metadata?.version === 'number' ? `version ${metadata.version}` : 'the requested version';

  if (metadata?.destroyed === true) {
    return new DsvError('SECRET_DELETED', `${versionName} of "${secret}" was destroyed and cannot be read`);
  }
  if (typeof metadata?.deletion_time === 'string' && metadata.deletion_time !== '') {
    return new DsvError(
      'SECRET_DELETED',
      `${versionName} of "${secret}" was deleted at ${metadata.deletion_time}; undelete it or choose another version`,
    );
  }

  const warnings = isObject(body) && Array.isArray(body.warnings) ? body.warnings : [];
  if (warnings.some((warning) => typeof warning === 'string' && warning.includes('versioned K/V'))) {
    return new DsvError(
      'SECRET_NOT_FOUND',
      `mount ${mount} runs KV version 2 but "${secret}" was read as KV version 1; set option kv=2 or drop option kv`,
    );
  }

  const versionText = version === undefined ? '' : ` version ${version}`;
  const engine = `KV version ${location.mount.kvVersion} mount ${mount}`;
  const dataHint =
    location.mount.kvVersion === 2 && location.path.startsWith('data/')
      ? '; write the path without "data/", as the vault kv commands take it'
      : '';
  return new DsvError('SECRET_NOT_FOUND', `no secret "${secret}"${versionText} on the ${engine}${dataHint}`);
}
