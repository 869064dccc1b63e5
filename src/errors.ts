/**
 * The error classes a connection can raise. Peer misbehaviour surfaces only as
 * {@linkcode ProtocolError}, whose `closeCode` is the close code sent to the
 * peer; writes after the connection has closed reject with
 * {@linkcode ConnectionClosedError}.
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
