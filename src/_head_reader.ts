/**
 * Reading an HTTP/1.1 head off a transport before the WebSocket protocol
 * takes it over, and handing the protocol what came after the head.
 *
 * @module
 */

import type { ParsedHead } from "./handshake/http1.ts";

/** A head parser: pushed chunks, it returns the head once complete. */
export interface HeadParser<Head> {
  push(chunk: Uint8Array): ParsedHead<Head> | undefined;
}

/**
 * Reads from `reader` until `parser` has a complete head.
 *
 * @returns The head and the bytes after it, or `undefined` when the transport ended first.
 * @throws The signal's reason when it aborts first; the reader is cancelled then.
 */
export async function readHead<Head>(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  parser: HeadParser<Head>,
  signal: AbortSignal,
): Promise<ParsedHead<Head> | undefined> {
  signal.throwIfAborted();
  const onAbort = () => reader.cancel(signal.reason).catch(() => {});
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    while (true) {
      const { value, done } = await reader.read();
      signal.throwIfAborted();
      if (done) return undefined;
      const parsed = parser.push(value);
      if (parsed !== undefined) return parsed;
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

/**
 * Reads up to `limit` bytes from `reader`, until the transport ends or the
 * signal aborts: the body of a refusal, for the error message.
 */
export async function readSome(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  first: Uint8Array,
  limit: number,
  signal: AbortSignal,
): Promise<Uint8Array> {
  const chunks = [first];
  let length = first.length;
  const onAbort = () => reader.cancel().catch(() => {});
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    while (length < limit && !signal.aborted) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done || value === undefined) break;
      chunks.push(value);
      length += value.length;
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
  const bytes = new Uint8Array(Math.min(length, limit));
  let at = 0;
  for (const chunk of chunks) {
    if (at >= bytes.length) break;
    const part = chunk.subarray(0, bytes.length - at);
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
}

/**
 * The rest of a transport's bytes as a stream, starting with `leading`: the
 * bytes that arrived with the head. Reads go through to `reader` one chunk at
 * a time, so backpressure holds.
 */
export function withLeadingBytes(
  leading: Uint8Array,
  reader: ReadableStreamDefaultReader<Uint8Array>,
): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      if (leading.length > 0) controller.enqueue(leading);
    },
    async pull(controller) {
      try {
        const { value, done } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (error) {
        controller.error(error);
      }
    },
    cancel: (reason) => reader.cancel(reason),
  }, { highWaterMark: 0 });
}
