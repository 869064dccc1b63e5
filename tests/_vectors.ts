/**
 * The examples of RFC 6455 §5.7 as hex, with the frames they decode to. The
 * binary examples leave their data unspecified; here it is
 * {@linkcode patternBytes}.
 *
 * @module
 */

import type { Frame, Role } from "../src/codec/frame.ts";
import { bytesToHex, concat, frameOf, hexToBytes, patternBytes } from "./_helpers.ts";

/** One frame of an example: its bytes, the frame, and the key it is masked with. */
export interface VectorFrame {
  /** The frame's bytes on the wire. */
  hex: string;
  /** The decoded frame. */
  frame: Frame;
  /** The masking key, for a masked frame. */
  mask?: Uint8Array;
}

/** One example of RFC 6455 §5.7. */
export interface Vector {
  /** The example's title in the RFC. */
  name: string;
  /** The role that decodes it: a client for unmasked frames, a server for masked ones. */
  receiver: Role;
  /** Its frames, in order. */
  frames: VectorFrame[];
}

/** The masking key of the RFC's masked examples. */
export const RFC_MASK: Uint8Array = hexToBytes("37 fa 21 3d");

/** The data of the 256-byte binary example. */
export const BINARY_256: Uint8Array = patternBytes(256, 1);

/** The data of the 64 KiB binary example. */
export const BINARY_64K: Uint8Array = patternBytes(65536, 2);

/** A single-frame unmasked text message. */
export const UNMASKED_TEXT: Vector = {
  name: "a single-frame unmasked text message",
  receiver: "client",
  frames: [{ hex: "81 05 48 65 6c 6c 6f", frame: frameOf(0x1, "Hello") }],
};

/** A single-frame masked text message. */
export const MASKED_TEXT: Vector = {
  name: "a single-frame masked text message",
  receiver: "server",
  frames: [{
    hex: "81 85 37 fa 21 3d 7f 9f 4d 51 58",
    frame: frameOf(0x1, "Hello"),
    mask: RFC_MASK,
  }],
};

/** A fragmented unmasked text message. */
export const FRAGMENTED_TEXT: Vector = {
  name: "a fragmented unmasked text message",
  receiver: "client",
  frames: [
    { hex: "01 03 48 65 6c", frame: frameOf(0x1, "Hel", false) },
    { hex: "80 02 6c 6f", frame: frameOf(0x0, "lo") },
  ],
};

/** An unmasked ping request. */
export const UNMASKED_PING: Vector = {
  name: "an unmasked ping request",
  receiver: "client",
  frames: [{ hex: "89 05 48 65 6c 6c 6f", frame: frameOf(0x9, "Hello") }],
};

/** A masked ping response (a pong). */
export const MASKED_PONG: Vector = {
  name: "a masked ping response",
  receiver: "server",
  frames: [{
    hex: "8a 85 37 fa 21 3d 7f 9f 4d 51 58",
    frame: frameOf(0xa, "Hello"),
    mask: RFC_MASK,
  }],
};

/** 256 bytes binary message in a single unmasked frame. */
export const BINARY_256_UNMASKED: Vector = {
  name: "256 bytes binary message in a single unmasked frame",
  receiver: "client",
  frames: [{ hex: `82 7e 01 00 ${bytesToHex(BINARY_256)}`, frame: frameOf(0x2, BINARY_256) }],
};

/** 64 KiB binary message in a single unmasked frame. */
export const BINARY_64K_UNMASKED: Vector = {
  name: "64 KiB binary message in a single unmasked frame",
  receiver: "client",
  frames: [{
    hex: `82 7f 00 00 00 00 00 01 00 00 ${bytesToHex(BINARY_64K)}`,
    frame: frameOf(0x2, BINARY_64K),
  }],
};

/** Every example, in the RFC's order. */
export const VECTORS: readonly Vector[] = [
  UNMASKED_TEXT,
  MASKED_TEXT,
  FRAGMENTED_TEXT,
  UNMASKED_PING,
  MASKED_PONG,
  BINARY_256_UNMASKED,
  BINARY_64K_UNMASKED,
];

/**
 * The bytes of all of an example's frames, back to back.
 *
 * @param vector The example.
 * @returns A fresh copy of its bytes.
 */
export function vectorBytes(vector: Vector): Uint8Array {
  return concat(...vector.frames.map(({ hex }) => hexToBytes(hex)));
}

/**
 * The frames an example decodes to.
 *
 * @param vector The example.
 * @returns Its frames.
 */
export function vectorFrames(vector: Vector): Frame[] {
  return vector.frames.map(({ frame }) => frame);
}
