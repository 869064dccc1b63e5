/**
 * The WebSocket API of Hop.js (the "WebSockets" page of the Hop.js
 * documentation): `WebSocketServer`, served by a built-in HTTP server at
 * `/hop/<path>`, and the `WebSocket` client, on Deno, Bun and Node. Code
 * written for Hop.js runs with an import added, since Hop.js makes them
 * globals.
 *
 * Hop's built-in server is a shared server started by the first
 * `WebSocketServer` and stopped once all of them have closed; its port and
 * hostname come from {@linkcode configure}, else the `HOP_PORT` and
 * `HOP_HOSTNAME` environment variables, else 8080 on every interface.
 *
 * Deliberate differences from Hop.js, and additions:
 *
 * - `new WebSocketServer(option)` reads one argument, the path or
 *   `{ path, protocol }`, as Hop.js's implementation does; the heading
 *   `new WebSocketServer( url [, option ] )` of its documentation names two
 *   but describes one. A path served twice, an empty path or one with `?`
 *   or `#` throws, rather than replacing a service or serving nothing.
 * - The server starts in the background, when first used rather than with
 *   the process; `server.listening` resolves with its hostname and port
 *   (the system's pick for port 0), where Hop.js has `hop.port`.
 *   `configure()` stands in for Hop's `-p` command-line option. When the
 *   server cannot listen, `listening` rejects and the `WebSocketServer` fires
 *   `error` (printed when nothing listens to it), where Hop would not start.
 * - `close()` on a `WebSocketServer` also stops the shared server once no
 *   service is left, so that a process can end; it returns a promise of
 *   that. Connections already open stay open, as in Hop.js.
 * - `readyState` is a string, `"connecting"`, `"open"`, `"closing"` or
 *   `"closed"`, as Hop.js's implementation reports it (the documentation does
 *   not say), not the browser's number.
 * - `send()` while connecting throws an `InvalidStateError`, where Hop.js
 *   drops the message silently; after closing it drops the message, as
 *   Hop.js does. Binary data (`Uint8Array`, `ArrayBuffer`) goes as a binary
 *   message; any other value is sent as its string, as in Hop.js.
 * - A binary message arrives as a `Uint8Array` in `event.data`; Hop.js
 *   documents text only.
 * - `close(code?, reason?)` runs the closing handshake, 1000 by default,
 *   and `onclose` fires once it is done, with `code`, `reason` and
 *   `wasClean`; Hop.js's server side shuts the socket down at once. A
 *   connection that fails fires `error` then `close` (code 1006), as in
 *   browsers; Hop.js fires only `error` for some failures.
 * - The server side of a connection is a `WebSocket` whose `socket` is the
 *   peer's address (`remoteAddress`, `remotePort`, printed as
 *   `address:port`), rather than a Bigloo socket; it also has `url` and
 *   `protocol`, and fires no `open` event (it is open when `connection`
 *   fires). A client's `socket` is `undefined`.
 * - A subprotocol is accepted when the client offers the service's
 *   `protocol`; a client offering none of those is accepted without one.
 * - Events are plain objects: `type`, `target`, and Hop's `value` and `data`
 *   (both the payload of a message). Listeners also come through `on`/`off`
 *   of the registry every compatibility module shares; within one event,
 *   `addEventListener` listeners run before the `on*` property.
 *
 * @example The two programs of the Hop.js documentation
 * ```ts ignore
 * import { configure, WebSocket, WebSocketServer } from "@seed/websocket/hop";
 *
 * configure({ port: 8080 });
 * const serv = new WebSocketServer({ path: "serv", protocol: "foo" });
 * serv.onconnection = (event) => {
 *   const ws = event.value;
 *   ws.onmessage = (event) => console.log("server received [%s]", event.data);
 *   ws.send("something");
 * };
 *
 * const ws = new WebSocket("ws://localhost:8080/hop/serv", ["bar", "foo"]);
 * ws.onopen = function () {
 *   this.send("toto n'est pas content");
 * };
 * ws.onmessage = (event) => console.log("client received [%s]", event.data);
 * ```
 *
 * @example Checking arguments
 * ```ts
 * import { configure, WebSocket, WebSocketServer } from "@seed/websocket/hop";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => configure({ port: -1 }), RangeError);
 * assert.throws(() => new WebSocketServer({ path: "a?b" }), TypeError);
 * assert.throws(
 *   () => new WebSocket("ws://localhost:8080/hop/serv", "not a token"),
 *   (error) => error instanceof DOMException && error.name === "SyntaxError",
 * );
 * ```
 *
 * @module
 */

export { configure, type HopServerAddress, type HopServerOptions } from "./_http_server.ts";
export {
  type ServerEvent,
  WebSocketServer,
  type WebSocketServerEventMap,
  type WebSocketServerListener,
  type WebSocketServerOptions,
} from "./server.ts";
export {
  type ReadyState,
  type RemoteSocket,
  WebSocket,
  type WebSocketCloseEvent,
  type WebSocketEvent,
  type WebSocketEventMap,
  type WebSocketListener,
  type WebSocketOption,
  type WebSocketOptions,
} from "./websocket.ts";
// The listener registry both classes extend, so that their documentation is complete.
export type { DomEvents, Emitter, EventArgs, Listener } from "../_events.ts";
