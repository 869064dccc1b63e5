/**
 * {@linkcode WsServerChannel}: one client's connection to a `WsServer`.
 *
 * @module
 */

import type { Buffer } from "node:buffer";
import { Emitter } from "../_events.ts";
import type { ServerChannel } from "../../_accept.ts";
import { type Chunk, frame, Link } from "./_link.ts";

/**
 * The connection information `channel.eos` gives. EdgerOS fills `eos` from
 * its account system (the user's account, its login token and
 * permissions), which has no equivalent outside EdgerOS: only what the
 * connection itself tells is here.
 */
export interface ChannelInfo {
  /** The client's IP address (`""` when the server does not tell it). */
  readonly remoteAddress: string;
  /** The client's port (0 when the server does not tell it). */
  readonly remotePort: number;
  /** Whether the connection runs over TLS (`wss://`). */
  readonly secure: boolean;
}

/** The events of a {@linkcode WsServerChannel} and their arguments. */
export interface WsServerChannelEvents {
  /** A message: a string for text, a `Buffer` for binary. */
  message: [msg: string | Buffer];
  /** A ping, already answered with a pong: its payload. */
  ping: [payload: Buffer];
  /** The connection closed: its close code and reason. */
  close: [code: number, reason: string];
}

let lastId = 0;

/**
 * A client's connection, which a `WsServer` hands out with its `connection`
 * event.
 *
 * Events: `message` with a string for a text message or a `Buffer` for a
 * binary one; `ping` with the ping's payload as a `Buffer` (the pong is
 * sent by itself), for servers that report pings (listening, or on a
 * `node:http` server); `close` with the close code and reason, once the
 * connection is closed, after its last `message`. Listeners are added with
 * `on`, `once`, `addListener` or `addEventListener`.
 *
 * @example Echoing each message, and closing on "bye"
 * ```ts
 * import { socket, WsClient, WsServer } from "@seed/websocket/edgeros";
 * import assert from "node:assert/strict";
 *
 * const server = WsServer.createServer("/chat", socket.sockaddr(socket.INADDR_LOOPBACK, 0));
 * server.on("connection", (channel) => {
 *   assert.equal(channel.path, "/chat?room=1");
 *   assert.equal(channel.eos.remoteAddress, "127.0.0.1");
 *   channel.on("message", (msg) => {
 *     if (msg === "bye") channel.close(1000, "see you");
 *     else channel.send(`echo: ${msg}`);
 *   });
 * });
 * server.start();
 * await new Promise((resolve) => server.once("start", resolve));
 *
 * const client = await WsClient.createClient(
 *   `ws://127.0.0.1:${server.port()}/chat?room=1`,
 *   { async: true },
 * );
 * const received: unknown[] = [];
 * client.on("message", (msg) => received.push(msg));
 * const closed = new Promise((resolve) => client.on("close", (...args) => resolve(args)));
 * client.on("open", () => {
 *   client.send("hello");
 *   client.send("bye");
 * });
 * assert.deepEqual(await closed, [1000, "see you"]);
 * assert.deepEqual(received, ["echo: hello"]);
 * server.stop();
 * ```
 */
export class WsServerChannel extends Emitter<WsServerChannelEvents> {
  /** A number telling this connection apart from the others in the process, from 1. */
  readonly id: number;
  /** The request's path and query, such as `"/chat?room=1"`. */
  readonly path: string;
  /**
   * The request's headers as `[name, value]` pairs, names in lower case,
   * values of a repeated header joined with `", "`.
   */
  readonly headers: [string, string][];
  /** What is known of the connection: the client's address and port, and TLS. */
  readonly eos: ChannelInfo;
  readonly #link: Link;

  /**
   * Wraps a core server connection; `WsServer` does this for each client,
   * so there is no need to call it.
   *
   * @param channel The server connection.
   */
  constructor(channel: ServerChannel) {
    super();
    this.id = ++lastId;
    const url = new URL(channel.request.url);
    this.path = url.pathname + url.search;
    this.headers = [...channel.request.headers];
    const address = channel.remoteAddress;
    this.eos = {
      remoteAddress: address.transport === "tcp" ? address.hostname : "",
      remotePort: address.transport === "tcp" ? address.port : 0,
      secure: url.protocol === "https:" || url.protocol === "wss:",
    };
    this.#link = new Link(channel, (name, ...args) => this.emit(name, ...args));
    links.set(this, this.#link);
  }

  /**
   * Sends a message to the client, without waiting for it to be written.
   * A string is sent as text; a `Buffer` (or another `Uint8Array`, an
   * `ArrayBuffer` or a view) as binary; a number or a boolean as its text
   * (`"42"`, `"true"`); any other object as its JSON text.
   *
   * @param chunk What to send.
   * @returns `true` when it was queued, `false` when the connection is closing or closed.
   * @throws {TypeError} When `chunk` is `null`, `undefined`, a function, a
   * symbol or a bigint, or an object `JSON.stringify` cannot write.
   *
   * @example What each type becomes
   * ```ts ignore
   * channel.send("text");             // text "text"
   * channel.send(Buffer.from([1, 2])); // binary 01 02
   * channel.send(42);                 // text "42"
   * channel.send(true);               // text "true"
   * channel.send({ a: [1] });         // text '{"a":[1]}'
   * ```
   */
  send(chunk: Chunk): boolean {
    return this.#link.send(frame(chunk));
  }

  /**
   * Starts the closing handshake; the `close` event follows once it is done.
   * Does nothing when it has started already.
   *
   * @param code The close code: 1000, or 3000 to 4999; none when omitted.
   * @param reason The close reason, at most 123 bytes of UTF-8.
   * @throws {RangeError} When the code may not be sent or the reason is too long.
   * @throws {TypeError} When a reason is given without a code.
   *
   * @example Closing normally
   * ```ts ignore
   * channel.close(1000);
   * ```
   */
  close(code?: number, reason?: string): void {
    this.#link.close(code, reason);
  }
}

/** The link of each channel, for the server that made it. */
const links = new WeakMap<WsServerChannel, Link>();

/**
 * The link under a channel: how its server broadcasts to it, closes it, and
 * starts reading it once its `connection` listeners have run.
 */
export function linkOf(channel: WsServerChannel): Link {
  return links.get(channel)!;
}
