/**
 * {@linkcode WebSocketConnection} of the ZJS `ws` module: one channel's
 * messages, pings, pongs and end as events, and ZJS's `send(data, mask)`.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { MAX_CONTROL_PAYLOAD } from "../../codec/frame.ts";
import { ConnectionClosedError } from "../../errors.ts";
import type { Channel, MessageInput } from "../../protocol/channel.ts";
import { Emitter } from "../_events.ts";

const textEncoder = new TextEncoder();

/**
 * One client's connection: an `EventEmitter` that emits `message` with a
 * `Buffer` of each message's payload (the UTF-8 bytes of a text message),
 * `ping` and `pong` with a `Buffer` of their payload, `error` with an
 * `Error` when the connection fails, and last `close` with the close code
 * and reason.
 *
 * @example Echoing every message
 * ```ts
 * import { type WebSocketConnection, ws } from "@seed/websocket/zjs";
 * import { connect } from "@seed/websocket";
 * import type { Buffer } from "node:buffer";
 * import assert from "node:assert/strict";
 *
 * const server = ws.Server({ port: 0, host: "127.0.0.1" });
 * const closes: unknown[][] = [];
 * server.on("connection", (connection: WebSocketConnection) => {
 *   connection.on("message", (data: Buffer) => connection.send(`got ${data.toString("ascii")}`));
 *   connection.on("close", (code: number, reason: string) => closes.push([code, reason]));
 * });
 * await new Promise((resolve) => server.once("listening", resolve));
 *
 * const client = await connect(`ws://127.0.0.1:${server.address()!.port}`);
 * await client.writable.getWriter().write("hello");
 * assert.deepEqual(await client.readable.getReader().read(), { value: "got hello", done: false });
 * client.close(1000, "done");
 * await client.closed;
 * await server.close();
 * assert.deepEqual(closes, [[1000, "done"]]);
 * ```
 */
export class WebSocketConnection extends Emitter {
  readonly #channel: Channel;
  readonly #writer: WritableStreamDefaultWriter<MessageInput>;

  /**
   * Wraps an open channel and starts reading it. A {@linkcode WebSocketServer}
   * makes one for each connection and emits its `ping` and `pong` events,
   * which only the server is told about.
   *
   * @param channel The connection, which this object takes over.
   */
  constructor(channel: Channel) {
    super();
    this.#channel = channel;
    this.#writer = channel.writable.getWriter();
    this.#read();
  }

  /**
   * Sends a message: bytes as a binary message, a string as a text message.
   *
   * @param data The message.
   * @param mask Ignored: a server never masks (RFC 6455 §5.1).
   * @throws {TypeError} When `data` is not bytes or a string, or `mask` is not a boolean.
   *
   * @example Sending text and bytes; `mask` changes nothing
   * ```ts
   * import { type WebSocketConnection, ws } from "@seed/websocket/zjs";
   * import { connect } from "@seed/websocket";
   * import { Buffer } from "node:buffer";
   * import assert from "node:assert/strict";
   *
   * const server = ws.Server({ port: 0, host: "127.0.0.1" });
   * server.on("connection", (connection: WebSocketConnection) => {
   *   connection.send("a text message");
   *   connection.send(Buffer.from("A MESSAGE"), true); // sent unmasked all the same
   * });
   * await new Promise((resolve) => server.once("listening", resolve));
   *
   * const client = await connect(`ws://127.0.0.1:${server.address()!.port}`);
   * const reader = client.readable.getReader();
   * assert.equal((await reader.read()).value, "a text message");
   * assert.deepEqual((await reader.read()).value, new TextEncoder().encode("A MESSAGE"));
   * client.close(1000);
   * await client.closed;
   * await server.close();
   * ```
   */
  send(data: Uint8Array | ArrayBuffer | ArrayBufferView | string, mask?: boolean): void {
    const message = typeof data === "string" ? data : toBytes(data, "send message");
    checkMask(mask, "send message");
    // A write fails only once the connection is closing: dropped, and `close` tells the rest.
    this.#writer.write(message).catch(() => {});
  }

  /**
   * Sends a ping; the client's pong comes as a `pong` event.
   *
   * @param data The payload, at most 125 bytes; empty when omitted.
   * @param mask Ignored: a server never masks (RFC 6455 §5.1).
   * @throws {TypeError} When `data` is not bytes or a string, or `mask` is not a boolean.
   * @throws {RangeError} When `data` is over 125 bytes.
   *
   * @example Pinging each new client
   * ```ts
   * import { type WebSocketConnection, ws } from "@seed/websocket/zjs";
   * import { connect } from "@seed/websocket";
   * import { Buffer } from "node:buffer";
   * import assert from "node:assert/strict";
   *
   * const server = ws.Server({ port: 0, host: "127.0.0.1" });
   * const ponged = new Promise<Buffer>((resolve) => {
   *   server.on("connection", (connection: WebSocketConnection) => {
   *     connection.on("pong", resolve);
   *     connection.ping(Buffer.from("PING"));
   *   });
   * });
   * await new Promise((resolve) => server.once("listening", resolve));
   *
   * // The client answers the ping by itself while it reads.
   * const client = await connect(`ws://127.0.0.1:${server.address()!.port}`);
   * client.readable.pipeTo(new WritableStream()).catch(() => {});
   * assert.equal((await ponged).toString("ascii"), "PING");
   * client.close(1000);
   * await client.closed;
   * await server.close();
   * ```
   */
  ping(data?: Uint8Array | ArrayBuffer | ArrayBufferView | string, mask?: boolean): void {
    const payload = data === undefined ? new Uint8Array(0) : toBytes(data, "send ping");
    checkMask(mask, "send ping");
    // Checked here because the channel reports it by rejecting, not by throwing.
    if (payload.length > MAX_CONTROL_PAYLOAD) {
      throw new RangeError(
        `Cannot send ping: payload is ${payload.length} bytes, limit is ${MAX_CONTROL_PAYLOAD}`,
      );
    }
    // The round-trip time is not part of this API; a ping the connection closed on needs no answer.
    this.#channel.ping(payload).catch(() => {});
  }

  /**
   * Sends a pong, answering a ping or as a one-way heartbeat.
   *
   * @param data The payload, at most 125 bytes; empty when omitted.
   * @param mask Ignored: a server never masks (RFC 6455 §5.1).
   * @throws {TypeError} When `data` is not bytes or a string, or `mask` is not a boolean.
   * @throws {RangeError} When `data` is over 125 bytes.
   *
   * @example A heartbeat the client sees as a pong
   * ```ts
   * import { type WebSocketConnection, ws } from "@seed/websocket/zjs";
   * import { connect } from "@seed/websocket";
   * import { Buffer } from "node:buffer";
   * import assert from "node:assert/strict";
   *
   * const server = ws.Server({ port: 0, host: "127.0.0.1" });
   * server.on("connection", (connection: WebSocketConnection) => {
   *   connection.pong(Buffer.from("alive"));
   * });
   * await new Promise((resolve) => server.once("listening", resolve));
   *
   * const pongs: string[] = [];
   * const client = await connect(`ws://127.0.0.1:${server.address()!.port}`, {
   *   onPong: (payload) => pongs.push(new TextDecoder().decode(payload)),
   * });
   * client.readable.pipeTo(new WritableStream()).catch(() => {});
   * client.close(1000); // the pong, sent first, is read before the close
   * await client.closed;
   * await server.close();
   * assert.deepEqual(pongs, ["alive"]);
   * ```
   */
  pong(data?: Uint8Array | ArrayBuffer | ArrayBufferView | string, mask?: boolean): void {
    const payload = data === undefined ? new Uint8Array(0) : toBytes(data, "send pong");
    checkMask(mask, "send pong");
    try {
      this.#channel.pong(payload);
    } catch (error) {
      if (!(error instanceof ConnectionClosedError)) throw error;
    }
  }

  /**
   * Starts the closing handshake; `close` is emitted once it is done.
   *
   * @param code The close code; omit it to send a close frame without one.
   * @param reason The close reason, at most 123 bytes of UTF-8.
   * @throws {RangeError} When the code may not be sent or the reason is too long.
   *
   * @example Closing a connection
   * ```ts
   * import { type WebSocketConnection, ws } from "@seed/websocket/zjs";
   * import { connect } from "@seed/websocket";
   * import assert from "node:assert/strict";
   *
   * const server = ws.Server({ port: 0, host: "127.0.0.1" });
   * server.on("connection", (connection: WebSocketConnection) => connection.close(1000, "bye"));
   * await new Promise((resolve) => server.once("listening", resolve));
   *
   * const client = await connect(`ws://127.0.0.1:${server.address()!.port}`);
   * client.readable.pipeTo(new WritableStream()).catch(() => {});
   * assert.deepEqual(await client.closed, { code: 1000, reason: "bye", wasClean: true });
   * await server.close();
   * ```
   */
  close(code?: number, reason?: string): void {
    this.#channel.close(code, reason);
  }

  async #read(): Promise<void> {
    const reader = this.#channel.readable.getReader();
    let failure: unknown;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        this.emit("message", typeof value === "string" ? Buffer.from(value, "utf8") : view(value));
      }
    } catch (error) {
      failure = error;
    }
    const { code, reason, wasClean } = await this.#channel.closed;
    if (failure !== undefined) {
      const detail = reason === "" ? "" : ` (${reason})`;
      this.emit(
        "error",
        new ConnectionClosedError(
          `Cannot receive messages: connection failed with ${code}${detail}`,
          {
            closeCode: code,
            reason,
            wasClean,
            cause: failure,
          },
        ),
      );
    }
    this.emit("close", code, reason);
  }
}

function checkMask(mask: unknown, what: string): void {
  if (mask !== undefined && typeof mask !== "boolean") {
    throw new TypeError(`Cannot ${what}: mask must be a boolean, got ${typeof mask}`);
  }
}

/** A copy of `data` as bytes, so that the caller may reuse its buffer at once. */
function toBytes(data: unknown, what: string): Uint8Array {
  if (typeof data === "string") return textEncoder.encode(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data.slice(0));
  if (ArrayBuffer.isView(data)) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  }
  throw new TypeError(
    `Cannot ${what}: expected a Buffer, a Uint8Array, an ArrayBuffer or a string, got ${
      data === null ? "null" : typeof data
    }`,
  );
}

function view(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
