/**
 * Lets a caller stop waiting when its fetch budget runs out, even for work that cannot be
 * cancelled, such as a login shared by several fetches or a client call that never settles.
 */

/**
 * Settles with `promise`, or rejects with the error `onAbort` returns as soon as `signal` aborts.
 * `onAbort` may also cancel the underlying work; the promise itself is left to settle on its own.
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal, onAbort: () => Error): Promise<T> {
  if (signal.aborted) {
    // Nothing waits for the promise any more, so a later rejection must not go unhandled.
    promise.catch(() => undefined);
    return Promise.reject(onAbort());
  }
  return new Promise<T>((resolve, reject) => {
    const abort = (): void => reject(onAbort());
    signal.addEventListener('abort', abort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(error);
      },
    );
  });
}
