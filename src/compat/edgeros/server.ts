/**
 * {@linkcode WsServer}: EdgerOS's WebSocket server, listening on its own
 * port or taking the upgrades of an HTTP server or a web app.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { createPrivateKey, X509Certificate } from "node:crypto";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import type { ServerChannel } from "../../_accept.ts";
import { handleUpgrade } from "../../runtime/node_upgrade.ts";
import { Emitter } from "../_events.ts";
import { type Chunk, frame } from "./_link.ts";
import {
  type HttpServer,
  routeHttpServer,
  routeWebApp,
  targetPath,
  type WebApp,
} from "./_routes.ts";
import { linkOf, WsServerChannel } from "./server_channel.ts";
import { checkPort, type SockAddr } from "./socket.ts";

/** TLS options of a listening server, named as EdgerOS names them. */
export interface ServerTlsOptions {
  /** The certificate chain, PEM. */
  cert: string;
  /** The private key, PEM, not encrypted. */
  key: string;
}

/** The events of a {@linkcode WsServer} and their arguments. */
export interface WsServerEvents {
  /** Listening. */
  start: [];
  /** Stopped, every connection closed. */
  stop: [];
  /** A new connection. */
  connection: [channel: WsServerChannel];
  /** Listening failed, or a connection could not be accepted. */
  error: [error: unknown];
}

type State = "stopped" | "starting" | "started" | "stopping";

/**
 * A WebSocket server, as EdgerOS's `WsServer`.
 *
 * Created with a socket address, it listens on its own port between
 * `start()` and `stop()`. Created with a `node:http` or `node:https` server
 * or a web app (see {@linkcode WebApp}), it runs in UPGRADE mode: it takes
 * that server's upgrade requests to its path from the start, has no port of
 * its own, and must not be started.
 *
 * Events: `start` once listening; `stop` once stopped, every connection
 * closed; `connection` with each new {@linkcode WsServerChannel}; `error`
 * with what went wrong when listening fails or a connection cannot be
 * accepted (dropped when nothing listens to it).
 *
 * @example A broadcast server, as EdgerOS's first example
 * ```ts
 * import { socket, WsClient, WsServer } from "@seed/websocket/edgeros";
 * import assert from "node:assert/strict";
 *
 * const server = WsServer.createServer("/", socket.sockaddr(socket.INADDR_LOOPBACK, 0));
 * server.on("connection", (channel) => {
 *   channel.on("message", (msg) => server.broadcast(msg));
 * });
 * assert.equal(server.start(), true);
 * await new Promise((resolve) => server.once("start", resolve));
 *
 * const url = `ws://127.0.0.1:${server.port()}/`;
 * const alice = await WsClient.createClient(url, { async: true });
 * const bob = await WsClient.createClient(url, { async: true });
 * const heard = new Promise((resolve) => bob.once("message", resolve));
 * alice.send("hello, everyone"); // connected: `open` is emitted on the next task
 * assert.equal(await heard, "hello, everyone");
 *
 * server.stop(); // closes both with 1001
 * await new Promise((resolve) => server.once("stop", resolve));
 * assert.equal(server.port(), undefined);
 * ```
 */
export class WsServer extends Emitter<WsServerEvents> {
  /**
   * Creates a server, as `new WsServer(path, saddr, tlsOpt)`.
   *
   * @param path The path clients connect to, such as `"/"`; upgrade
   * requests to other paths are refused with 404.
   * @param saddr A socket address to listen on (`socket.sockaddr(addr,
   * port)` or `{ addr, port }`; port 0 picks one), or, for UPGRADE mode, a
   * `node:http` or `node:https` server, or a web app.
   * @param tlsOpt A certificate and key, to listen for `wss://`; ignored in UPGRADE mode.
   * @returns The server; a listening one is started with `start()`.
   * @throws {TypeError} When `path`, `saddr` or `tlsOpt` is invalid (a
   * certificate or key that cannot be read included), or another `WsServer`
   * serves `path` on the same HTTP server or web app.
   * @throws {RangeError} When the port is out of range.
   *
   * @example Taking the upgrades of a node:http server
   * ```ts
   * import { createServer } from "node:http";
   * import { WsClient, WsServer } from "@seed/websocket/edgeros";
   * import assert from "node:assert/strict";
   *
   * const httpServer = createServer((_request, response) => response.end("plain HTTP"));
   * const wsServer = WsServer.createServer("/ws", httpServer);
   * assert.throws(() => wsServer.start(), /UPGRADE mode/);
   * wsServer.on("connection", (channel) => channel.send(`hello ${channel.id}`));
   * await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
   * const { port } = httpServer.address() as { port: number };
   *
   * const client = WsClient.createClient(`ws://127.0.0.1:${port}/ws`);
   * const greeting = await new Promise((resolve) => client.once("message", resolve));
   * assert.match(String(greeting), /^hello \d+$/);
   * wsServer.stop(); // closes the connection
   * await new Promise((resolve) => client.once("close", resolve));
   * httpServer.close();
   * ```
   */
  static createServer(
    path: string,
    saddr: SockAddr | HttpServer | WebApp,
    tlsOpt?: ServerTlsOptions,
  ): WsServer {
    return new WsServer(path, saddr, tlsOpt);
  }

  readonly #path: string;
  /** Where it listens; undefined in UPGRADE mode. */
  readonly #address: { addr: string; port: number } | undefined;
  readonly #tls: ServerTlsOptions | undefined;
  /** What it was created from in UPGRADE mode, for messages. */
  readonly #upgradeFrom: string | undefined;
  readonly #channels = new Set<WsServerChannel>();
  #state: State;
  #stopWanted = false;
  #listener: Server | undefined;
  #port: number | undefined;
  #unroute: (() => void) | undefined;

  /**
   * Creates a server; see {@linkcode WsServer.createServer}.
   *
   * @param path The path clients connect to.
   * @param saddr A socket address to listen on, or a `node:http` server or web app.
   * @param tlsOpt A certificate and key, to listen for `wss://`; ignored in UPGRADE mode.
   * @throws {TypeError} When `path`, `saddr` or `tlsOpt` is invalid (a
   * certificate or key that cannot be read included), or another `WsServer`
   * serves `path` on the same HTTP server or web app.
   * @throws {RangeError} When the port is out of range.
   */
  constructor(path: string, saddr: SockAddr | HttpServer | WebApp, tlsOpt?: ServerTlsOptions) {
    super();
    const fail = (detail: string) => new TypeError(`Cannot create server: ${detail}`);
    if (typeof path !== "string" || !path.startsWith("/") || /[?#]/.test(path)) {
      throw fail(`path must start with "/" and have no query, got ${JSON.stringify(path)}`);
    }
    this.#path = targetPath(path);
    if (typeof saddr !== "object" || saddr === null) {
      throw fail(`saddr must be a socket address, an HTTP server or a web app`);
    }
    const given = saddr as unknown as Record<string, unknown>;
    if (given.connections instanceof Set && typeof given.close === "function") {
      throw fail(
        "a server serve() started cannot be attached to; pass the options object to createServer() first, then to serve()",
      );
    }
    if (typeof given.on === "function" && typeof given.listenerCount === "function") {
      this.#upgradeFrom = "HTTP server";
      this.#state = "started";
      this.#unroute = routeHttpServer(saddr as HttpServer, this.#path, this.#upgrade);
    } else if (typeof given.fetch === "function") {
      this.#upgradeFrom = "web app";
      this.#state = "started";
      this.#unroute = routeWebApp(saddr as WebApp, this.#path, (channel) => this.#accept(channel));
    } else {
      const { addr = "0.0.0.0", port } = saddr as SockAddr;
      if (typeof addr !== "string") throw fail("saddr.addr must be a string");
      checkPort(port, "create server");
      this.#address = { addr, port };
      this.#tls = tlsOpt === undefined ? undefined : checkTls(tlsOpt);
      this.#state = "stopped";
    }
  }

  /**
   * Starts listening; the `start` event follows once it does, or `error`
   * if it cannot (the port is taken, say).
   *
   * @returns `true` when it starts, `false` when it is started already.
   * @throws {Error} In UPGRADE mode, where the HTTP server or web app it
   * was created from is started instead.
   *
   * @example Starting, and finding the port
   * ```ts ignore
   * const server = WsServer.createServer("/", socket.sockaddr(socket.INADDR_ANY, 0));
   * server.on("start", () => console.log(`port ${server.port()}`));
   * server.start();
   * ```
   */
  start(): boolean {
    if (this.#address === undefined) {
      throw new Error(
        `Cannot start server: it runs in UPGRADE mode on the ${this.#upgradeFrom} it was created from; start that instead`,
      );
    }
    if (this.#state !== "stopped") return false;
    const listener = this.#tls === undefined
      ? createHttpServer(refuse)
      : createHttpsServer({ cert: this.#tls.cert, key: this.#tls.key }, refuse) as Server;
    this.#state = "starting";
    this.#listener = listener;
    this.#unroute = routeHttpServer(listener, this.#path, this.#upgrade);
    const failed = (error: unknown) => {
      this.#unroute?.();
      this.#listener = undefined;
      this.#state = "stopped";
      this.emit("error", error);
    };
    listener.once("error", failed);
    listener.listen(this.#address.port, this.#address.addr, () => {
      listener.off("error", failed);
      this.#port = (listener.address() as AddressInfo).port;
      this.#state = "started";
      this.emit("start");
      if (this.#stopWanted) this.stop();
    });
    return true;
  }

  /**
   * Stops the server: it stops accepting, closes every connection with
   * 1001, then emits `stop`. Stopped in UPGRADE mode, it leaves the HTTP
   * server or web app for good. Does nothing when not started.
   *
   * @example Stopping
   * ```ts ignore
   * server.on("stop", () => console.log("stopped"));
   * server.stop();
   * ```
   */
  stop(): void {
    if (this.#state === "starting") {
      this.#stopWanted = true;
      return;
    }
    if (this.#state !== "started") return;
    this.#state = "stopping";
    this.#stopWanted = false;
    this.#unroute?.();
    const listener = this.#listener;
    const closing: Promise<unknown>[] = [...this.#channels].map((channel) => {
      const link = linkOf(channel);
      if (link.open) link.close(1001, "Server stopped");
      return link.channel.closed;
    });
    if (listener !== undefined) {
      closing.push(
        new Promise<void>((resolve) => {
          listener.close(() => resolve());
          listener.closeIdleConnections();
        }),
      );
    }
    Promise.all(closing).then(() => {
      this.#listener = undefined;
      this.#port = undefined;
      // In UPGRADE mode it has left its server for good: start() refuses to run.
      this.#state = "stopped";
      this.emit("stop");
    });
  }

  /**
   * The port it listens on, once started.
   *
   * @returns The port, or `undefined` before `start`, after `stop`, and in UPGRADE mode.
   *
   * @example The port the system picked
   * ```ts ignore
   * server.on("start", () => console.log(server.port()));
   * ```
   */
  port(): number | undefined {
    return this.#port;
  }

  /**
   * Sends a message to every open connection, framed once as
   * `channel.send()` frames it: a string as text; a `Buffer` (or another
   * `Uint8Array`, an `ArrayBuffer` or a view) as binary; a number or a
   * boolean as its text; any other object as its JSON text.
   *
   * @param chunk What to send.
   * @throws {TypeError} When `chunk` is `null`, `undefined`, a function, a
   * symbol or a bigint, or an object `JSON.stringify` cannot write.
   *
   * @example Telling everyone
   * ```ts ignore
   * server.broadcast({ event: "restart", in: 60 }); // text '{"event":"restart","in":60}'
   * ```
   */
  broadcast(chunk: Chunk): void {
    const message = frame(chunk);
    for (const channel of this.#channels) linkOf(channel).send(message);
  }

  /** Answers an upgrade request of a `node:http` server, reporting its pings. */
  readonly #upgrade = (request: IncomingMessage, socket: Duplex, head: Uint8Array): void => {
    let accepted: WsServerChannel | undefined;
    handleUpgrade(request, socket, head, {
      onPing: (payload) => accepted?.emit("ping", Buffer.from(payload)),
      onError: (error) => this.emit("error", error),
    }).then((channel) => {
      if (channel !== undefined) accepted = this.#accept(channel);
    }, (error) => this.emit("error", error));
  };

  /** Takes a new connection: wraps it, emits `connection`, then reads it. */
  #accept(channel: ServerChannel): WsServerChannel | undefined {
    if (this.#state !== "started") {
      channel.close(1001, "Server stopped");
      return undefined;
    }
    const wrapped = new WsServerChannel(channel);
    this.#channels.add(wrapped);
    channel.closed.then(() => this.#channels.delete(wrapped));
    this.emit("connection", wrapped);
    linkOf(wrapped).run();
    return wrapped;
  }
}

/** Answers a plain HTTP request to a listening server: it serves WebSocket only. */
function refuse(_request: IncomingMessage, response: ServerResponse): void {
  response.writeHead(426, { "Content-Type": "text/plain", Upgrade: "websocket" });
  response.end("Upgrade Required: this is a WebSocket server\n");
}

function checkTls(tlsOpt: ServerTlsOptions): ServerTlsOptions {
  const fail = (detail: string) => new TypeError(`Cannot create server: ${detail}`);
  if (typeof tlsOpt !== "object" || tlsOpt === null) throw fail("tlsOpt must be an object");
  for (const name of Object.keys(tlsOpt)) {
    if (name !== "cert" && name !== "key") {
      throw fail(`tlsOpt.${name} is not supported, only cert and key`);
    }
  }
  if (typeof tlsOpt.cert !== "string" || typeof tlsOpt.key !== "string") {
    throw fail("tlsOpt needs cert and key, PEM strings");
  }
  // Checked here: the runtimes' HTTPS servers would refuse them at different times, or never.
  for (
    const [name, parse] of [["cert", () => new X509Certificate(tlsOpt.cert)], [
      "key",
      () => createPrivateKey(tlsOpt.key),
    ]] as const
  ) {
    try {
      parse();
    } catch (cause) {
      throw new TypeError(
        `Cannot create server: tlsOpt.${name} cannot be read: ${
          cause instanceof Error ? cause.message : String(cause)
        }`,
        { cause },
      );
    }
  }
  return { cert: tlsOpt.cert, key: tlsOpt.key };
}

/**
 * Creates a server, as {@linkcode WsServer.createServer}: the module
 * object's `createServer`, for code written as `websocket.createServer()`.
 *
 * @param path The path clients connect to, such as `"/"`.
 * @param saddr A socket address to listen on, or, for UPGRADE mode, a
 * `node:http` or `node:https` server, or a web app.
 * @param tlsOpt A certificate and key, to listen for `wss://`; ignored in UPGRADE mode.
 * @returns The server.
 * @throws {TypeError} When `path`, `saddr` or `tlsOpt` is invalid (a
 * certificate or key that cannot be read included), or another `WsServer`
 * serves `path` on the same HTTP server or web app.
 * @throws {RangeError} When the port is out of range.
 *
 * @example Through the module object
 * ```ts
 * import * as websocket from "@seed/websocket/edgeros";
 * import assert from "node:assert/strict";
 *
 * const server = websocket.createServer("/", websocket.socket.sockaddr("127.0.0.1", 0));
 * assert.ok(server instanceof websocket.WsServer);
 * assert.equal(server.port(), undefined); // not started
 * ```
 */
export function createServer(
  path: string,
  saddr: SockAddr | HttpServer | WebApp,
  tlsOpt?: ServerTlsOptions,
): WsServer {
  return new WsServer(path, saddr, tlsOpt);
}
