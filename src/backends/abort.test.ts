import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { raceAbort } from './abort.ts';

const timeout = () => new Error('aborted');

describe('raceAbort', () => {
  it('settles with the promise first', async () => {
    assert.equal(await raceAbort(Promise.resolve(5), new AbortController().signal, timeout), 5);
    await assert.rejects(raceAbort(Promise.reject(new Error('inner')), new AbortController().signal, timeout), /inner/);
  });

  it('rejects when the signal aborts first', async () => {
    const controller = new AbortController();
    let cancelled = false;
    const pending = raceAbort(new Promise<number>(() => undefined), controller.signal, () => {
      cancelled = true;
      return timeout();
    });
    controller.abort();
    await assert.rejects(pending, /aborted/);
    assert.equal(cancelled, true);
  });

  it('rejects at once for an aborted signal', async () => {
    let late: (error: Error) => void = () => undefined;
    const work = new Promise<number>((_, reject) => {
      late = reject;
    });
    await assert.rejects(raceAbort(work, AbortSignal.abort(), timeout), /aborted/);
    // A later rejection of the abandoned work must not surface as an unhandled rejection.
    late(new Error('late'));
    await new Promise((resolve) => setImmediate(resolve));
  });
});
