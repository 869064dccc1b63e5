/**
 * The error classes a connection can raise. Peer misbehaviour surfaces only as
 * {@linkcode ProtocolError}, whose `closeCode` is the close code sent to the
 * peer; writes after the connection has closed reject with
 * {@linkcode ConnectionClosedError}. A failed opening handshake raises
 * {@linkcode HandshakeError}, whose `status` is the HTTP status to answer with.
 * A configured limit that was crossed raises {@linkcode LimitError} (a
 * {@linkcode ProtocolError} with the limit), and a peer too slow to answer
 * in time {@linkcode TimeoutError}.
 *
 * @module
 */

/** Options of {@linkcode ProtocolError}. */
export interface ProtocolErrorOptions extends ErrorOptions {
  /**
   * The close code the connection sends to the peer because of this error.
   *
   * @default {1002}
   */
  closeCode?: number;
}

/**
 * The peer broke RFC 6455 or a configured limit. The connection closes with
 * {@linkcode ProtocolError.closeCode}: 1002 for a framing violation, 1007 for
 * invalid UTF-8, 1008 for a policy limit, 1009 for a message over the limit.
 *
 * @example Reading the close code
 * ```ts
 * import { ProtocolError } from "@seed/websocket";
 * import assert from "node:assert/strict";
 *
 * const error = new ProtocolError("Cannot decode text: invalid UTF-8", { closeCode: 1007 });
 * assert.equal(error.closeCode, 1007);
 * assert.equal(error.name, "ProtocolError");
 * ```
 */
export class ProtocolError extends Error {
  /** The close code sent to the peer. */
  readonly closeCode: number;

  /**
   * Constructs a new instance.
   *
   * @param message What could not be done, then the detail after a colon.
   * @param options The close code and the cause.
   */
  constructor(message: string, options: ProtocolErrorOptions = {}) {
    super(message, options);
    this.name = "ProtocolError";
    this.closeCode = options.closeCode ?? 1002;
  }
}

/** Options of {@linkcode ConnectionClosedError}. */
export interface ConnectionClosedErrorOptions extends ErrorOptions {
  /** The close code the connection ended with (1005 when none was given, 1006 when abnormal). */
  closeCode: number;
  /**
   * The close reason the connection ended with.
   *
   * @default {""}
   */
  reason?: string;
  /**
   * Whether the closing handshake completed.
   *
   * @default {false}
   */
  wasClean?: boolean;
}

/**
 * An operation was attempted on a connection that has closed or is closing.
 *
 * @example Inspecting how the connection ended
 * ```ts
 * import { ConnectionClosedError } from "@seed/websocket";
 * import assert from "node:assert/strict";
 *
 * const error = new ConnectionClosedError("Cannot send message: connection is closed", {
 *   closeCode: 1000,
 *   reason: "bye",
 *   wasClean: true,
 * });
 * assert.equal(error.closeCode, 1000);
 * assert.equal(error.reason, "bye");
 * assert.equal(error.wasClean, true);
 * ```
 */
export class ConnectionClosedError extends Error {
  /** The close code the connection ended with. */
  readonly closeCode: number;
  /** The close reason the connection ended with. */
  readonly reason: string;
  /** Whether the closing handshake completed. */
  readonly wasClean: boolean;

  /**
   * Constructs a new instance.
   *
   * @param message What could not be done, then the detail after a colon.
   * @param options How the connection ended.
   */
  constructor(message: string, options: ConnectionClosedErrorOptions) {
    super(message, options);
    this.name = "ConnectionClosedError";
    this.closeCode = options.closeCode;
    this.reason = options.reason ?? "";
    this.wasClean = options.wasClean ?? false;
  }
}

/** Options of {@linkcode HandshakeError}. */
export interface HandshakeErrorOptions extends ErrorOptions {
  /**
   * The HTTP status of the failure, 100 to 599.
   *
   * @default {400}
   */
  status?: number;
  /**
   * Headers the rejection response carries besides its body's, such as
   * `Sec-WebSocket-Version: 13` with a 426.
   *
   * @default {{}}
   */
  headers?: HeadersInit;
}

/**
 * The opening handshake (RFC 6455 §4) failed. On the server side
 * {@linkcode HandshakeError.status} is the status to refuse the request with
 * (400 for a malformed request, 426 for a missing upgrade or an unsupported
 * version, 431 for a head over the limits) and
 * {@linkcode HandshakeError.toResponse} builds that refusal, so a server never
 * invents its own. On the client side it is the status the server answered
 * with instead of 101, or 502, the status a gateway would answer with, when
 * the server's answer was not a valid handshake.
 *
 * @example Refusing a request for an unsupported version
 * ```ts
 * import { HandshakeError } from "@seed/websocket/handshake";
 * import assert from "node:assert/strict";
 *
 * const error = new HandshakeError(
 *   "Cannot upgrade request: Sec-WebSocket-Version is 8, only 13 is supported",
 *   { status: 426, headers: { "Sec-WebSocket-Version": "13" } },
 * );
 * const response = error.toResponse();
 * assert.equal(response.status, 426);
 * assert.equal(response.headers.get("Sec-WebSocket-Version"), "13");
 * assert.equal(await response.text(), error.message);
 * ```
 */
export class HandshakeError extends Error {
  /** The HTTP status of the failure. */
  readonly status: number;
  /** The headers the rejection response carries besides `Content-Type`. */
  readonly headers: Headers;

  /**
   * Constructs a new instance.
   *
   * @param message What could not be done, then the detail after a colon.
   * @param options The status, the extra response headers and the cause.
   * @throws {RangeError} When the status is not a whole number from 100 to 599.
   * @throws {TypeError} When a header name or value is invalid.
   */
  constructor(message: string, options: HandshakeErrorOptions = {}) {
    super(message, options);
    this.name = "HandshakeError";
    const status = options.status ?? 400;
    // RFC 9110 §15: status codes are three digits from 100 to 599.
    if (!Number.isInteger(status) || status < 100 || status > 599) {
      throw new RangeError(
        `Cannot create HandshakeError: status must be a whole number from 100 to 599, got ${status}`,
      );
    }
    this.status = status;
    this.headers = new Headers(options.headers);
  }

  /**
   * Builds the rejection: a response with {@linkcode HandshakeError.status},
   * {@linkcode HandshakeError.headers} and the message as a plain-text body.
   * Each call builds a new response.
   *
   * @returns The response.
   * @throws {RangeError} When the status is below 200: an interim status is no answer.
   *
   * @example Answering a request that is not an upgrade
   * ```ts
   * import { checkUpgradeRequest, HandshakeError } from "@seed/websocket/handshake";
   * import assert from "node:assert/strict";
   *
   * function handle(request: Request): Response {
   *   try {
   *     checkUpgradeRequest(request);
   *     return new Response(null, { status: 204 });
   *   } catch (error) {
   *     if (error instanceof HandshakeError) return error.toResponse();
   *     throw error;
   *   }
   * }
   * const response = handle(new Request("http://example.com/chat"));
   * assert.equal(response.status, 426);
   * assert.equal(response.headers.get("Content-Type"), "text/plain; charset=utf-8");
   * ```
   */
  toResponse(): Response {
    // Fetch refuses interim statuses in some runtimes and not others; refuse them everywhere.
    if (this.status < 200) {
      throw new RangeError(
        `Cannot build response: status ${this.status} is interim, a response needs 200 to 599`,
      );
    }
    const headers = new Headers(this.headers);
    headers.set("Content-Type", "text/plain; charset=utf-8");
    return new Response(this.message, { status: this.status, headers });
  }
}

/** Options of {@linkcode LimitError}. */
export interface LimitErrorOptions extends ProtocolErrorOptions {
  /** The name of the option that sets the limit, such as `maxMessageSize`. */
  option: string;
  /** The limit, in the option's unit (bytes, connections). */
  limit: number;
}

/**
 * A configured limit was crossed: a message over `maxMessageSize`, more
 * bytes queued for a slow peer than `maxQueuedBytes`. It is a
 * {@linkcode ProtocolError}: `closeCode` is the code the connection closes
 * with (1009 for a message too big, 1008 for a policy limit), unless the
 * limit's option says to keep the connection open.
 *
 * @example Telling which limit was crossed
 * ```ts
 * import { LimitError, ProtocolError } from "@seed/websocket";
 * import assert from "node:assert/strict";
 *
 * const error = new LimitError("Cannot receive message: it is over 1024 bytes", {
 *   closeCode: 1009,
 *   option: "maxMessageSize",
 *   limit: 1024,
 * });
 * assert.ok(error instanceof ProtocolError);
 * assert.equal(error.name, "LimitError");
 * assert.equal(error.option, "maxMessageSize");
 * assert.equal(error.limit, 1024);
 * ```
 */
export class LimitError extends ProtocolError {
  /** The name of the option that sets the limit. */
  readonly option: string;
  /** The limit, in the option's unit. */
  readonly limit: number;

  /**
   * Constructs a new instance.
   *
   * @param message What could not be done, then the detail after a colon.
   * @param options The option, its limit, the close code and the cause.
   */
  constructor(message: string, options: LimitErrorOptions) {
    super(message, options);
    this.name = "LimitError";
    this.option = options.option;
    this.limit = options.limit;
  }
}

/** Options of {@linkcode TimeoutError}. */
export interface TimeoutErrorOptions extends ErrorOptions {
  /** The name of the option that sets the timeout, such as `closeTimeout`. */
  option: string;
  /** How long was waited, in milliseconds. */
  timeout: number;
}

/**
 * The peer did not do something in time: send its request head
 * (`handshakeTimeout`), answer a close frame (`closeTimeout`), answer a
 * heartbeat ping (`idleTimeout`). Its name is `"TimeoutError"`, like the
 * `DOMException` an `AbortSignal.timeout()` aborts with, so one check on
 * `error.name` catches both.
 *
 * @example Reading which timeout fired
 * ```ts
 * import { TimeoutError } from "@seed/websocket";
 * import assert from "node:assert/strict";
 *
 * const error = new TimeoutError("Cannot close connection: no answer within 5000 ms", {
 *   option: "closeTimeout",
 *   timeout: 5000,
 * });
 * assert.equal(error.name, "TimeoutError");
 * assert.equal(error.option, "closeTimeout");
 * assert.equal(error.timeout, 5000);
 * ```
 */
export class TimeoutError extends Error {
  /** The name of the option that sets the timeout. */
  readonly option: string;
  /** How long was waited, in milliseconds. */
  readonly timeout: number;

  /**
   * Constructs a new instance.
   *
   * @param message What could not be done, then the detail after a colon.
   * @param options The option, how long was waited, and the cause.
   */
  constructor(message: string, options: TimeoutErrorOptions) {
    super(message, options);
    this.name = "TimeoutError";
    this.option = options.option;
    this.timeout = options.timeout;
  }
}
