/**
 * The `ws` module of ZJS (Zephyr.js), as its "ZJS API for Web Sockets"
 * documents it (`docs/web-socket.md` of Intel's zephyr.js): a WebSocket
 * server modelled on Node's `ws`. `require('ws')` becomes
 * `import { ws } from "@seed/websocket/zjs"`; {@linkcode Server} creates a
 * {@linkcode WebSocketServer}, which emits `connection` with a
 * {@linkcode WebSocketConnection} for each client. The names are ZJS's; the
 * work is done by the core `listen()`.
 *
 * Deliberate differences from the ZJS documentation, and why:
 *
 * - The module object is the named export `ws`, and `Server` and the classes
 *   are exported too: this package has no default exports. `Server` works
 *   with or without `new`, as the documentation (`Server(options)`) and the
 *   ZJS samples (`new WebSocket.Server(options)`) use it.
 * - Listening is asynchronous here, so the server also has what Node's `ws`
 *   has for it: a `listening` event, `address()`, an `error` event when it
 *   cannot listen, and `close()` (ZJS servers could not be stopped). The
 *   `host` option, which ZJS's implementation reads, is supported.
 * - `backlog` is applied where the runtime takes one: on Node. Deno's and
 *   Bun's listeners take none and use the system's default.
 * - `maxPayload` limits received messages only: a larger one fails the
 *   connection with close code 1009, as Node's `ws` does, where ZJS's
 *   implementation dropped the frame. 0, which ZJS's implementation takes as
 *   "no limit", means the library's default limit (64 MiB), so that no
 *   client can make the server buffer without bound.
 * - A connection `acceptHandler` refuses (a falsy or other non-string value)
 *   gets `403 Forbidden`; ZJS's implementation answered 401 without the
 *   `WWW-Authenticate` header HTTP requires with it.
 * - `message` gives a `Buffer` for text (its UTF-8 bytes) and for binary
 *   messages alike; ZJS's implementation dropped binary messages.
 * - `send()` sends bytes as a binary message and a string as a text message;
 *   ZJS's implementation sent every `Buffer` as text, which is invalid when
 *   the bytes are not UTF-8.
 * - `mask` is ignored: every frame is sent unmasked, because RFC 6455 §5.1
 *   forbids a server to mask and every compliant client closes the
 *   connection on a masked frame. It is not an error, since ZJS's own
 *   sample passes `true`; a `mask` that is not a boolean is a TypeError.
 * - Pings are answered with a pong by the library (RFC 6455 §5.5.2) before
 *   the `ping` event; a listener that also calls `pong()`, as ZJS's sample
 *   does, sends one more pong, which RFC 6455 §5.5.3 allows.
 * - `ping` and `pong` come in order with the messages around them, except
 *   when two messages or more arrive in one read right before one: the core
 *   reports control frames by callback but messages through a stream, so
 *   the second and later messages overtake it.
 * - `close` is emitted with the close code and reason; `error`, with a
 *   `ConnectionClosedError`, when the connection fails rather than closes.
 * - `clients` is a `Set` (as in Node's `ws`) that loses each connection as
 *   it closes; ZJS's implementation kept an array that never shrank.
 * - Connections have `close(code, reason)`, which ZJS lacked. What is sent
 *   once a connection is closing is dropped, as ZJS's implementation and
 *   the browser's `WebSocket` do.
 *
 * @example The server of ZJS's sample, which accepts clients speaking `my_ws_protocol`
 * ```ts ignore
 * import { type WebSocketConnection, ws } from "@seed/websocket/zjs";
 * import { Buffer } from "node:buffer";
 *
 * const WebSocket = ws; // var WebSocket = require('ws');
 * const wss = new WebSocket.Server({
 *   port: 8080,
 *   acceptHandler: (protocols) => protocols.find((p) => p === "my_ws_protocol") ?? false,
 * });
 * wss.on("connection", (connection: WebSocketConnection) => {
 *   connection.on("message", (message: Buffer) => {
 *     console.log(`MESSAGE: ${message.toString("ascii")}`);
 *     connection.send(Buffer.from("A MESSAGE"), true);
 *   });
 *   connection.on("close", (code: number, reason: string) => console.log(`close: ${code} ${reason}`));
 * });
 * ```
 *
 * @module
 */

import { type ServerOptions, WebSocketServer } from "./websocket_server.ts";

export { Emitter, type EventArgs, type Listener } from "../_events.ts";
export { type ServerAddress, type ServerOptions, WebSocketServer } from "./websocket_server.ts";
export { WebSocketConnection } from "./websocket_connection.ts";

/** What {@linkcode Server} is: a function that creates a server, with or without `new`. */
export interface ServerConstructor {
  /**
   * Creates a server and starts listening.
   *
   * @param options Where to listen and how to accept connections.
   * @returns The server.
   */
  new (options?: ServerOptions): WebSocketServer;
  /**
   * Creates a server and starts listening.
   *
   * @param options Where to listen and how to accept connections.
   * @returns The server.
   */
  (options?: ServerOptions): WebSocketServer;
}

/** The module object ZJS's `require('ws')` returns. */
export interface WsModule {
  /** Creates a {@linkcode WebSocketServer}. */
  readonly Server: ServerConstructor;
}

/**
 * Creates a {@linkcode WebSocketServer} and starts listening, with or
 * without `new`.
 *
 * @param options Where to listen and how to accept connections.
 * @returns The server.
 * @throws {RangeError} When `port`, `backlog` or `maxPayload` is out of range.
 * @throws {TypeError} When `acceptHandler` is not a function.
 *
 * @example Accepting only clients that speak a given subprotocol
 * ```ts ignore
 * import { Server } from "@seed/websocket/zjs";
 *
 * const server = new Server({
 *   port: 8080,
 *   acceptHandler: (protocols) => protocols.includes("chat") && "chat",
 * });
 * server.on("connection", (connection) => connection.send("welcome"));
 * ```
 */
export const Server: ServerConstructor = function Server(options?: ServerOptions) {
  return new WebSocketServer(options);
} as ServerConstructor;
// So that `server instanceof ws.Server` holds, as it does with Node's `ws`.
Server.prototype = WebSocketServer.prototype;

/**
 * The module object, as ZJS's `require('ws')` returns it.
 *
 * @example Creating a server as ZJS code does
 * ```ts
 * import { WebSocketServer, ws } from "@seed/websocket/zjs";
 * import assert from "node:assert/strict";
 *
 * const WebSocket = ws; // var WebSocket = require('ws');
 * const server = new WebSocket.Server({ port: 0, host: "127.0.0.1" });
 * assert.ok(server instanceof WebSocketServer);
 * assert.ok(server instanceof WebSocket.Server);
 * assert.equal(server.clients, undefined);
 * await new Promise((resolve) => server.once("listening", resolve));
 * assert.ok(server.address()!.port > 0);
 * await server.close();
 * ```
 */
export const ws: WsModule = Object.freeze({ Server });
