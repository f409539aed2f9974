/**
 * The fake's account, region and caller, the ARNs it builds from them, and the dummy
 * credentials and SigV4 header parsing that stand in for AWS's identity checks.
 */
export const account = '123456789012';
export const region = 'us-east-1';
export const caller = `arn:aws:iam::${account}:user/dsv-fake`;

/** Access key id of the dummy key in `credentialFiles`. */
export const awsFakeAccessKeyId = 'AKIADSVFAKE000000001';

/** Builds a new secret's ARN, with the random 6-character suffix AWS appends. */
export function secretArn(name: string): string {
  const suffix = crypto.randomUUID().replaceAll('-', '').slice(0, 6);
  return `arn:aws:secretsmanager:${region}:${account}:secret:${name}-${suffix}`;
}

/** Builds a parameter's ARN. A top-level name without a leading `/` gets one. */
export function parameterArn(name: string): string {
  return `arn:aws:ssm:${region}:${account}:parameter${name.startsWith('/') ? '' : '/'}${name}`;
}

/** Returns a shared credentials file whose `[default]` profile has this access key id and a dummy secret key. */
export function credentialsFile(accessKeyId: string): string {
  return `[default]\naws_access_key_id = ${accessKeyId}\naws_secret_access_key = dsv-fake-secret-access-key\n`;
}

/** Reads the access key id and service from a SigV4 `Authorization` header. */
export function parseAuthorization(header: string | undefined): { accessKeyId: string; service: string } | undefined {
  const match = /Credential=([^/]+)\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(header ?? '');
  return match === null ? undefined : { accessKeyId: match[1] as string, service: match[2] as string };
}
