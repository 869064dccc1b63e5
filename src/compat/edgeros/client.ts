/**
 * {@linkcode WsClient}: EdgerOS's WebSocket client on the core's
 * {@linkcode connect}.
 *
 * @module
 */

import type { Buffer } from "node:buffer";
import { connect } from "../../connect.ts";
import { ConnectionClosedError, type ConnectionClosedErrorOptions } from "../../errors.ts";
import { encodeClosePayload } from "../../codec/close_code.ts";
import type { MessageInput } from "../../protocol/channel.ts";
import type { CloseInfo } from "../../protocol/connection.ts";
import { Emitter } from "../_events.ts";
import { type Chunk, frame, Link } from "./_link.ts";
import type { SockAddr } from "./socket.ts";
import { checkTarget, resolve, type Target } from "./_target.ts";

/** Options of {@linkcode WsClient.createClient}. */
export interface ClientOptions {
  /**
   * The server's socket address, to connect to instead of resolving the
   * URL's host. `Host` then names this address, not the URL's host (see
   * the module documentation).
   *
   * @default {undefined}
   */
  saddr?: SockAddr;
  /**
   * The address family to resolve the URL's host name to:
   * {@linkcode socket.AF_INET} or {@linkcode socket.AF_INET6}. When given,
   * the name is resolved here and `Host` names the address found; when
   * absent, the runtime resolves it to either family and `Host` keeps the
   * name.
   *
   * @default {undefined}
   */
  domain?: number;
  /**
   * The request path and query, instead of the URL's, such as `"/chat?room=1"`.
   *
   * @default {undefined}
   */
  path?: string;
  /**
   * `true`: `createClient()` returns a promise of the client, resolved
   * once it is connected, and rejected if it cannot connect. `false`: it
   * returns the client at once, which connects in the background.
   *
   * @default {false}
   */
  async?: boolean;
  /**
   * The subprotocols to offer, comma-separated, such as `"chat, superchat"`.
   *
   * @default {undefined}
   */
  protocol?: string;
}

/**
 * TLS options of a client, named as EdgerOS names them. A client
 * certificate (`cert`, `key`, `passwd`), `ipcert` and `renegotiate` are not
 * supported.
 */
export interface ClientTlsOptions {
  /** A CA certificate (PEM) to trust besides the runtime's own. */
  ca?: string;
  /** The name the server's certificate must hold, instead of the URL's host. */
  name?: string;
}

/** The options of a client that connects in the background. */
export type SyncClientOptions = ClientOptions & { async?: false };
/** The options of a client whose connection is awaited. */
export type AsyncClientOptions = ClientOptions & { async: true };

/** The events of a {@linkcode WsClient} and their arguments. */
export interface WsClientEvents {
  /** Connected. */
  open: [];
  /** A message: a string for text, a `Buffer` for binary. */
  message: [msg: string | Buffer];
  /** The connection closed: its close code and reason. */
  close: [code: number, reason: string];
  /** A client connecting in the background could not connect. */
  error: [error: unknown];
}

/** A ping waiting for its pong. */
interface PendingPing {
  timer: ReturnType<typeof setTimeout>;
  callback: ((pongTag: string) => void) | undefined;
}

const DEFAULT_PING_TIMEOUT = 30_000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A WebSocket client, as EdgerOS's `WsClient`.
 *
 * Events: `open` once connected; `message` with a string for a text
 * message or a `Buffer` for a binary one; `close` with the close code and
 * reason once the connection is closed, after its last `message`;
 * `error` with the error when a client that connects in the background
 * cannot connect, just before its `close` (1006). Listeners are added with
 * `on`, `once`, `addListener` or `addEventListener`; an `error` without a
 * listener is dropped.
 *
 * @example A client that connects in the background, as EdgerOS's synchronous example
 * ```ts
 * import { socket, WsClient, WsServer } from "@seed/websocket/edgeros";
 * import assert from "node:assert/strict";
 *
 * const server = WsServer.createServer("/", socket.sockaddr(socket.INADDR_LOOPBACK, 0));
 * server.on("connection", (channel) => channel.on("message", (msg) => channel.send(msg)));
 * server.start();
 * await new Promise((resolve) => server.once("start", resolve));
 *
 * const client = WsClient.createClient(`ws://127.0.0.1:${server.port()}/`);
 * assert.equal(client.send("sent before open"), true); // queued until open
 * const echoed = new Promise((resolve) => client.once("message", resolve));
 * assert.equal(await echoed, "sent before open");
 *
 * const pongTag = await new Promise((resolve) => client.ping(1000, resolve));
 * assert.equal(pongTag, "1");
 * client.close(1000);
 * await new Promise((resolve) => client.once("close", resolve));
 * server.stop();
 * ```
 */
export class WsClient extends Emitter<WsClientEvents> {
  /**
   * Creates a client and connects it to `url`.
   *
   * @param url The server's `ws://` or `wss://` URL.
   * @param options Where to connect, the subprotocols to offer, and whether to wait.
   * @param tlsOpt TLS options; when given, the connection uses TLS even for a `ws://` URL.
   * @returns The client at once, or with `async: true` a promise of it once
   * connected (its `open` event follows in the next task, once the promise's
   * callbacks have run), rejected when it cannot connect.
   * @throws {TypeError} When the URL, an option or `tlsOpt` is invalid.
   * @throws {RangeError} When `saddr.port` is out of range.
   *
   * @example Awaiting the connection, as EdgerOS's asynchronous example
   * ```ts ignore
   * import { WsClient } from "@seed/websocket/edgeros";
   *
   * const client = await WsClient.createClient("ws://127.0.0.1:8000/", { async: true });
   * client.on("open", () => client.send("hello"));
   * ```
   */
  static createClient(
    url: string,
    options: AsyncClientOptions,
    tlsOpt?: ClientTlsOptions,
  ): Promise<WsClient>;
  /**
   * Creates a client that connects to `url` in the background.
   *
   * @param url The server's `ws://` or `wss://` URL.
   * @param options Where to connect and the subprotocols to offer.
   * @param tlsOpt TLS options; when given, the connection uses TLS even for a `ws://` URL.
   * @returns The client, at once.
   * @throws {TypeError} When the URL, an option or `tlsOpt` is invalid.
   * @throws {RangeError} When `saddr.port` is out of range.
   */
  static createClient(
    url: string,
    options?: SyncClientOptions,
    tlsOpt?: ClientTlsOptions,
  ): WsClient;
  /**
   * Creates a client and connects it to `url`.
   *
   * @param url The server's `ws://` or `wss://` URL.
   * @param options Where to connect, the subprotocols to offer, and whether to wait.
   * @param tlsOpt TLS options; when given, the connection uses TLS even for a `ws://` URL.
   * @returns The client, or with `async: true` a promise of it.
   * @throws {TypeError} When the URL, an option or `tlsOpt` is invalid.
   * @throws {RangeError} When `saddr.port` is out of range.
   */
  static createClient(
    url: string,
    options?: ClientOptions,
    tlsOpt?: ClientTlsOptions,
  ): WsClient | Promise<WsClient>;
  static createClient(
    url: string,
    options: ClientOptions = {},
    tlsOpt?: ClientTlsOptions,
  ): WsClient | Promise<WsClient> {
    const client = new WsClient(url, options, tlsOpt);
    return options.async === true ? client.#connected : client;
  }

  #state: "connecting" | "open" | "closed" = "connecting";
  #link: Link | undefined;
  readonly #abort = new AbortController();
  readonly #connected: Promise<WsClient>;
  /** Messages and ping tags given before the connection opened. */
  #queued: MessageInput[] = [];
  #queuedPings: string[] = [];
  readonly #pings = new Map<string, PendingPing>();
  #pingCount = 0;
  /** The tags of the pings sent and not answered yet, oldest first. */
  #sentPings: string[] = [];
  #closeInfo: ConnectionClosedErrorOptions = { closeCode: 1006 };

  /**
   * Creates a client that connects to `url` in the background, as
   * {@linkcode WsClient.createClient} does without `async: true`.
   *
   * @param url The server's `ws://` or `wss://` URL.
   * @param options Where to connect, the subprotocols to offer, and whether
   * `open` waits for the next task (`async: true`).
   * @param tlsOpt TLS options; when given, the connection uses TLS even for a `ws://` URL.
   * @throws {TypeError} When the URL, an option or `tlsOpt` is invalid.
   * @throws {RangeError} When `saddr.port` is out of range.
   */
  constructor(url: string, options: ClientOptions = {}, tlsOpt?: ClientTlsOptions) {
    super();
    const target = checkTarget(url, options, tlsOpt);
    const awaited = options.async === true;
    this.#connected = this.#connect(target, awaited);
    // Awaited clients report failure through the promise only.
    this.#connected.catch(() => {});
  }

  /**
   * Sends a message to the server, without waiting for it to be written;
   * before the connection opens, it is queued and sent once it does. A
   * string is sent as text; a `Buffer` (or another `Uint8Array`, an
   * `ArrayBuffer` or a view) as binary; a number or a boolean as its text
   * (`"42"`, `"true"`); any other object as its JSON text.
   *
   * @param chunk What to send.
   * @returns `true` when it was sent or queued, `false` when the connection is closing or closed.
   * @throws {TypeError} When `chunk` is `null`, `undefined`, a function, a
   * symbol or a bigint, or an object `JSON.stringify` cannot write.
   *
   * @example Sending an object as JSON
   * ```ts ignore
   * client.send({ temperature: 21.5 }); // text '{"temperature":21.5}'
   * ```
   */
  send(chunk: Chunk): boolean {
    const message = frame(chunk);
    if (this.#state === "connecting") {
      this.#queued.push(message);
      return true;
    }
    return this.#link?.send(message) ?? false;
  }

  /**
   * Starts the closing handshake, or gives up connecting; the `close` event
   * follows. Does nothing once closing has started.
   *
   * @param code The close code: 1000, or 3000 to 4999; none when omitted.
   * @param reason The close reason, at most 123 bytes of UTF-8.
   * @throws {RangeError} When the code may not be sent or the reason is too long.
   * @throws {TypeError} When a reason is given without a code.
   *
   * @example Closing normally
   * ```ts ignore
   * client.close(1000, "done");
   * ```
   */
  close(code?: number, reason?: string): void {
    if (this.#state === "connecting") {
      encodeClosePayload(code, reason); // The checks the open connection would make.
      this.#abort.abort(new DOMException("The client was closed while connecting", "AbortError"));
      return;
    }
    if (this.#link?.open) this.#link.close(code, reason);
  }

  /**
   * Sends a ping carrying a tag, and waits for the pong that carries it
   * back: `callback` is then called with the pong's tag. When no pong comes
   * within `timeout`, the connection is closed with 1001. Before the
   * connection opens, the ping is sent once it does; the timeout runs from
   * this call.
   *
   * @param timeout How long to wait for the pong, in milliseconds; 30000 when omitted.
   * @param callback Called with the pong's tag.
   * @returns The ping's tag: `"1"`, `"2"` and so on.
   * @throws {RangeError} When `timeout` is not a number of at least 0.
   * @throws {TypeError} When `callback` is not a function.
   * @throws {ConnectionClosedError} Once the connection is closed (its
   * `close` event emitted). While it is closing, the ping is not answered
   * and the callback is not called.
   *
   * @example Keeping a connection alive
   * ```ts ignore
   * setInterval(() => client.ping(5000, (tag) => console.log(`pong ${tag}`)), 10_000);
   * ```
   */
  ping(timeout: number = DEFAULT_PING_TIMEOUT, callback?: (pongTag: string) => void): string {
    if (typeof timeout !== "number" || !(timeout >= 0)) {
      throw new RangeError(
        `Cannot send ping: timeout must be a number of at least 0, got ${String(timeout)}`,
      );
    }
    if (callback !== undefined && typeof callback !== "function") {
      throw new TypeError(`Cannot send ping: callback must be a function, got ${typeof callback}`);
    }
    if (this.#state === "closed") {
      throw new ConnectionClosedError("Cannot send ping: connection is closed", this.#closeInfo);
    }
    const tag = String(++this.#pingCount);
    const timer = setTimeout(() => {
      this.#pings.delete(tag);
      if (this.#state === "connecting") this.close();
      else if (this.#link?.open) this.#link.close(1001, "Pong timeout");
    }, timeout);
    this.#pings.set(tag, { timer, callback });
    if (this.#state === "open") this.#sendPing(tag);
    else this.#queuedPings.push(tag);
    return tag;
  }

  async #connect(target: Target, awaited: boolean): Promise<WsClient> {
    let link: Link;
    try {
      const url = await resolve(target);
      const channel = await connect(url, {
        ...target.options,
        signal: this.#abort.signal,
        onPong: (payload) => this.#pong(payload),
      });
      link = new Link(channel, (name, ...args) => {
        if (name === "close") this.#closed(link.closeInfo!);
        return this.emit(name, ...args);
      });
    } catch (error) {
      this.#closed({ code: 1006, reason: "", wasClean: false });
      if (!awaited) {
        // Closing while connecting is no error.
        if (!this.#abort.signal.aborted) this.emit("error", error);
        this.emit("close", 1006, "");
      }
      throw error;
    }
    this.#link = link;
    this.#state = "open";
    if (awaited) setTimeout(() => this.#open(link), 0);
    else this.#open(link);
    return this;
  }

  /** Sends what was queued, emits `open`, then reads messages. */
  #open(link: Link): void {
    for (const message of this.#queued.splice(0)) link.send(message);
    for (const tag of this.#queuedPings.splice(0)) this.#sendPing(tag);
    this.emit("open");
    link.run();
  }

  #sendPing(tag: string): void {
    this.#sentPings.push(tag);
    // The pong is matched to its tag in #pong(); a ping that fails, fails with the connection.
    this.#link!.channel.ping(encoder.encode(tag)).catch(() => {});
  }

  /**
   * A pong arrived: it answers the ping with its tag and, as in the core,
   * every ping sent before it; their callbacks get its tag.
   */
  #pong(payload: Uint8Array): void {
    const pongTag = decoder.decode(payload);
    const index = this.#sentPings.indexOf(pongTag);
    if (index < 0) return;
    for (const tag of this.#sentPings.splice(0, index + 1)) {
      const ping = this.#pings.get(tag);
      if (ping === undefined) continue;
      clearTimeout(ping.timer);
      this.#pings.delete(tag);
      try {
        ping.callback?.(pongTag);
      } catch (error) {
        // As a throwing event listener: reported, without stopping the connection.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  /** The connection is over: no ping waits any longer. */
  #closed({ code, reason, wasClean }: CloseInfo): void {
    this.#state = "closed";
    this.#closeInfo = { closeCode: code, reason, wasClean };
    this.#queued = [];
    this.#queuedPings = [];
    this.#sentPings = [];
    for (const { timer } of this.#pings.values()) clearTimeout(timer);
    this.#pings.clear();
  }
}

/**
 * Creates a client whose connection is awaited, as
 * {@linkcode WsClient.createClient}: the module object's `createClient`.
 *
 * @param url The server's `ws://` or `wss://` URL.
 * @param options Where to connect and the subprotocols to offer, with `async: true`.
 * @param tlsOpt TLS options; when given, the connection uses TLS even for a `ws://` URL.
 * @returns A promise of the client once connected, rejected when it cannot connect.
 * @throws {TypeError} When the URL, an option or `tlsOpt` is invalid.
 * @throws {RangeError} When `saddr.port` is out of range.
 *
 * @example Through the module object
 * ```ts
 * import * as websocket from "@seed/websocket/edgeros";
 * import assert from "node:assert/strict";
 *
 * const server = websocket.createServer("/", { addr: "127.0.0.1", port: 0 });
 * server.start();
 * await new Promise((resolve) => server.once("start", resolve));
 * const client = await websocket.createClient(`ws://127.0.0.1:${server.port()}/`, {
 *   async: true,
 * });
 * assert.ok(client instanceof websocket.WsClient);
 * client.close();
 * server.stop();
 * ```
 */
export function createClient(
  url: string,
  options: AsyncClientOptions,
  tlsOpt?: ClientTlsOptions,
): Promise<WsClient>;
/**
 * Creates a client that connects in the background, as
 * {@linkcode WsClient.createClient}: the module object's `createClient`.
 *
 * @param url The server's `ws://` or `wss://` URL.
 * @param options Where to connect and the subprotocols to offer.
 * @param tlsOpt TLS options; when given, the connection uses TLS even for a `ws://` URL.
 * @returns The client, at once.
 * @throws {TypeError} When the URL, an option or `tlsOpt` is invalid.
 * @throws {RangeError} When `saddr.port` is out of range.
 */
export function createClient(
  url: string,
  options?: SyncClientOptions,
  tlsOpt?: ClientTlsOptions,
): WsClient;
/**
 * Creates a client, as {@linkcode WsClient.createClient}: the module object's `createClient`.
 *
 * @param url The server's `ws://` or `wss://` URL.
 * @param options Where to connect, the subprotocols to offer, and whether to wait.
 * @param tlsOpt TLS options; when given, the connection uses TLS even for a `ws://` URL.
 * @returns The client, or with `async: true` a promise of it.
 * @throws {TypeError} When the URL, an option or `tlsOpt` is invalid.
 * @throws {RangeError} When `saddr.port` is out of range.
 */
export function createClient(
  url: string,
  options?: ClientOptions,
  tlsOpt?: ClientTlsOptions,
): WsClient | Promise<WsClient>;
export function createClient(
  url: string,
  options?: ClientOptions,
  tlsOpt?: ClientTlsOptions,
): WsClient | Promise<WsClient> {
  return WsClient.createClient(url, options, tlsOpt);
}
