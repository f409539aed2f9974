/**
 * The signed JWT an application sends instead of a client secret when it signs in with a
 * certificate, in the format Microsoft documents for certificate credentials
 * (learn.microsoft.com/entra/identity-platform/certificate-credentials): PS256, `x5t#S256`,
 * audience = the token endpoint, issuer = subject = the client id, valid for 10 minutes.
 */
import { constants, createHash, createPrivateKey, randomUUID, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { DsvError } from '../../errors.ts';

const assertionLifetimeSeconds = 600;

export interface SigningCertificate {
  readonly key: KeyObject;
  /** Base64url SHA-256 thumbprint of the certificate's DER encoding. */
  readonly thumbprint: string;
}

/** Reads the private key and the first certificate from one PEM file's contents. */
export function parseSigningCertificate(pem: string, file: string): SigningCertificate {
  let key: KeyObject;
  let certificate: X509Certificate;
  try {
    key = createPrivateKey(pem);
    certificate = new X509Certificate(pem);
  } catch (error) {
    throw new DsvError(
      'INVALID_CREDENTIALS',
      `certificate file ${file} must contain an unencrypted private key and its certificate in PEM (${(error as Error).message})`,
      { cause: error },
    );
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new DsvError('INVALID_CREDENTIALS', `certificate file ${file} contains a ${key.asymmetricKeyType} key, but Entra ID certificate credentials need RSA`);
  }
  if (!certificate.checkPrivateKey(key)) {
    throw new DsvError('INVALID_CREDENTIALS', `the private key in ${file} does not belong to its certificate`);
  }
  const thumbprint = createHash('sha256').update(certificate.raw).digest('base64url');
  return { key, thumbprint };
}

/** Creates the client assertion for one token request to `tokenEndpoint`. */
export function createClientAssertion(
  certificate: SigningCertificate,
  clientId: string,
  tokenEndpoint: string,
  nowMs: number = Date.now(),
): string {
  const now = Math.floor(nowMs / 1000);
  const header = { alg: 'PS256', typ: 'JWT', 'x5t#S256': certificate.thumbprint };
  const claims = {
    aud: tokenEndpoint,
    iss: clientId,
    sub: clientId,
    jti: randomUUID(),
    iat: now,
    nbf: now,
    exp: now + assertionLifetimeSeconds,
  };
  const signingInput = `${encode(header)}.${encode(claims)}`;
  const signature = sign('sha256', Buffer.from(signingInput), {
    key: certificate.key,
    padding: constants.RSA_PKCS1_PSS_PADDING,
    saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
  });
  return `${signingInput}.${signature.toString('base64url')}`;
}

function encode(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
