/**
 * Helpers shared by the tests: hex, byte builders, every way to chunk an
 * input, and assertions that run a decoder over all those chunkings.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Frame, FrameParser, type FrameParserOptions } from "../src/codec/frame.ts";
import { ProtocolError } from "../src/errors.ts";

/**
 * Parses hex such as `"81 05 48 65"` into bytes; whitespace is ignored.
 *
 * @param hex Pairs of hex digits.
 * @returns The bytes.
 */
export function hexToBytes(hex: string): Uint8Array {
  const digits = hex.replace(/\s+/g, "");
  if (digits.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(digits)) {
    throw new TypeError(`Cannot parse hex: ${JSON.stringify(hex)} is not pairs of hex digits`);
  }
  const bytes = new Uint8Array(digits.length / 2);
  for (let i = 0; i < bytes.length; i++) {
    bytes[i] = Number.parseInt(digits.slice(i * 2, i * 2 + 2), 16);
  }
  return bytes;
}

/**
 * Formats bytes as lowercase hex, one space between bytes.
 *
 * @param bytes The bytes.
 * @returns The hex.
 */
export function bytesToHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join(" ");
}

const encoder = new TextEncoder();

/**
 * Encodes a string as UTF-8.
 *
 * @param text The string.
 * @returns Its UTF-8 bytes.
 */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/**
 * Concatenates byte arrays into a new one.
 *
 * @param chunks The byte arrays.
 * @returns One array holding them all, in order.
 */
export function concat(...chunks: Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}

/**
 * Deterministic bytes that are not all equal and do not repeat every 4
 * bytes, so a mask or an offset error shows.
 *
 * @param length How many bytes.
 * @param seed Changes the sequence.
 * @returns The bytes.
 */
export function patternBytes(length: number, seed = 0): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + (i >> 8) * 7 + seed * 13 + 5) & 0xff;
  return bytes;
}

/**
 * The reference masking of RFC 6455 §5.3, one byte at a time:
 * `transformed[i] = original[i] ^ key[i % 4]`.
 *
 * @param data The bytes to mask; not modified.
 * @param key The 4-byte key.
 * @returns A masked copy.
 */
export function naiveMask(data: Uint8Array, key: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i]! ^ key[i % 4]!;
  return out;
}

/**
 * Builds a frame in the shape {@linkcode FrameParser} returns, reserved bits included.
 *
 * @param opcode The opcode.
 * @param payload The payload.
 * @param fin Whether the frame ends its message.
 * @returns The frame.
 */
export function frameOf(opcode: number, payload: Uint8Array | string, fin = true): Frame {
  return {
    fin,
    opcode,
    payload: typeof payload === "string" ? utf8(payload) : payload,
    rsv1: false,
    rsv2: false,
    rsv3: false,
  };
}

/**
 * Yields every way to cut `bytes` into two chunks, the cut at each offset
 * from 0 to `bytes.length` (so an empty chunk comes first, then last). The
 * chunks are fresh copies, since a parser unmasks in place.
 *
 * @param bytes The input.
 * @returns The pairs of chunks.
 */
export function* splitAtEveryOffset(bytes: Uint8Array): Generator<[Uint8Array, Uint8Array]> {
  for (let cut = 0; cut <= bytes.length; cut++) {
    yield [bytes.slice(0, cut), bytes.slice(cut)];
  }
}

/**
 * Like {@linkcode splitAtEveryOffset}, for inputs too large to cut everywhere:
 * cuts at every offset within `edge` bytes of either end, where headers and
 * their boundaries lie, and every `stride` bytes between.
 *
 * @param bytes The input.
 * @param edge How many offsets at each end are all cut.
 * @param stride The distance between cuts in the middle; odd, so the cuts fall at every residue mod 4.
 * @returns The pairs of chunks.
 */
export function* splitAtSampledOffsets(
  bytes: Uint8Array,
  edge = 64,
  stride = 1021,
): Generator<[Uint8Array, Uint8Array]> {
  for (let cut = 0; cut <= bytes.length; cut++) {
    if (cut > edge && cut < bytes.length - edge && cut % stride !== 0) continue;
    yield [bytes.slice(0, cut), bytes.slice(cut)];
  }
}

/**
 * Yields the input one byte at a time, each a fresh one-byte chunk.
 *
 * @param bytes The input.
 * @returns The one-byte chunks.
 */
export function* byteByByte(bytes: Uint8Array): Generator<Uint8Array> {
  for (let i = 0; i < bytes.length; i++) yield bytes.slice(i, i + 1);
}

/** One way to feed an input: a label for assertion messages and the chunks. */
export interface Chunking {
  /** Where the input was cut, for assertion messages. */
  label: string;
  /** The chunks, fresh copies. */
  chunks: Uint8Array[];
}

/** Inputs larger than this are cut at sampled offsets rather than at every one. */
export const EVERY_OFFSET_MAX_LENGTH = 4096;

/**
 * Yields every way a decoder test feeds its input: whole, cut in two at every
 * offset (sampled offsets past {@linkcode EVERY_OFFSET_MAX_LENGTH} bytes),
 * and byte by byte.
 *
 * @param bytes The input.
 * @returns The chunkings, each with fresh chunks.
 */
export function* chunkings(bytes: Uint8Array): Generator<Chunking> {
  yield { label: "whole", chunks: [bytes.slice()] };
  const splits = bytes.length <= EVERY_OFFSET_MAX_LENGTH
    ? splitAtEveryOffset(bytes)
    : splitAtSampledOffsets(bytes);
  for (const [head, tail] of splits) {
    yield { label: `cut at ${head.length}`, chunks: [head, tail] };
  }
  yield { label: "byte by byte", chunks: [...byteByByte(bytes)] };
}

/**
 * Returns a validator for `assert.throws` and `assert.rejects` that checks for
 * a {@linkcode ProtocolError} with the given close code and, optionally, a
 * message matching a pattern; a mismatch fails with a message naming both.
 *
 * @param closeCode The expected close code.
 * @param message A pattern the message must match.
 * @returns The validator.
 */
export function protocolError(
  closeCode: number,
  message?: RegExp,
): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof ProtocolError, `expected a ProtocolError, got ${String(error)}`);
    assert.equal(error.closeCode, closeCode, `close code of "${error.message}"`);
    if (message !== undefined) assert.match(error.message, message);
    return true;
  };
}

/**
 * Pushes one chunk into a parser and collects the frames it completes.
 *
 * @param parser The parser.
 * @param chunk The chunk.
 * @returns The frames the chunk completed, in order.
 */
export function pushChunk(parser: FrameParser, chunk: Uint8Array): Frame[] {
  const frames: Frame[] = [];
  parser.push(chunk, (frame) => frames.push(frame));
  return frames;
}

/**
 * Pushes chunks into a parser, one after the other.
 *
 * @param parser The parser.
 * @param chunks The chunks.
 * @returns Every frame the chunks completed.
 */
export function pushAll(parser: FrameParser, chunks: Iterable<Uint8Array>): Frame[] {
  const frames: Frame[] = [];
  for (const chunk of chunks) parser.push(chunk, (frame) => frames.push(frame));
  return frames;
}

/**
 * Asserts that a new parser decodes `bytes` into `expected` for every
 * chunking, and holds no partial frame afterwards.
 *
 * @param bytes The input.
 * @param options The parser's options.
 * @param expected The frames it must give.
 */
export function assertDecodes(
  bytes: Uint8Array,
  options: FrameParserOptions,
  expected: Frame[],
): void {
  for (const { label, chunks } of chunkings(bytes)) {
    const parser = new FrameParser(options);
    assert.deepEqual(pushAll(parser, chunks), expected, label);
    assert.equal(parser.hasPartialFrame, false, label);
  }
}

/**
 * Asserts that a new parser throws a {@linkcode ProtocolError} with the given
 * close code on `bytes`, for every chunking.
 *
 * @param bytes The input; the error must come by its last byte.
 * @param options The parser's options.
 * @param closeCode The expected close code.
 * @param message A pattern the message must match.
 */
export function assertDecodeFails(
  bytes: Uint8Array,
  options: FrameParserOptions,
  closeCode: number,
  message?: RegExp,
): void {
  for (const { label, chunks } of chunkings(bytes)) {
    const parser = new FrameParser(options);
    assert.throws(
      () => pushAll(parser, chunks),
      (error: unknown) => {
        assert.ok(error instanceof ProtocolError, `${label}: got ${String(error)}`);
        assert.equal(error.closeCode, closeCode, `${label}: "${error.message}"`);
        if (message !== undefined) assert.match(error.message, message, label);
        return true;
      },
      label,
    );
  }
}

/**
 * Reads a stream to its end (what `Array.fromAsync` does, which Node 20 lacks).
 *
 * @param stream The stream.
 * @returns Its chunks, in order.
 */
export async function collect<T>(stream: ReadableStream<T>): Promise<T[]> {
  const chunks: T[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}
