/**
 * Volume options: what `docker volume create -o`, Compose `driver_opts` and `--mount volume-opt=`
 * pass to Create. Common options apply to every backend; each backend declares its own extra ones.
 */
import { z } from 'zod';
import { DsvError } from '../errors.ts';
import type { BackendDefinition, BackendOptions } from '../backends/backend.ts';

export interface VolumeOptions {
  readonly backend: string;
  /** The secret reference in the backend: name, id, ARN or path. */
  readonly secret: string;
  /** One field of a JSON secret, or undefined for the whole value. */
  readonly key: string | undefined;
  /** Permission bits of the mounted file, such as 0o400. */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Options only the chosen backend understands, such as `version` or `stage`. */
  readonly backendOptions: BackendOptions;
}

// uid and gid 4294967295 mean "leave unchanged" to chown(2), so the largest usable id is one less.
const maxId = 4_294_967_294;

const printable = /^[^\u0000-\u001f\u007f]*$/;

function numericId(kind: 'user' | 'group'): z.ZodType<string> {
  return z.string().refine((value) => /^\d{1,10}$/.test(value) && Number(value) <= maxId, {
    message: `must be a numeric ${kind} id from 0 to ${maxId}`,
  });
}

export const commonOptionSpecs = {
  backend: {
    description: 'Backend that stores the secret; default: the DSV_DEFAULT_BACKEND setting.',
    // Any name is looked up in the registry, whose error lists the known backends.
    schema: z.string(),
  },
  secret: {
    description: "The secret's name, id, ARN or path in the backend; default: the volume name.",
    schema: z
      .string()
      .min(1, 'must not be empty')
      .max(2048, 'must be at most 2048 characters')
      .regex(printable, 'must not contain control characters'),
  },
  key: {
    description: 'One field of a JSON secret: a literal key first, then a dotted path such as "db.password".',
    schema: z
      .string()
      .min(1, 'must not be empty')
      .max(1024, 'must be at most 1024 characters')
      .regex(printable, 'must not contain control characters'),
  },
  mode: {
    description: 'Permission bits of the file, in octal; default 0400.',
    schema: z.string().regex(/^0?[0-7]{3}$/, 'must be an octal mode from 000 to 0777, such as 0400 or 0440'),
  },
  uid: {
    description: 'Numeric user id that owns the file; default 0.',
    schema: numericId('user'),
  },
  gid: {
    description: 'Numeric group id of the file; default 0.',
    schema: numericId('group'),
  },
} as const;

type CommonOption = keyof typeof commonOptionSpecs;

export interface ParseContext {
  readonly volume: string;
  readonly defaultBackend: string;
  /** Returns the backend's definition or throws INVALID_OPTION for an unknown name. */
  definition(name: string): BackendDefinition;
}

/**
 * Checks raw Create options and fills in defaults. Every problem is reported at once, each naming
 * the option and what it accepts.
 */
export function parseVolumeOptions(raw: Readonly<Record<string, string>>, context: ParseContext): VolumeOptions {
  const problems: string[] = [];
  const common: Partial<Record<CommonOption, string>> = {};

  const definition = context.definition(raw.backend ?? context.defaultBackend);

  const backendOptions: Record<string, string> = {};
  const unknown: string[] = [];
  for (const [name, value] of Object.entries(raw)) {
    if (Object.hasOwn(commonOptionSpecs, name)) {
      const problem = checkOption(name, value, commonOptionSpecs[name as CommonOption].schema);
      if (problem === undefined) common[name as CommonOption] = value;
      else problems.push(problem);
    } else if (Object.hasOwn(definition.options, name)) {
      const problem = checkOption(name, value, definition.options[name]!.schema);
      if (problem === undefined) backendOptions[name] = value;
      else problems.push(problem);
    } else {
      unknown.push(name);
    }
  }
  if (unknown.length > 0) {
    const accepted = [...Object.keys(commonOptionSpecs), ...Object.keys(definition.options)].join(', ');
    const shown = unknown.slice(0, 5).map((name) => quote(name)).join(', ') + (unknown.length > 5 ? ` and ${unknown.length - 5} more` : '');
    problems.push(`unknown option${unknown.length > 1 ? 's' : ''} ${shown}: backend ${definition.name} accepts ${accepted}`);
  }
  if (problems.length > 0) throw invalid(problems);

  return {
    backend: definition.name,
    secret: common.secret ?? context.volume,
    key: common.key,
    mode: common.mode === undefined ? 0o400 : Number.parseInt(common.mode, 8),
    uid: common.uid === undefined ? 0 : Number(common.uid),
    gid: common.gid === undefined ? 0 : Number(common.gid),
    backendOptions: Object.freeze(backendOptions),
  };
}

function checkOption(name: string, value: string, schema: z.ZodType<string>): string | undefined {
  const result = schema.safeParse(value);
  if (result.success) return undefined;
  const reason = result.error.issues.map((issue) => issue.message).join(', ');
  // Option values are references and modes, never secret values, and Docker shows them anyway.
  if (reason.includes(`"${value}"`)) return `option "${name}" is invalid: ${reason}`;
  return `option "${name}" is invalid: ${quote(value)} ${reason}`;
}

/** Quotes a name or value for a message: JSON escapes control characters, and long text is cut. */
function quote(text: string): string {
  return JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}...` : text);
}

function invalid(problems: string[]): DsvError {
  return new DsvError('INVALID_OPTION', problems.join('; '));
}

/** Formats options for logs and `docker volume inspect`: references only, never values. */
export function describeOptions(options: VolumeOptions): Record<string, string> {
  const described: Record<string, string> = {
    backend: options.backend,
    secret: options.secret,
    mode: `0${options.mode.toString(8)}`,
    uid: String(options.uid),
    gid: String(options.gid),
  };
  if (options.key !== undefined) described.key = options.key;
  return { ...described, ...definedEntries(options.backendOptions) };
}

function definedEntries(record: BackendOptions): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(record)) if (value !== undefined) result[name] = value;
  return result;
}
