/**
 * What the Accessors `Client` and `Socket` share on an open connection:
 * writing messages in order and closing after them, relaying received
 * messages and the end of the connection as events, and reporting errors.
 *
 * @module
 */

import { ConnectionClosedError } from "../../errors.ts";
import type { Channel, MessageInput } from "../../protocol/channel.ts";
import type { CloseInfo } from "../../protocol/connection.ts";
import type { Emitter } from "../_events.ts";
import { type Conversion, decode } from "./_convert.ts";

/**
 * How long `close()` waits for the messages already sent to reach the
 * transport before it closes the connection anyway, in milliseconds.
 */
export const FLUSH_TIMEOUT = 5000;

/**
 * Emits `error` with a message and the error, as the Accessors documentation
 * asks for a message; when nothing listens, the message goes to
 * `console.error` instead of being lost.
 *
 * @param emitter The client, socket or server.
 * @param message What went wrong.
 * @param error The error itself.
 */
export function report(emitter: Emitter, message: string, error: unknown): void {
  // Counted before emitting: emit() tells false once a `once` listener has been removed.
  const heard = emitter.listenerCount("error") > 0 ||
    typeof (emitter as { onerror?: unknown }).onerror === "function";
  emitter.emit("error", message, error);
  if (!heard) console.error(`webSocket: ${message}`);
}

/**
 * The error message of an error, or the value as a string.
 *
 * @param error Anything thrown.
 * @returns Its message.
 */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Writes messages to a channel in order and closes it once they are out. */
export class Outbox {
  readonly #channel: Channel;
  readonly #writer: WritableStreamDefaultWriter<MessageInput>;
  readonly #onError: (message: string, error: unknown) => void;
  #pending = 0;
  #flushed: Promise<unknown> = Promise.resolve();

  /**
   * Takes over a channel's `writable`.
   *
   * @param channel The open channel.
   * @param onError Called for each message that could not be sent, with
   * what went wrong and the error of its write.
   */
  constructor(channel: Channel, onError: (message: string, error: unknown) => void) {
    this.#channel = channel;
    this.#writer = channel.writable.getWriter();
    this.#onError = onError;
  }

  /** How many messages were written and not yet handed to the transport. */
  get pending(): number {
    return this.#pending;
  }

  /**
   * Writes a message after those written before.
   *
   * @param message The message.
   */
  write(message: MessageInput): void {
    this.#pending++;
    const written = this.#writer.write(message);
    this.#flushed = written.catch(() => {});
    written.then(() => this.#pending--, (error) => {
      this.#pending--;
      const detail = messageOf(error);
      this.#onError(
        detail.startsWith("Cannot send message") ? detail : `Cannot send message: ${detail}`,
        error,
      );
    });
  }

  /**
   * Closes the connection once every message written has been handed to
   * the transport, or after {@linkcode FLUSH_TIMEOUT} if the peer stops
   * taking them.
   *
   * @param code The close code.
   * @param reason The close reason.
   */
  close(code: number, reason = ""): void {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise((resolve) => timer = setTimeout(resolve, FLUSH_TIMEOUT));
    Promise.race([this.#flushed, late]).then(() => {
      clearTimeout(timer);
      this.#channel.close(code, reason);
    });
  }
}

/**
 * Emits each message a channel receives as a `message` event, converted,
 * until the connection ends; then, if it ended in error, an `error` event,
 * and a `close` event.
 *
 * @param channel The open channel.
 * @param emitter The client or socket to emit on.
 * @param conversion The receive type's conversion.
 * @param ended Called once the connection has closed, before the events that say so.
 */
export async function relay(
  channel: Channel,
  emitter: Emitter,
  conversion: Conversion,
  ended: () => void,
): Promise<void> {
  const reader = channel.readable.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      emitter.emit("message", decode(conversion, value));
    }
  } catch {
    // The messages end in an error when the connection ends abnormally; `closed` says how.
  }
  const info = await channel.closed;
  ended();
  if (endedInError(info)) {
    const { code, reason, wasClean } = info;
    report(
      emitter,
      `Connection closed with ${code}${reason === "" ? "" : ` (${reason})`}${
        wasClean ? "" : ", without a closing handshake"
      }`,
      new ConnectionClosedError(`Cannot receive message: connection closed with ${code}`, {
        closeCode: code,
        reason,
        wasClean,
      }),
    );
  }
  emitter.emit("close");
}

/**
 * Whether a connection ended in error: without a closing handshake, or
 * with a code RFC 6455 §7.4.1 gives to an error (any but 1000, 1001 and
 * 1005). Codes from 3000 are the application's own and not judged.
 */
function endedInError({ code, wasClean }: CloseInfo): boolean {
  return !wasClean || (code < 3000 && code !== 1000 && code !== 1001 && code !== 1005);
}
