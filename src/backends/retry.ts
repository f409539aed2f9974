/**
 * The one retry policy for every backend: exponential backoff with full jitter, Retry-After
 * honoured, only retryable errors retried, and a total time budget per fetch. SDK clients make a
 * single attempt each, so this budget is the only one and stays inside Docker's client timeouts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DsvError, toDsvError } from '../errors.ts';
import type { SecretBackend, SecretRequest } from './backend.ts';

export interface RetryPolicy {
  /** Total time one fetch may take, all attempts and waits included, in ms. */
  readonly budgetMs: number;
  /** First backoff step in ms; step n waits a random time up to base * 2^n. */
  readonly baseDelayMs: number;
  /** Upper bound of one backoff wait in ms, Retry-After included. */
  readonly maxDelayMs: number;
  readonly maxAttempts: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  budgetMs: 20_000,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
  maxAttempts: 6,
};

export interface RetryHooks {
  /** Called before each wait; used for logging. */
  onRetry?: (error: DsvError, attempt: number, delayMs: number) => void;
  /** Returns a number in [0, 1); replaced in tests. */
  random?: () => number;
}

/** Fetches one secret under the policy; throws the last DsvError, or TIMEOUT when the budget ends. */
export async function fetchWithRetry(
  backend: SecretBackend,
  request: SecretRequest,
  policy: RetryPolicy,
  hooks: RetryHooks = {},
): Promise<Uint8Array> {
  const random = hooks.random ?? Math.random;
  const deadline = performance.now() + policy.budgetMs;

  for (let attempt = 1; ; attempt++) {
    const remainingMs = deadline - performance.now();
    const signal = AbortSignal.timeout(Math.max(1, Math.floor(remainingMs)));
    let failure: DsvError;
    try {
      return await backend.fetch(request, { signal });
    } catch (error) {
      failure = signal.aborted ? timeoutError(policy, attempt, error) : toDsvError(error);
    }

    // The budget's own signal ends the fetch; a timeout the backend reports may be retried.
    if (signal.aborted || !failure.retryable || attempt >= policy.maxAttempts) {
      throw failure;
    }
    const backoffMs = random() * policy.baseDelayMs * 2 ** (attempt - 1);
    const delayMs = Math.min(policy.maxDelayMs, failure.retryAfterMs ?? backoffMs);
    if (performance.now() + delayMs >= deadline) {
      throw failure;
    }
    hooks.onRetry?.(failure, attempt, delayMs);
    await sleep(delayMs);
  }
}

function timeoutError(policy: RetryPolicy, attempt: number, cause: unknown): DsvError {
  const seconds = policy.budgetMs / 1000;
  const attempts = attempt === 1 ? '1 attempt' : `${attempt} attempts`;
  return new DsvError('TIMEOUT', `no response within ${seconds} s (${attempts})`, { cause });
}
