/**
 * Ending a channel's `readable` after a failure without losing what it
 * holds: erroring a stream drops the chunks queued in it, so the error waits
 * until the messages received before the failure have been read.
 *
 * @module
 */

import type { Message } from "./connection.ts";

/** The failure of one `readable`, held back until its queue is empty. */
export class ReadableFailure {
  readonly #controller: () => ReadableStreamDefaultController<Message>;
  readonly #highWaterMark: number;
  #error: unknown;
  #pending = false;

  /**
   * @param controller The stream's controller (asked for late: streams hand it over in `start`).
   * @param highWaterMark The stream's high-water mark: `desiredSize` equals it when the queue is empty.
   */
  constructor(controller: () => ReadableStreamDefaultController<Message>, highWaterMark: number) {
    this.#controller = controller;
    this.#highWaterMark = highWaterMark;
  }

  /** Errors the stream with `error` now if its queue is empty, or once it is. */
  fail(error: unknown): void {
    this.#error = error;
    this.#pending = true;
    this.pull();
  }

  /**
   * Called from the stream's `pull`, which runs after each read: errors the
   * stream once the failure is pending and the queue empty.
   *
   * @returns Whether a failure is pending or done, so that `pull` has nothing else to do.
   */
  pull(): boolean {
    if (!this.#pending) return false;
    const controller = this.#controller();
    if (controller.desiredSize === this.#highWaterMark) {
      this.#pending = false;
      controller.error(this.#error);
    }
    return true;
  }
}
