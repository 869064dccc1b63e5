/**
 * A promise with its settling functions, for a write or a job that others
 * wait on.
 *
 * @module
 */

/** A promise and the functions that settle it. */
export interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

/** A new {@linkcode Deferred}; its rejection is marked handled, since nobody may be waiting. */
export function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}
