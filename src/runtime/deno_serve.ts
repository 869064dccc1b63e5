/**
 * The `Deno.serve` upgrade hook: {@linkcode upgrade} checks a request with
 * our handshake rules, hands it to `Deno.upgradeWebSocket`, and wraps the
 * `WebSocket` Deno returns as a {@linkcode ServerChannel}. Deno runs the
 * frames, pings and closing handshake; this module moves whole messages.
 *
 * What Deno's `WebSocket` cannot do, and what is done instead:
 *
 * - It cannot be paused. Received messages wait in `readable`; when
 *   `readableHighWaterMark` bytes wait unread and another message arrives,
 *   the connection closes with 1008, so at most that much plus one message
 *   is held.
 * - It takes no message size limit. `maxMessageSize` is checked on each
 *   message received (text in UTF-8 bytes); one over it closes with 1009.
 * - It has no ping API. `ping()` rejects and `pong()` throws; Deno pings by
 *   itself every `idleTimeout` seconds and answers pings unseen.
 * - It reports send pressure only as `bufferedAmount`. A write resolves once
 *   that is under 1 MiB, checked every 5 ms while it is over.
 * - A server that closes and then receives a message drops the connection
 *   at once: a peer still sending may see 1006 instead of the close code,
 *   and `closed` reports 1006 (or the code of the failure: 1008, 1009).
 *
 * Only the slice of Deno's API used here is declared, locally, so the module
 * type-checks without Deno's global types.
 *
 * @module
 */

import { encodeClosePayload } from "../codec/close_code.ts";
import { DEFAULT_MAX_MESSAGE_SIZE } from "../codec/frame.ts";
import { ConnectionClosedError, HandshakeError } from "../errors.ts";
import { hasToken } from "../handshake/_header_values.ts";
import { checkOptions } from "../_serve_options.ts";
import { checkUpgradeRequest } from "../handshake/server.ts";
import type { CloseInfo, Message } from "../protocol/connection.ts";
import type { Channel, MessageInput } from "../protocol/channel.ts";
import {
  type PublishedMessage,
  QUEUE_PUBLISHED,
  QUEUED_BYTES,
} from "../protocol/_publish_target.ts";
import { ReadableFailure } from "../protocol/_readable_failure.ts";
import type { ServerChannel, UpgradeInfo, UpgradeOptions } from "../_accept.ts";
import { utf8Length } from "../_close_arguments.ts";
import type { NetAddress } from "./_transport.ts";

export type { ServerChannel, UpgradeInfo, UpgradeOptions } from "../_accept.ts";
export type { FrameParserOptions, Role } from "../codec/frame.ts";
export type {
  LimitError,
  LimitErrorOptions,
  ProtocolError,
  ProtocolErrorOptions,
} from "../errors.ts";
export type { Channel, ChannelOptions, MessageInput } from "../protocol/channel.ts";
export type { CloseInfo, ConnectionOptions, Message } from "../protocol/connection.ts";
export type { NetAddress } from "./_transport.ts";
export type { CompressorCallback, MessageCompressor } from "../protocol/compressor.ts";
export type { CompressionOptions } from "../extensions/permessage_deflate.ts";

// The slice of Deno's API this module uses.
interface DenoWebSocket {
  binaryType: "arraybuffer" | "blob";
  readonly bufferedAmount: number;
  readonly readyState: number;
  readonly extensions: string;
  send(data: string | ArrayBuffer | ArrayBufferView): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: "open" | "error", listener: () => void): void;
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
  addEventListener(type: "close", listener: (event: CloseInfo) => void): void;
}
interface DenoNamespace {
  upgradeWebSocket(
    request: Request,
    options: { protocol?: string; idleTimeout?: number },
  ): { socket: DenoWebSocket; response: Response };
}

/** What `Deno.serve` passes its handler beside the request, reduced to what is used here. */
export interface DenoServeInfo {
  /** The peer's address: a host and port, or a Unix domain socket path. */
  readonly remoteAddr: { hostname: string; port: number } | { path: string | null };
}

/**
 * Options of {@linkcode upgrade}. The frame-level limits of
 * {@linkcode UpgradeOptions} are left out: Deno parses the frames.
 */
export interface DenoUpgradeOptions
  extends Omit<UpgradeOptions, "maxFrameSize" | "maxFragments" | "fragmentSize"> {
  /**
   * The second argument of the `Deno.serve` handler, for the peer's address.
   * Without it, `remoteAddress` is `{ transport: "tcp", hostname: "", port: 0 }`.
   */
  info?: DenoServeInfo;
  /**
   * Deno's `idleTimeout`, in seconds: Deno pings the client this often and
   * closes the connection when no pong comes back in time; `0` turns it off.
   *
   * @default {30}
   */
  idleTimeout?: number;
}

/** The answer to a request: the `Response` to return, and the channel when one was opened. */
export interface DenoUpgrade {
  /** The response for the `Deno.serve` handler to return, a 101 or a refusal. */
  response: Response;
  /** The new connection; `undefined` when the request was refused or answered by `fetch`. */
  channel: ServerChannel | undefined;
}

const DEFAULT_CLOSE_TIMEOUT = 5000;
const DEFAULT_READABLE_HIGH_WATER_MARK = 1024 * 1024;
/** A write resolves once Deno's `bufferedAmount` is below this many bytes. */
const WRITE_BUFFER_LIMIT = 1024 * 1024;
/** How often, in milliseconds, `bufferedAmount` is checked while it is over the limit. */
const WRITE_POLL_INTERVAL = 5;

/** The limits a channel keeps itself, since Deno's `WebSocket` takes none. */
type Limits = Required<Pick<UpgradeOptions, keyof typeof LIMITS>>;
const LIMITS = {
  maxMessageSize: DEFAULT_MAX_MESSAGE_SIZE,
  closeTimeout: DEFAULT_CLOSE_TIMEOUT,
  readableHighWaterMark: DEFAULT_READABLE_HIGH_WATER_MARK,
};
const OPEN = 1;
const UNKNOWN_ADDRESS: NetAddress = { transport: "tcp", hostname: "", port: 0 };
// Set by the handshake, or not allowed on a 101 (RFC 9110 §8.6, §6.1).
const RESERVED_HEADERS = new Set(["upgrade", "connection", "content-length", "transfer-encoding"]);

/**
 * Answers a request given to a `Deno.serve` handler. A valid upgrade request
 * is checked as {@linkcode checkUpgradeRequest} does, then `selectProtocol`
 * and `onUpgrade` run, then `Deno.upgradeWebSocket` makes the 101. A bad
 * request gets its {@linkcode HandshakeError} status, `onUpgrade`'s `Response`
 * refuses, a request that is not an upgrade goes to `fetch` when given, and
 * a hook that throws gets a bare 500 and `onError`: nothing throws.
 *
 * Of the options, `headers` go on the 101 and `closeTimeout` bounds how
 * long `closed` waits for Deno's close event after `close()`; the module
 * documentation tells how the limits are kept.
 *
 * @param request The request from `Deno.serve`.
 * @param options The hooks, the peer's address, and the channel's limits.
 * @returns The response to return, and the new channel when the request was accepted.
 *
 * @example Serving WebSocket from a Deno.serve handler
 * ```ts ignore
 * import { upgrade } from "@seed/websocket/deno";
 *
 * Deno.serve(async (request, info) => {
 *   const { response, channel } = await upgrade(request, { info });
 *   channel?.readable.pipeTo(channel.writable).catch(() => {}); // echo
 *   return response;
 * });
 * ```
 */
export async function upgrade(
  request: Request,
  options: DenoUpgradeOptions = {},
): Promise<DenoUpgrade> {
  // Deno's remoteAddr cannot be read once the request is upgraded.
  const remoteAddress = options.info === undefined
    ? UNKNOWN_ADDRESS
    : toNetAddress(options.info.remoteAddr);
  const info: UpgradeInfo = { remoteAddress };
  try {
    checkOptions(options, "deno", "upgrade request");
    if (options.fetch !== undefined && !hasToken(request.headers.get("upgrade"), "websocket")) {
      return { response: await options.fetch(request, info), channel: undefined };
    }
    const { protocol } = checkUpgradeRequest(request, {
      selectProtocol: (offered) => options.selectProtocol?.(offered, request),
    });
    const refusal = await options.onUpgrade?.(request, info);
    if (refusal instanceof Response) return { response: refusal, channel: undefined };
    const headers = new Headers(options.headers);
    for (const name of headers.keys()) {
      if (RESERVED_HEADERS.has(name) || name.startsWith("sec-websocket-")) {
        throw new TypeError(`Cannot upgrade request: header ${name} is reserved by the handshake`);
      }
    }
    const limits: Limits = { ...LIMITS };
    for (const name of Object.keys(LIMITS) as (keyof Limits)[]) {
      const value = options[name] ?? LIMITS[name];
      if (!(value >= 0)) {
        throw new RangeError(`Cannot upgrade request: ${name} is ${value}, it must be at least 0`);
      }
      limits[name] = value;
    }
    const Deno = (globalThis as { Deno?: DenoNamespace }).Deno;
    if (Deno === undefined) throw new Error("Cannot upgrade request: the Deno adapter needs Deno");
    // Deno checks a protocol against the offer split at ", " only, and so
    // refuses one from a client that lists them as "a,b" (as ws does): the
    // protocol, already checked against the offer, goes on the 101 here.
    const { socket, response } = Deno.upgradeWebSocket(request, {
      ...(options.idleTimeout === undefined ? {} : { idleTimeout: options.idleTimeout }),
    });
    if (protocol !== "") response.headers.set("Sec-WebSocket-Protocol", protocol);
    for (const [name, value] of headers) response.headers.append(name, value);
    const channel = new DenoChannel(socket, protocol, limits);
    return { response, channel: Object.assign(channel, { request, remoteAddress }) };
  } catch (error) {
    // A bad request gets its status, a failing hook a bare 500: its detail is reported, not sent.
    if (error instanceof HandshakeError && error.status >= 200) {
      return { response: error.toResponse(), channel: undefined };
    }
    (options.onError ?? console.error)(error);
    return { response: new Response("Internal Server Error", { status: 500 }), channel: undefined };
  }
}

class DenoChannel implements Channel {
  readonly readable: ReadableStream<Message>;
  readonly writable: WritableStream<MessageInput>;
  readonly protocol: string;
  readonly closed: Promise<CloseInfo>;
  /** Always `undefined`: Deno's WebSocket reports no pongs, its own pings' neither. */
  readonly latency: number | undefined = undefined;

  readonly #socket: DenoWebSocket;
  readonly #opened: Promise<void>;
  readonly #limits: Limits;
  #readable!: ReadableStreamDefaultController<Message>;
  #readableOpen = true;
  /** Whether a read waits, for a high-water mark of 0. */
  #readWanted = false;
  /** The close code and reason we sent, once we closed. */
  #closing: CloseInfo | undefined;
  /** How the connection failed, when a limit failed it. */
  #failure: CloseInfo | undefined;
  #info: CloseInfo | undefined;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  #resolveClosed!: (info: CloseInfo) => void;
  readonly #readableFailure: ReadableFailure;

  constructor(socket: DenoWebSocket, protocol: string, limits: Limits) {
    this.#socket = socket;
    this.protocol = protocol;
    this.#limits = limits;
    socket.binaryType = "arraybuffer";
    this.closed = new Promise((resolve) => this.#resolveClosed = resolve);
    this.#opened = new Promise((resolve) => {
      socket.addEventListener("open", () => resolve());
      this.closed.then(() => resolve());
    });
    socket.addEventListener("message", ({ data }) => this.#receive(data));
    socket.addEventListener("close", (event) => this.#finish(event));
    socket.addEventListener("error", () => this.#finish());
    this.#readableFailure = new ReadableFailure(
      () => this.#readable,
      limits.readableHighWaterMark,
    );
    this.readable = new ReadableStream<Message>({
      start: (controller) => {
        this.#readable = controller;
      },
      pull: () => {
        if (!this.#readableFailure.pull()) this.#readWanted = true;
      },
      cancel: () => {
        this.#readableOpen = false;
        this.close(1000);
      },
    }, {
      highWaterMark: limits.readableHighWaterMark,
      size: (message) => typeof message === "string" ? message.length : message.byteLength,
    });
    this.writable = new WritableStream<MessageInput>({
      start: () => this.#opened,
      write: (message) => this.#send(message),
      close: async () => {
        this.close(1000);
        await this.closed;
      },
      abort: () => this.close(1000),
    });
  }

  get extensions(): string {
    return this.#socket.extensions;
  }

  close(code?: number, reason = ""): void {
    encodeClosePayload(code, reason); // the checks Channel.close documents
    if (this.#closing !== undefined || this.#info !== undefined) return;
    this.#closing = { code: code ?? 1005, reason, wasClean: false };
    // Deno's socket cannot close before the 101 has gone out.
    this.#opened.then(() => this.#socket.close(code, reason));
    this.#closeTimer = setTimeout(() => this.#finish(), this.#limits.closeTimeout);
  }

  /** Sends a published message: Deno encodes each send itself, so nothing is shared. */
  [QUEUE_PUBLISHED]({ message }: PublishedMessage): void {
    if (this.#closing !== undefined || this.#info !== undefined) return;
    // A socket whose 101 has not gone out yet cannot send: the message follows the open.
    if (this.#socket.readyState === OPEN) this.#socket.send(message);
    else this.#opened.then(() => this.#socket.readyState === OPEN && this.#socket.send(message));
  }

  /** The bytes Deno has queued but not yet sent. */
  get [QUEUED_BYTES](): number {
    return this.#socket.bufferedAmount;
  }

  ping(): Promise<number> {
    return Promise.reject(
      new Error("Cannot send ping: Deno's WebSocket has no ping API, use idleTimeout"),
    );
  }

  pong(): void {
    throw new Error("Cannot send pong: Deno's WebSocket has no pong API");
  }

  #receive(data: unknown): void {
    if (!this.#readableOpen) return;
    const { maxMessageSize } = this.#limits;
    const message = typeof data === "string" ? data : new Uint8Array(data as ArrayBuffer);
    const size = typeof message === "string" ? textSize(message, maxMessageSize) : message.length;
    if (size > maxMessageSize) {
      this.#fail(1009, `Cannot receive message: it is over ${maxMessageSize} bytes`);
    } else if ((this.#readable.desiredSize ?? 0) <= 0 && !this.#readWanted) {
      // Deno cannot be asked to stop reading: a consumer this far behind fails the connection.
      this.#fail(1008, "Cannot receive message: too many messages wait unread");
    } else {
      this.#readWanted = false;
      this.#readable.enqueue(message);
    }
  }

  #send(message: MessageInput): Promise<void> | void {
    if (
      typeof message !== "string" && !(message instanceof ArrayBuffer) &&
      !ArrayBuffer.isView(message)
    ) {
      throw new TypeError(
        `Cannot send message: expected a string, an ArrayBuffer or a view, got ${typeof message}`,
      );
    }
    if (this.#socket.readyState !== OPEN) throw this.#closedError("send message");
    this.#socket.send(message);
    if (this.#socket.bufferedAmount < WRITE_BUFFER_LIMIT) return;
    return new Promise((resolve, reject) => {
      const poll = (): void => {
        // Deno reports 0 once the socket is no longer open: what was queued may not go out.
        if (this.#socket.readyState !== OPEN) reject(this.#closedError("send message"));
        else if (this.#socket.bufferedAmount < WRITE_BUFFER_LIMIT) resolve();
        else setTimeout(poll, WRITE_POLL_INTERVAL);
      };
      setTimeout(poll, WRITE_POLL_INTERVAL);
    });
  }

  /** Fails the connection as a protocol violation would: closes with `code`, ends `readable`. */
  #fail(code: number, reason: string): void {
    // Once we are closing, the message is dropped: the connection ends anyway.
    if (this.#closing !== undefined) return;
    this.#failure = { code, reason, wasClean: false };
    this.close(code, reason);
    this.#endReadable();
  }

  /** Settles everything once Deno reports the end, or the close timeout passes (1006). */
  #finish(event?: CloseInfo): void {
    if (this.#info !== undefined) return;
    const { code, reason, wasClean } = event ?? { code: 0, reason: "", wasClean: false };
    // Deno reports a connection it dropped with code 0.
    this.#info = this.#failure ??
      (code === 0 ? { code: 1006, reason: "", wasClean: false } : { code, reason, wasClean });
    clearTimeout(this.#closeTimer);
    this.#endReadable();
    this.#resolveClosed(this.#info);
  }

  #endReadable(): void {
    if (!this.#readableOpen) return;
    this.#readableOpen = false;
    if (this.#info?.wasClean) this.#readable.close();
    // The messages received before the failure are read first.
    else this.#readableFailure.fail(this.#closedError("receive message"));
  }

  #closedError(what: string): ConnectionClosedError {
    const info = this.#info ?? this.#failure ?? this.#closing;
    return new ConnectionClosedError(`Cannot ${what}: connection is closed`, {
      closeCode: info?.code ?? 1006,
      reason: info?.reason ?? "",
      wasClean: info?.wasClean ?? false,
    });
  }
}

/** A text message's size in UTF-8, counted only when its length leaves it in doubt. */
function textSize(text: string, limit: number): number {
  // Each UTF-16 unit is 1 to 3 bytes of UTF-8.
  if (text.length > limit || text.length * 3 <= limit) return text.length;
  return utf8Length(text);
}

function toNetAddress(address: DenoServeInfo["remoteAddr"]): NetAddress {
  if ("path" in address) return { transport: "unix", path: address.path ?? "" };
  return { transport: "tcp", hostname: address.hostname, port: address.port };
}
