/**
 * Strict UTF-8 decoding for text messages and close reasons, whole or
 * incremental. Invalid input becomes a {@linkcode ProtocolError} with close
 * code 1007 (RFC 6455 §8.1).
 *
 * @module
 */

import { ProtocolError } from "../errors.ts";

// A fatal TextDecoder implements the WHATWG UTF-8 decoder, which rejects a
// sequence at the first byte that cannot continue it (overlong forms,
// surrogates and code points above U+10FFFF included), so it fails as early
// as a hand-written validator would, at native speed.
const wholeDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function invalidUtf8(what: string, cause: unknown): ProtocolError {
  return new ProtocolError(`Cannot decode ${what}: invalid UTF-8`, { closeCode: 1007, cause });
}

/**
 * Decodes bytes that must be complete, valid UTF-8. A leading byte order mark
 * is kept as U+FEFF, since it is part of the payload.
 *
 * @param bytes The UTF-8 bytes.
 * @param what What the bytes are, for the error message.
 * @returns The decoded string.
 * @throws {ProtocolError} With close code 1007 when the bytes are not valid UTF-8.
 *
 * @example Decoding and rejecting
 * ```ts
 * import { decodeUtf8, ProtocolError } from "@seed/websocket/codec";
 * import assert from "node:assert/strict";
 *
 * assert.equal(decodeUtf8(new Uint8Array([0x68, 0xc3, 0xa9])), "hé");
 * assert.throws(() => decodeUtf8(new Uint8Array([0xc3])), ProtocolError);
 * ```
 */
export function decodeUtf8(bytes: Uint8Array, what = "text"): string {
  try {
    return wholeDecoder.decode(bytes);
  } catch (error) {
    throw invalidUtf8(what, error);
  }
}

/**
 * Decodes a text message that arrives in pieces, failing on the first piece
 * that makes the sequence invalid instead of waiting for the message to end.
 *
 * @example Decoding a character split across fragments
 * ```ts
 * import { Utf8StreamDecoder } from "@seed/websocket/codec";
 * import assert from "node:assert/strict";
 *
 * const decoder = new Utf8StreamDecoder();
 * let text = decoder.decode(new Uint8Array([0xce]));
 * text += decoder.decode(new Uint8Array([0xba]));
 * text += decoder.end();
 * assert.equal(text, "κ");
 * ```
 *
 * @example Failing as soon as a sequence cannot continue
 * ```ts
 * import { ProtocolError, Utf8StreamDecoder } from "@seed/websocket/codec";
 * import assert from "node:assert/strict";
 *
 * const decoder = new Utf8StreamDecoder();
 * decoder.decode(new Uint8Array([0xed])); // may start a valid sequence
 * // 0xED 0xA0 starts a UTF-16 surrogate, which UTF-8 never encodes
 * assert.throws(() => decoder.decode(new Uint8Array([0xa0])), ProtocolError);
 * ```
 */
export class Utf8StreamDecoder {
  #decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

  /**
   * Decodes the next piece; an incomplete sequence at its end is kept for the next call.
   *
   * @param bytes The next piece of the message.
   * @returns The characters completed by this piece.
   * @throws {ProtocolError} With close code 1007 when the bytes so far cannot be valid UTF-8.
   */
  decode(bytes: Uint8Array): string {
    try {
      return this.#decoder.decode(bytes, { stream: true });
    } catch (error) {
      throw invalidUtf8("text message", error);
    }
  }

  /**
   * Ends the message and resets the decoder for the next one.
   *
   * @returns An empty string, since nothing is held back when the message is complete.
   * @throws {ProtocolError} With close code 1007 when the message ends inside a sequence.
   */
  end(): string {
    try {
      return this.#decoder.decode();
    } catch (error) {
      throw invalidUtf8("text message", error);
    }
  }
}
