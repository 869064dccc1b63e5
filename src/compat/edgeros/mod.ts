/**
 * EdgerOS's `websocket` module (`WsServer`, `WsClient`) on Deno, Bun and
 * Node, as its documentation "WebSocket : Websocket server and client"
 * describes it, with the slices of EdgerOS's `socket` and `iosched` modules
 * that its examples use. Upstream names are kept:
 * `require('websocket')` becomes
 * `import * as websocket from "@seed/websocket/edgeros"`, and
 * `require('websocket').WsServer` becomes
 * `import { WsServer } from "@seed/websocket/edgeros"`.
 *
 * Deliberate differences, and why:
 *
 * - **No `iosched.poll()` loop.** EdgerOS programs end with `while (true) {
 *   iosched.poll(); }`; Deno, Bun and Node run their own event loop, which
 *   such a loop would block forever. Drop the loop; {@linkcode iosched}`.poll()`
 *   is kept as a no-op for code that calls it now and then.
 * - **Listening is asynchronous.** `wsServer.start()` returns `true` when
 *   it starts listening (`false` when started already); the `start` event says when it listens, and an
 *   `error` event when it cannot (a port in use). `port()` gives the port
 *   once started, and `undefined` before, after `stop()`, and in UPGRADE
 *   mode (EdgerOS gives it only under its MASTER module).
 * - **UPGRADE mode takes what exists here.** EdgerOS's `HttpServer` becomes
 *   a `node:http` or `node:https` server (Deno's and Bun's too): the
 *   `WsServer` listens to its `upgrade` event. EdgerOS's `WebApp` becomes a
 *   {@linkcode WebApp}: an object of `serve()` options with a `fetch`
 *   answering plain HTTP, whose `onUpgrade` and `onConnection` the
 *   `WsServer` sets; start it with `serve(app)` afterwards, as EdgerOS
 *   starts it with `app.start()`. A server `serve()` already started has no
 *   hook to attach to and is refused with a `TypeError`. `start()` in
 *   UPGRADE mode throws rather than doing something undefined.
 * - **Paths.** A `WsServer` accepts upgrades to its path (compared after
 *   URL normalization, the query ignored); other paths get 404, unless
 *   another `WsServer` or the app's own hooks serve them.
 * - **Channel information.** `channel.id` is a number unique in the
 *   process; `channel.headers` (an Array upstream, of unspecified items)
 *   holds `[name, value]` pairs; `channel.eos` holds what the connection
 *   tells (`remoteAddress`, `remotePort`, `secure`): EdgerOS fills it from
 *   its account system (the user's account, login token, permissions),
 *   which has no equivalent here.
 * - **`ping` events** carry the ping's payload as a `Buffer`. They are not
 *   emitted for the channels of a web app: `serve()` gives every connection
 *   the same ping hook, with no way to tell which one it came from (and
 *   `Deno.serve` reports no pings at all). The pong is sent either way.
 * - **Framing of `send()` and `broadcast()`**, which EdgerOS does not
 *   spell out: a string as text; a `Buffer`, another `Uint8Array`, an
 *   `ArrayBuffer` or a view as binary; a number or a boolean as its text
 *   (`"42"`, `"true"`); any other object as its JSON text. `null`,
 *   `undefined`, functions, symbols and bigints are refused with a
 *   `TypeError`. `send()` returns `true` once the message is queued, not
 *   written, and `false` when the connection is closing or closed.
 * - **A client that connects in the background.** Without `async: true`,
 *   EdgerOS connects before `createClient()` returns; an event loop cannot
 *   wait, so the client is returned at once and connects in the background:
 *   `send()` and `ping()` before `open` are queued, and a failure to connect
 *   emits `error` then `close` (1006). With `async: true`, the promise
 *   resolves once connected and `open` follows in the next task, so that
 *   listeners added in `.then()` hear it, as the upstream example expects.
 * - **`saddr` and `domain`.** The core `connect()` cannot yet connect to an
 *   address while naming another host in `Host`: with `saddr`, or with
 *   `domain` and a host name, the client connects to the address, and
 *   `Host` names that address (TLS still verifies the URL's host name).
 *   Without `domain`, the runtime resolves the name to either family and
 *   `Host` keeps it; EdgerOS resolves to IPv4 by default.
 * - **Pings.** `ping()` tags are `"1"`, `"2"`, and so on; its callback gets
 *   the tag of the pong that answered (a pong also acknowledges the pings
 *   sent before its own). A missing pong closes the connection with 1001.
 * - **Events carry more.** `close` gets the close code and reason;
 *   `WsServer` and `WsClient` emit `error` (dropped when nothing listens).
 * - **TLS options.** A listening server takes `cert` and `key` (PEM); a
 *   client `ca` and `name`. The other EdgerOS TLS fields (`passwd`, client
 *   certificates, `ipcert`, `renegotiate`) are refused with a `TypeError`.
 *   A client given `tlsOpt` uses TLS even for a `ws://` URL.
 * - **Subprotocols.** The server agrees on none (EdgerOS documents no
 *   choice); a client offering some still connects.
 * - **Constants.** `socket.AF_INET` and `socket.AF_INET6` are 2 and 10, as
 *   on Linux.
 *
 * @example A server and a client, as EdgerOS's examples
 * ```ts
 * import { socket, WsClient, WsServer } from "@seed/websocket/edgeros";
 * import assert from "node:assert/strict";
 *
 * const saddr = socket.sockaddr(socket.INADDR_LOOPBACK, 0);
 * const server = WsServer.createServer("/", saddr);
 * server.on("connection", (channel) => {
 *   channel.send(`ws open channel: ${channel.id}.`);
 *   channel.on("message", (msg) => server.broadcast(msg));
 * });
 * server.start();
 * await new Promise((resolve) => server.once("start", resolve));
 *
 * const client = WsClient.createClient(`ws://127.0.0.1:${server.port()}/`);
 * const messages: unknown[] = [];
 * client.on("open", () => client.send({ count: 1 }));
 * await new Promise<void>((resolve) =>
 *   client.on("message", (msg) => {
 *     messages.push(msg);
 *     if (messages.length === 2) resolve();
 *   })
 * );
 * assert.match(String(messages[0]), /^ws open channel: \d+\.$/);
 * assert.equal(messages[1], '{"count":1}');
 * client.close(1000);
 * server.stop();
 * await new Promise((resolve) => server.once("stop", resolve));
 * ```
 *
 * @module
 */

export { createServer, type ServerTlsOptions, WsServer, type WsServerEvents } from "./server.ts";
export { type ChannelInfo, WsServerChannel, type WsServerChannelEvents } from "./server_channel.ts";
export {
  type AsyncClientOptions,
  type ClientOptions,
  type ClientTlsOptions,
  createClient,
  type SyncClientOptions,
  WsClient,
  type WsClientEvents,
} from "./client.ts";
export { iosched, type IoschedModule, type SockAddr, socket, type SocketModule } from "./socket.ts";
export type { HttpServer, WebApp } from "./_routes.ts";
export type { Chunk } from "./_link.ts";
export type { EventArgs, Listener } from "../_events.ts";
export { Emitter } from "../_events.ts";
export type { ServerChannel, UpgradeInfo } from "../../_accept.ts";
export type { Channel, MessageInput } from "../../protocol/channel.ts";
export type { CloseInfo, Message } from "../../protocol/connection.ts";
export type { NetAddress } from "../../runtime/_transport.ts";
