/**
 * {@linkcode WebSocketServer} of the ZJS `ws` module: the core `listen()`
 * with ZJS's options, its `acceptHandler` turned into the upgrade hooks.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { listen, type WebSocketServer as ListeningServer } from "../../listen.ts";
import type { Channel } from "../../protocol/channel.ts";
import { Emitter } from "../_events.ts";
import { WebSocketConnection } from "./websocket_connection.ts";

/** Options of {@linkcode WebSocketServer}. */
export interface ServerOptions {
  /**
   * The port to bind to; 0 lets the system pick one (read it from `address()`).
   *
   * @default {0}
   */
  port?: number;
  /**
   * The address to bind to, which ZJS's implementation reads too.
   *
   * @default {"0.0.0.0"}
   */
  host?: string;
  /**
   * The listen backlog, where the runtime takes one: Node does, Deno's and
   * Bun's listeners take none and use the system's default.
   */
  backlog?: number;
  /**
   * Whether to keep the open connections in `clients`.
   *
   * @default {false}
   */
  clientTracking?: boolean;
  /**
   * The largest message accepted, in bytes; a larger one closes the
   * connection with 1009. 0 means the default.
   *
   * @default {67108864}
   */
  maxPayload?: number;
  /**
   * Decides on each connection from the subprotocols the client offered (an
   * empty array when none): return the one to accept, or a falsy value to
   * refuse the connection with 403. A string the client did not offer fails
   * the request with 500 and an `error` event on the server; when it offered
   * none, any string accepts the connection without a subprotocol.
   */
  acceptHandler?: (this: WebSocketServer, protocols: string[]) => string | false | null | undefined;
}

/** Where a {@linkcode WebSocketServer} listens. */
export interface ServerAddress {
  /** The address bound to. */
  address: string;
  /** The port bound to. */
  port: number;
}

/**
 * A WebSocket server: an `EventEmitter` that emits `connection` with a
 * {@linkcode WebSocketConnection} for each client that completed the
 * opening handshake, `listening` once it listens, and `error` with an
 * `Error` when it cannot listen or `acceptHandler` fails. Create it with
 * {@linkcode Server}.
 *
 * @example Tracking the connected clients
 * ```ts
 * import { type WebSocketConnection, ws } from "@seed/websocket/zjs";
 * import { connect } from "@seed/websocket";
 * import assert from "node:assert/strict";
 *
 * const server = new ws.Server({ port: 0, host: "127.0.0.1", clientTracking: true });
 * await new Promise((resolve) => server.once("listening", resolve));
 * const connected = new Promise<WebSocketConnection>((resolve) => server.once("connection", resolve));
 * const client = await connect(`ws://127.0.0.1:${server.address()!.port}`);
 * const connection = await connected;
 * assert.deepEqual([...server.clients!], [connection]);
 *
 * const closed = new Promise((resolve) => connection.once("close", resolve));
 * client.close(1000);
 * await closed;
 * assert.equal(server.clients!.size, 0);
 * await server.close();
 * ```
 */
export class WebSocketServer extends Emitter {
  /** The open connections when `clientTracking` is on; `undefined` otherwise. */
  readonly clients: Set<WebSocketConnection> | undefined;
  readonly #listening: Promise<ListeningServer | undefined>;
  readonly #connections = new WeakMap<Channel, WebSocketConnection>();
  #listener: ListeningServer | undefined;

  /**
   * Creates a server and starts listening; {@linkcode Server} does the same.
   *
   * @param options Where to listen and how to accept connections.
   * @throws {RangeError} When `port`, `backlog` or `maxPayload` is out of range.
   * @throws {TypeError} When `acceptHandler` is not a function.
   */
  constructor(options: ServerOptions = {}) {
    super();
    const { port = 0, host = "0.0.0.0", backlog, maxPayload = 0, acceptHandler } = options;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new RangeError(`Cannot create server: port must be from 0 to 65535, got ${port}`);
    }
    if (backlog !== undefined && !(Number.isInteger(backlog) && backlog >= 0)) {
      throw new RangeError(`Cannot create server: backlog must be a whole number, got ${backlog}`);
    }
    if (typeof maxPayload !== "number" || !(maxPayload >= 0)) {
      throw new RangeError(
        `Cannot create server: maxPayload must be at least 0, got ${maxPayload}`,
      );
    }
    if (acceptHandler !== undefined && typeof acceptHandler !== "function") {
      throw new TypeError(
        `Cannot create server: acceptHandler must be a function, got ${typeof acceptHandler}`,
      );
    }
    this.clients = options.clientTracking === true ? new Set() : undefined;
    this.#listening = listen({
      hostname: host,
      port,
      ...(backlog === undefined ? {} : { backlog }),
      ...(maxPayload > 0 ? { maxMessageSize: maxPayload } : {}),
      ...(acceptHandler === undefined ? {} : this.#acceptHooks(acceptHandler)),
      onPing: (payload, channel) => this.#control(channel, "ping", payload),
      onPong: (payload, channel) => this.#control(channel, "pong", payload),
      onError: (error) => this.emit("error", error),
    }, (channel) => this.#accept(channel)).then((listener) => {
      this.#listener = listener;
      this.emit("listening");
      return listener;
    }, (error) => {
      this.emit("error", error);
      return undefined;
    });
  }

  /**
   * Tells where the server listens.
   *
   * @returns The address and port, or `null` until it listens.
   */
  address(): ServerAddress | null {
    const address = this.#listener?.address;
    return address?.transport === "tcp" ? { address: address.hostname, port: address.port } : null;
  }

  /**
   * Stops accepting connections; open connections stay open.
   *
   * @returns Resolves once the server no longer listens.
   */
  async close(): Promise<void> {
    await (await this.#listening)?.close();
  }

  /**
   * `acceptHandler` sees the offers in `selectProtocol`, which the core
   * calls only when there are some, and its verdict refuses the request in
   * `onUpgrade`, which comes next for the same `Request`.
   */
  #acceptHooks(handler: NonNullable<ServerOptions["acceptHandler"]>) {
    const verdicts = new WeakMap<Request, unknown>();
    return {
      selectProtocol: (offered: string[], request: Request): string | undefined => {
        const verdict = handler.call(this, offered);
        verdicts.set(request, verdict);
        return isAccepted(verdict) ? verdict : undefined;
      },
      onUpgrade: (request: Request): Response | undefined => {
        const verdict = verdicts.has(request) ? verdicts.get(request) : handler.call(this, []);
        if (isAccepted(verdict)) return undefined;
        return new Response("acceptHandler refused the connection", { status: 403 });
      },
    };
  }

  /**
   * Emits a ping or pong after the messages received before it. The channel
   * reports the control frame at once, while each message reaches the
   * connection through a read of `readable` that resolves in a microtask
   * queued when the message was: queueing the event as well keeps the order.
   */
  #control(channel: Channel, name: "ping" | "pong", payload: Uint8Array): void {
    const connection = this.#connections.get(channel);
    // A copy (at most 125 bytes): the automatic pong echoing a ping may still
    // be queued when a listener changes its Buffer.
    const data = Buffer.from(payload);
    if (connection !== undefined) queueMicrotask(() => connection.emit(name, data));
  }

  #accept(channel: Channel): void {
    const connection = new WebSocketConnection(channel);
    this.#connections.set(channel, connection);
    if (this.clients !== undefined) {
      const clients = this.clients;
      clients.add(connection);
      // Before the connection emits `close`, which also waits for `closed`.
      channel.closed.then(() => clients.delete(connection));
    }
    this.emit("connection", connection);
  }
}

function isAccepted(verdict: unknown): verdict is string {
  return typeof verdict === "string" && verdict !== "";
}
