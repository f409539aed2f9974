/**
 * The contract every secrets backend implements. A backend folder exports one BackendDefinition;
 * the registry loads the backend's SDK only when a volume first uses it.
 */
import type { z } from 'zod';
import type { Logger } from 'pino';

/** Validated backend-specific volume options, such as `version` or `stage`. */
export type BackendOptions = Readonly<Record<string, string | undefined>>;

/** One fetch: which secret, with which backend-specific options. */
export interface SecretRequest {
  /** The secret's name, id, ARN or path, as the backend names it. */
  readonly secret: string;
  readonly options: BackendOptions;
}

export interface FetchContext {
  /** Aborted when the fetch budget runs out; backends pass it to their client. */
  readonly signal: AbortSignal;
}

export interface SecretBackend {
  /**
   * Fetches the current value of one secret, byte for byte. Throws a DsvError whose code says
   * what failed; throttling errors carry `retryAfterMs` when the backend sent one. Retries are
   * the caller's job, so implementations make one attempt and switch their client's retries off.
   */
  fetch(request: SecretRequest, context: FetchContext): Promise<Uint8Array>;
}

/** A backend-specific volume option: its help text and the schema its value must match. */
export interface BackendOptionSpec {
  readonly description: string;
  readonly schema: z.ZodType<string>;
}

export interface BackendEnvironment {
  /** Process environment, already checked by the backend's settings schema. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger: Logger;
}

export interface BackendDefinition {
  /** Value of the `backend` volume option; lowercase letters, digits and dashes. */
  readonly name: string;
  readonly description: string;
  /** Volume options this backend honours besides the common ones; others are rejected. */
  readonly options: Readonly<Record<string, BackendOptionSpec>>;
  /**
   * Plugin settings (environment variables) this backend reads, with their schemas. They are
   * checked with all other settings at startup, so a bad value stops the plugin early.
   */
  readonly settings: Readonly<Record<string, z.ZodType<unknown>>>;
  /** Loads the SDK and builds the backend; called once, on first use. */
  create(environment: BackendEnvironment): Promise<SecretBackend>;
}
