/**
 * The backends dsv knows, keyed by name. Definitions are plain data and cheap to import; each
 * backend's SDK is loaded on first use and the loaded backend is shared by all later callers.
 */
import type { Logger } from 'pino';
import { DsvError } from '../errors.ts';
import type { BackendDefinition, SecretBackend } from './backend.ts';

const backendNamePattern = /^[a-z][a-z0-9-]{0,31}$/;

export class BackendRegistry {
  readonly #definitions = new Map<string, BackendDefinition>();
  readonly #loading = new Map<string, Promise<SecretBackend>>();
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly #logger: Logger;

  /** Checks every definition up front so a bad name or a duplicate stops the plugin at startup. */
  constructor(
    definitions: readonly BackendDefinition[],
    env: Readonly<Record<string, string | undefined>>,
    logger: Logger,
  ) {
    for (const definition of definitions) {
      if (!backendNamePattern.test(definition.name)) {
        throw new Error(`backend name "${definition.name}" is invalid: use lowercase letters, digits and dashes`);
      }
      if (this.#definitions.has(definition.name)) {
        throw new Error(`backend "${definition.name}" is registered twice`);
      }
      this.#definitions.set(definition.name, definition);
    }
    this.#env = env;
    this.#logger = logger;
  }

  names(): string[] {
    return [...this.#definitions.keys()];
  }

  /** Returns the definition for a `backend` volume option, or throws INVALID_OPTION. */
  definition(name: string): BackendDefinition {
    const definition = this.#definitions.get(name);
    if (definition === undefined) {
      throw new DsvError(
        'INVALID_OPTION',
        `option "backend" is invalid: unknown backend "${name}"; known backends: ${this.names().join(', ')}`,
      );
    }
    return definition;
  }

  /**
   * Returns the loaded backend, loading its SDK on the first call. Concurrent first calls share
   * one load; a failed load is forgotten so that the next call tries again.
   */
  backend(name: string): Promise<SecretBackend> {
    const loaded = this.#loading.get(name);
    if (loaded !== undefined) return loaded;

    let definition: BackendDefinition;
    try {
      definition = this.definition(name);
    } catch (error) {
      return Promise.reject(error);
    }
    const logger = this.#logger.child({ backend: name });
    const started = performance.now();
    // The executor turns a create() that throws before returning a promise into a rejection.
    const created = new Promise<SecretBackend>((resolve) => resolve(definition.create({ env: this.#env, logger })));
    const loading = created.then(
      (backend) => {
        logger.debug({ durationMs: Math.round(performance.now() - started) }, 'backend loaded');
        return backend;
      },
      (error: unknown) => {
        this.#loading.delete(name);
        throw error;
      },
    );
    this.#loading.set(name, loading);
    return loading;
  }
}
