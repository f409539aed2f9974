/**
 * Checks `plugin:install` arguments against build/plugin/config.json and dsv's settings schema
 * before anything on the engine changes, so a typo never costs a working install.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { backendDefinitions } from '../src/backends/definitions.ts';
import { parseSettings } from '../src/settings/settings.ts';

export interface PluginConfigFile {
  readonly env: readonly { readonly name: string; readonly value: string; readonly settable: readonly string[] }[];
  readonly mounts: readonly { readonly name: string; readonly source: string; readonly settable?: readonly string[] }[];
}

export async function readPluginConfig(pluginDir: string): Promise<PluginConfigFile> {
  return JSON.parse(await readFile(path.join(pluginDir, 'config.json'), 'utf8')) as PluginConfigFile;
}

/** Counts the single-character edits that turn one string into the other (Levenshtein distance). */
function editDistance(from: string, to: string): number {
  let previous = Array.from({ length: to.length + 1 }, (_, index) => index);
  for (let i = 1; i <= from.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= to.length; j += 1) {
      const substitution = (previous[j - 1] as number) + (from[i - 1] === to[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution));
    }
    previous = current;
  }
  return previous[to.length] as number;
}

/** Finds the accepted name a rejected key most likely meant: `files` or `file.source` means `files.source`. */
function suggestName(key: string, config: PluginConfigFile, accepted: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const mountSource = `${lower}.source`;
  if (config.mounts.some((mount) => mount.name === lower) && accepted.includes(mountSource)) return mountSource;

  let best: { name: string; distance: number } | undefined;
  for (const name of accepted) {
    const distance = editDistance(lower, name.toLowerCase());
    if (best === undefined || distance < best.distance) best = { name, distance };
  }
  // A few edits are a typo, while more edits more likely mean a different setting.
  const maxDistance = Math.max(2, Math.floor(key.length / 5));
  return best !== undefined && best.distance <= maxDistance ? best.name : undefined;
}

/** Explains why a key is not accepted. */
function unknownKeyProblem(key: string, config: PluginConfigFile, accepted: readonly string[]): string {
  if (config.env.some((entry) => entry.name === key)) return `${key}: fixed by the plugin, so it cannot be set`;
  const suggestion = suggestName(key, config, accepted);
  return `${key}: unknown setting${suggestion === undefined ? '' : `, did you mean ${suggestion}?`}`;
}

/** Checks a mount source: an absolute path and, on a local engine, an existing folder. */
async function mountSourceProblem(key: string, source: string, localEngine: boolean): Promise<string | undefined> {
  if (!path.isAbsolute(source)) return `${key}: "${source}" is not an absolute path`;
  if (!localEngine) return undefined;
  const isFolder = await stat(source).then((stats) => stats.isDirectory(), () => false);
  return isFolder ? undefined : `${key}: ${source} is not a folder, so create it or choose another folder`;
}

/** Runs dsv's settings schema on config.json's env defaults with the arguments applied. */
function settingsSchemaProblems(env: Readonly<Record<string, string>>): string[] {
  try {
    parseSettings(env, backendDefinitions);
    return [];
  } catch (error) {
    // parseSettings joins its problems as "invalid plugin settings: NAME: problem; NAME: problem".
    const message = (error as Error).message.replace(/^invalid plugin settings: /, '');
    return message.split(/; (?=[A-Z][A-Z0-9_]*: )/);
  }
}

/**
 * Checks every KEY=VALUE argument before the engine is touched: the key must be a settable env
 * name or `<mount>.source` of a settable mount, env values must pass dsv's settings schema, and
 * mount sources must be folders. Env values are not quoted here, because they may be credentials.
 * Throws one error that lists every problem and the accepted names.
 */
export async function checkSettings(config: PluginConfigFile, settings: readonly string[], localEngine: boolean): Promise<void> {
  const settableEnv = config.env.filter((entry) => entry.settable.includes('value')).map((entry) => entry.name);
  const settableMounts = config.mounts.filter((mount) => mount.settable?.includes('source')).map((mount) => `${mount.name}.source`);
  const accepted = [...settableMounts, ...settableEnv];
  const env: Record<string, string> = Object.fromEntries(config.env.map((entry) => [entry.name, entry.value]));
  const problems: string[] = [];

  for (const [index, setting] of settings.entries()) {
    const split = setting.indexOf('=');
    const key = setting.slice(0, split);
    const value = setting.slice(split + 1);
    if (split <= 0) {
      // A bare word is shown only when it is a setting name, since a pasted value may be a credential.
      const isName = [...accepted, ...config.mounts.map((mount) => mount.name)].some((name) => name.toLowerCase() === setting.toLowerCase());
      const echoedName = isName ? ` (${setting})` : '';
      problems.push(`argument ${index + 1}${echoedName}: expected KEY=VALUE, such as files.source=/srv/secrets`);
    } else if (settableMounts.includes(key)) {
      const problem = await mountSourceProblem(key, value, localEngine);
      if (problem !== undefined) problems.push(problem);
    } else if (settableEnv.includes(key)) {
      env[key] = value;
    } else {
      problems.push(unknownKeyProblem(key, config, accepted));
    }
  }
  problems.push(...settingsSchemaProblems(env));

  if (problems.length > 0) {
    const list = problems.map((problem) => `  - ${problem}`).join('\n');
    throw new Error(`invalid settings, so the engine was not changed:\n${list}\naccepted settings: ${accepted.join(', ')}`);
  }
}

/** Creates missing default mount sources on a local engine, because `docker plugin enable` fails otherwise. */
