/**
 * What the EdgerOS server channel and client share: the framing of the
 * values `send()` takes, and a {@linkcode Link} that sends on a core
 * channel and turns what it receives into `message` and `close` events.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { Channel, MessageInput } from "../../protocol/channel.ts";
import type { CloseInfo, Message } from "../../protocol/connection.ts";

/** What `send()` and `broadcast()` take, as EdgerOS documents it. */
export type Chunk = string | Uint8Array | ArrayBuffer | ArrayBufferView | number | boolean | object;

/**
 * Frames a chunk as EdgerOS's `send()` documents its types: a string as
 * text; a `Buffer`, another `Uint8Array`, an `ArrayBuffer` or a view as
 * binary; a number or a boolean as its text (`"42"`, `"true"`); any other
 * object as its JSON text.
 *
 * @throws {TypeError} For `null`, `undefined`, a function, a symbol or a
 * bigint, and for an object `JSON.stringify` cannot write.
 */
export function frame(chunk: unknown): MessageInput {
  switch (typeof chunk) {
    case "string":
      return chunk;
    case "number":
    case "boolean":
      return String(chunk);
    case "object": {
      if (chunk === null) break;
      if (chunk instanceof ArrayBuffer || ArrayBuffer.isView(chunk)) return chunk;
      let text: string | undefined;
      try {
        text = JSON.stringify(chunk);
      } catch (cause) {
        throw new TypeError(
          `Cannot send message: the object cannot be written as JSON: ${
            cause instanceof Error ? cause.message : String(cause)
          }`,
          { cause },
        );
      }
      // An object whose toJSON() returns undefined has no JSON text.
      if (text === undefined) {
        throw new TypeError("Cannot send message: the object has no JSON text");
      }
      return text;
    }
  }
  throw new TypeError(
    `Cannot send message: expected a String, Buffer, Number, Boolean or Object, got ${
      chunk === null ? "null" : typeof chunk
    }`,
  );
}

/** A received message as EdgerOS hands it out: a string for text, a `Buffer` for binary. */
export function toUpstream(message: Message): string | Buffer {
  if (typeof message === "string" || Buffer.isBuffer(message)) return message;
  return Buffer.from(message.buffer, message.byteOffset, message.byteLength);
}

/** Emits an event; the emitter's own `emit`. */
export type Emit = (name: string, ...args: unknown[]) => unknown;

/**
 * Sends on a core channel without waiting, and reads it: each message
 * becomes a `message` event, and the end a `close` event with the close
 * code and reason, after the last message.
 */
export class Link {
  readonly channel: Channel;
  readonly #writer: WritableStreamDefaultWriter<MessageInput>;
  readonly #emit: Emit;
  #open = true;
  /** How the connection ended, once it has. */
  closeInfo: CloseInfo | undefined;

  constructor(channel: Channel, emit: Emit) {
    this.channel = channel;
    this.#emit = emit;
    this.#writer = channel.writable.getWriter();
  }

  /** Whether messages can still be sent: no close frame was sent or received. */
  get open(): boolean {
    return this.#open;
  }

  /** Queues a framed message; `false` when the connection is closing or closed. */
  send(message: MessageInput): boolean {
    if (!this.#open) return false;
    // Failures show in `closed`, which the close event reports.
    this.#writer.write(message).catch(() => {});
    return true;
  }

  /** Starts the closing handshake; the arguments are checked by the channel. */
  close(code?: number, reason?: string): void {
    this.channel.close(code, reason);
    this.#open = false;
  }

  /** Reads every message into `message` events, then emits `close`. */
  async run(): Promise<void> {
    const reader = this.channel.readable.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        this.#emit("message", toUpstream(value));
      }
    } catch {
      // The connection failed: closed tells how.
    }
    this.#open = false;
    this.closeInfo = await this.channel.closed;
    this.#emit("close", this.closeInfo.code, this.closeInfo.reason);
  }
}
