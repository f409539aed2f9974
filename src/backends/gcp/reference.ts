/**
 * Secret references for Google Cloud Secret Manager: a bare secret id, or a resource name
 * `projects/P/secrets/S` or `projects/P/locations/L/secrets/S`, each optionally ending in
 * `/versions/V`. The `version` and `location` volume options fill in what the name leaves out.
 * Imported by the backend definition, so this file must not load the SDK.
 */
import { DsvError } from '../../errors.ts';
import type { BackendOptions } from '../backend.ts';

/** A project id (6 to 30 characters) or a project number. */
export const projectPattern = /^(?:[a-z][a-z0-9-]{4,28}[a-z0-9]|[0-9]{1,20})$/;

/** A location such as `us-central1`; it becomes part of the regional endpoint's host name. */
export const locationPattern = /^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Secret ids as Secret Manager accepts them. */
export const secretIdPattern = /^[A-Za-z0-9_-]{1,255}$/;

const versionNumberPattern = /^[1-9][0-9]{0,18}$/;

/** Alias rules from the Secret Manager docs: a letter first, at most 63 characters. */
const aliasPattern = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;

/** Checks a `version` value; returns a reason it is invalid, or undefined when it is valid. */
export function versionProblem(version: string): string | undefined {
  if (version === 'latest' || versionNumberPattern.test(version)) return undefined;
  if (/^(?:latest|new)$/i.test(version)) {
    return `"${version}" is reserved: use "latest" in lowercase for the newest version`;
  }
  if (!aliasPattern.test(version)) {
    return `"${version}" must be a version number from 1, "latest", or an alias (a letter, then up to 62 letters, digits, dashes or underscores)`;
  }
  return undefined;
}

/** A parsed reference; `project` is unset when the reference is a bare secret id. */
export interface SecretReference {
  readonly project: string | undefined;
  readonly location: string | undefined;
  readonly secret: string;
  readonly version: string;
}

const usage =
  'use a secret id, projects/PROJECT/secrets/SECRET or projects/PROJECT/locations/LOCATION/secrets/SECRET, ' +
  'optionally followed by /versions/VERSION';

/**
 * Parses the `secret` volume option together with the `version` and `location` options. Throws
 * INVALID_OPTION when a part is invalid or is given both in the name and as an option.
 */
export function parseSecretReference(secret: string, options: BackendOptions): SecretReference {
  const parts = secret.includes('/') ? splitResourceName(secret) : { secret };

  if (parts.version !== undefined && options.version !== undefined) {
    throw invalid('version', `the secret name "${secret}" already ends in /versions/${parts.version}; drop one of them`);
  }
  if (parts.location !== undefined && options.location !== undefined) {
    throw invalid('location', `the secret name "${secret}" already names location "${parts.location}"; drop one of them`);
  }
  const reference: SecretReference = {
    project: parts.project,
    location: parts.location ?? options.location,
    secret: parts.secret,
    version: parts.version ?? options.version ?? 'latest',
  };
  checkParts(reference);
  return reference;
}

interface NameParts {
  project?: string;
  location?: string;
  secret: string;
  version?: string;
}

function splitResourceName(name: string): NameParts {
  const segments = name.split('/');
  const [projectsWord, project] = segments;
  let rest = segments.slice(2);
  let location: string | undefined;
  if (rest[0] === 'locations') {
    location = rest[1];
    rest = rest.slice(2);
  }
  const [secretsWord, secret, versionsWord, version] = rest;
  const shapeIsValid =
    projectsWord === 'projects' &&
    project !== undefined &&
    secretsWord === 'secrets' &&
    secret !== undefined &&
    (rest.length === 2 || (rest.length === 4 && versionsWord === 'versions'));
  if (!shapeIsValid) {
    throw invalid('secret', `"${name}" is not a Secret Manager resource name: ${usage}`);
  }
  return { project, location, secret, version };
}

function checkParts(reference: SecretReference): void {
  if (reference.project !== undefined && !projectPattern.test(reference.project)) {
    throw invalid(
      'secret',
      `project "${reference.project}" must be a project id (6 to 30 lowercase letters, digits or dashes, starting with a letter) or a project number`,
    );
  }
  if (reference.location !== undefined && !locationPattern.test(reference.location)) {
    throw invalid('location', `"${reference.location}" must be a location such as us-central1`);
  }
  if (!secretIdPattern.test(reference.secret)) {
    throw invalid('secret', `secret id "${reference.secret}" must be 1 to 255 letters, digits, dashes or underscores`);
  }
  const problem = versionProblem(reference.version);
  if (problem !== undefined) throw invalid('version', problem);
}

/**
 * Formats the version's resource name. A bare secret id takes `defaultProject`; without one,
 * this throws INVALID_SETTING, since the fix is a plugin setting or a longer secret name.
 */
export function formatVersionName(reference: SecretReference, defaultProject: string | undefined): string {
  const project = reference.project ?? defaultProject;
  if (project === undefined) {
    throw new DsvError(
      'INVALID_SETTING',
      `secret "${reference.secret}" is a bare secret id, but no GCP project is set: set DSV_GCP_PROJECT, ` +
        `use a service-account key file that has a project_id, or write projects/PROJECT/secrets/${reference.secret}`,
    );
  }
  const parent = reference.location === undefined ? `projects/${project}` : `projects/${project}/locations/${reference.location}`;
  return `${parent}/secrets/${reference.secret}/versions/${reference.version}`;
}

function invalid(option: string, reason: string): DsvError {
  return new DsvError('INVALID_OPTION', `option "${option}" is invalid: ${reason}`);
}
