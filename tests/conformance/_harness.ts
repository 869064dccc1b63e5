/**
 * Shared helpers of the conformance suite: a recording {@linkcode Connection},
 * builders for the frames a peer sends, a decoder for what the connection
 * wrote, and byte assertions that print hex.
 *
 * A connection under test has a role; its peer has the other one. Frames
 * built "for" a role are the frames its peer sends: masked with
 * {@linkcode MASK_KEY} when the connection is a server, unmasked when it is a
 * client.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type CloseInfo, Connection, type ConnectionOptions, type Message } from "../../mod.ts";
import { encodeFrame, type Frame, FrameParser, OPCODE, type Role } from "../../src/codec/mod.ts";
import {
  bytesToHex as hex,
  concat,
  hexToBytes as fromHex,
  naiveMask as xorMask,
  patternBytes,
  utf8,
} from "../_helpers.ts";

export { concat, fromHex, hex, patternBytes, utf8 };

export type { Role };

/** The masking key every peer frame sent to a server uses, so inputs are reproducible. */
export const MASK_KEY: Uint8Array = Uint8Array.of(0x37, 0xfa, 0x21, 0x3d);

/** Both roles, for tests written once and run for each. */
export const ROLES: readonly Role[] = ["server", "client"];

/** Returns an ASCII string of exactly `length` bytes of a fixed pattern. */
export function patternText(length: number): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789*-_ ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  return alphabet.repeat(Math.ceil(length / alphabet.length)).slice(0, length);
}

/**
 * Builds a frame header by hand, independently of the encoder under test, in
 * the smallest length form.
 *
 * @param byte0 FIN, RSV bits and opcode.
 * @param length The payload length.
 * @param key The masking key, for a masked frame.
 */
export function headerBytes(byte0: number, length: number, key?: Uint8Array): Uint8Array {
  const maskBit = key === undefined ? 0 : 0x80;
  let head: number[];
  if (length < 126) {
    head = [byte0, maskBit | length];
  } else if (length < 65536) {
    head = [byte0, maskBit | 126, length >> 8, length & 0xff];
  } else {
    head = [byte0, maskBit | 127];
    const view = new DataView(new ArrayBuffer(8));
    view.setBigUint64(0, BigInt(length));
    for (let i = 0; i < 8; i++) head.push(view.getUint8(i));
  }
  if (key !== undefined) head.push(...key);
  return Uint8Array.from(head);
}

/** The parts of a frame a peer sends. */
export interface PeerFrame {
  opcode: number;
  payload?: Uint8Array | string;
  /** @default {true} */
  fin?: boolean;
  /** RSV bits as a 3-bit number: 4 is RSV1, 2 is RSV2, 1 is RSV3. */
  rsv?: number;
}

/**
 * Encodes a frame as the peer of a connection of `role` sends it: masked with
 * {@linkcode MASK_KEY} when the connection is a server, unmasked when it is a client.
 */
export function peerFrame(role: Role, frame: PeerFrame): Uint8Array {
  const payload = typeof frame.payload === "string"
    ? utf8(frame.payload)
    : frame.payload ?? new Uint8Array(0);
  const rsv = frame.rsv ?? 0;
  const encoded: Frame = {
    fin: frame.fin ?? true,
    opcode: frame.opcode,
    payload,
    rsv1: (rsv & 4) !== 0,
    rsv2: (rsv & 2) !== 0,
    rsv3: (rsv & 1) !== 0,
  };
  return role === "server" ? maskedFrame(encoded) : encodeFrame(encoded);
}

/** Encodes a frame masked with a fixed key, as a client sends it. */
export function maskedFrame(frame: Frame, key: Uint8Array = MASK_KEY): Uint8Array {
  return encodeFrame(frame, { mask: key });
}

/** A text frame from the peer of a connection of `role`. */
export function textFrame(role: Role, text: string | Uint8Array, fin = true): Uint8Array {
  return peerFrame(role, { opcode: OPCODE.Text, payload: text, fin });
}

/** A binary frame from the peer of a connection of `role`. */
export function binaryFrame(role: Role, payload: Uint8Array, fin = true): Uint8Array {
  return peerFrame(role, { opcode: OPCODE.Binary, payload, fin });
}

/** A continuation frame from the peer of a connection of `role`. */
export function continuationFrame(
  role: Role,
  payload: Uint8Array | string,
  fin: boolean,
): Uint8Array {
  return peerFrame(role, { opcode: OPCODE.Continuation, payload, fin });
}

/** A ping from the peer of a connection of `role`. */
export function pingFrame(role: Role, payload: Uint8Array | string = ""): Uint8Array {
  return peerFrame(role, { opcode: OPCODE.Ping, payload });
}

/** A pong from the peer of a connection of `role`. */
export function pongFrame(role: Role, payload: Uint8Array | string = ""): Uint8Array {
  return peerFrame(role, { opcode: OPCODE.Pong, payload });
}

/** A close frame from the peer of a connection of `role`; without a code it has no payload. */
export function closeFrame(
  role: Role,
  code?: number,
  reason: string | Uint8Array = "",
): Uint8Array {
  if (code === undefined) return peerFrame(role, { opcode: OPCODE.Close });
  const reasonBytes = typeof reason === "string" ? utf8(reason) : reason;
  return peerFrame(role, {
    opcode: OPCODE.Close,
    payload: concat(Uint8Array.of(code >> 8, code & 0xff), reasonBytes),
  });
}

/**
 * Builds a frame from raw header bytes, for headers the encoder cannot
 * express: `byte0`, then the 7-bit length and its extension exactly as given
 * in `lengthBytes`; for a server the mask bit is set in the first length byte,
 * {@linkcode MASK_KEY} follows and the payload is masked with it.
 */
export function rawFrame(
  role: Role,
  byte0: number,
  lengthBytes: readonly number[],
  payload: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const [first = 0, ...rest] = lengthBytes;
  if (role === "server") {
    return concat(
      Uint8Array.of(byte0, 0x80 | first, ...rest),
      MASK_KEY,
      xorMask(payload, MASK_KEY),
    );
  }
  return concat(Uint8Array.of(byte0, first, ...rest), payload);
}

/** How input is cut into the chunks given to `receive`. */
export type Chunking =
  | "whole"
  | "bytewise"
  | number
  | readonly number[];

/** Cuts `bytes` into chunks: whole, one byte each, of a fixed size, or of sizes cycling through a list. */
export function split(bytes: Uint8Array, chunking: Chunking): Uint8Array[] {
  if (chunking === "whole") return [bytes];
  const sizes = chunking === "bytewise"
    ? [1]
    : typeof chunking === "number"
    ? [chunking]
    : chunking;
  const chunks: Uint8Array[] = [];
  let at = 0;
  let i = 0;
  while (at < bytes.length) {
    const size = Math.max(1, sizes[i++ % sizes.length]!);
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

/** Chunk sizes that put boundaries at every offset of a header and inside payloads. */
export const SMALL_CHUNKS: readonly number[] = [1, 2, 3, 5, 7, 11, 13, 1, 17, 4, 6];

/** How a sequence of frames reaches the connection. */
export type Delivery = "separately" | "in one write" | "byte by byte";

/** The three deliveries, for tests run with each. */
export const DELIVERIES: readonly Delivery[] = ["separately", "in one write", "byte by byte"];

/** Feeds frames each in its own write, all in one write, or all byte by byte. */
export function deliver(h: Harness, parts: readonly Uint8Array[], delivery: Delivery): void {
  if (delivery === "separately") h.feedEach(parts);
  else h.feed(concat(...parts), delivery === "byte by byte" ? "bytewise" : "whole");
}

/** What the `end` handler was given. */
export interface EndRecord {
  info: CloseInfo;
  error: unknown;
}

/** Options of {@linkcode createHarness}. */
export interface HarnessOptions extends Omit<ConnectionOptions, "role"> {
  /**
   * Echo every message back while the connection is open.
   *
   * @default {true}
   */
  echo?: boolean;
}

/** A connection under test and everything it reported. */
export interface Harness {
  readonly role: Role;
  readonly connection: Connection;
  /** Every `write` call, copied. */
  readonly writes: Uint8Array[];
  /** Messages, binary ones copied. */
  readonly messages: Message[];
  readonly pings: Uint8Array[];
  readonly pongs: Uint8Array[];
  readonly ends: EndRecord[];
  /** Feeds a copy of `bytes` (the connection unmasks in place) cut as `chunking` says. */
  feed(bytes: Uint8Array, chunking?: Chunking): void;
  /** Feeds several byte arrays, each as its own chunk (or chunked as `chunking` says). */
  feedEach(parts: readonly Uint8Array[], chunking?: Chunking): void;
  /** All bytes written so far. */
  written(): Uint8Array;
  /** All bytes written so far, decoded by a parser of the peer's role. */
  frames(): Frame[];
}

/** Creates a connection of `role` whose handler records all it is given. */
export function createHarness(role: Role, options: HarnessOptions = {}): Harness {
  const { echo = true, ...connectionOptions } = options;
  const writes: Uint8Array[] = [];
  const messages: Message[] = [];
  const pings: Uint8Array[] = [];
  const pongs: Uint8Array[] = [];
  const ends: EndRecord[] = [];
  const connection: Connection = new Connection({ ...connectionOptions, role }, {
    write: (bytes) => {
      writes.push(bytes.slice());
    },
    message: (data) => {
      messages.push(typeof data === "string" ? data : data.slice());
      if (echo && connection.state === "open") connection.send(data);
    },
    ping: (payload) => {
      pings.push(payload.slice());
    },
    pong: (payload) => {
      pongs.push(payload.slice());
    },
    end: (info, error) => {
      ends.push({ info: { ...info }, error });
    },
  });
  const feed = (bytes: Uint8Array, chunking: Chunking = "whole"): void => {
    for (const chunk of split(bytes.slice(), chunking)) connection.receive(chunk);
  };
  return {
    role,
    connection,
    writes,
    messages,
    pings,
    pongs,
    ends,
    feed,
    feedEach: (parts, chunking = "whole") => {
      for (const part of parts) feed(part, chunking);
    },
    written: () => concat(...writes),
    frames: () => decodeFrames(role, concat(...writes)),
  };
}

/** The role on the other end. */
export function otherRole(role: Role): Role {
  return role === "server" ? "client" : "server";
}

/**
 * Decodes the bytes a connection of `writerRole` wrote, with a parser of the
 * other role (so the masking rule is checked too). Payloads are copies.
 */
export function decodeFrames(writerRole: Role, bytes: Uint8Array): Frame[] {
  const parser = new FrameParser({ role: otherRole(writerRole) });
  const frames: Frame[] = [];
  parser.push(bytes.slice(), (frame) => frames.push({ ...frame, payload: frame.payload.slice() }));
  return frames;
}

/** The close code in a close frame's payload, or `undefined` when it has none. */
export function closeCodeOf(frame: Frame): number | undefined {
  const payload = frame.payload;
  return payload.length >= 2 ? (payload[0]! << 8) | payload[1]! : undefined;
}

/** A short description of decoded frames, for failure messages. */
export function describeFrames(frames: readonly Frame[]): string {
  return frames.map((frame) =>
    `{fin:${frame.fin} op:${frame.opcode} len:${frame.payload.length}` +
    (frame.opcode === OPCODE.Close ? ` code:${closeCodeOf(frame)}` : "") + "}"
  ).join(" ") || "(nothing)";
}

/** Compares bytes quickly, reporting the first difference in hex. */
export function assertBytes(actual: Uint8Array, expected: Uint8Array, label = "bytes"): void {
  const length = Math.min(actual.length, expected.length);
  let i = 0;
  while (i < length && actual[i] === expected[i]) i++;
  if (i === length && actual.length === expected.length) return;
  const from = Math.max(0, i - 8);
  assert.fail(
    `${label}: differ at offset ${i} (lengths ${actual.length} and ${expected.length})\n` +
      `  actual:   ${hex(actual.subarray(from, i + 16))}\n` +
      `  expected: ${hex(expected.subarray(from, i + 16))}`,
  );
}

/** A frame expected on the wire. */
export interface WireFrame {
  opcode: number;
  payload: Uint8Array;
  /** @default {true} */
  fin?: boolean;
}

/**
 * Asserts that `bytes` are exactly `frames` as a connection of `writerRole`
 * encodes them: unmasked for a server; for a client masked, with each frame's
 * key read from the wire and its payload compared after masking by hand.
 */
export function assertWireFrames(
  writerRole: Role,
  bytes: Uint8Array,
  frames: readonly WireFrame[],
  label = "written bytes",
): void {
  let at = 0;
  for (const [index, frame] of frames.entries()) {
    const byte0 = (frame.fin === false ? 0 : 0x80) | frame.opcode;
    const length = frame.payload.length;
    let expected: Uint8Array;
    if (writerRole === "server") {
      expected = concat(headerBytes(byte0, length), frame.payload);
    } else {
      const headerSize = headerBytes(byte0, length, MASK_KEY).length;
      const key = bytes.slice(at + headerSize - 4, at + headerSize);
      assert.equal(key.length, 4, `${label}: frame ${index} is cut before its masking key`);
      expected = concat(headerBytes(byte0, length, key), xorMask(frame.payload, key));
    }
    assertBytes(bytes.subarray(at, at + expected.length), expected, `${label}, frame ${index}`);
    at += expected.length;
  }
  assert.equal(at, bytes.length, `${label}: ${bytes.length - at} bytes follow the expected frames`);
}

/** Asserts that the connection wrote nothing and is still open. */
export function assertSilentAndOpen(h: Harness, label = ""): void {
  assert.equal(h.writes.length, 0, `${label} wrote ${describeFrames(h.frames())}`);
  assert.equal(h.ends.length, 0, `${label} ended with ${JSON.stringify(h.ends[0]?.info)}`);
  assert.equal(h.connection.state, "open", label);
}

/**
 * Asserts that the connection failed with `code`: its last written frame is a
 * close frame carrying `code`, `end` was called once with `code` and
 * `wasClean: false`, and `closeInfo` agrees.
 */
export function assertFailed(h: Harness, code: number, label = ""): void {
  const frames = h.frames();
  const last = frames.at(-1);
  assert.ok(last !== undefined, `${label} expected a close frame with ${code}, nothing written`);
  assert.equal(last.opcode, OPCODE.Close, `${label} last frame: ${describeFrames(frames)}`);
  assert.equal(closeCodeOf(last), code, `${label} close frame code: ${describeFrames(frames)}`);
  assert.equal(
    frames.filter((frame) => frame.opcode === OPCODE.Close).length,
    1,
    `${label} close frames: ${describeFrames(frames)}`,
  );
  assert.equal(h.ends.length, 1, `${label} end calls`);
  const end = h.ends[0]!;
  assert.equal(end.info.code, code, `${label} end code, reason "${end.info.reason}"`);
  assert.equal(
    new TextDecoder().decode(last.payload.subarray(2)),
    end.info.reason,
    `${label} the reason sent is the reason reported`,
  );
  assert.equal(end.info.wasClean, false, `${label} wasClean`);
  assert.deepEqual(h.connection.closeInfo, end.info, `${label} closeInfo`);
  assert.equal(h.connection.state, "closed", label);
}

/**
 * Asserts a clean close started by the peer: the connection answered with one
 * close frame carrying `answerCode` (none for an empty answer), as its last
 * frame, and ended with `code`, `reason` and `wasClean: true`.
 */
export function assertClosedByPeer(
  h: Harness,
  code: number,
  reason: string,
  answerCode: number | undefined,
  label = "",
): void {
  const frames = h.frames();
  const last = frames.at(-1);
  assert.ok(last !== undefined, `${label} expected a close frame, nothing written`);
  assert.equal(last.opcode, OPCODE.Close, `${label} last frame: ${describeFrames(frames)}`);
  if (answerCode === undefined) {
    assert.equal(last.payload.length, 0, `${label} answer should be empty: ${hex(last.payload)}`);
  } else {
    // The answer echoes the code and the reason.
    const expected = concat(Uint8Array.of(answerCode >> 8, answerCode & 0xff), utf8(reason));
    assertBytes(last.payload, expected, `${label} answer`);
  }
  assert.equal(h.ends.length, 1, `${label} end calls`);
  assert.deepEqual(h.ends[0]!.info, { code, reason, wasClean: true }, label);
  assert.deepEqual(h.connection.closeInfo, { code, reason, wasClean: true }, label);
  assert.equal(h.connection.state, "closed", label);
}

/** A small seeded PRNG (mulberry32): the same seed gives the same numbers. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random integer in `[min, max]` from `random`. */
export function randomInt(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

/** Random bytes from `random`. */
export function randomBytes(random: () => number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}
