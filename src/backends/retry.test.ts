import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DsvError, errorCatalog, type ErrorCode } from '../errors.ts';
import type { FetchContext, SecretBackend } from './backend.ts';
import { fetchWithRetry, type RetryPolicy } from './retry.ts';

const request = { secret: 'prod/db/password', options: {} };
const value = new TextEncoder().encode('value');

/** A policy with a budget large enough that only maxAttempts or the error code ends the loop. */
const longBudgetPolicy: RetryPolicy = { budgetMs: 5_000, baseDelayMs: 8, maxDelayMs: 20, maxAttempts: 4 };

type Step = (context: FetchContext) => Promise<Uint8Array>;

/** Builds a backend that plays one step per attempt, repeating the last one, and records each call. */
function scriptedBackend(...steps: Step[]): SecretBackend & { calls: FetchContext[] } {
  const calls: FetchContext[] = [];
  return {
    calls,
    fetch(_request, context) {
      const step = steps[Math.min(calls.length, steps.length - 1)];
      calls.push(context);
      assert.ok(step !== undefined, 'scriptedBackend needs at least one step');
      return step(context);
    },
  };
}

const succeed: Step = async () => value;

function fail(code: ErrorCode, retryAfterMs?: number): Step {
  return async () => {
    throw new DsvError(code, `${code} from the scripted backend`, { retryAfterMs });
  };
}

/** Settles only when the signal aborts, as a client that honours the signal does. */
const hangUntilAborted: Step = (context) =>
  new Promise((_resolve, reject) => {
    context.signal.addEventListener('abort', () => reject(context.signal.reason), { once: true });
  });

/** Returns a random() replacement that plays the given numbers in order. */
function replayRandom(...numbers: number[]): () => number {
  let index = 0;
  return () => {
    const next = numbers[index++];
    assert.ok(next !== undefined, 'random() called more often than the test expected');
    return next;
  };
}

test('fetchWithRetry returns the first successful value', async () => {
  const backend = scriptedBackend(succeed);
  const retries: number[] = [];

  const result = await fetchWithRetry(backend, request, longBudgetPolicy, { onRetry: (_e, attempt) => retries.push(attempt) });

  assert.equal(result, value);
  assert.equal(backend.calls.length, 1);
  assert.deepEqual(retries, []);
});

test('fetchWithRetry retries retryable errors until success', async () => {
  const backend = scriptedBackend(fail('THROTTLED'), fail('BACKEND_UNAVAILABLE'), succeed);
  const seen: Array<[ErrorCode, number]> = [];

  const result = await fetchWithRetry(backend, request, longBudgetPolicy, {
    random: () => 0,
    onRetry: (error, attempt) => seen.push([error.code, attempt]),
  });

  assert.equal(result, value);
  assert.equal(backend.calls.length, 3);
  assert.deepEqual(seen, [
    ['THROTTLED', 1],
    ['BACKEND_UNAVAILABLE', 2],
  ]);
});

test('fetchWithRetry stops at maxAttempts with the last error', async () => {
  const backend = scriptedBackend(fail('THROTTLED'), fail('BACKEND_UNAVAILABLE'));

  await assert.rejects(fetchWithRetry(backend, request, longBudgetPolicy, { random: () => 0 }), (error: unknown) => {
    assert.ok(error instanceof DsvError);
    assert.equal(error.code, 'BACKEND_UNAVAILABLE');
    return true;
  });
  assert.equal(backend.calls.length, longBudgetPolicy.maxAttempts);
});

test('fetchWithRetry with maxAttempts 1 makes one attempt', async () => {
  const backend = scriptedBackend(fail('BACKEND_UNAVAILABLE'), succeed);

  await assert.rejects(fetchWithRetry(backend, request, { ...longBudgetPolicy, maxAttempts: 1 }), { code: 'BACKEND_UNAVAILABLE' });
  assert.equal(backend.calls.length, 1);
});

const nonRetryableCodes = (Object.keys(errorCatalog) as ErrorCode[]).filter((code) => !errorCatalog[code].retryable);

for (const code of nonRetryableCodes) {
  test(`fetchWithRetry never retries ${code}`, async () => {
    const backend = scriptedBackend(fail(code), succeed);
    let retries = 0;

    await assert.rejects(fetchWithRetry(backend, request, longBudgetPolicy, { onRetry: () => retries++ }), { code });
    assert.equal(backend.calls.length, 1);
    assert.equal(retries, 0);
  });
}

test('fetchWithRetry backoff uses full jitter on doubling steps', async () => {
  // Steps are random() * 8 * 2^(attempt - 1), capped at maxDelayMs = 20.
  const backend = scriptedBackend(fail('BACKEND_UNAVAILABLE'));
  const delays: number[] = [];

  await assert.rejects(
    fetchWithRetry(backend, request, { ...longBudgetPolicy, maxAttempts: 5 }, {
      random: replayRandom(0.5, 0.25, 0.5, 0.9),
      onRetry: (_error, _attempt, delayMs) => delays.push(delayMs),
    }),
    { code: 'BACKEND_UNAVAILABLE' },
  );
  assert.deepEqual(delays, [4, 4, 16, 20]);
  assert.equal(backend.calls.length, 5);
});

test('fetchWithRetry waits the Retry-After delay instead of backoff', async () => {
  const backend = scriptedBackend(fail('THROTTLED', 7), fail('THROTTLED', 0), succeed);
  const delays: number[] = [];

  await fetchWithRetry(backend, request, longBudgetPolicy, {
    random: () => 0.99,
    onRetry: (_error, _attempt, delayMs) => delays.push(delayMs),
  });
  assert.deepEqual(delays, [7, 0]);
});

test('fetchWithRetry caps Retry-After at maxDelayMs', async () => {
  const backend = scriptedBackend(fail('THROTTLED', 60_000), succeed);
  const delays: number[] = [];

  await fetchWithRetry(backend, request, longBudgetPolicy, { onRetry: (_error, _attempt, delayMs) => delays.push(delayMs) });
  assert.deepEqual(delays, [longBudgetPolicy.maxDelayMs]);
});

test('fetchWithRetry gives up when the wait would pass the budget', async () => {
  // The wait (40 ms) is below maxDelayMs but beyond the 30 ms budget, so no retry is attempted.
  const policy: RetryPolicy = { budgetMs: 30, baseDelayMs: 5, maxDelayMs: 1_000, maxAttempts: 10 };
  const backend = scriptedBackend(fail('THROTTLED', 40), succeed);
  let retries = 0;

  await assert.rejects(fetchWithRetry(backend, request, policy, { onRetry: () => retries++ }), (error: unknown) => {
    assert.ok(error instanceof DsvError);
    assert.equal(error.code, 'THROTTLED');
    return true;
  });
  assert.equal(backend.calls.length, 1);
  assert.equal(retries, 0);
});

test('fetchWithRetry reports TIMEOUT when a backend hangs', async () => {
  const policy: RetryPolicy = { budgetMs: 30, baseDelayMs: 1, maxDelayMs: 5, maxAttempts: 5 };
  const backend = scriptedBackend(hangUntilAborted);

  await assert.rejects(fetchWithRetry(backend, request, policy), (error: unknown) => {
    assert.ok(error instanceof DsvError);
    assert.equal(error.code, 'TIMEOUT');
    assert.match(error.message, /\b1 attempts?\b/);
    return true;
  });
  assert.equal(backend.calls.length, 1);
});

test('fetchWithRetry TIMEOUT counts earlier attempts', async () => {
  const policy: RetryPolicy = { budgetMs: 60, baseDelayMs: 1, maxDelayMs: 5, maxAttempts: 5 };
  const backend = scriptedBackend(fail('BACKEND_UNAVAILABLE'), fail('THROTTLED'), hangUntilAborted);

  await assert.rejects(fetchWithRetry(backend, request, policy, { random: () => 0 }), (error: unknown) => {
    assert.ok(error instanceof DsvError);
    assert.equal(error.code, 'TIMEOUT');
    assert.match(error.message, /\b3 attempts\b/);
    return true;
  });
  assert.equal(backend.calls.length, 3);
});

test('fetchWithRetry signal aborts at the budget', async () => {
  const budgetMs = 40;
  const started = performance.now();
  let abortedAfterMs: number | undefined;
  let abortedAtStart: boolean | undefined;
  const backend = scriptedBackend((context) => {
    abortedAtStart = context.signal.aborted;
    context.signal.addEventListener('abort', () => (abortedAfterMs = performance.now() - started), { once: true });
    return hangUntilAborted(context);
  });

  await assert.rejects(fetchWithRetry(backend, request, { ...longBudgetPolicy, budgetMs }), { code: 'TIMEOUT' });

  assert.ok(backend.calls[0]?.signal instanceof AbortSignal);
  assert.equal(abortedAtStart, false);
  assert.ok(abortedAfterMs !== undefined, 'signal never aborted');
  // Generous bounds: timers may fire a little early after rounding and late on a busy machine.
  assert.ok(abortedAfterMs >= budgetMs - 5, `aborted after ${abortedAfterMs} ms, before the budget`);
  assert.ok(abortedAfterMs < budgetMs + 2_000, `aborted after ${abortedAfterMs} ms`);
});

test('fetchWithRetry gives each attempt a fresh signal', async () => {
  const backend = scriptedBackend(fail('BACKEND_UNAVAILABLE'), succeed);

  await fetchWithRetry(backend, request, longBudgetPolicy, { random: () => 0 });

  assert.equal(backend.calls.length, 2);
  assert.notEqual(backend.calls[0]?.signal, backend.calls[1]?.signal);
  assert.equal(backend.calls[1]?.signal.aborted, false);
});

test('fetchWithRetry wraps unknown errors as INTERNAL', async () => {
  const thrown = new TypeError('cannot read properties of undefined');
  const backend = scriptedBackend(async () => {
    throw thrown;
  }, succeed);

  await assert.rejects(fetchWithRetry(backend, request, longBudgetPolicy), (error: unknown) => {
    assert.ok(error instanceof DsvError);
    assert.equal(error.code, 'INTERNAL');
    assert.equal(error.cause, thrown);
    return true;
  });
  assert.equal(backend.calls.length, 1);
});

test('fetchWithRetry catches a synchronous throw', async () => {
  const backend: SecretBackend = {
    fetch() {
      throw new DsvError('ACCESS_DENIED', 'denied before any promise');
    },
  };

  await assert.rejects(fetchWithRetry(backend, request, longBudgetPolicy), { code: 'ACCESS_DENIED' });
});

test('fetchWithRetry retries a TIMEOUT the backend reports', async () => {
  const policy: RetryPolicy = { budgetMs: 1_000, baseDelayMs: 1, maxDelayMs: 5, maxAttempts: 3 };
  const backend = scriptedBackend(fail('TIMEOUT'), succeed);

  const result = await fetchWithRetry(backend, request, policy, { random: () => 0 });
  assert.equal(new TextDecoder().decode(result), 'value');
  assert.equal(backend.calls.length, 2);
});
