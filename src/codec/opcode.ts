/**
 * Frame opcodes (RFC 6455 §5.2, §11.8).
 *
 * @module
 */

/**
 * The opcodes RFC 6455 defines. Every other value is reserved and a frame that
 * carries one fails the connection with 1002.
 *
 * @example Comparing a decoded opcode
 * ```ts
 * import { OPCODE } from "@seed/websocket/codec";
 * import assert from "node:assert/strict";
 *
 * assert.equal(OPCODE.Text, 0x1);
 * assert.equal(OPCODE.Close, 0x8);
 * ```
 */
export const OPCODE = {
  /** A continuation of a fragmented message (0x0). */
  Continuation: 0x0,
  /** The first frame of a text message (0x1). */
  Text: 0x1,
  /** The first frame of a binary message (0x2). */
  Binary: 0x2,
  /** A close frame (0x8). */
  Close: 0x8,
  /** A ping frame (0x9). */
  Ping: 0x9,
  /** A pong frame (0xA). */
  Pong: 0xa,
} as const;

/** One of the opcodes in {@linkcode OPCODE}. */
export type Opcode = typeof OPCODE[keyof typeof OPCODE];

/**
 * Tells whether an opcode is one RFC 6455 defines.
 *
 * @param opcode The 4-bit opcode of a frame.
 * @returns `true` for 0x0-0x2 and 0x8-0xA.
 *
 * @example Reserved opcodes are unknown
 * ```ts
 * import { isKnownOpcode } from "@seed/websocket/codec";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isKnownOpcode(0x2), true);
 * assert.equal(isKnownOpcode(0x3), false);
 * assert.equal(isKnownOpcode(0xb), false);
 * ```
 */
export function isKnownOpcode(opcode: number): opcode is Opcode {
  return (opcode >= 0 && opcode <= 0x2) || (opcode >= 0x8 && opcode <= 0xa);
}

/**
 * Tells whether an opcode is a control opcode: its high bit is set (RFC 6455 §5.5).
 *
 * @param opcode The 4-bit opcode of a frame.
 * @returns `true` for 0x8-0xF.
 *
 * @example Close, ping and pong are control frames
 * ```ts
 * import { isControlOpcode, OPCODE } from "@seed/websocket/codec";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isControlOpcode(OPCODE.Ping), true);
 * assert.equal(isControlOpcode(OPCODE.Binary), false);
 * ```
 */
export function isControlOpcode(opcode: number): boolean {
  return (opcode & 0x8) !== 0;
}
