/**
 * The demo's chat room: everyone connected to it, and each message sent on
 * to all of them. A plain set of channels, no topics.
 *
 * A client sends `{"name": "...", "text": "..."}`; the room sends every
 * client `{"type": "message", "name", "text", "time"}` for each message, and
 * `{"type": "presence", "count"}` whenever someone joins or leaves. A message
 * that is not such JSON closes its connection with 1003 (unsupported data).
 *
 * @module
 */

import type { MessageInput, ServerChannel } from "../../mod.ts";

/** Messages waiting to be written to one member past which it is dropped with 1008. */
const MAX_PENDING_WRITES = 256;
const MAX_NAME_LENGTH = 32;
const MAX_TEXT_LENGTH = 1000;

interface Member {
  writer: WritableStreamDefaultWriter<MessageInput>;
  pending: number;
}

/** A chat message as a client sends it. */
interface ChatInput {
  name: string;
  text: string;
}

function isChatInput(value: unknown): value is ChatInput {
  const { name, text } = (value ?? {}) as Record<string, unknown>;
  return typeof name === "string" && typeof text === "string" &&
    name.trim().length > 0 && name.length <= MAX_NAME_LENGTH &&
    text.length > 0 && text.length <= MAX_TEXT_LENGTH;
}

/** Everyone in the chat, and what each is sent. */
export class ChatRoom {
  readonly #members = new Map<ServerChannel, Member>();

  /** Adds a connection to the room until it closes, relaying its messages to everyone. */
  async join(channel: ServerChannel): Promise<void> {
    this.#members.set(channel, { writer: channel.writable.getWriter(), pending: 0 });
    this.#presence();
    try {
      for await (const message of channel.readable) {
        let input: unknown;
        try {
          input = typeof message === "string" ? JSON.parse(message) : undefined;
        } catch {
          input = undefined;
        }
        if (!isChatInput(input)) {
          channel.close(1003, "Expected {name, text} as JSON text");
          break;
        }
        this.#sendToAll({
          type: "message",
          name: input.name.trim(),
          text: input.text,
          time: new Date().toISOString(),
        });
      }
    } catch {
      // A failed connection errors the stream; it has closed.
    }
    await channel.closed;
    this.#members.delete(channel);
    this.#presence();
  }

  #presence(): void {
    this.#sendToAll({ type: "presence", count: this.#members.size });
  }

  #sendToAll(event: Record<string, unknown>): void {
    const text = JSON.stringify(event);
    for (const [channel, member] of this.#members) {
      // A member that does not read is dropped rather than buffered without end.
      if (member.pending >= MAX_PENDING_WRITES) {
        channel.close(1008, "Too slow to read");
        continue;
      }
      member.pending++;
      member.writer.write(text).catch(() => {}).finally(() => member.pending--);
    }
  }
}
