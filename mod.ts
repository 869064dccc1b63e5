/**
 * @seed/websocket: a WebSocket (RFC 6455) client and server library for
 * Deno, Bun and Node, built on WebStreams.
 *
 * This entry point re-exports the runtime-neutral core: the sans-I/O
 * {@linkcode Connection} (bytes in, bytes and messages out), the error
 * classes, and, through `@seed/websocket/codec`, the frame codec.
 *
 * @example A client and a server connection talking through memory
 * ```ts
 * import { Connection, type Message } from "@seed/websocket";
 * import assert from "node:assert/strict";
 *
 * const received: Message[] = [];
 * const server: Connection = new Connection({ role: "server" }, {
 *   write: (bytes) => client.receive(bytes),
 *   message: (data) => server.send(`echo: ${data}`),
 *   end: () => {},
 * });
 * const client: Connection = new Connection({ role: "client" }, {
 *   write: (bytes) => server.receive(bytes),
 *   message: (data) => received.push(data),
 *   end: () => {},
 * });
 * client.send("hello");
 * client.close(1000, "done");
 * assert.deepEqual(received, ["echo: hello"]);
 * assert.deepEqual(client.closeInfo, { code: 1000, reason: "", wasClean: true });
 * ```
 *
 * @module
 */

export * from "./src/errors.ts";
export * from "./src/protocol/connection.ts";
