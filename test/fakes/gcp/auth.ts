/**
 * The dummy service account and the self-signed JWTs the client signs with its key. Google checks
 * such a token's signature, key id, issuer, expiry and scope or audience, and so does the fake.
 */
import { generateKeyPair, randomBytes, verify, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';

export const project = 'dsv-demo';
const clientEmail = `dsv-fake@${project}.iam.gserviceaccount.com`;

export interface ServiceAccountKey {
  keyId: string;
  privateKeyPem: string;
}

/** Creates an RSA key for the service account and trusts its public half under a new key id. */
export async function newServiceAccountKey(publicKeys: Map<string, KeyObject>): Promise<ServiceAccountKey> {
  const { publicKey, privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
  const keyId = randomBytes(20).toString('hex');
  publicKeys.set(keyId, publicKey);
  return { keyId, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/** Builds the JSON key file Google issues for a service account key, pointed at the fake. */
export function serviceAccountKeyFile(key: ServiceAccountKey, url: string): Record<string, string> {
  return {
    type: 'service_account',
    project_id: project,
    private_key_id: key.keyId,
    private_key: key.privateKeyPem,
    client_email: clientEmail,
    client_id: '100000000000000000001',
    // The client signs its own tokens; if it ever asked a token server, the fake would see it.
    token_uri: `${url}/token`,
    universe_domain: 'googleapis.com',
  };
}

export interface Token {
  keyId: string | undefined;
  issuedAt: number | undefined;
  signedPart: string;
  signature: Buffer;
  claims: Record<string, unknown>;
}

/** Parses a `Bearer` RS256 JWT without checking it, and returns undefined for anything else. */
export function readToken(authorization: string | undefined): Token | undefined {
  const match = /^Bearer ([\w-]+)\.([\w-]+)\.([\w-]+)$/.exec(authorization ?? '');
  if (match === null) return undefined;
  try {
    const header = JSON.parse(Buffer.from(match[1]!, 'base64url').toString()) as Record<string, unknown>;
    const claims = JSON.parse(Buffer.from(match[2]!, 'base64url').toString()) as Record<string, unknown>;
    if (header.alg !== 'RS256') return undefined;
    return {
      keyId: typeof header.kid === 'string' ? header.kid : undefined,
      issuedAt: typeof claims.iat === 'number' ? claims.iat : undefined,
      signedPart: `${match[1]}.${match[2]}`,
      signature: Buffer.from(match[3]!, 'base64url'),
      claims,
    };
  } catch {
    return undefined;
  }
}

/** Checks signature, key, issuer, expiry, revocation cutoff and scope or audience. */
export function tokenIsValid(token: Token | undefined, publicKeys: Map<string, KeyObject>, validFromMs: number): boolean {
  const publicKey = token?.keyId === undefined ? undefined : publicKeys.get(token.keyId);
  if (token === undefined || publicKey === undefined || token.issuedAt === undefined) return false;
  if (!verify('RSA-SHA256', Buffer.from(token.signedPart), publicKey, token.signature)) return false;

  const { iss, exp, scope, aud } = token.claims;
  const scoped = typeof scope === 'string' && scope.split(' ').includes('https://www.googleapis.com/auth/cloud-platform');
  const audienced = aud === 'https://secretmanager.googleapis.com/';
  return (
    iss === clientEmail &&
    typeof exp === 'number' &&
    exp * 1000 > Date.now() &&
    token.issuedAt * 1000 >= validFromMs &&
    (scoped || audienced)
  );
}
