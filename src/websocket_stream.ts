/**
 * {@linkcode WebSocketStream}: the streams-based WebSocket client of the
 * WHATWG WebSockets standard (https://websockets.spec.whatwg.org/), and its
 * error class {@linkcode WebSocketError}, over {@linkcode connect}.
 *
 * It only translates: the opening handshake, framing, backpressure and the
 * closing handshake are the channel's. Differences from the standard:
 *
 * - The options also take those of {@linkcode connect} (headers, origin, TLS,
 *   timeouts, limits). A relative URL is refused: there is no base URL.
 * - A write of a value that is neither a string nor bytes rejects with a
 *   `TypeError` instead of being converted to a string.
 * - An unclean close reports close code 1006, as RFC 6455 §7.1.5 says for a
 *   connection that ended without a close frame received; the close code
 *   and reason the channel gave (such as 1002 after a protocol error) are in
 *   the error's message.
 * - {@linkcode WebSocketError} also takes a `cause`, which the errors made
 *   here carry: the error that kept the connection from opening.
 *
 * @module
 */

import { checkCloseArguments } from "./_close_arguments.ts";
import { CLOSE_CODE } from "./codec/close_code.ts";
import { type ClientChannel, connect, type ConnectOptions } from "./connect.ts";
import { ConnectionClosedError } from "./errors.ts";
import { createUpgradeRequest } from "./handshake/client.ts";
import type { MessageInput } from "./protocol/channel.ts";
import type { CloseInfo, Message } from "./protocol/connection.ts";

/** Options of {@linkcode WebSocketStream}: the standard two, then {@linkcode connect}'s. */
export interface WebSocketStreamOptions extends Omit<ConnectOptions, "protocols" | "signal"> {
  /**
   * The subprotocols to offer, most preferred first.
   *
   * @default {[]}
   */
  protocols?: string[];
  /** Aborts the opening handshake; once the connection is open it has no effect. */
  signal?: AbortSignal;
}

/** What {@linkcode WebSocketStream.opened} resolves to. */
export interface WebSocketOpenInfo {
  /** The messages received: a string for text, a `Uint8Array` of its own for binary. */
  readable: ReadableStream<string | Uint8Array>;
  /** Sends messages: a string as text, an `ArrayBuffer` or a view as binary. */
  writable: WritableStream<MessageInput>;
  /** The subprotocol the server chose, or `""`. */
  protocol: string;
  /** The extensions the server accepted, or `""`. */
  extensions: string;
}

/** A close code and reason, given to {@linkcode WebSocketStream.close} and reported by `closed`. */
export interface WebSocketCloseInfo {
  /** The close code: 1000 or 3000-4999 when sending. */
  closeCode?: number;
  /**
   * The close reason, at most 123 bytes of UTF-8.
   *
   * @default {""}
   */
  reason?: string;
}

/** Options of {@linkcode WebSocketError}: the close code and reason, and the cause. */
export interface WebSocketErrorOptions extends WebSocketCloseInfo {
  /** What caused the error. */
  cause?: unknown;
}

// Makes a WebSocketError without checking the code, for codes such as 1006
// that are reported but may not be sent; set by the class's static block.
let uncheckedWebSocketError: (
  message: string,
  closeCode: number,
  reason: string,
  cause?: unknown,
) => WebSocketError;

/**
 * A `DOMException` named `"WebSocketError"` that tells how a connection
 * ended. {@linkcode WebSocketStream} rejects `opened` and `closed` with it;
 * passed to `writer.abort()` or `reader.cancel()`, its close code and reason
 * are the ones the connection closes with.
 *
 * @example Closing with a code through the writable
 * ```ts ignore
 * import { WebSocketError, WebSocketStream } from "@seed/websocket";
 *
 * const wss = new WebSocketStream("ws://127.0.0.1:8080");
 * const { writable } = await wss.opened;
 * await writable.abort(new WebSocketError("done", { closeCode: 4000, reason: "bye" }));
 * ```
 *
 * @example A reason without a code means 1000
 * ```ts
 * import { WebSocketError } from "@seed/websocket";
 * import assert from "node:assert/strict";
 *
 * const error = new WebSocketError("going", { reason: "bye" });
 * assert.equal(error.name, "WebSocketError");
 * assert.equal(error.closeCode, 1000);
 * assert.equal(error.reason, "bye");
 * assert.ok(error instanceof DOMException);
 * assert.throws(
 *   () => new WebSocketError("", { closeCode: 1001 }),
 *   (error) => error instanceof DOMException && error.name === "InvalidAccessError",
 * );
 * ```
 */
export class WebSocketError extends DOMException {
  #closeCode: number | null;
  #reason: string;

  static {
    uncheckedWebSocketError = (message, closeCode, reason, cause) => {
      const error = new WebSocketError(message, cause === undefined ? {} : { cause });
      error.#closeCode = closeCode;
      error.#reason = reason;
      return error;
    };
  }

  /**
   * Constructs a new instance. A reason without a code sets the code to 1000.
   *
   * @param message What happened.
   * @param options The close code (1000 or 3000-4999), the reason and the cause.
   * @throws {TypeError} When the close code is not a whole number from 0 to 65535.
   * @throws {DOMException} An `InvalidAccessError` when the close code is not
   * 1000 or in 3000-4999, a `SyntaxError` when the reason is over 123 bytes.
   */
  constructor(message = "", options: WebSocketErrorOptions = {}) {
    const { code, reason } = checkCloseArguments(
      options.closeCode,
      options.reason,
      "enforce-range",
      "create WebSocketError",
    );
    super(message, "WebSocketError");
    this.#closeCode = code ?? null;
    this.#reason = reason;
    if ("cause" in options) {
      Object.defineProperty(this, "cause", {
        value: options.cause,
        writable: true,
        configurable: true,
      });
    }
  }

  /** The close code, or `null` when there is none. */
  get closeCode(): number | null {
    return this.#closeCode;
  }

  /** The close reason, or `""`. */
  get reason(): string {
    return this.#reason;
  }
}

type State = "connecting" | "open" | "closing" | "closed";

/**
 * A WebSocket client whose messages are streams, as browsers and Deno offer
 * it: `opened` gives a readable of the messages received and a writable to
 * send with, `closed` tells how the connection ended, and `close()` starts
 * the closing handshake.
 *
 * The readable is read from the socket only as fast as it is consumed, and
 * a write resolves once its bytes were handed to the socket, so
 * `writer.ready` waits while the peer does not keep up. Cancelling the
 * readable or aborting the writable with a {@linkcode WebSocketError} closes
 * with its code and reason; closing the writable closes without a code.
 *
 * @example An echo round trip
 * ```ts ignore
 * import { WebSocketStream } from "@seed/websocket";
 *
 * const wss = new WebSocketStream("ws://127.0.0.1:8080", { protocols: ["echo"] });
 * const { readable, writable, protocol } = await wss.opened;
 * const writer = writable.getWriter();
 * await writer.write("hello");
 * const { value } = await readable.getReader().read();
 * console.log(protocol, value);
 * wss.close({ closeCode: 1000, reason: "done" });
 * console.log(await wss.closed); // { closeCode: 1000, reason: "done" }
 * ```
 *
 * @example The URL and subprotocols are checked at once
 * ```ts
 * import { WebSocketStream } from "@seed/websocket";
 * import assert from "node:assert/strict";
 *
 * assert.throws(
 *   () => new WebSocketStream("ftp://example.com/"),
 *   (error) => error instanceof DOMException && error.name === "SyntaxError",
 * );
 * assert.throws(
 *   () => new WebSocketStream("ws://example.com/", { protocols: ["chat", "chat"] }),
 *   (error) => error instanceof DOMException && error.name === "SyntaxError",
 * );
 * ```
 */
export class WebSocketStream {
  readonly #url: string;
  readonly #opened: Promise<WebSocketOpenInfo>;
  readonly #closed: Promise<Required<WebSocketCloseInfo>>;
  #resolveOpened!: (info: WebSocketOpenInfo) => void;
  #rejectOpened!: (reason: unknown) => void;
  #resolveClosed!: (info: Required<WebSocketCloseInfo>) => void;
  #rejectClosed!: (reason: unknown) => void;
  // Aborts connect(): close() before open, or the caller's signal.
  readonly #handshake = new AbortController();
  #state: State = "connecting";
  // The caller's signal aborted the handshake: opened and closed are already rejected.
  #handshakeAborted = false;
  #channel: ClientChannel | undefined;
  #readableController: ReadableStreamDefaultController<string | Uint8Array> | undefined;
  #writableController: WritableStreamDefaultController | undefined;
  // The error of an unclean close, made once so readable, writable and closed share it.
  #failure: WebSocketError | undefined;

  /**
   * Constructs a new instance and starts connecting.
   *
   * @param url The `ws:` or `wss:` URL (`http:` and `https:` are mapped to them).
   * @param options The subprotocols, an abort signal, and {@linkcode connect}'s options.
   * @throws {DOMException} A `SyntaxError` when the URL cannot be parsed, has
   * another scheme or a fragment, or a subprotocol is not a token or is offered twice.
   * @throws {TypeError} When `origin` or `headers` is not a valid header.
   */
  constructor(url: string | URL, options: WebSocketStreamOptions = {}) {
    const { protocols, signal, ...connectOptions } = options;
    const offered = protocols === undefined ? {} : { protocols };
    // The same checks connect() makes, made now so that they throw here.
    const request = createUpgradeRequest(url, {
      ...offered,
      ...(options.origin === undefined ? {} : { origin: options.origin }),
      ...(options.headers === undefined ? {} : { headers: options.headers }),
    });
    this.#url = request.url.href;
    this.#opened = new Promise((resolve, reject) => {
      this.#resolveOpened = resolve;
      this.#rejectOpened = reject;
    });
    this.#closed = new Promise((resolve, reject) => {
      this.#resolveClosed = resolve;
      this.#rejectClosed = reject;
    });
    // Nobody has to look at either promise: a rejection is never unhandled.
    this.#opened.catch(() => {});
    this.#closed.catch(() => {});
    if (signal?.aborted) {
      this.#abortHandshake(signal.reason);
      return;
    }
    const onAbort = () => this.#abortHandshake(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    this.#open({ ...connectOptions, ...offered, signal: this.#handshake.signal })
      .finally(() => signal?.removeEventListener("abort", onAbort));
  }

  /** The URL connected to, normalized, such as `ws://example.com/`. */
  get url(): string {
    return this.#url;
  }

  /**
   * Resolves once the connection is open, with its streams, subprotocol and
   * extensions. Rejects with a {@linkcode WebSocketError} when it cannot be
   * opened, with the signal's reason when the signal aborts first.
   */
  get opened(): Promise<WebSocketOpenInfo> {
    return this.#opened;
  }

  /**
   * Resolves once the connection has closed cleanly, with the close code and
   * reason the peer sent (1005 and `""` when it sent none). Rejects with a
   * {@linkcode WebSocketError} of code 1006 when it closed uncleanly or never
   * opened, with the signal's reason when the signal aborts first.
   */
  get closed(): Promise<Required<WebSocketCloseInfo>> {
    return this.#closed;
  }

  /**
   * Starts the closing handshake, or abandons the opening one. Does nothing
   * once closing has started. Writes still queued in the writable are dropped.
   *
   * @param closeInfo The close code (1000 or 3000-4999) and reason; a reason
   * without a code sends 1000, neither sends a close frame without a code.
   * @throws {TypeError} When the close code is not a whole number from 0 to 65535.
   * @throws {DOMException} An `InvalidAccessError` when the close code is not
   * 1000 or in 3000-4999, a `SyntaxError` when the reason is over 123 bytes.
   *
   * @example Closing with a code and a reason
   * ```ts ignore
   * import { WebSocketStream } from "@seed/websocket";
   *
   * const wss = new WebSocketStream("ws://127.0.0.1:8080");
   * await wss.opened;
   * wss.close({ closeCode: 4000, reason: "done" });
   * const { closeCode, reason } = await wss.closed;
   * ```
   */
  close(closeInfo: WebSocketCloseInfo = {}): void {
    const { code, reason } = checkCloseArguments(
      closeInfo.closeCode,
      closeInfo.reason,
      "enforce-range",
      "close connection",
    );
    this.#close(code, reason);
  }

  async #open(options: ConnectOptions): Promise<void> {
    let channel: ClientChannel;
    try {
      channel = await connect(this.#url, options);
    } catch (error) {
      this.#failToOpen(error);
      return;
    }
    if (this.#state !== "connecting") {
      // close() or the signal came while the last bytes of the handshake arrived.
      channel.close(CLOSE_CODE.GoingAway);
      this.#failToOpen(this.#handshake.signal.reason);
      return;
    }
    this.#channel = channel;
    this.#state = "open";
    this.#resolveOpened({
      readable: this.#readable(channel),
      writable: this.#writable(channel),
      protocol: channel.protocol,
      extensions: channel.extensions,
    });
    channel.closed.then((info) => this.#settle(info));
  }

  /** The readable: the channel's messages, binary ones copied into buffers of their own. */
  #readable(channel: ClientChannel): ReadableStream<string | Uint8Array> {
    const reader = channel.readable.getReader();
    return new ReadableStream<string | Uint8Array>({
      start: (controller) => {
        this.#readableController = controller;
      },
      pull: async (controller) => {
        try {
          const { value, done } = await reader.read();
          if (done) controller.close();
          else controller.enqueue(copyMessage(value));
        } catch (error) {
          controller.error(this.#unclean(error));
        }
      },
      cancel: (reason) => {
        this.#closeUsing(reason);
        reader.cancel().catch(() => {});
      },
      // The channel's readable holds what was read ahead: pull only on demand.
    }, { highWaterMark: 0 });
  }

  /** The writable: converts, copies, and writes to the channel while it is open. */
  #writable(channel: ClientChannel): WritableStream<MessageInput> {
    const writer = channel.writable.getWriter();
    return new WritableStream<MessageInput>({
      start: (controller) => {
        this.#writableController = controller;
      },
      write: async (chunk) => {
        const message = toOwnMessage(chunk);
        // Once the closing handshake has started, a write is dropped, not refused.
        if (this.#state !== "open") return;
        try {
          await writer.write(message);
        } catch (error) {
          if (error instanceof ConnectionClosedError) return;
          // The transport failed: report it as the close does.
          throw this.#unclean(error);
        }
      },
      close: () => this.#close(undefined, ""),
      abort: (reason) => this.#closeUsing(reason),
    });
  }

  /** Closes with the code and reason of a WebSocketError, or without a code. */
  #closeUsing(reason: unknown): void {
    if (reason instanceof WebSocketError && reason.closeCode !== null) {
      this.#close(reason.closeCode, reason.reason);
    } else {
      this.#close(undefined, "");
    }
  }

  #close(code: number | undefined, reason: string): void {
    switch (this.#state) {
      case "connecting":
        this.#state = "closing";
        this.#handshake.abort(
          new DOMException("close() was called before the connection opened", "AbortError"),
        );
        return;
      case "open":
        this.#state = "closing";
        this.#channel!.close(code, reason);
        return;
    }
  }

  /** The caller's signal aborted before the connection opened. */
  #abortHandshake(reason: unknown): void {
    if (this.#state !== "connecting") return;
    this.#state = "closed";
    this.#handshakeAborted = true;
    this.#rejectOpened(reason);
    this.#rejectClosed(reason);
    this.#handshake.abort(reason);
  }

  #failToOpen(error: unknown): void {
    this.#state = "closed";
    if (this.#handshakeAborted) return;
    const detail = error instanceof Error ? `: ${error.message}` : "";
    this.#rejectOpened(
      new WebSocketError(`Cannot open connection${detail}`, { cause: error }),
    );
    this.#rejectClosed(
      uncheckedWebSocketError(
        `Cannot open connection${detail}`,
        CLOSE_CODE.AbnormalClosure,
        "",
        error,
      ),
    );
  }

  /** The connection and its transport have closed: settle `closed` and the streams. */
  #settle(info: CloseInfo): void {
    this.#state = "closed";
    if (info.wasClean) {
      // The readable closes by itself once what the channel read is consumed.
      this.#writableController?.error(
        new DOMException("Cannot write message: connection is closed", "InvalidStateError"),
      );
      this.#resolveClosed({ closeCode: info.code, reason: info.reason });
      return;
    }
    const error = this.#unclean(
      new ConnectionClosedError("Connection closed", {
        closeCode: info.code,
        reason: info.reason,
        wasClean: false,
      }),
    );
    this.#readableController?.error(error);
    this.#writableController?.error(error);
    this.#rejectClosed(error);
  }

  /** The one error of an unclean close, made from the first failure seen. */
  #unclean(cause: unknown): WebSocketError {
    if (this.#failure !== undefined) return this.#failure;
    let detail = "";
    if (cause instanceof ConnectionClosedError) {
      detail = cause.closeCode === CLOSE_CODE.AbnormalClosure
        ? ": the connection ended without a closing handshake"
        : `: closed with ${cause.closeCode}${cause.reason === "" ? "" : ` ${cause.reason}`}`;
    } else if (cause instanceof Error) {
      detail = `: ${cause.message}`;
    }
    this.#failure = uncheckedWebSocketError(
      `Connection closed uncleanly${detail}`,
      CLOSE_CODE.AbnormalClosure,
      "",
      cause,
    );
    return this.#failure;
  }
}

/** A received message for the caller to keep: binary is copied out of the bytes it was read into. */
function copyMessage(message: Message): string | Uint8Array {
  return typeof message === "string" ? message : message.slice();
}

/** A message to send, converted and copied now, so that later changes to the caller's buffer do not show. */
function toOwnMessage(chunk: MessageInput): MessageInput {
  if (typeof chunk === "string") return chunk;
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk.slice(0));
  if (ArrayBuffer.isView(chunk)) {
    return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength).slice();
  }
  throw new TypeError(
    `Cannot write message: expected a string, an ArrayBuffer or a view, got ${typeof chunk}`,
  );
}
