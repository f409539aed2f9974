/**
 * Endpoint selection for the Secret Manager client: the global endpoint, a regional endpoint for
 * regional secrets, or the DSV_GCP_ENDPOINT override (an emulator, a fake or a Private Service
 * Connect endpoint). Imported by the backend definition, so this file must not load the SDK.
 */

export interface ApiEndpoint {
  readonly host: string;
  readonly port: number;
  readonly protocol: 'http' | 'https';
}

const globalHost = 'secretmanager.googleapis.com';

/** Parses a DSV_GCP_ENDPOINT value; returns undefined when it is not an http(s) origin. */
export function parseEndpointUrl(value: string): ApiEndpoint | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  const hasOnlyOrigin = url.pathname === '/' && url.search === '' && url.hash === '' && url.username === '';
  if (!hasOnlyOrigin || url.password !== '') return undefined;

  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  const defaultPort = protocol === 'http' ? 80 : 443;
  // URL keeps IPv6 literals in brackets; the client wants the bare address as its host.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { host, port: url.port === '' ? defaultPort : Number(url.port), protocol };
}

/**
 * Chooses the endpoint for one request. The override wins for every location, because an
 * emulator serves regional names on its own address. Without it, a location selects the regional
 * endpoint `secretmanager.LOCATION.rep.googleapis.com`, which regional secrets require.
 */
export function endpointFor(location: string | undefined, override: ApiEndpoint | undefined): ApiEndpoint {
  if (override !== undefined) return override;
  const host = location === undefined ? globalHost : `secretmanager.${location}.rep.googleapis.com`;
  return { host, port: 443, protocol: 'https' };
}

/** Returns true for hosts that only this machine can reach, where plain HTTP exposes no token. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
