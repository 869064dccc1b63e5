/**
 * Helpers of the `@seed/websocket/hop` tests: events as promises, and a
 * `WebSocketServer` on a free port of 127.0.0.1.
 *
 * @module
 */

import {
  configure,
  type ServerEvent,
  type WebSocket,
  type WebSocketCloseEvent,
  WebSocketServer,
  type WebSocketServerOptions,
} from "../../src/compat/hop/mod.ts";
import { within } from "../_servers.ts";

/**
 * The next event of one name.
 *
 * @param target What fires it.
 * @param name The event name.
 * @returns The event's first argument.
 */
export function nextEvent<T>(
  target: { once(name: string, listener: (event: T) => void): unknown },
  name: string,
): Promise<T> {
  return within(new Promise<T>((resolve) => target.once(name, resolve)), `${name} event`);
}

/** A {@linkcode WebSocketServer} on 127.0.0.1 and where to reach it. */
export interface Served {
  /** The server. */
  server: WebSocketServer;
  /** The port of the shared HTTP server. */
  port: number;
  /** The URL of a path under `/hop/`. */
  url(path: string): string;
  /** The next connection's server-side socket. */
  nextSocket(): Promise<WebSocket>;
}

/**
 * Serves a path on a free port of 127.0.0.1; the shared server must not be running.
 *
 * @param option The argument of `new WebSocketServer()`.
 * @returns The server, once listening.
 */
export async function serveHop(option: string | WebSocketServerOptions): Promise<Served> {
  configure({ port: 0, hostname: "127.0.0.1" });
  const server = new WebSocketServer(option);
  const { port } = await within(server.listening, "listening");
  return {
    server,
    port,
    url: (path) => `ws://127.0.0.1:${port}/hop/${path}`,
    nextSocket: async () => (await nextEvent<ServerEvent<WebSocket>>(server, "connection")).value,
  };
}

/**
 * Closes a socket, unless it is closed, and waits for its `close` event.
 *
 * @param socket The socket.
 * @returns Its `close` event, or `undefined` when it was closed already.
 */
export async function closeSocket(socket: WebSocket): Promise<WebSocketCloseEvent | undefined> {
  if (socket.readyState === "closed") return undefined;
  const closed = nextEvent<WebSocketCloseEvent>(socket, "close");
  socket.close();
  return await closed;
}
