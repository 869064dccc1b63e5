/**
 * Close codes (RFC 6455 §7.4) and the close frame payload (§5.5.1).
 *
 * @module
 */

import { ProtocolError } from "../errors.ts";
import { decodeUtf8 } from "./utf8.ts";

/**
 * The close codes registered with IANA for RFC 6455. 1005, 1006 and 1015 are
 * reported locally and never sent; applications use 3000-4999.
 *
 * @example Closing after a policy violation
 * ```ts
 * import { CLOSE_CODE } from "@seed/websocket/codec";
 * import assert from "node:assert/strict";
 *
 * assert.equal(CLOSE_CODE.PolicyViolation, 1008);
 * ```
 */
export const CLOSE_CODE = {
  /** The purpose of the connection has been fulfilled (1000). */
  NormalClosure: 1000,
  /** The endpoint is going away: a server shutting down, a page navigated away (1001). */
  GoingAway: 1001,
  /** The peer broke the protocol (1002). */
  ProtocolError: 1002,
  /** The endpoint cannot accept this type of data (1003). */
  UnsupportedData: 1003,
  /** The close frame carried no code; reported locally, never sent (1005). */
  NoStatusReceived: 1005,
  /** The connection ended without a close frame; reported locally, never sent (1006). */
  AbnormalClosure: 1006,
  /** A message's data is inconsistent with its type, such as invalid UTF-8 text (1007). */
  InvalidFramePayloadData: 1007,
  /** A message violates the endpoint's policy (1008). */
  PolicyViolation: 1008,
  /** A message is too big to process (1009). */
  MessageTooBig: 1009,
  /** The client expected an extension the server did not negotiate (1010). */
  MandatoryExtension: 1010,
  /** The server met an unexpected condition (1011). */
  InternalError: 1011,
  /** The server is restarting (1012). */
  ServiceRestart: 1012,
  /** The server is overloaded; try again later (1013). */
  TryAgainLater: 1013,
  /** A gateway received an invalid response upstream (1014). */
  BadGateway: 1014,
  /** The TLS handshake failed; reported locally, never sent (1015). */
  TlsHandshake: 1015,
} as const;

/** One of the close codes in {@linkcode CLOSE_CODE}. */
export type CloseCode = typeof CLOSE_CODE[keyof typeof CLOSE_CODE];

/**
 * Tells whether a close code may appear in a close frame, in either direction:
 * 1000-1003, 1007-1014 and 3000-4999. This is the single gate for codes we
 * receive and codes we send.
 *
 * @param code The close code.
 * @returns `true` when the code may be sent on the wire.
 *
 * @example Codes that are only reported locally are invalid on the wire
 * ```ts
 * import { isValidCloseCode } from "@seed/websocket/codec";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isValidCloseCode(1000), true);
 * assert.equal(isValidCloseCode(4000), true);
 * assert.equal(isValidCloseCode(1005), false);
 * assert.equal(isValidCloseCode(2999), false);
 * ```
 */
export function isValidCloseCode(code: number): boolean {
  return Number.isInteger(code) &&
    ((code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
      (code >= 3000 && code <= 4999));
}

/** The content of a close frame. */
export interface ClosePayload {
  /** The close code; 1005 when the frame carried none. */
  code: number;
  /** The close reason; empty when the frame carried none. */
  reason: string;
}

/** The longest close reason in bytes: a control payload is at most 125 bytes, 2 hold the code. */
export const MAX_CLOSE_REASON_BYTES = 123;

/**
 * Reads the payload of a received close frame.
 *
 * @param payload The unmasked payload of the close frame.
 * @returns The code and reason; code 1005 for an empty payload.
 * @throws {ProtocolError} 1002 for a one-byte payload or a code not valid on the
 * wire, 1007 for a reason that is not UTF-8.
 *
 * @example Reading a close frame's payload
 * ```ts
 * import { parseClosePayload } from "@seed/websocket/codec";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseClosePayload(new Uint8Array([0x03, 0xe8, 0x6f, 0x6b])), {
 *   code: 1000,
 *   reason: "ok",
 * });
 * assert.deepEqual(parseClosePayload(new Uint8Array()), { code: 1005, reason: "" });
 * ```
 */
export function parseClosePayload(payload: Uint8Array): ClosePayload {
  if (payload.length === 0) return { code: CLOSE_CODE.NoStatusReceived, reason: "" };
  if (payload.length === 1) {
    throw new ProtocolError("Cannot decode close frame: payload is 1 byte, a code needs 2");
  }
  const code = (payload[0]! << 8) | payload[1]!;
  if (!isValidCloseCode(code)) {
    throw new ProtocolError(`Cannot decode close frame: close code ${code} is not allowed`);
  }
  return { code, reason: decodeUtf8(payload.subarray(2), "close reason") };
}

const encoder = new TextEncoder();

/**
 * Builds the payload of a close frame to send.
 *
 * @param code The close code; omit it to send a close frame without payload.
 * @param reason The close reason, at most 123 bytes of UTF-8.
 * @returns The payload bytes.
 * @throws {RangeError} When the code may not be sent or the reason is too long.
 * @throws {TypeError} When a reason is given without a code.
 *
 * @example Building a close payload
 * ```ts
 * import { encodeClosePayload } from "@seed/websocket/codec";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(encodeClosePayload(1000, "ok"), new Uint8Array([0x03, 0xe8, 0x6f, 0x6b]));
 * assert.deepEqual(encodeClosePayload(), new Uint8Array());
 * assert.throws(() => encodeClosePayload(1006), RangeError);
 * ```
 */
export function encodeClosePayload(code?: number, reason = ""): Uint8Array {
  if (code === undefined) {
    if (reason !== "") throw new TypeError("Cannot send close reason: a reason needs a close code");
    return new Uint8Array(0);
  }
  if (!isValidCloseCode(code)) {
    throw new RangeError(`Cannot send close code ${code}: it is not allowed on the wire`);
  }
  const reasonBytes = encoder.encode(reason);
  if (reasonBytes.length > MAX_CLOSE_REASON_BYTES) {
    throw new RangeError(
      `Cannot send close reason: it is ${reasonBytes.length} bytes, limit is ${MAX_CLOSE_REASON_BYTES}`,
    );
  }
  const payload = new Uint8Array(2 + reasonBytes.length);
  payload[0] = code >> 8;
  payload[1] = code & 0xff;
  payload.set(reasonBytes, 2);
  return payload;
}
