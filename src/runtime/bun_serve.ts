/**
 * The `Bun.serve` upgrade hook: {@linkcode upgrade}, called from the server's
 * `fetch` handler, checks the request and calls `server.upgrade`, and the
 * `websocket` handlers Bun then calls (`open`, `message`, `drain`, `pong`,
 * `close`) feed each connection's {@linkcode ServerChannel}. Pass
 * {@linkcode websocket}, or one made by {@linkcode createWebsocketHandler},
 * as the `websocket` option of `Bun.serve`.
 *
 * Bun parses frames and runs the protocol itself, so the channel carries
 * Bun's behaviour where ours would differ: Bun answers pings on its own,
 * pings idle connections, and reports a close it starts (our `close()`, or a
 * message over the limit) as soon as its close frame is queued, without
 * waiting for the peer's answer.
 *
 * Only the slice of Bun's API used here is declared, locally, so the module
 * type-checks without Bun's global types.
 *
 * @module
 */

import { toMessage } from "../_bytes.ts";
import type { ServerChannel, UpgradeInfo } from "../_accept.ts";
import { encodeClosePayload } from "../codec/close_code.ts";
import { DEFAULT_MAX_MESSAGE_SIZE } from "../codec/frame.ts";
import { ConnectionClosedError, HandshakeError } from "../errors.ts";
import { checkOptions } from "../_serve_options.ts";
import { checkUpgradeRequest } from "../handshake/server.ts";
import type { MessageInput } from "../protocol/channel.ts";
import {
  NATIVE_TOPICS,
  type NativeTopics,
  type PublishedMessage,
  QUEUE_PUBLISHED,
  QUEUED_BYTES,
} from "../protocol/_publish_target.ts";
import type { CloseInfo, Message } from "../protocol/connection.ts";
import { ReadableFailure } from "../protocol/_readable_failure.ts";
import type { NetAddress } from "./_transport.ts";
import {
  checkCompressionOptions,
  type CompressionOptions,
  DEFAULT_COMPRESSION_THRESHOLD,
} from "../extensions/permessage_deflate.ts";
import { bunDeflateAnswer, type BunPerMessageDeflate } from "./_bun_deflate.ts";

export type { ServerChannel, UpgradeInfo } from "../_accept.ts";
export type { Channel, MessageInput } from "../protocol/channel.ts";
export type { CloseInfo, Message } from "../protocol/connection.ts";
export type { NetAddress } from "./_transport.ts";
export type { CompressionOptions } from "../extensions/permessage_deflate.ts";
export type { BunPerMessageDeflate } from "./_bun_deflate.ts";

/** The slice of Bun's `ServerWebSocket` the handlers use. */
export interface BunServerWebSocket {
  /** What `server.upgrade` was given as `data`. */
  readonly data: unknown;
  /** How binary messages arrive; set to `"uint8array"` on `open`. */
  binaryType: "nodebuffer" | "arraybuffer" | "uint8array" | undefined;
  /**
   * Returns the bytes sent, -1 when queued under backpressure, 0 when
   * dropped; `compress` compresses it when permessage-deflate was agreed.
   */
  send(data: string | Uint8Array, compress?: boolean): number;
  /** Sends a ping; returns as `send` does. */
  ping(data: Uint8Array): number;
  /** Sends a pong; returns as `send` does. */
  pong(data: Uint8Array): number;
  /** Sends a close frame; Bun calls the `close` handler before returning. */
  close(code?: number, reason?: string): void;
  /** Closes the socket without a closing handshake. */
  terminate(): void;
  /** Stops reading the socket. */
  pause(): void;
  /** Reads the socket again. */
  resume(): void;
  /** Returns the bytes waiting in Bun's send buffer. */
  getBufferedAmount(): number;
  /** Subscribes the socket to a topic of its server. */
  subscribe(topic: string): void;
  /** Unsubscribes the socket from a topic. */
  unsubscribe(topic: string): void;
  /** Sends to every subscriber of the topic but this socket. */
  publish(topic: string, data: string | Uint8Array): number;
}

/** The slice of Bun's `Server`, the `fetch` handler's second argument, that {@linkcode upgrade} uses. */
export interface BunServer {
  /** Upgrades the request once `fetch` returns; `false` when it cannot. */
  upgrade(request: Request, options: { headers: Headers; data: unknown }): boolean;
  /** Returns the client's address. */
  requestIP(request: Request): { address: string; port: number } | null;
}

/** Options of {@linkcode createWebsocketHandler}, for every connection of one server. */
export interface WebsocketHandlerOptions {
  /**
   * The largest message accepted, in bytes: Bun's `maxPayloadLength`. Bun
   * closes a connection that receives more with 1009 and reports it as 1006.
   *
   * @default {67108864}
   */
  maxMessageSize?: number;
  /**
   * Seconds without traffic before Bun closes a connection; Bun pings idle
   * connections before that. 0 never closes them.
   *
   * @default {120}
   */
  idleTimeout?: number;
  /**
   * Whether Bun accepts permessage-deflate when a client offers it: `true`,
   * or an object of which Bun honors `threshold` and `shouldCompress` (per
   * message), and `serverNoContextTakeover` and `clientNoContextTakeover`
   * (Bun's shared compressor and decompressor, without context takeover and
   * with little memory per connection; `true` uses them both). Window
   * sizes and zlib levels are Bun's own: they are refused, use mode raw.
   *
   * @default {false}
   */
  compression?: boolean | CompressionOptions;
}

/** The `websocket` option of `Bun.serve`: limits and the handlers Bun calls. */
export interface WebsocketHandler {
  /** The largest message accepted, in bytes. */
  readonly maxPayloadLength: number;
  /** Seconds without traffic before Bun closes a connection. */
  readonly idleTimeout: number;
  /** Whether and how Bun negotiates permessage-deflate. */
  readonly perMessageDeflate: BunPerMessageDeflate;
  /** Hands the new channel to `onConnection`. */
  open(ws: BunServerWebSocket): void;
  /** Queues a message in the channel's `readable`. */
  message(ws: BunServerWebSocket, message: string | Uint8Array): void;
  /** Resolves the write waiting for Bun's send buffer to empty. */
  drain(ws: BunServerWebSocket): void;
  /** Reports the ping to `onPing`; Bun has answered it. */
  ping(ws: BunServerWebSocket, data: Uint8Array): void;
  /** Resolves the pings the pong answers, and reports it to `onPong`. */
  pong(ws: BunServerWebSocket, data: Uint8Array): void;
  /** Settles `closed`. */
  close(ws: BunServerWebSocket, code: number, reason: string): void;
}

/** Options of {@linkcode upgrade}, for one request. */
export interface BunUpgradeOptions {
  /** Receives the connection once Bun has opened it; what it throws or rejects with goes to `onError`. */
  onConnection(channel: ServerChannel): void | Promise<void>;
  /**
   * Picks the subprotocol from those the client offered, in its order;
   * `undefined` accepts none. A protocol the client did not offer is a TypeError.
   */
  selectProtocol?: (offered: string[], request: Request) => string | undefined;
  /**
   * Decides on the request before it is accepted: return nothing to accept
   * it, or a `Response` to refuse it with. `info.remoteAddress` is Bun's
   * `server.requestIP()`.
   */
  onUpgrade?: (
    request: Request,
    info: UpgradeInfo,
  ) => Response | undefined | void | Promise<Response | undefined | void>;
  /** Extra headers for the 101 response, given to `server.upgrade`; not `Sec-WebSocket-Protocol`. */
  headers?: HeadersInit;
  /**
   * Receives errors thrown by `onConnection` or the hooks.
   *
   * @default {console.error}
   */
  onError?: (error: unknown) => void;
  /**
   * How many bytes of received messages may wait in `readable` before Bun's
   * socket is paused (`ws.pause()`) until they are read.
   *
   * @default {1048576}
   */
  readableHighWaterMark?: number;
  /** Called with the payload of each ping received, and its connection; Bun sends the pong by itself. */
  onPing?: (payload: Uint8Array, channel: ServerChannel) => void;
  /** Called with the payload of each pong received, solicited or not, and its connection. */
  onPong?: (payload: Uint8Array, channel: ServerChannel) => void;
  /**
   * Milliseconds `closed` waits for Bun to report the close `close()`
   * started before the socket is terminated. Bun reports it at once and shuts
   * the socket down by itself, so this is only a bound.
   *
   * @default {5000}
   */
  closeTimeout?: number;
}

/**
 * Makes the `websocket` option of `Bun.serve` with the given limits. The
 * limits apply to the whole server, since Bun takes them there and not per
 * connection; {@linkcode websocket} is one with the defaults.
 *
 * @param options The message size limit and the idle timeout.
 * @returns The handler object to pass to `Bun.serve`.
 *
 * @example Limiting messages to 1 MiB
 * ```ts ignore
 * import { createWebsocketHandler, upgrade } from "@seed/websocket/bun";
 *
 * Bun.serve({
 *   websocket: createWebsocketHandler({ maxMessageSize: 1024 * 1024 }),
 *   fetch: (request, server) =>
 *     upgrade(request, server, { onConnection: (channel) => channel.close(1000) }),
 * });
 * ```
 */
export function createWebsocketHandler(options: WebsocketHandlerOptions = {}): WebsocketHandler {
  const compression = checkBunCompression(options.compression);
  const perMessageDeflate = compression === undefined ? false : toPerMessageDeflate(compression);
  return {
    maxPayloadLength: options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE,
    idleTimeout: options.idleTimeout ?? 120,
    perMessageDeflate,
    open(ws) {
      // A socket some other code upgraded: nobody would handle it.
      if (!(ws.data instanceof BunChannel)) {
        ws.close(1011);
        return;
      }
      ws.binaryType = "uint8array";
      ws.data.open(ws, compression, perMessageDeflate);
    },
    message: (ws, message) => channelOf(ws)?.receive(message),
    drain: (ws) => channelOf(ws)?.drain(),
    ping: (ws, data) => channelOf(ws)?.receivePing(data),
    pong: (ws, data) => channelOf(ws)?.receivePong(data),
    close: (ws, code, reason) => channelOf(ws)?.end(code, reason),
  };
}

/** The `websocket` option of `Bun.serve` with the default limits of {@linkcode createWebsocketHandler}. */
export const websocket: WebsocketHandler = createWebsocketHandler();

/**
 * Answers an upgrade request in a `Bun.serve` `fetch` handler: checks it
 * (a bad one gets {@linkcode HandshakeError}'s status), runs
 * `selectProtocol` and `onUpgrade`, then calls `server.upgrade`; Bun opens
 * the connection and `onConnection` receives it. Return the result from
 * `fetch`: `undefined` once upgraded, as Bun requires, or the refusal. A
 * throwing hook gets a bare 500 and `onError`.
 *
 * Messages are read only as fast as `readable` is: Bun's socket is paused
 * (`ws.pause()`) while `readableHighWaterMark` bytes wait unread. A write
 * resolves once Bun has sent the message, or, when it had to queue it, once
 * its send buffer is empty again (`drain`).
 *
 * @param request The request `fetch` received.
 * @param server The server `fetch` received.
 * @param options The connection handler, the hooks, extra headers and limits.
 * @returns `undefined` when upgraded, otherwise the response refusing the request.
 *
 * @example An echo server
 * ```ts ignore
 * import { upgrade, websocket } from "@seed/websocket/bun";
 *
 * Bun.serve({
 *   port: 8080,
 *   websocket,
 *   fetch: (request, server) =>
 *     upgrade(request, server, {
 *       onConnection: (channel) => channel.readable.pipeTo(channel.writable),
 *     }),
 * });
 * ```
 */
export async function upgrade(
  request: Request,
  server: BunServer,
  options: BunUpgradeOptions,
): Promise<Response | undefined> {
  const onError = options.onError ?? ((error: unknown) => console.error(error));
  try {
    checkOptions(options, "bun", "upgrade request", PER_SERVER_OPTIONS);
    const { protocol } = checkUpgradeRequest(request, {
      selectProtocol: (offered) => options.selectProtocol?.(offered, request),
    });
    const ip = server.requestIP(request);
    const info: UpgradeInfo = {
      remoteAddress: { transport: "tcp", hostname: ip?.address ?? "", port: ip?.port ?? 0 },
    };
    const refusal = await options.onUpgrade?.(request, info);
    if (refusal instanceof Response) return refusal;
    const headers = new Headers(options.headers);
    if (headers.has("sec-websocket-protocol")) {
      throw new TypeError("Cannot upgrade request: headers may not set Sec-WebSocket-Protocol");
    }
    // Without the header Bun would accept the client's first offer; empty, Bun sends none.
    headers.set("Sec-WebSocket-Protocol", protocol);
    const data = new BunChannel(request, info, protocol, options, onError);
    if (server.upgrade(request, { headers, data })) return undefined;
    throw new Error("Cannot upgrade request: Bun's server.upgrade refused it");
  } catch (error) {
    if (error instanceof HandshakeError) return error.toResponse();
    onError(error);
    return new Response(null, { status: 500 });
  }
}

/** Options Bun takes per server, for {@linkcode createWebsocketHandler}, not per request. */
const PER_SERVER_OPTIONS = {
  maxMessageSize: "Bun takes it per server: give it to createWebsocketHandler",
  idleTimeout: "Bun takes it per server: give it to createWebsocketHandler",
  compression: "Bun takes it per server: give it to createWebsocketHandler",
};

/** Checks the `compression` option for Bun, refusing what Bun cannot honor. */
function checkBunCompression(
  option: boolean | CompressionOptions | undefined,
): CompressionOptions | undefined {
  const compression = checkCompressionOptions(option, "create websocket handler");
  if (compression === undefined) return undefined;
  const bunOwn = [
    "serverMaxWindowBits",
    "clientMaxWindowBits",
    "level",
    "memLevel",
    "compressorIdleTimeout",
  ] as const;
  for (const name of bunOwn) {
    if (compression[name] !== undefined) {
      throw new TypeError(
        `Cannot create websocket handler: option compression.${name} is not supported by ` +
          "Bun.serve (mode native): Bun sizes its compressors itself; use mode raw",
      );
    }
  }
  return compression;
}

function toPerMessageDeflate(compression: CompressionOptions): BunPerMessageDeflate {
  // Bun's shared contexts are its light default: both without context takeover.
  if (
    compression.serverNoContextTakeover === undefined &&
    compression.clientNoContextTakeover === undefined
  ) {
    return true;
  }
  return {
    compress: compression.serverNoContextTakeover === false ? "dedicated" : "shared",
    decompress: compression.clientNoContextTakeover === false ? "dedicated" : "shared",
  };
}

function channelOf(ws: BunServerWebSocket): BunChannel | undefined {
  return ws.data instanceof BunChannel ? ws.data : undefined;
}

interface PendingPing {
  payload: Uint8Array;
  sent: number;
  resolve(roundTrip: number): void;
  reject(error: unknown): void;
}

/** One connection: `ws.data` from `server.upgrade` on, its {@linkcode ServerChannel} from `open` on. */
class BunChannel implements ServerChannel {
  readonly readable: ReadableStream<Message>;
  readonly writable: WritableStream<MessageInput>;
  extensions = "";
  readonly closed: Promise<CloseInfo>;
  readonly request: Request;
  readonly remoteAddress: NetAddress;
  readonly protocol: string;

  #ws!: BunServerWebSocket;
  readonly #options: BunUpgradeOptions;
  readonly #onError: (error: unknown) => void;
  readonly #closeTimeout: number;
  #readController!: ReadableStreamDefaultController<Message>;
  #readableOpen = true;
  #paused = false;
  #closing = false;
  #info: CloseInfo | undefined;
  #resolveClosed!: (info: CloseInfo) => void;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  #write: { resolve(): void; reject(error: unknown): void } | undefined;
  #pings: PendingPing[] = [];
  #pingCount = 0;
  #compression: CompressionOptions | undefined;
  #latency: number | undefined;
  readonly #readableFailure: ReadableFailure;

  constructor(
    request: Request,
    info: UpgradeInfo,
    protocol: string,
    options: BunUpgradeOptions,
    onError: (error: unknown) => void,
  ) {
    this.request = request;
    this.remoteAddress = info.remoteAddress;
    this.protocol = protocol;
    this.#options = options;
    this.#onError = onError;
    this.#closeTimeout = options.closeTimeout ?? 5000;
    if (!(this.#closeTimeout >= 0)) {
      throw new RangeError(
        `Cannot upgrade request: closeTimeout must be at least 0, got ${this.#closeTimeout}`,
      );
    }
    this.closed = new Promise((resolve) => this.#resolveClosed = resolve);
    const highWaterMark = options.readableHighWaterMark ?? 1024 * 1024;
    this.#readableFailure = new ReadableFailure(() => this.#readController, highWaterMark);
    this.readable = new ReadableStream<Message>({
      start: (controller) => {
        this.#readController = controller;
      },
      pull: () => {
        if (!this.#readableFailure.pull()) this.#resume();
      },
      cancel: () => {
        this.#readableOpen = false;
        this.close(1000);
      },
    }, {
      highWaterMark,
      size: (message) => typeof message === "string" ? message.length : message.byteLength,
    });
    this.writable = new WritableStream<MessageInput>({
      start: (controller) => {
        // abort() waits for the write in flight; closing settles that write.
        controller.signal.addEventListener("abort", () => this.close(1000), { once: true });
      },
      write: (message) => this.#send(message),
      close: async () => {
        this.close(1000);
        await this.closed;
      },
    });
  }

  close(code?: number, reason = ""): void {
    encodeClosePayload(code, reason);
    if (this.#closing || this.#info !== undefined) return;
    this.#closing = true;
    // A paused socket would not read the peer's answer.
    this.#resume();
    this.#closeTimer = setTimeout(() => {
      this.#ws.terminate();
      this.end(1006, "");
    }, this.#closeTimeout);
    this.#ws.close(code, reason);
  }

  ping(payload?: Uint8Array): Promise<number> {
    const data = payload ?? new Uint8Array(new Uint32Array([++this.#pingCount]).buffer);
    return new Promise((resolve, reject) => {
      if (data.byteLength > 125) {
        throw new RangeError(`Cannot send ping: payload is ${data.byteLength} bytes, limit is 125`);
      }
      if (this.#closing || this.#info !== undefined) throw this.#closedError("send ping");
      this.#checkSent(this.#ws.ping(data), data.byteLength, "send ping");
      this.#pings.push({ payload: data.slice(), sent: performance.now(), resolve, reject });
    });
  }

  open(
    ws: BunServerWebSocket,
    compression: CompressionOptions | undefined,
    perMessageDeflate: BunPerMessageDeflate,
  ): void {
    this.#ws = ws;
    // Bun does not tell what it answered: the same negotiation, redone.
    this.extensions = bunDeflateAnswer(this.request, perMessageDeflate);
    if (this.extensions !== "") this.#compression = compression;
    try {
      Promise.resolve(this.#options.onConnection(this)).catch(this.#onError);
    } catch (error) {
      this.#onError(error);
    }
  }

  /** Sends a published message with Bun's `send`, which queues it under backpressure. */
  [QUEUE_PUBLISHED]({ message }: PublishedMessage): void {
    if (this.#closing || this.#info !== undefined) return;
    this.#ws.send(message);
  }

  /** The bytes waiting in Bun's send buffer. */
  get [QUEUED_BYTES](): number {
    return this.#info === undefined ? this.#ws.getBufferedAmount() : 0;
  }

  /** Bun's own topics, which its server publishes to in native code. */
  get [NATIVE_TOPICS](): NativeTopics {
    return {
      subscribe: (topic) => this.#info === undefined && this.#ws.subscribe(topic),
      unsubscribe: (topic) => this.#info === undefined && this.#ws.unsubscribe(topic),
      publishToOthers: (topic, message) => this.#ws.publish(topic, message),
    };
  }

  receive(message: string | Uint8Array): void {
    if (!this.#readableOpen) return;
    // A plain view, not Bun's Buffer subclass, whatever binaryType gave.
    this.#readController.enqueue(typeof message === "string" ? message : plainBytes(message));
    if (!this.#paused && !this.#closing && (this.#readController.desiredSize ?? 0) <= 0) {
      this.#paused = true;
      this.#ws.pause();
    }
  }

  drain(): void {
    // Bun calls drain as its send buffer shrinks; the write waits until it is empty.
    if (this.#ws.getBufferedAmount() > 0) return;
    this.#write?.resolve();
    this.#write = undefined;
  }

  pong(payload: Uint8Array = new Uint8Array(0)): void {
    if (payload.byteLength > 125) {
      throw new RangeError(
        `Cannot send pong: payload is ${payload.byteLength} bytes, limit is 125`,
      );
    }
    if (this.#closing || this.#info !== undefined) throw this.#closedError("send pong");
    this.#checkSent(this.#ws.pong(payload), payload.byteLength, "send pong");
  }

  receivePing(data: Uint8Array): void {
    this.#options.onPing?.(plainBytes(data), this);
  }

  receivePong(data: Uint8Array): void {
    this.#options.onPong?.(plainBytes(data), this);
    const index = this.#pings.findIndex((ping) => equalBytes(ping.payload, data));
    if (index < 0) return;
    // A pong acknowledges its ping and every ping sent before it.
    const now = performance.now();
    this.#latency = now - this.#pings[index]!.sent;
    for (const ping of this.#pings.splice(0, index + 1)) ping.resolve(now - ping.sent);
  }

  /** The round trip of the last of our pings answered; Bun's own idle pings are not seen. */
  get latency(): number | undefined {
    return this.#latency;
  }

  end(code: number, reason: string): void {
    if (this.#info !== undefined) return;
    clearTimeout(this.#closeTimer);
    const info = { code, reason, wasClean: code !== 1006 };
    this.#info = info;
    this.#write?.reject(this.#closedError("send message"));
    this.#write = undefined;
    for (const ping of this.#pings.splice(0)) ping.reject(this.#closedError("receive pong"));
    if (this.#readableOpen) {
      this.#readableOpen = false;
      if (info.wasClean) this.#readController.close();
      // The messages received before the failure are read first.
      else this.#readableFailure.fail(this.#closedError("receive message"));
    }
    this.#resolveClosed(info);
  }

  #send(message: MessageInput): Promise<void> | undefined {
    // Bun sends any Uint8Array as it is; only an ArrayBuffer or another view is wrapped.
    const data = toMessage(message, "send message");
    if (this.#closing || this.#info !== undefined) throw this.#closedError("send message");
    const length = typeof data === "string" ? data.length : data.byteLength;
    const compression = this.#compression;
    const status = compression === undefined ? this.#ws.send(data) : this.#ws.send(
      data,
      length >= (compression.threshold ?? DEFAULT_COMPRESSION_THRESHOLD) &&
        (compression.shouldCompress?.(data) ?? true),
    );
    if (status !== -1) return this.#checkSent(status, length, "send message");
    return new Promise((resolve, reject) => this.#write = { resolve, reject });
  }

  /** Bun returns 0 for a dropped message, and for an empty one it sent. */
  #checkSent(status: number, length: number, what: string): undefined {
    if (status !== 0 || length === 0) return;
    this.#ws.terminate();
    this.end(1006, "");
    throw this.#closedError(what);
  }

  #closedError(what: string): ConnectionClosedError {
    const { code, reason, wasClean } = this.#info ?? { code: 1006, reason: "", wasClean: false };
    const state = this.#info === undefined ? "closing" : "closed";
    return new ConnectionClosedError(`Cannot ${what}: connection is ${state}`, {
      closeCode: code,
      reason,
      wasClean,
    });
  }

  #resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#ws.resume();
  }
}

/**
 * A received message as a plain `Uint8Array`, not Bun's `Buffer` subclass.
 * Bun gives a plain one already for `binaryType` "uint8array"; reading the
 * `buffer` of a small one makes JavaScriptCore move its bytes into a new
 * `ArrayBuffer`, so that case passes through.
 */
function plainBytes(message: Uint8Array): Uint8Array {
  return message.constructor === Uint8Array
    ? message
    : new Uint8Array(message.buffer, message.byteOffset, message.byteLength);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
