/**
 * {@linkcode WriteCork}: small writes to a socket gathered and sent together
 * on the next turn of the event loop, so that the frames a server writes in
 * answer to one read cost one system call, not one each.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import { concatBytes } from "../_bytes.ts";

/** Chunks smaller than this are corked, up to this many bytes in all. */
const CORK_LIMIT = 16 * 1024;

/**
 * The cork in front of one socket's writes, for the `write` and `close` of
 * the transport's sink. A corked chunk's write resolves at once; the bytes
 * are sent on the next turn of the event loop, or before a large chunk, or
 * by {@linkcode WriteCork.flush}. Writes keep their order, and a failed send
 * fails the write after it.
 */
export class WriteCork {
  readonly #send: (bytes: Uint8Array) => Promise<void> | undefined;
  #chunks: Uint8Array[] = [];
  #bytes = 0;
  /** A send of corked bytes, scheduled, that has not finished yet. */
  #pending: Promise<void> | undefined;

  /**
   * @param send Sends bytes on the socket: `undefined` when it took them all
   * at once, else a promise settled once they are sent.
   */
  constructor(send: (bytes: Uint8Array) => Promise<void> | undefined) {
    this.#send = send;
  }

  /** Corks a small chunk, or sends a large one after what is corked. */
  write(chunk: Uint8Array): Promise<void> | undefined {
    if (this.#pending !== undefined) return this.#pending.then(() => this.write(chunk));
    if (chunk.byteLength < CORK_LIMIT && this.#bytes + chunk.byteLength <= CORK_LIMIT) {
      if (this.#chunks.length === 0) setImmediate(this.#flushLater);
      this.#chunks.push(chunk);
      this.#bytes += chunk.byteLength;
      return undefined;
    }
    const flushing = this.flush();
    return flushing === undefined ? this.#send(chunk) : flushing.then(() => this.#send(chunk));
  }

  /** Sends what is corked now; `undefined` once sent, or a promise settled when it is. */
  flush(): Promise<void> | undefined {
    if (this.#pending !== undefined) return this.#pending.then(() => this.flush());
    if (this.#chunks.length === 0) return undefined;
    const chunks = this.#chunks;
    const bytes = chunks.length === 1 ? chunks[0]! : concatBytes(chunks, this.#bytes);
    this.#chunks = [];
    this.#bytes = 0;
    return this.#send(bytes);
  }

  /** Drops what is corked: the socket is gone. */
  clear(): void {
    this.#chunks = [];
    this.#bytes = 0;
  }

  /** Whether nothing is corked or being sent. */
  get idle(): boolean {
    return this.#chunks.length === 0 && this.#pending === undefined;
  }

  readonly #flushLater = (): void => {
    let pending: Promise<void> | undefined;
    try {
      pending = this.flush();
    } catch (error) {
      pending = Promise.reject(error);
    }
    if (pending === undefined) return;
    this.#pending = pending;
    // A failure reaches the next write, which waits on this one.
    pending.then(() => {
      if (this.#pending === pending) this.#pending = undefined;
    }, () => {});
  };
}
