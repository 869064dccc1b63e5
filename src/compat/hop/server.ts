/**
 * Hop.js's `WebSocketServer`: a service at `/hop/<path>` of the shared HTTP
 * server.
 *
 * @module
 */

import type { ServerChannel } from "../../_accept.ts";
import { type DomEvents, Emitter } from "../_events.ts";
import { type HopServerAddress, register, unregister } from "./_http_server.ts";
import { acceptWebSocket, type WebSocket } from "./websocket.ts";

/** The object form of {@linkcode WebSocketServer}'s argument. */
export interface WebSocketServerOptions {
  /** The path, served at `/hop/<path>`. */
  path: string;
  /**
   * The subprotocol accepted, or several: a client offering it gets it.
   *
   * @default {undefined}
   */
  protocol?: string | string[];
}

/** The event a {@linkcode WebSocketServer} passes its listeners. */
export interface ServerEvent<Value> {
  /** The event's name: `"connection"`, `"close"` or `"error"`. */
  readonly type: string;
  /** The server that fired it. */
  readonly target: WebSocketServer;
  /** For `connection`, the new socket; for `close`, the server; for `error`, the reason. */
  readonly value: Value;
}

/** The events of a {@linkcode WebSocketServer}, by name. */
export interface WebSocketServerEventMap {
  /** A client connected; `value` is its socket. */
  connection: ServerEvent<WebSocket>;
  /** The server was closed; `value` is the server. */
  close: ServerEvent<WebSocketServer>;
  /** The shared server could not listen; `value` is the reason. */
  error: ServerEvent<unknown>;
}

/** A listener of a {@linkcode WebSocketServer}'s `on*` property. */
export type WebSocketServerListener<E> = ((this: WebSocketServer, event: E) => unknown) | null;

/**
 * A WebSocket service of the shared HTTP server, which stands in for Hop's
 * built-in server: the first `WebSocketServer` starts it (see
 * {@linkcode configure} for its port), and it stops once every one has
 * closed. A client connects to `ws://HOST:PORT/hop/<path>`; a request for a
 * path nothing serves gets 404. Each connection fires `connection`, its
 * socket in `event.value`; `close()` fires `close`.
 *
 * When the shared server cannot listen, `listening` rejects and the server
 * fires `error` with the reason, printed with `console.error` when nothing
 * listens to it.
 *
 * @example The server of the Hop.js documentation
 * ```ts ignore
 * import { WebSocketServer } from "@seed/websocket/hop";
 *
 * const serv = new WebSocketServer({ path: "serv", protocol: "foo" });
 * serv.onconnection = function (event) {
 *   const ws = event.value;
 *   console.error("connection established:", ws.socket);
 *   ws.onmessage = (event) => console.log("server received [%s]", event.data);
 *   ws.onclose = () => console.log("client socket closed.");
 *   ws.send("something");
 * };
 * ```
 *
 * @example A path is checked at once
 * ```ts
 * import { WebSocketServer } from "@seed/websocket/hop";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => new WebSocketServer({ path: "" }), TypeError);
 * ```
 */
export class WebSocketServer extends Emitter<DomEvents<WebSocketServerEventMap>> {
  /** Called with each new connection; the socket is in `event.value`. */
  onconnection: WebSocketServerListener<ServerEvent<WebSocket>> = null;
  /** Called when the server is closed, by {@linkcode WebSocketServer.close}. */
  onclose: WebSocketServerListener<ServerEvent<WebSocketServer>> = null;
  /**
   * Where the shared server listens, once it does; rejects when it cannot
   * listen (the reason is also fired as an `error` event).
   */
  readonly listening: Promise<HopServerAddress>;

  readonly #pathname: string;
  #closed = false;
  #stopped: Promise<void> = Promise.resolve();

  /**
   * Serves a path, starting the shared HTTP server if it is not running.
   *
   * @param option The path, served at `/hop/<path>`, or `{ path, protocol }`.
   * @throws {TypeError} When the path is not a non-empty string, holds `?` or
   * `#`, or leaves `/hop/`; when the protocol is not a string or a list of them.
   * @throws {Error} When another `WebSocketServer` serves the path.
   */
  constructor(option: string | WebSocketServerOptions) {
    super();
    const { path, protocols } = readOption(option);
    this.#pathname = servicePath(path);
    this.listening = register(this.#pathname, {
      protocols,
      accept: (channel) => this.#accept(channel),
    });
    this.listening.catch((error: unknown) => {
      this.#closed = true;
      if (!this.emit("error", { type: "error", target: this, value: error })) console.error(error);
    });
  }

  /**
   * Stops the service: new connections to its path get 404, those open stay
   * open. Fires `close`. Once no `WebSocketServer` is left, the shared HTTP
   * server stops listening, so that the process can exit. Does nothing
   * once closed.
   *
   * @returns Settles once the shared server has stopped, if it had to; never rejects.
   *
   * @example Closing a service
   * ```ts ignore
   * import { WebSocketServer } from "@seed/websocket/hop";
   *
   * const serv = new WebSocketServer("serv");
   * serv.onclose = (event) => console.log(event.value === serv); // true
   * await serv.close();
   * ```
   */
  close(): Promise<void> {
    if (this.#closed) return this.#stopped;
    this.#closed = true;
    this.#stopped = unregister(this.#pathname);
    this.emit("close", { type: "close", target: this, value: this });
    return this.#stopped;
  }

  #accept(channel: ServerChannel): void {
    // Synchronously after the socket is built: it reads its first message later.
    const ws = acceptWebSocket(channel);
    this.emit("connection", { type: "connection", target: this, value: ws });
  }
}

function readOption(option: unknown): { path: unknown; protocols: string[] } {
  if (typeof option === "string") return { path: option, protocols: [] };
  if (typeof option !== "object" || option === null) {
    throw new TypeError(
      `Cannot create WebSocketServer: the argument must be a path or { path, protocol }, got ${
        option === null ? "null" : typeof option
      }`,
    );
  }
  const { path, protocol } = option as { path?: unknown; protocol?: unknown };
  const protocols = protocol === undefined
    ? []
    : typeof protocol === "string"
    ? [protocol]
    : protocol;
  if (!Array.isArray(protocols) || !protocols.every((item) => typeof item === "string")) {
    throw new TypeError(
      "Cannot create WebSocketServer: the protocol must be a string or an array of strings",
    );
  }
  return { path, protocols };
}

/** The pathname a path is served at: `/hop/` and the path, percent-encoded as in requests. */
function servicePath(path: unknown): string {
  if (typeof path !== "string" || path.replace(/^\/+/, "") === "" || /[?#]/.test(path)) {
    throw new TypeError(
      `Cannot create WebSocketServer: the path must be a non-empty string without ? or #, got ${
        JSON.stringify(path)
      }`,
    );
  }
  const pathname = new URL(`/hop/${path.replace(/^\/+/, "")}`, "http://localhost").pathname;
  if (!pathname.startsWith("/hop/") || pathname === "/hop/") {
    throw new TypeError(`Cannot create WebSocketServer: the path ${path} leaves /hop/`);
  }
  return pathname;
}
