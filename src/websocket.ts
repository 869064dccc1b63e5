/**
 * {@linkcode WebSocket}: the browser's `WebSocket` class of the WHATWG
 * WebSockets standard (https://websockets.spec.whatwg.org/#the-websocket-interface)
 * over {@linkcode connect}, so that code written for browsers runs on Deno,
 * Bun and Node unchanged.
 *
 * It only translates the channel into the standard's states, events and
 * data types. Differences from the standard:
 *
 * - The constructor takes a third argument, {@linkcode connect}'s options
 *   (headers, origin, TLS, timeouts, limits). A relative URL is refused:
 *   there is no base URL.
 * - `bufferedAmount` counts the bytes that `send()` queued and the socket has
 *   not yet taken, rather than those not yet on the network; an
 *   `ArrayBufferView` counts its own bytes, not its whole buffer's. There is
 *   no send buffer limit, so the connection is never closed for being full.
 * - Events are dispatched as the channel reports them, from promise
 *   callbacks rather than tasks of their own.
 * - Where the runtime has no `CloseEvent` (Node before 23), `close` events
 *   are of a small class with the standard shape.
 *
 * @module
 */

import { CLOSE_CODE } from "./codec/close_code.ts";
import { type ClientChannel, connect, type ConnectOptions } from "./connect.ts";
import { createUpgradeRequest } from "./handshake/client.ts";
import type { MessageInput } from "./protocol/channel.ts";
import type { CloseInfo, Message } from "./protocol/connection.ts";
import { checkCloseArguments, utf8Length } from "./_close_arguments.ts";

/** Options of {@linkcode WebSocket}, its third argument: {@linkcode connect}'s. */
export type WebSocketOptions = Omit<ConnectOptions, "protocols" | "signal">;

/** The events of a {@linkcode WebSocket}, by name. */
export interface WebSocketEventMap {
  /** The connection opened. */
  open: Event;
  /** A message arrived; `data` is a string, a `Blob` or an `ArrayBuffer`. */
  message: MessageEvent;
  /** The connection failed; a `close` event follows. */
  error: Event;
  /** The connection closed. */
  close: CloseEvent;
}

// Any of the handlers above: an event of every type is assignable to `never`.
type AnyEventHandler = (this: WebSocket, event: never) => unknown;

interface HandlerSlot {
  handler: AnyEventHandler;
  listener: (event: Event) => void;
}

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/** A `CloseEvent` of the standard shape, for runtimes that have none. */
class FallbackCloseEvent extends Event {
  readonly #code: number;
  readonly #reason: string;
  readonly #wasClean: boolean;

  constructor(type: string, init: CloseEventInit = {}) {
    super(type, init);
    this.#code = init.code ?? 0;
    this.#reason = init.reason ?? "";
    this.#wasClean = init.wasClean ?? false;
  }

  get code(): number {
    return this.#code;
  }

  get reason(): string {
    return this.#reason;
  }

  get wasClean(): boolean {
    return this.#wasClean;
  }
}

const CloseEventClass: typeof CloseEvent =
  (globalThis as { CloseEvent?: typeof CloseEvent }).CloseEvent ??
    (FallbackCloseEvent as unknown as typeof CloseEvent);

/**
 * A WebSocket client with the browser's API: `send()`, `close()`, and
 * `open`, `message`, `error` and `close` events, through `onxxx` properties
 * or `addEventListener`. The URL and subprotocols are checked at once, then
 * the connection opens in the background.
 *
 * Binary messages arrive as a `Blob`, or as an `ArrayBuffer` once
 * `binaryType` is `"arraybuffer"`, each a copy of its own. A connection that
 * fails, before or after opening, fires `error` then `close` with code 1006.
 *
 * @example An echo round trip
 * ```ts ignore
 * import { WebSocket } from "@seed/websocket";
 *
 * const socket = new WebSocket("ws://127.0.0.1:8080", ["echo"]);
 * socket.binaryType = "arraybuffer";
 * socket.onopen = () => socket.send("hello");
 * socket.onmessage = (event) => {
 *   console.log(event.data);
 *   socket.close(1000, "done");
 * };
 * socket.onclose = (event) => console.log(event.code, event.reason, event.wasClean);
 * ```
 *
 * @example The URL is checked at once
 * ```ts
 * import { WebSocket } from "@seed/websocket";
 * import assert from "node:assert/strict";
 *
 * assert.throws(
 *   () => new WebSocket("ws://example.com/#top"),
 *   (error) => error instanceof DOMException && error.name === "SyntaxError",
 * );
 * assert.equal(WebSocket.OPEN, 1);
 * ```
 */
export class WebSocket extends EventTarget {
  /** The connection has not opened yet (0). */
  declare static readonly CONNECTING: 0;
  /** The connection is open (1). */
  declare static readonly OPEN: 1;
  /** The closing handshake has started (2). */
  declare static readonly CLOSING: 2;
  /** The connection has closed or could not be opened (3). */
  declare static readonly CLOSED: 3;
  /** The connection has not opened yet (0). */
  declare readonly CONNECTING: 0;
  /** The connection is open (1). */
  declare readonly OPEN: 1;
  /** The closing handshake has started (2). */
  declare readonly CLOSING: 2;
  /** The connection has closed or could not be opened (3). */
  declare readonly CLOSED: 3;

  readonly #url: string;
  readonly #origin: string;
  #readyState: number = CONNECTING;
  #protocol = "";
  #extensions = "";
  #binaryType: "blob" | "arraybuffer" = "blob";
  #bufferedAmount = 0;
  // Aborts connect() when close() is called before the connection opens.
  readonly #handshake = new AbortController();
  #channel: ClientChannel | undefined;
  #writer: WritableStreamDefaultWriter<MessageInput> | undefined;
  // While a Blob is read, later messages wait behind it to keep their order.
  #queued: Promise<void> | undefined;
  // Settles once everything sent so far has been taken by the socket.
  #sent: Promise<void> = Promise.resolve();
  readonly #handlers = new Map<string, HandlerSlot>();

  /**
   * Constructs a new instance and starts connecting.
   *
   * @param url The `ws:` or `wss:` URL (`http:` and `https:` are mapped to them).
   * @param protocols The subprotocols to offer, most preferred first.
   * @param options {@linkcode connect}'s options: headers, origin, TLS, timeouts, limits.
   * @throws {DOMException} A `SyntaxError` when the URL cannot be parsed, has
   * another scheme or a fragment, or a subprotocol is not a token or is offered twice.
   * @throws {TypeError} When `origin` or `headers` is not a valid header.
   */
  constructor(
    url: string | URL,
    protocols: string | string[] = [],
    options: WebSocketOptions = {},
  ) {
    super();
    // The same checks connect() makes, made now so that they throw here.
    const request = createUpgradeRequest(url, {
      protocols,
      ...(options.origin === undefined ? {} : { origin: options.origin }),
      ...(options.headers === undefined ? {} : { headers: options.headers }),
    });
    this.#url = request.url.href;
    this.#origin = request.url.origin;
    this.#run({ ...options, protocols, signal: this.#handshake.signal });
  }

  /** The URL connected to, normalized, such as `ws://example.com/`. */
  get url(): string {
    return this.#url;
  }

  /** The state: {@linkcode WebSocket.CONNECTING}, `OPEN`, `CLOSING` or `CLOSED`. */
  get readyState(): number {
    return this.#readyState;
  }

  /** The subprotocol the server chose; `""` before opening or when none. */
  get protocol(): string {
    return this.#protocol;
  }

  /** The extensions the server accepted; `""` before opening or when none. */
  get extensions(): string {
    return this.#extensions;
  }

  /**
   * How binary messages are delivered: `"blob"` or `"arraybuffer"`. Setting
   * another value does nothing, as in browsers.
   *
   * @default {"blob"}
   */
  get binaryType(): "blob" | "arraybuffer" {
    return this.#binaryType;
  }

  set binaryType(value: "blob" | "arraybuffer") {
    if (value === "blob" || value === "arraybuffer") this.#binaryType = value;
  }

  /**
   * The bytes of the messages `send()` queued that the socket has not taken
   * yet: UTF-8 text and binary data, without framing. After the connection
   * starts closing, every `send()` adds to it and nothing is sent.
   */
  get bufferedAmount(): number {
    return this.#bufferedAmount;
  }

  /** Called when the connection opens. */
  get onopen(): ((this: WebSocket, event: Event) => unknown) | null {
    return this.#getHandler("open");
  }

  set onopen(handler: ((this: WebSocket, event: Event) => unknown) | null) {
    this.#setHandler("open", handler);
  }

  /** Called with each message. */
  get onmessage(): ((this: WebSocket, event: MessageEvent) => unknown) | null {
    return this.#getHandler("message") as
      | ((this: WebSocket, event: MessageEvent) => unknown)
      | null;
  }

  set onmessage(handler: ((this: WebSocket, event: MessageEvent) => unknown) | null) {
    this.#setHandler("message", handler);
  }

  /** Called when the connection fails, before `onclose`. */
  get onerror(): ((this: WebSocket, event: Event) => unknown) | null {
    return this.#getHandler("error");
  }

  set onerror(handler: ((this: WebSocket, event: Event) => unknown) | null) {
    this.#setHandler("error", handler);
  }

  /** Called when the connection has closed. */
  get onclose(): ((this: WebSocket, event: CloseEvent) => unknown) | null {
    return this.#getHandler("close");
  }

  set onclose(handler: ((this: WebSocket, event: CloseEvent) => unknown) | null) {
    this.#setHandler("close", handler);
  }

  /**
   * Sends a message: a string as text; a `Blob`, an `ArrayBuffer` or a view
   * as binary, copied now. Any other value is sent as its string, as
   * browsers do. Once the connection is closing, the message is dropped and
   * only counted in `bufferedAmount`.
   *
   * @param data The message.
   * @throws {DOMException} An `InvalidStateError` while the connection is opening.
   *
   * @example Sending text and bytes once open
   * ```ts ignore
   * import { WebSocket } from "@seed/websocket";
   *
   * const socket = new WebSocket("ws://127.0.0.1:8080");
   * socket.onopen = () => {
   *   socket.send("hello");
   *   socket.send(new Uint8Array([1, 2, 3]));
   *   console.log(socket.bufferedAmount); // 8
   * };
   * ```
   */
  send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
    if (this.#readyState === CONNECTING) {
      throw new DOMException(
        "Cannot send message: the connection is not open yet",
        "InvalidStateError",
      );
    }
    let message: MessageInput | Blob;
    let size: number;
    if (data instanceof Blob) {
      message = data;
      size = data.size;
    } else if (ArrayBuffer.isView(data)) {
      message = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
      size = data.byteLength;
    } else if (isArrayBufferLike(data)) {
      message = new Uint8Array(data).slice();
      size = data.byteLength;
    } else {
      message = String(data);
      size = utf8Length(message);
    }
    this.#bufferedAmount += size;
    if (this.#readyState === OPEN) this.#enqueue(message, size);
  }

  /**
   * Starts the closing handshake, or abandons the opening one (which then
   * fires `error` and `close`). Messages already sent go out before the
   * close frame. Does nothing once closing has started.
   *
   * @param code The close code, 1000 or 3000-4999; a reason without a code sends 1000.
   * @param reason The close reason, at most 123 bytes of UTF-8.
   * @throws {DOMException} An `InvalidAccessError` when the code is not 1000
   * or in 3000-4999, a `SyntaxError` when the reason is over 123 bytes.
   *
   * @example Closing with a code and a reason
   * ```ts ignore
   * import { WebSocket } from "@seed/websocket";
   *
   * const socket = new WebSocket("ws://127.0.0.1:8080");
   * socket.onopen = () => socket.close(4000, "done");
   * socket.onclose = (event) => console.log(event.code, event.wasClean);
   * ```
   */
  close(code?: number, reason?: string): void {
    const checked = checkCloseArguments(code, reason, "clamp", "close connection");
    if (this.#readyState === CLOSING || this.#readyState === CLOSED) return;
    if (this.#readyState === CONNECTING) {
      this.#readyState = CLOSING;
      this.#handshake.abort(
        new DOMException("close() was called before the connection opened", "AbortError"),
      );
      return;
    }
    this.#readyState = CLOSING;
    const channel = this.#channel!;
    // The close frame goes after the messages sent before it (WHATWG note on close()).
    this.#flush().then(() => channel.close(checked.code, checked.reason));
  }

  /**
   * Adds a listener, typed by event name.
   *
   * @param type The event name.
   * @param listener The listener.
   * @param options Listener options.
   */
  override addEventListener<K extends keyof WebSocketEventMap>(
    type: K,
    listener: (this: WebSocket, event: WebSocketEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  /**
   * Adds a listener.
   *
   * @param type The event name.
   * @param listener The listener.
   * @param options Listener options.
   */
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    super.addEventListener(type, listener, options);
  }

  /**
   * Removes a listener, typed by event name.
   *
   * @param type The event name.
   * @param listener The listener.
   * @param options Listener options.
   */
  override removeEventListener<K extends keyof WebSocketEventMap>(
    type: K,
    listener: (this: WebSocket, event: WebSocketEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  /**
   * Removes a listener.
   *
   * @param type The event name.
   * @param listener The listener.
   * @param options Listener options.
   */
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void {
    super.removeEventListener(type, listener, options);
  }

  async #run(options: ConnectOptions): Promise<void> {
    let channel: ClientChannel;
    try {
      channel = await connect(this.#url, options);
    } catch {
      this.#finish({ code: CLOSE_CODE.AbnormalClosure, reason: "", wasClean: false });
      return;
    }
    if (this.#readyState !== CONNECTING) {
      // close() came while the last bytes of the handshake arrived.
      channel.close(CLOSE_CODE.GoingAway);
      await channel.closed;
      this.#finish({ code: CLOSE_CODE.AbnormalClosure, reason: "", wasClean: false });
      return;
    }
    this.#channel = channel;
    this.#writer = channel.writable.getWriter();
    this.#protocol = channel.protocol;
    this.#extensions = channel.extensions;
    this.#readyState = OPEN;
    this.dispatchEvent(new Event("open"));
    const reader = channel.readable.getReader();
    try {
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        // After close(), messages still arriving are dropped.
        if (this.#readyState === OPEN) this.#dispatchMessage(value);
      }
    } catch {
      // The connection failed; `closed` says how.
    }
    if (this.#readyState === OPEN) this.#readyState = CLOSING;
    this.#finish(await channel.closed);
  }

  #dispatchMessage(message: Message): void {
    let data: string | Blob | ArrayBuffer;
    if (typeof message === "string") {
      data = message;
    } else if (this.#binaryType === "blob") {
      // Blob copies the bytes; a channel's message is never in shared memory.
      data = new Blob([message as Uint8Array<ArrayBuffer>]);
    } else {
      // The message may be a view into a larger buffer: the event gets a buffer of its own.
      data = message.slice().buffer;
    }
    this.dispatchEvent(new MessageEvent("message", { data, origin: this.#origin }));
  }

  /** The connection has closed: fire `error` if it failed, then `close`. */
  #finish(info: CloseInfo): void {
    this.#readyState = CLOSED;
    if (!info.wasClean) this.dispatchEvent(new Event("error"));
    // RFC 6455 §7.1.5: without a close frame received, the close code is 1006.
    this.dispatchEvent(
      new CloseEventClass("close", {
        code: info.wasClean ? info.code : CLOSE_CODE.AbnormalClosure,
        reason: info.wasClean ? info.reason : "",
        wasClean: info.wasClean,
      }),
    );
  }

  /** Writes a message in its turn; `bufferedAmount` drops once the socket has taken it. */
  #enqueue(message: MessageInput | Blob, size: number): void {
    const writer = this.#writer!;
    const write = (data: MessageInput): Promise<void> =>
      writer.write(data).then(() => {
        this.#bufferedAmount -= size;
      }, () => {
        // Refused because the connection closed: it stays counted, as the standard says.
      });
    if (this.#queued === undefined && !(message instanceof Blob)) {
      this.#sent = write(message);
      return;
    }
    const queued: Promise<void> = (this.#queued ?? Promise.resolve()).then(async () => {
      try {
        const data = message instanceof Blob
          ? new Uint8Array(await message.arrayBuffer())
          : message;
        this.#sent = write(data);
      } catch {
        // A Blob that cannot be read is not sent.
      }
    });
    this.#queued = queued;
    queued.then(() => {
      if (this.#queued === queued) this.#queued = undefined;
    });
  }

  /** Settles once every message sent so far has been taken by the socket or refused. */
  async #flush(): Promise<void> {
    await this.#queued;
    await this.#sent;
  }

  #getHandler<K extends keyof WebSocketEventMap>(
    type: K,
  ): ((this: WebSocket, event: WebSocketEventMap[K]) => unknown) | null {
    const handler = this.#handlers.get(type)?.handler;
    return handler === undefined
      ? null
      : handler as (this: WebSocket, event: WebSocketEventMap[K]) => unknown;
  }

  /**
   * An `onxxx` handler is one listener, added when first set and kept in its
   * place while replaced, removed when set to something not callable.
   */
  #setHandler(type: keyof WebSocketEventMap, handler: unknown): void {
    const slot = this.#handlers.get(type);
    if (typeof handler !== "function") {
      if (slot !== undefined) {
        super.removeEventListener(type, slot.listener);
        this.#handlers.delete(type);
      }
      return;
    }
    if (slot !== undefined) {
      slot.handler = handler as AnyEventHandler;
      return;
    }
    const created: HandlerSlot = {
      handler: handler as AnyEventHandler,
      listener: (event) => {
        (created.handler as (this: WebSocket, event: Event) => unknown).call(this, event);
      },
    };
    this.#handlers.set(type, created);
    super.addEventListener(type, created.listener);
  }
}

// The state constants are data properties of both the class and its prototype.
for (const target of [WebSocket, WebSocket.prototype]) {
  Object.defineProperties(target, {
    CONNECTING: { value: CONNECTING, enumerable: true },
    OPEN: { value: OPEN, enumerable: true },
    CLOSING: { value: CLOSING, enumerable: true },
    CLOSED: { value: CLOSED, enumerable: true },
  });
}

function isArrayBufferLike(value: unknown): value is ArrayBufferLike {
  return value instanceof ArrayBuffer ||
    (typeof SharedArrayBuffer === "function" && value instanceof SharedArrayBuffer);
}
