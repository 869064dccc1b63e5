/**
 * The Accessors `webSocket` module, as the Accessors wiki page "webSocket
 * module" (one of the "Optional JavaScript Modules", last modified
 * February 23, 2016) documents it: a `Client` that opens one connection
 * with retries and queues messages until it opens, a `Server` that hands
 * each connection to its listeners as a `Socket`, and the MIME types that
 * say how messages are converted ({@linkcode supportedReceiveTypes},
 * {@linkcode supportedSendTypes}). All three classes extend the package's
 * shared {@linkcode Emitter} (exported here for its documentation): `on`,
 * `once`, `off`, `addListener`, `removeListener`, `addEventListener` and
 * `on<event>` properties.
 *
 * Deliberate differences from the documentation, and why:
 * - It is an ES module: `import { Client, Server } from
 *   "@seed/websocket/accessors"` instead of `require('webSocket')`.
 * - `send()` of a `Client` cannot block its caller, so the stall
 *   `throttleFactor` asks for is a delay before the promise it returns
 *   resolves: `await client.send(data)` stalls the producer.
 * - `error` listeners get the message the documentation promises, then the
 *   `Error` itself as a second argument. An `error` nobody listens to is
 *   written to `console.error` rather than lost, and never ends the process.
 * - `close()` of a `Client` returns how many queued messages it lost, and
 *   an `error` says so when there were any: the documentation only says
 *   they are lost.
 * - Messages already sent on an open socket go out before the close frame
 *   (for up to 5 s if the peer stops reading); only those queued before
 *   the socket opened are lost.
 * - A connection that ends without a closing handshake, or with an error
 *   code (any code below 3000 but 1000, 1001 and 1005), emits `error`
 *   before `close`.
 * - `Server` also emits `error` when it cannot listen, and `stop()` closes
 *   connections with 1001 (going away). `start()` and `stop()` return
 *   promises that never reject, for callers who want to wait.
 * - The options are readable as properties; `Server`'s `port` becomes the
 *   port listened on, so that port 0 (a free port) can be used.
 * - An option given as 0 or `false` is used as given: `numberOfRetries: 0`
 *   means a single attempt.
 * - A `Client` opens `ws://host:port/`: the documentation names no path and
 *   no TLS. After an open connection closes it does not reconnect by itself
 *   (the retries are for opening); `open()` opens a new one.
 * - The supported types are `application/json`, any `text/*`, and
 *   `application/octet-stream` and any `image/*` as raw bytes
 *   (`Uint8Array`); the lists hold `text/*` and `image/*` as written.
 *
 * @example A server and a client talking on a free port
 * ```ts
 * import { Client, Server, type Socket } from "@seed/websocket/accessors";
 * import assert from "node:assert/strict";
 *
 * const server = new Server({ hostInterface: "127.0.0.1", port: 0 });
 * server.on("connection", (socket: Socket) => {
 *   socket.on("message", (message: { foo: string }) => socket.send({ echo: message.foo }));
 * });
 * await server.start();
 *
 * const client = new Client({ host: "127.0.0.1", port: server.port });
 * client.send({ foo: "bar" }); // queued until the socket opens
 * const reply = new Promise((resolve) => client.on("message", resolve));
 * client.open();
 * assert.deepEqual(await reply, { echo: "bar" });
 *
 * const closed = new Promise((resolve) => client.on("close", resolve));
 * client.close();
 * await closed;
 * await server.stop();
 * ```
 *
 * @module
 */

import { SUPPORTED_TYPES } from "./_convert.ts";

export { Client, type ClientOptions } from "./client.ts";
export { Emitter, type EventArgs, type Listener } from "../_events.ts";
export { Server, type ServerOptions } from "./server.ts";
export { Socket, type SocketTypes } from "./socket.ts";

/**
 * The MIME types `receiveType` accepts: `application/json` (parsed, or the
 * text when it is not JSON), `text/*` (any text type, as a string), and
 * `application/octet-stream` and `image/*` (any image type, as the raw
 * bytes in a `Uint8Array`). Parameters are ignored, but a `charset` must
 * be UTF-8.
 *
 * @returns A new array of the types; `text/*` and `image/*` stand for any subtype.
 *
 * @example Checking a type before using it
 * ```ts
 * import { supportedReceiveTypes } from "@seed/websocket/accessors";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(supportedReceiveTypes(), [
 *   "application/json",
 *   "text/*",
 *   "application/octet-stream",
 *   "image/*",
 * ]);
 * ```
 */
export function supportedReceiveTypes(): string[] {
  return [...SUPPORTED_TYPES];
}

/**
 * The MIME types `sendType` accepts: `application/json` (sent as
 * `JSON.stringify(data)`), `text/*` (any text type, sent as a string), and
 * `application/octet-stream` and `image/*` (any image type, sent as the
 * bytes of an `ArrayBuffer` or a view). Parameters are ignored, but a
 * `charset` must be UTF-8.
 *
 * @returns A new array of the types; `text/*` and `image/*` stand for any subtype.
 *
 * @example Checking a type before using it
 * ```ts
 * import { supportedSendTypes } from "@seed/websocket/accessors";
 * import assert from "node:assert/strict";
 *
 * assert.ok(supportedSendTypes().includes("application/json"));
 * assert.ok(supportedSendTypes().includes("image/*"));
 * ```
 */
export function supportedSendTypes(): string[] {
  return [...SUPPORTED_TYPES];
}
