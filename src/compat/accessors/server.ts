/**
 * The Accessors `Server`: listens for WebSocket connections and hands each
 * one to its `connection` listeners as a {@linkcode Socket}.
 *
 * @module
 */

import { listen, type ServerChannel, type WebSocketServer } from "../../listen.ts";
import { Emitter } from "../_events.ts";
import { conversionOf } from "./_convert.ts";
import { messageOf, report } from "./_relay.ts";
import { closeSocket, Socket } from "./socket.ts";

/** Options of {@linkcode Server}, as the Accessors documentation names them. */
export interface ServerOptions {
  /**
   * The IP address or name of the local interface to listen on.
   *
   * @default {"localhost"}
   */
  hostInterface?: string;
  /**
   * The port to listen on; 0 lets the system pick a free one, which
   * `port` then tells.
   *
   * @default {80}
   */
  port?: number;
  /**
   * The MIME type of incoming messages; one of {@linkcode supportedReceiveTypes}.
   *
   * @default {"application/json"}
   */
  receiveType?: string;
  /**
   * The MIME type of outgoing messages; one of {@linkcode supportedSendTypes}.
   *
   * @default {"application/json"}
   */
  sendType?: string;
}

/** One run of the server, from `start()` to `stop()`. */
interface Run {
  server: WebSocketServer | undefined;
  sockets: Map<Socket, ServerChannel>;
}

/**
 * A WebSocket server, as the Accessors `webSocket` module documents it: an
 * event emitter of `listening` and `connection`, with `start()` and
 * `stop()`. Construct it with `new`, add listeners, then call `start()`.
 *
 * Events:
 * - `listening`: the server listens; `port` tells on which port.
 * - `connection`: a client has connected; the listener gets its
 *   {@linkcode Socket}, which emits `open` right after.
 * - `error` (not in the Accessors documentation): the server could not
 *   listen, with a message and the `Error`, as the other classes report
 *   errors.
 *
 * The options are readable as properties of the same name, defaults filled in.
 *
 * @example The documentation's usage pattern
 * ```ts ignore
 * import { Server, type Socket } from "@seed/websocket/accessors";
 *
 * const server = new Server({ port: 8082 });
 * server.on("listening", () => console.log(`listening on port ${server.port}`));
 * server.on("connection", (socket: Socket) => {
 *   socket.on("message", (message: unknown) => {
 *     console.log(message);
 *     socket.send("Reply message");
 *   });
 * });
 * server.start();
 * ```
 *
 * @example The documented defaults
 * ```ts
 * import { Server } from "@seed/websocket/accessors";
 * import assert from "node:assert/strict";
 *
 * const server = new Server();
 * assert.equal(server.hostInterface, "localhost");
 * assert.equal(server.port, 80);
 * assert.equal(server.sendType, "application/json");
 * ```
 */
export class Server extends Emitter {
  /** The local interface the server listens on. */
  readonly hostInterface: string;
  /** The MIME type of incoming messages. */
  readonly receiveType: string;
  /** The MIME type of outgoing messages. */
  readonly sendType: string;

  readonly #requestedPort: number;
  #port: number;
  #run: Run | undefined;
  #starting: Promise<void> | undefined;

  /**
   * Creates a server; nothing listens until `start()`.
   *
   * @param options Where to listen and the message types.
   * @throws {TypeError} When an option has the wrong type.
   * @throws {RangeError} When the port is out of range or a MIME type is not supported.
   */
  constructor(options: ServerOptions = {}) {
    super();
    this.hostInterface = options.hostInterface ?? "localhost";
    this.#requestedPort = this.#port = options.port ?? 80;
    this.receiveType = options.receiveType ?? "application/json";
    this.sendType = options.sendType ?? "application/json";
    if (typeof this.hostInterface !== "string") {
      throw new TypeError(
        `Cannot create Server: hostInterface must be a string, got ${typeof this.hostInterface}`,
      );
    }
    if (!Number.isInteger(this.#port) || this.#port < 0 || this.#port > 65535) {
      throw new RangeError(`Cannot create Server: port must be from 0 to 65535, got ${this.#port}`);
    }
    conversionOf(this.receiveType, "receiveType", "Server");
    conversionOf(this.sendType, "sendType", "Server");
  }

  /** The port: the option's value, then, once listening, the port listened on. */
  get port(): number {
    return this.#port;
  }

  /**
   * Starts listening; `listening` is emitted once it does. When the server
   * cannot listen (the port is taken, the interface unknown), `error` is
   * emitted instead. Does nothing more while started.
   *
   * @returns A promise that settles once the server listens or has failed
   * to; it never rejects.
   *
   * @example Listening on a free port
   * ```ts
   * import { Server } from "@seed/websocket/accessors";
   * import assert from "node:assert/strict";
   *
   * const server = new Server({ hostInterface: "127.0.0.1", port: 0 });
   * let listening = false;
   * server.on("listening", () => listening = true);
   * await server.start();
   * assert.ok(listening);
   * assert.notEqual(server.port, 0);
   * await server.stop();
   * ```
   */
  start(): Promise<void> {
    this.#starting ??= this.#start();
    return this.#starting;
  }

  /**
   * Closes every current connection with 1001 (going away) and stops
   * listening. Does nothing when not started.
   *
   * @returns A promise that resolves once the server has stopped and every
   * connection has closed; it never rejects.
   *
   * @example Stopping on a signal
   * ```ts ignore
   * import { Server } from "@seed/websocket/accessors";
   * import process from "node:process";
   *
   * const server = new Server({ port: 8082 });
   * server.start();
   * process.on("SIGINT", () => server.stop());
   * ```
   */
  async stop(): Promise<void> {
    const starting = this.#starting;
    if (starting === undefined) return;
    await starting;
    const run = this.#run;
    if (run === undefined || this.#starting !== starting) return;
    this.#starting = undefined;
    this.#run = undefined;
    await run.server?.close().catch((error) => report(this, messageOf(error), error));
    const closing = [...run.sockets].map(([socket, channel]) => {
      closeSocket(socket, 1001, "Server stopping");
      return channel.closed;
    });
    await Promise.all(closing);
  }

  async #start(): Promise<void> {
    const run: Run = { server: undefined, sockets: new Map() };
    // Set before listening: a connection may complete before listen() resolves.
    this.#run = run;
    try {
      run.server = await listen({
        hostname: this.hostInterface,
        port: this.#requestedPort,
        onError: (error) => report(this, messageOf(error), error),
      }, (channel) => this.#accept(run, channel));
    } catch (error) {
      this.#run = undefined;
      this.#starting = undefined;
      report(
        this,
        `Cannot start server on ${this.hostInterface}:${this.#requestedPort}: ${messageOf(error)}`,
        error,
      );
      return;
    }
    this.#port = run.server.port;
    this.emit("listening");
  }

  #accept(run: Run, channel: ServerChannel): void {
    if (this.#run !== run) {
      // A handshake that finished after stop(): the server has gone away.
      channel.close(1001, "Server stopping");
      return;
    }
    const socket = new Socket(channel, { receiveType: this.receiveType, sendType: this.sendType });
    run.sockets.set(socket, channel);
    channel.closed.then(() => run.sockets.delete(socket));
    this.emit("connection", socket);
  }
}
