/**
 * Helpers of the EdgerOS compatibility tests: waiting for events, and a
 * listening `WsServer` on 127.0.0.1.
 *
 * @module
 */

import { socket, type WsServer, WsServer as Server } from "../../../src/compat/edgeros/mod.ts";
import { within } from "../../_servers.ts";

/** Anything with `on` and `once`, whatever its events. */
interface Listenable {
  on(name: string, listener: (...args: unknown[]) => void): unknown;
  once(name: string, listener: (...args: unknown[]) => void): unknown;
}

/**
 * Resolves with the arguments of the next `name` event of `emitter`.
 *
 * @param emitter What emits it.
 * @param name The event.
 * @returns The event's arguments.
 */
export function next(emitter: Listenable, name: string): Promise<unknown[]> {
  return within(
    new Promise((resolve) => emitter.once(name, (...args: unknown[]) => resolve(args))),
    `${name} event`,
  );
}

/**
 * Collects every `name` event's first argument of `emitter`.
 *
 * @param emitter What emits it.
 * @param name The event.
 * @returns The list, growing as events come.
 */
export function collect(emitter: Listenable, name: string): unknown[] {
  const seen: unknown[] = [];
  emitter.on(name, (value: unknown) => seen.push(value));
  return seen;
}

/**
 * A started `WsServer` on 127.0.0.1 and a free port.
 *
 * @param path Its path.
 * @returns The server and its `ws:` URL, path included.
 */
export async function listening(path = "/"): Promise<{ server: WsServer; url: string }> {
  const server = Server.createServer(path, socket.sockaddr(socket.INADDR_LOOPBACK, 0));
  const started = next(server, "start");
  if (!server.start()) throw new Error("the server did not start");
  await started;
  return { server, url: `ws://127.0.0.1:${server.port()}${path}` };
}

/**
 * Stops a server and waits for its `stop` event.
 *
 * @param server The server.
 */
export async function stopped(server: WsServer): Promise<void> {
  const done = next(server, "stop");
  server.stop();
  await done;
}
