/** Secret Manager's `versions/V:access` call: path matching, version lookup and the payload with its checksum. */
import { crc32c } from '../../../src/backends/gcp/crc32c.ts';
import type { Token } from './auth.ts';
import { errorAnswer, injectedError } from './failures.ts';
import { secretKey, type GcpState } from './state.ts';
import type { ErrorAnswer, StoredSecret } from './types.ts';

const accessPath = /^\/v1\/(projects\/([^/]+)(?:\/locations\/([^/]+))?\/secrets\/([^/]+))\/versions\/([^/:]+):access$/;

/** Builds the access response for a request, or the error the request gets. */
export function answerFor(state: GcpState, method: string | undefined, path: string, token: Token | undefined): ErrorAnswer | object {
  const match = accessPath.exec(path);
  if (method !== 'GET' || match === null) {
    return errorAnswer(404, 'NOT_FOUND', `The fake does not serve ${method} ${path}.`);
  }
  const injected = injectedError(state, token);
  if (injected !== undefined) return injected;

  const [, secretName, projectId, location, secretId, version] = match.map((part) => part && decodeURIComponent(part));
  if (state.denied.has(secretName!)) {
    const resource = `${secretName}/versions/${version}`;
    return errorAnswer(403, 'PERMISSION_DENIED', `Permission 'secretmanager.versions.access' denied for resource '${resource}' (or it may not exist).`);
  }
  const found = findVersion(state.secrets.get(secretKey(projectId!, secretId!, location)), secretName!, version!);
  if ('httpStatus' in found) return found;

  let checksum = crc32c(found.data);
  if (state.corruptChecksums > 0) {
    state.corruptChecksums--;
    checksum = (checksum + 1) >>> 0;
  }
  return { name: found.name, payload: { data: found.data.toString('base64'), dataCrc32c: String(checksum) } };
}

/** Resolves `latest`, a number or an alias the way Secret Manager does, with its error texts. */
function findVersion(stored: StoredSecret | undefined, secretName: string, version: string): ErrorAnswer | { name: string; data: Buffer } {
  if (stored === undefined || stored.versions.length === 0) {
    return errorAnswer(404, 'NOT_FOUND', `Secret [${secretName}] not found or has no versions.`);
  }
  let number: number | undefined;
  if (version === 'latest') number = stored.versions.length;
  else if (/^\d+$/.test(version)) number = Number(version);
  else number = stored.aliases.get(version);

  const found = number === undefined ? undefined : stored.versions[number - 1];
  if (found === undefined) {
    return errorAnswer(404, 'NOT_FOUND', `Secret Version [${secretName}/versions/${version}] not found.`);
  }
  const name = `${secretName}/versions/${number}`;
  if (found.state !== 'ENABLED') {
    return errorAnswer(400, 'FAILED_PRECONDITION', `Secret Version [${name}] is in ${found.state} state.`);
  }
  return { name, data: found.data };
}
