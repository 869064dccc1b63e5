/**
 * Hop.js's `WebSocket`: the client, and the server side of each connection a
 * `WebSocketServer` accepts, over one {@linkcode Channel} each.
 *
 * @module
 */

import { encodeClosePayload } from "../../codec/close_code.ts";
import { connect } from "../../connect.ts";
import { createUpgradeRequest } from "../../handshake/client.ts";
import type { Channel, MessageInput } from "../../protocol/channel.ts";
import type { Message } from "../../protocol/connection.ts";
import type { NetAddress } from "../../runtime/_transport.ts";
import type { ServerChannel } from "../../_accept.ts";
import { type DomEvents, Emitter } from "../_events.ts";

/** The states of a {@linkcode WebSocket}, as Hop.js names them. */
export type ReadyState = "connecting" | "open" | "closing" | "closed";

/** The event a {@linkcode WebSocket} passes its listeners. */
export interface WebSocketEvent<Data = undefined> {
  /** The event's name: `"open"`, `"message"`, `"error"` or `"close"`. */
  readonly type: string;
  /** The socket that fired it. */
  readonly target: WebSocket;
  /**
   * For `message`, the payload: a string for text, a `Uint8Array` for binary;
   * for `error`, what went wrong; otherwise `undefined`.
   */
  readonly data: Data;
  /** The same as `data`, as in Hop.js. */
  readonly value: Data;
}

/** The event of `onclose`: how the connection ended. */
export interface WebSocketCloseEvent extends WebSocketEvent {
  /** The close code; 1006 when the connection ended without a closing handshake. */
  readonly code: number;
  /** The close reason, `""` when none. */
  readonly reason: string;
  /** Whether the closing handshake completed. */
  readonly wasClean: boolean;
}

/** The object form of {@linkcode WebSocket}'s `option` argument. */
export interface WebSocketOptions {
  /**
   * The subprotocols to offer: a list, or a string that is one subprotocol
   * or several separated by commas, as in a `Sec-WebSocket-Protocol` header.
   *
   * @default {undefined}
   */
  protocol?: string | string[];
}

/**
 * The `option` argument of {@linkcode WebSocket}: a subprotocol, a list of
 * them, or {@linkcode WebSocketOptions}.
 */
export type WebSocketOption = string | string[] | WebSocketOptions;

/** The peer of a server-side {@linkcode WebSocket}, its `socket`. */
export interface RemoteSocket {
  /** The peer's IP address. */
  readonly remoteAddress: string;
  /** The peer's TCP port. */
  readonly remotePort: number;
}

/** The events of a {@linkcode WebSocket}, by name. */
export interface WebSocketEventMap {
  /** The connection opened (a client only). */
  open: WebSocketEvent;
  /** A message arrived. */
  message: WebSocketEvent<string | Uint8Array>;
  /** The connection failed; `close` follows. */
  error: WebSocketEvent<string>;
  /** The connection closed. */
  close: WebSocketCloseEvent;
}

/** A listener of a {@linkcode WebSocket}'s `on*` property. */
export type WebSocketListener<E> = ((this: WebSocket, event: E) => unknown) | null;

// Passed as `option` to build the server side of an accepted connection.
const ACCEPTED = Symbol("accepted");

let acceptChannel: (channel: ServerChannel) => WebSocket;

/**
 * Builds the server-side {@linkcode WebSocket} of an accepted connection. It
 * starts reading in a later microtask, so listeners set by the code that
 * receives it synchronously miss no message.
 *
 * @param channel The accepted connection.
 * @returns Its socket, open.
 */
export function acceptWebSocket(channel: ServerChannel): WebSocket {
  return acceptChannel(channel);
}

/**
 * A WebSocket in Hop.js's manner: `send(msg)`, `close()`, and the `open`,
 * `message`, `error` and `close` events through `onopen`, `onmessage`,
 * `onerror` and `onclose` or `addEventListener` (`this` is the socket). A
 * message's payload is in `event.data`. The URL and subprotocols are checked
 * at once; the connection then opens in the background.
 *
 * A `WebSocketServer` hands its connections out as instances of this class
 * too, with `socket` set to the peer's address; they are open from the start
 * and fire no `open` event.
 *
 * A connection that cannot be opened, or that ends without a closing
 * handshake, fires `error` then `close` with code 1006.
 *
 * @example The client of the Hop.js documentation
 * ```ts ignore
 * import { WebSocket } from "@seed/websocket/hop";
 *
 * const ws = new WebSocket("ws://localhost:8080/hop/serv", ["bar", "foo"]);
 * ws.onopen = function () {
 *   this.send("toto n'est pas content");
 * };
 * ws.onmessage = (event) => console.log("client received [%s]", event.data);
 * ws.onclose = () => console.error("client websocket closed.");
 * ```
 *
 * @example The URL is checked at once
 * ```ts
 * import { WebSocket } from "@seed/websocket/hop";
 * import assert from "node:assert/strict";
 *
 * assert.throws(
 *   () => new WebSocket("ftp://localhost/hop/serv"),
 *   (error) => error instanceof DOMException && error.name === "SyntaxError",
 * );
 * ```
 */
export class WebSocket extends Emitter<DomEvents<WebSocketEventMap>> {
  /** Called once the connection is open. */
  onopen: WebSocketListener<WebSocketEvent> = null;
  /** Called with each message; its payload is in `event.data`. */
  onmessage: WebSocketListener<WebSocketEvent<string | Uint8Array>> = null;
  /** Called when the connection fails, before `onclose`; `event.data` says why. */
  onerror: WebSocketListener<WebSocketEvent<string>> = null;
  /** Called once the connection has closed. */
  onclose: WebSocketListener<WebSocketCloseEvent> = null;

  #url: string;
  #state: ReadyState = "connecting";
  #socket: RemoteSocket | undefined;
  // Aborts the opening handshake when close() comes first.
  readonly #handshake = new AbortController();
  #channel: Channel | undefined;
  #writer: WritableStreamDefaultWriter<MessageInput> | undefined;
  // Settles once everything sent so far has been taken by the channel or refused.
  #sent: Promise<void> = Promise.resolve();

  static {
    acceptChannel = (channel) => {
      const url = new URL(channel.request.url);
      url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
      const socket = new WebSocket(url.href, ACCEPTED as never);
      socket.#socket = remoteSocket(channel.remoteAddress);
      socket.#open(channel);
      return socket;
    };
  }

  /**
   * Checks the URL and subprotocols, and starts connecting.
   *
   * @param uri The `ws:` or `wss:` URL (`http:` and `https:` are mapped to
   * them). A Hop server serves its `WebSocketServer`s under `/hop/`.
   * @param option The subprotocols to offer: one, a list, or `{ protocol }`.
   * @throws {DOMException} A `SyntaxError` when the URL cannot be parsed, has
   * another scheme or a fragment, or a subprotocol is not a token or is offered twice.
   * @throws {TypeError} When `option` is of another type.
   */
  constructor(uri: string | URL, option?: WebSocketOption) {
    super();
    if (option === (ACCEPTED as never)) {
      this.#url = String(uri);
      return;
    }
    const protocols = toProtocols(option);
    // The checks connect() makes, made now so that they throw here.
    this.#url = createUpgradeRequest(uri, { protocols }).url.href;
    connect(this.#url, { protocols, signal: this.#handshake.signal }).then(
      (channel) => {
        if (this.#state === "connecting") {
          this.#open(channel);
          this.emit("open", event("open", this, undefined));
        } else {
          // close() came while the last bytes of the handshake arrived.
          channel.close(1000);
          channel.closed.then(() => this.#finish(ABANDONED));
        }
      },
      (error: unknown) => this.#fail(error),
    );
  }

  /** The URL of the connection, normalized, such as `ws://localhost:8080/hop/serv`. */
  get url(): string {
    return this.#url;
  }

  /** The state: `"connecting"`, `"open"`, `"closing"` or `"closed"`, as in Hop.js. */
  get readyState(): ReadyState {
    return this.#state;
  }

  /** The subprotocol the server chose; `""` before opening or when none. */
  get protocol(): string {
    return this.#channel?.protocol ?? "";
  }

  /**
   * For a socket a `WebSocketServer` accepted, the peer's address (printed
   * as `address:port`); `undefined` for a client.
   */
  get socket(): RemoteSocket | undefined {
    return this.#socket;
  }

  /**
   * Sends a message: a string as text, bytes as binary (copied now), and any
   * other value as its string, as Hop.js does. Once the connection is
   * closing or closed, the message is dropped, as in Hop.js.
   *
   * @param msg The message.
   * @throws {DOMException} An `InvalidStateError` while the connection is opening.
   *
   * @example Sending once open
   * ```ts ignore
   * import { WebSocket } from "@seed/websocket/hop";
   *
   * const ws = new WebSocket("ws://localhost:8080/hop/serv");
   * ws.onopen = () => {
   *   ws.send("hello");
   *   ws.send(new Uint8Array([1, 2, 3]));
   * };
   * ```
   */
  send(msg: string | ArrayBuffer | ArrayBufferView): void {
    if (this.#state === "connecting") {
      throw new DOMException(
        "Cannot send message: the connection is not open yet",
        "InvalidStateError",
      );
    }
    if (this.#state !== "open") return;
    let data: MessageInput;
    if (typeof msg === "string") data = msg;
    else if (ArrayBuffer.isView(msg)) {
      data = new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength).slice();
    } else if (msg instanceof ArrayBuffer) data = new Uint8Array(msg).slice();
    else data = String(msg);
    // A write refused because the connection ended is reported by `close`.
    this.#sent = this.#writer!.write(data).catch(() => {});
  }

  /**
   * Starts the closing handshake once the messages sent before have gone
   * out, or abandons the opening one (which then fires `error` and
   * `close`). Does nothing once closing has started.
   *
   * @param code The close code.
   * @param reason The close reason, at most 123 bytes of UTF-8.
   * @throws {RangeError} When the code may not be sent (such as 1005 or 2000)
   * or the reason is longer than 123 bytes.
   * @throws {TypeError} When the reason is not a string.
   *
   * @example Closing once a message has arrived
   * ```ts ignore
   * import { WebSocket } from "@seed/websocket/hop";
   *
   * const ws = new WebSocket("ws://localhost:8080/hop/serv");
   * ws.onmessage = function () {
   *   this.close();
   * };
   * ws.onclose = (event) => console.log(event.code); // 1000
   * ```
   */
  close(code = 1000, reason = ""): void {
    if (typeof reason !== "string") {
      throw new TypeError(`Cannot close connection: the reason must be a string, got ${reason}`);
    }
    // The single gate for what may be sent, run now so that it throws here.
    encodeClosePayload(code, reason);
    if (this.#state === "closing" || this.#state === "closed") return;
    const connecting = this.#state === "connecting";
    this.#state = "closing";
    if (connecting) {
      this.#handshake.abort(new DOMException("close() was called before opening", "AbortError"));
      return;
    }
    const channel = this.#channel!;
    this.#sent.then(() => channel.close(code, reason));
  }

  /** Starts relaying an open channel's messages and end to the listeners. */
  #open(channel: Channel): void {
    this.#channel = channel;
    this.#writer = channel.writable.getWriter();
    this.#state = "open";
    this.#read(channel);
  }

  async #read(channel: Channel): Promise<void> {
    const reader = channel.readable.getReader();
    try {
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        // After close(), messages still arriving are dropped.
        if (this.#state === "open") {
          const data = toData(value);
          this.emit("message", event("message", this, data));
        }
      }
    } catch {
      // The connection failed; `closed` says how.
    }
    if (this.#state === "open") this.#state = "closing";
    this.#finish(await channel.closed);
  }

  #fail(error: unknown): void {
    this.#state = "closed";
    const reason = error instanceof Error ? error.message : String(error);
    this.emit("error", event("error", this, reason));
    this.#finish(ABANDONED);
  }

  /** The connection has closed: fire `error` if it failed (and has not yet), then `close`. */
  #finish(info: { code: number; reason: string; wasClean: boolean }): void {
    const failedNow = this.#state !== "closed" && !info.wasClean;
    this.#state = "closed";
    if (failedNow) {
      this.emit("error", event("error", this, "the connection ended without a closing handshake"));
    }
    // RFC 6455 §7.1.5: without a close frame received, the close code is 1006.
    const close: WebSocketCloseEvent = {
      ...event("close", this, undefined),
      code: info.wasClean ? info.code : 1006,
      reason: info.wasClean ? info.reason : "",
      wasClean: info.wasClean,
    };
    this.emit("close", close);
  }
}

const ABANDONED = { code: 1006, reason: "", wasClean: false };

function event<Data>(type: string, target: WebSocket, data: Data): WebSocketEvent<Data> {
  return { type, target, data, value: data };
}

/** A message as listeners get it: a runtime's subclass, such as `Buffer`, becomes a `Uint8Array`. */
function toData(message: Message): string | Uint8Array {
  if (typeof message === "string" || message.constructor === Uint8Array) return message;
  return new Uint8Array(message.buffer, message.byteOffset, message.byteLength);
}

/** Reads the `option` argument as Hop.js does: a protocol, a list, or `{ protocol }`. */
function toProtocols(option: unknown): string[] {
  if (option === undefined || option === null) return [];
  if (typeof option === "string") return splitProtocols(option);
  if (Array.isArray(option)) return option.map(String);
  if (typeof option === "object") {
    const { protocol } = option as { protocol?: unknown };
    return protocol === undefined ? [] : toProtocols(protocol);
  }
  throw new TypeError(
    `Cannot create WebSocket: option must be a string, an array or an object, got ${typeof option}`,
  );
}

/** A `Sec-WebSocket-Protocol` value: subprotocols separated by commas. */
function splitProtocols(value: string): string[] {
  return value.split(",").map((protocol) => protocol.trim()).filter((protocol) => protocol !== "");
}

/** The peer's address, printed as `address:port` by `console.log` and `String()`. */
function remoteSocket(address: NetAddress): RemoteSocket {
  const remoteAddress = address.transport === "tcp" ? address.hostname : address.path;
  const remotePort = address.transport === "tcp" ? address.port : 0;
  const text = remoteAddress.includes(":")
    ? `[${remoteAddress}]:${remotePort}`
    : `${remoteAddress}:${remotePort}`;
  const socket = { remoteAddress, remotePort };
  const print = { value: () => text };
  return Object.defineProperties(socket, {
    toString: print,
    [Symbol.for("nodejs.util.inspect.custom")]: print,
    [Symbol.for("Deno.customInspect")]: print,
  });
}
