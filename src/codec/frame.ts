/**
 * The frame (RFC 6455 §5.2): its type, {@linkcode encodeFrame}, and the
 * synchronous incremental {@linkcode FrameParser} that the decoder stream and
 * the connection are built on.
 *
 * @module
 */

import { LimitError, ProtocolError, type ProtocolErrorOptions } from "../errors.ts";
import { maskRange, writeMaskKey } from "./mask.ts";
import { isControlOpcode, isKnownOpcode, OPCODE } from "./opcode.ts";

/** One WebSocket frame, with its payload unmasked. */
export interface Frame {
  /** Whether this is the final frame of its message (always `true` for control frames). */
  fin: boolean;
  /** The opcode; see {@linkcode OPCODE}. */
  opcode: number;
  /** The unmasked payload. */
  payload: Uint8Array;
  /**
   * The RSV1 bit, reserved for extensions.
   *
   * @default {false}
   */
  rsv1?: boolean;
  /**
   * The RSV2 bit, reserved for extensions.
   *
   * @default {false}
   */
  rsv2?: boolean;
  /**
   * The RSV3 bit, reserved for extensions.
   *
   * @default {false}
   */
  rsv3?: boolean;
}

/** Which end of the connection a codec works for; it decides which side masks. */
export type Role = "client" | "server";

/** The longest control frame payload (RFC 6455 §5.5). */
export const MAX_CONTROL_PAYLOAD = 125;
/** Default of {@linkcode FrameParserOptions.maxMessageSize}: 64 MiB. */
export const DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024 * 1024;
/** Default of {@linkcode FrameParserOptions.maxFragments}. */
export const DEFAULT_MAX_FRAGMENTS = 1 << 20;

/**
 * How a frame is masked: `true` for a fresh random key (the client role), a
 * 4-byte key to use that one, `false` or `undefined` for no mask (the server role).
 */
export type FrameMask = Uint8Array | boolean | undefined;

/** Options of {@linkcode encodeFrame}. */
export interface EncodeFrameOptions {
  /**
   * The masking: `true` for a fresh random key, a 4-byte key to use that one.
   *
   * @default {false}
   */
  mask?: FrameMask;
}

/**
 * Returns the size of the header {@linkcode writeFrameHeader} writes.
 *
 * @param payloadLength The length of the payload.
 * @param masked Whether a masking key follows the length.
 * @returns The header size in bytes: 2 to 14.
 */
export function frameHeaderSize(payloadLength: number, masked: boolean): number {
  const lengthSize = payloadLength < 126 ? 0 : payloadLength < 0x10000 ? 2 : 8;
  return 2 + lengthSize + (masked ? 4 : 0);
}

/**
 * Writes a frame header into `target` at `offset`, in the smallest length form.
 *
 * @param target Where to write; needs {@linkcode frameHeaderSize} bytes from `offset`.
 * @param offset Where the header starts.
 * @param frame The frame whose bits and length are written; its payload is not copied.
 * @param mask The masking, as in {@linkcode EncodeFrameOptions.mask}.
 * @returns The offset just past the header; the key, when masked, is the 4 bytes before it.
 * @throws {RangeError} When a masking key is not 4 bytes.
 */
export function writeFrameHeader(
  target: Uint8Array,
  offset: number,
  frame: Frame,
  mask: FrameMask,
): number {
  const length = frame.payload.length;
  target[offset] = (frame.fin ? 0x80 : 0) | (frame.rsv1 ? 0x40 : 0) | (frame.rsv2 ? 0x20 : 0) |
    (frame.rsv3 ? 0x10 : 0) | (frame.opcode & 0x0f);
  const maskBit = mask === undefined || mask === false ? 0 : 0x80;
  let at = offset + 2;
  if (length < 126) {
    target[offset + 1] = maskBit | length;
  } else if (length < 0x10000) {
    target[offset + 1] = maskBit | 126;
    target[at++] = length >>> 8;
    target[at++] = length & 0xff;
  } else {
    target[offset + 1] = maskBit | 127;
    const high = Math.floor(length / 0x1_0000_0000);
    const low = length >>> 0;
    target[at++] = high >>> 24;
    target[at++] = (high >>> 16) & 0xff;
    target[at++] = (high >>> 8) & 0xff;
    target[at++] = high & 0xff;
    target[at++] = low >>> 24;
    target[at++] = (low >>> 16) & 0xff;
    target[at++] = (low >>> 8) & 0xff;
    target[at++] = low & 0xff;
  }
  if (mask === true) {
    writeMaskKey(target, at);
    at += 4;
  } else if (mask instanceof Uint8Array) {
    if (mask.length !== 4) throw new RangeError(`Cannot mask: key is ${mask.length} bytes, not 4`);
    target.set(mask, at);
    at += 4;
  }
  return at;
}

/**
 * Encodes a frame into one buffer: the header in its smallest length form,
 * then the payload, masked when `options.mask` asks for it. The frame's own
 * payload is never modified.
 *
 * @param frame The frame to encode.
 * @param options The masking, for the client role.
 * @returns The frame's bytes.
 * @throws {RangeError} When a masking key is not 4 bytes.
 *
 * @example The RFC 6455 §5.7 examples
 * ```ts
 * import { encodeFrame, OPCODE } from "@seed/websocket/codec";
 * import assert from "node:assert/strict";
 *
 * const payload = new TextEncoder().encode("Hello");
 * // A single-frame unmasked text message
 * assert.deepEqual(
 *   encodeFrame({ fin: true, opcode: OPCODE.Text, payload }),
 *   new Uint8Array([0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]),
 * );
 * // A single-frame masked text message
 * const mask = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);
 * assert.deepEqual(
 *   encodeFrame({ fin: true, opcode: OPCODE.Text, payload }, { mask }),
 *   new Uint8Array([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]),
 * );
 * ```
 */
export function encodeFrame(frame: Frame, options: EncodeFrameOptions = {}): Uint8Array {
  return encodeFrameWith(frame, options.mask);
}

function encodeFrameWith(frame: Frame, mask: FrameMask): Uint8Array {
  const masked = mask !== undefined && mask !== false;
  const length = frame.payload.length;
  const bytes = new Uint8Array(frameHeaderSize(length, masked) + length);
  const payloadStart = writeFrameHeader(bytes, 0, frame, mask);
  bytes.set(frame.payload, payloadStart);
  if (masked) maskRange(bytes, payloadStart, bytes.length, bytes, payloadStart - 4);
  return bytes;
}

const textEncoder = new TextEncoder();

/**
 * Encodes a whole text message as one frame, its UTF-8 written straight
 * behind the header: one buffer and no intermediate copy, where encoding the
 * text first and then the frame would make two. The buffer is sized for the
 * longest UTF-8 the text could take, so this suits short texts.
 *
 * @param text The message.
 * @param mask Whether to mask it with a fresh random key, as a client must.
 * @returns The frame's bytes.
 *
 * @example A text frame, byte for byte as encodeFrame makes it
 * ```ts
 * import { encodeFrame, encodeTextFrame, OPCODE } from "@seed/websocket/codec";
 * import assert from "node:assert/strict";
 *
 * const payload = new TextEncoder().encode("héllo");
 * assert.deepEqual(encodeTextFrame("héllo", false), encodeFrame({ fin: true, opcode: OPCODE.Text, payload }));
 * ```
 */
export function encodeTextFrame(text: string, mask: boolean): Uint8Array {
  const maxLength = text.length * 3;
  const payloadStart = frameHeaderSize(maxLength, mask);
  const buffer = new Uint8Array(payloadStart + maxLength);
  const { written } = textEncoder.encodeInto(text, buffer.subarray(payloadStart));
  const payloadEnd = payloadStart + written;
  // The header goes right before the payload, in the form its real length takes.
  const start = payloadStart - frameHeaderSize(written, mask);
  const payload = buffer.subarray(payloadStart, payloadEnd);
  writeFrameHeader(buffer, start, { fin: true, opcode: OPCODE.Text, payload }, mask);
  if (mask) maskRange(buffer, payloadStart, payloadEnd, buffer, payloadStart - 4);
  return buffer.subarray(start, payloadEnd);
}

/**
 * Checks an outgoing fragment size option.
 *
 * @param value The option's value.
 * @param what What is being created, for the error message.
 * @returns The fragment size; `Infinity` when `value` is undefined.
 * @throws {RangeError} Unless the value is a whole number of at least 1, or `Infinity`.
 */
export function checkFragmentSize(value: number | undefined, what: string): number {
  if (value === undefined || value === Infinity) return Infinity;
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(
      `Cannot create ${what}: fragmentSize must be a whole number of at least 1, got ${value}`,
    );
  }
  return value;
}

// Unmasked payloads from this size on are passed on as their own chunk rather
// than copied behind the header.
export const ZERO_COPY_MIN_PAYLOAD = 16 * 1024;

/**
 * Encodes a frame for a transport that takes several chunks: one chunk for a
 * small or masked frame, or the header and then the payload itself, uncopied,
 * for an unmasked payload of 16 KiB or more.
 *
 * @param frame The frame to encode.
 * @param mask The masking, as in {@linkcode EncodeFrameOptions.mask}.
 * @param emit Receives the chunks, in order.
 * @throws {RangeError} When a masking key is not 4 bytes.
 *
 * @example A large unmasked payload is not copied
 * ```ts
 * import { encodeFrameChunks, OPCODE } from "@seed/websocket/codec";
 * import assert from "node:assert/strict";
 *
 * const payload = new Uint8Array(65536);
 * const chunks: Uint8Array[] = [];
 * encodeFrameChunks({ fin: true, opcode: OPCODE.Binary, payload }, false, (c) => chunks.push(c));
 * assert.deepEqual(chunks[0], new Uint8Array([0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]));
 * assert.equal(chunks[1], payload);
 * ```
 */
export function encodeFrameChunks(
  frame: Frame,
  mask: FrameMask,
  emit: (chunk: Uint8Array) => void,
): void {
  const length = frame.payload.length;
  if ((mask !== undefined && mask !== false) || length < ZERO_COPY_MIN_PAYLOAD) {
    emit(encodeFrameWith(frame, mask));
    return;
  }
  const header = new Uint8Array(frameHeaderSize(length, false));
  writeFrameHeader(header, 0, frame, false);
  emit(header);
  emit(frame.payload);
}

/** Options of {@linkcode FrameParser}. */
export interface FrameParserOptions {
  /**
   * The side this parser decodes for. A server accepts only masked frames, a
   * client only unmasked ones (RFC 6455 §5.1).
   */
  role: Role;
  /**
   * The largest frame payload accepted, in bytes; a larger one fails with 1009
   * as soon as its header is read, before any payload is buffered.
   *
   * @default {maxMessageSize}
   */
  maxFrameSize?: number;
  /**
   * The largest message accepted, summed over its fragments, in bytes; a frame
   * that would take a message past it fails with 1009 as soon as its header is read.
   *
   * @default {67108864}
   */
  maxMessageSize?: number;
  /**
   * The most frames one message may be split into; one more fails with 1008.
   *
   * @default {1048576}
   */
  maxFragments?: number;
  /**
   * Whether an extension that uses RSV1 was negotiated (permessage-deflate,
   * RFC 7692 §6): the first frame of a data message may then set it, and
   * the frame reports it. It stays a 1002 on a control or continuation frame.
   *
   * @default {false}
   */
  allowRsv1?: boolean;
  /**
   * When given, a message over `maxMessageSize` does not fail the
   * connection: its frames are read and dropped without being buffered
   * (`maxFrameSize` does not apply to them), and this is called once, when
   * the frame that takes it past the limit starts, with a
   * {@linkcode LimitError} (close code 1009, the connection stays open).
   */
  onOversizedMessage?: (error: LimitError) => void;
}

const enum Step {
  Header,
  Payload,
}

const EMPTY = new Uint8Array(0);
// The first buffer of a payload split across chunks.
/**
 * Pieces of a split payload at least this long are kept as views of the
 * chunks they came in; shorter ones are copied together, so that a peer
 * trickling bytes cannot make the parser hold one object per byte.
 */
const VIEW_PIECE_MIN = 4096;
/** The size of the buffers short pieces are copied into. */
const STAGING_SIZE = 16 * 1024;

// The largest 64-bit length whose value is exact as a JavaScript number.
const MAX_SAFE_HIGH_WORD = 0x1f_ffff;

/**
 * Decodes bytes into frames, synchronously and incrementally: each
 * {@linkcode FrameParser.push} hands the frames its bytes completed to a
 * callback, in order, whatever the chunking. It enforces the framing rules of
 * RFC 6455 §5 (masking, reserved bits and opcodes, control frame rules,
 * minimal lengths, fragment order) and the size limits, throwing a
 * {@linkcode ProtocolError} with the close code to send on the first
 * violation, after the frames before it were handed over: a valid message
 * followed by a bad frame in the same chunk is still delivered. After an
 * error the parser stays failed.
 *
 * A frame that lies whole inside one pushed chunk gets a payload that is a
 * view into that chunk, unmasked in place: the parser takes ownership of the
 * chunks it is given. Only a frame split across chunks is copied, once, when
 * its last byte arrives; until then its pieces are held as they came (short
 * ones copied together), so the memory it holds grows with the bytes
 * received, whatever length its header announced.
 *
 * @example Decoding a frame split across two chunks
 * ```ts
 * import { type Frame, FrameParser, OPCODE } from "@seed/websocket/codec";
 * import assert from "node:assert/strict";
 *
 * const parser = new FrameParser({ role: "client" });
 * const frames: Frame[] = [];
 * parser.push(new Uint8Array([0x81, 0x05, 0x48, 0x65]), (frame) => frames.push(frame));
 * assert.equal(frames.length, 0);
 * parser.push(new Uint8Array([0x6c, 0x6c, 0x6f]), (frame) => frames.push(frame));
 * assert.equal(frames[0]?.opcode, OPCODE.Text);
 * assert.equal(new TextDecoder().decode(frames[0]?.payload), "Hello");
 * ```
 *
 * @example A server refuses an unmasked frame with 1002
 * ```ts
 * import { FrameParser, ProtocolError } from "@seed/websocket/codec";
 * import assert from "node:assert/strict";
 *
 * const parser = new FrameParser({ role: "server" });
 * assert.throws(
 *   () => parser.push(new Uint8Array([0x81, 0x00]), () => {}),
 *   (error) => error instanceof ProtocolError && error.closeCode === 1002,
 * );
 * ```
 */
export class FrameParser {
  readonly #expectMasked: boolean;
  readonly #maxFrameSize: number;
  readonly #maxMessageSize: number;
  readonly #maxFragments: number;
  readonly #allowRsv1: boolean;

  #step = Step.Header;
  #failure: ProtocolError | undefined;
  // A header split across chunks is gathered here (at most 14 bytes).
  readonly #header = new Uint8Array(14);
  #headerFilled = 0;
  // The frame being read.
  #fin = false;
  #opcode = 0;
  #rsv1 = false;
  #masked = false;
  readonly #mask = new Uint8Array(4);
  #length = 0;
  // A payload split across chunks: its pieces so far, and how many bytes they hold.
  #pieces: Uint8Array[] = [];
  #payloadFilled = 0;
  // Where short pieces are copied together.
  #staging = EMPTY;
  #stagingFilled = 0;
  // The fragmented message in progress, if any.
  #inMessage = false;
  #messageSize = 0;
  #fragments = 0;
  // Skipping an oversized message: whether its later frames are dropped, and this frame.
  readonly #onOversizedMessage: ((error: LimitError) => void) | undefined;
  #skippingMessage = false;
  #skippingFrame = false;

  /**
   * Constructs a new instance.
   *
   * @param options The role and the limits.
   * @throws {RangeError} When a size limit is negative or `maxFragments` is below 1.
   */
  constructor(options: FrameParserOptions) {
    this.#expectMasked = options.role === "server";
    this.#maxMessageSize = checkLimit("maxMessageSize", options.maxMessageSize) ??
      DEFAULT_MAX_MESSAGE_SIZE;
    this.#maxFrameSize = checkLimit("maxFrameSize", options.maxFrameSize) ??
      this.#maxMessageSize;
    this.#maxFragments = checkLimit("maxFragments", options.maxFragments, 1) ??
      DEFAULT_MAX_FRAGMENTS;
    this.#allowRsv1 = options.allowRsv1 ?? false;
    this.#onOversizedMessage = options.onOversizedMessage;
  }

  /**
   * Feeds bytes to the parser. An error thrown by `onFrame` propagates at
   * once; the rest of the chunk is not parsed and the parser stays failed.
   *
   * @param chunk The next bytes of the stream; masked payloads inside it are unmasked in place.
   * @param onFrame Called with each frame these bytes complete, in order.
   * @throws {ProtocolError} On the first framing violation or exceeded limit,
   * after the frames before it; every later call throws it again.
   */
  push(chunk: Uint8Array, onFrame: (frame: Frame) => void): void {
    if (this.#failure !== undefined) throw this.#failure;
    try {
      this.#parse(chunk, onFrame);
    } catch (error) {
      // A throwing onFrame leaves the rest of the chunk unread: the stream's
      // position is lost, so the parser cannot go on either.
      this.#failure ??= new ProtocolError("Cannot decode frame: a frame handler failed", {
        closeCode: 1011,
        cause: error,
      });
      throw error;
    }
  }

  /** Whether bytes of an unfinished frame are held, so that ending the stream now cuts a frame. */
  get hasPartialFrame(): boolean {
    return this.#headerFilled > 0 || this.#step === Step.Payload;
  }

  #parse(chunk: Uint8Array, onFrame: (frame: Frame) => void): void {
    const end = chunk.length;
    let at = 0;
    while (at < end) {
      if (this.#step === Step.Header) {
        const consumed = this.#readHeader(chunk, at);
        if (consumed < 0) break;
        at += consumed;
        const length = this.#length;
        if (this.#skippingFrame) {
          // A frame of an oversized message: its payload is dropped as it comes.
          const take = Math.min(end - at, length);
          at += take;
          this.#payloadFilled = take;
          if (take === length) this.#skippingFrame = false;
          else this.#step = Step.Payload;
        } else if (end - at >= length) {
          // The whole payload is in this chunk: hand out a view, no copy.
          const payload = length === 0
            ? EMPTY
            : new Uint8Array(chunk.buffer, chunk.byteOffset + at, length);
          at += length;
          if (this.#masked) maskRange(payload, 0, length, this.#mask, 0);
          onFrame(this.#completeFrame(payload));
        } else {
          // The payload continues past this chunk: hold its pieces until the
          // last one arrives, so a header announcing a large frame costs no
          // memory until the frame's bytes come.
          this.#payloadFilled = 0;
          this.#addPiece(chunk.subarray(at, end));
          at = end;
          this.#step = Step.Payload;
        }
      } else if (this.#skippingFrame) {
        const take = Math.min(end - at, this.#length - this.#payloadFilled);
        this.#payloadFilled += take;
        at += take;
        if (this.#payloadFilled === this.#length) {
          this.#step = Step.Header;
          this.#skippingFrame = false;
        }
      } else {
        const take = Math.min(end - at, this.#length - this.#payloadFilled);
        this.#addPiece(chunk.subarray(at, at + take));
        at += take;
        if (this.#payloadFilled === this.#length) {
          this.#step = Step.Header;
          onFrame(this.#completeFrame(this.#joinPieces()));
        }
      }
    }
  }

  #addPiece(piece: Uint8Array): void {
    this.#payloadFilled += piece.length;
    if (piece.length >= VIEW_PIECE_MIN) {
      this.#flushStaging();
      this.#pieces.push(piece);
      return;
    }
    if (this.#staging.length - this.#stagingFilled < piece.length) {
      this.#flushStaging();
      // Never larger than what the frame still needs.
      const remaining = this.#length - this.#payloadFilled + piece.length;
      this.#staging = new Uint8Array(Math.min(STAGING_SIZE, remaining));
    }
    this.#staging.set(piece, this.#stagingFilled);
    this.#stagingFilled += piece.length;
  }

  #flushStaging(): void {
    if (this.#stagingFilled === 0) return;
    this.#pieces.push(this.#staging.subarray(0, this.#stagingFilled));
    this.#staging = this.#staging.subarray(this.#stagingFilled);
    this.#stagingFilled = 0;
  }

  /** Copies the pieces of the payload into one buffer, unmasked, and forgets them. */
  #joinPieces(): Uint8Array {
    this.#flushStaging();
    this.#staging = EMPTY;
    const pieces = this.#pieces;
    this.#pieces = [];
    let payload: Uint8Array;
    if (pieces.length === 1 && pieces[0]!.length === this.#length) {
      payload = pieces[0]!;
    } else {
      payload = new Uint8Array(this.#length);
      let offset = 0;
      for (const piece of pieces) {
        payload.set(piece, offset);
        offset += piece.length;
      }
    }
    if (this.#masked) maskRange(payload, 0, this.#length, this.#mask, 0);
    return payload;
  }

  /**
   * Reads a header at `chunk[at]`, continuing one gathered from earlier chunks.
   * Returns how many bytes of `chunk` it used, or -1 when all of them went
   * into a header that is still incomplete.
   */
  #readHeader(chunk: Uint8Array, at: number): number {
    const available = chunk.length - at;
    const header = this.#header;
    if (this.#headerFilled === 0 && available >= 2) {
      // Fail fast: the first two bytes decide most rules, whatever follows.
      this.#checkFirstTwoBytes(chunk[at]!, chunk[at + 1]!);
      const size = headerSizeOf(chunk[at + 1]!);
      if (available >= size) {
        this.#decodeLength(chunk, at);
        return size;
      }
      header.set(chunk.subarray(at));
      this.#headerFilled = available;
      return -1;
    }
    let used = 0;
    if (this.#headerFilled < 2) {
      used = Math.min(2 - this.#headerFilled, available);
      header.set(chunk.subarray(at, at + used), this.#headerFilled);
      this.#headerFilled += used;
      if (this.#headerFilled < 2) return -1;
      this.#checkFirstTwoBytes(header[0]!, header[1]!);
    }
    const size = headerSizeOf(header[1]!);
    const take = Math.min(size - this.#headerFilled, available - used);
    header.set(chunk.subarray(at + used, at + used + take), this.#headerFilled);
    this.#headerFilled += take;
    used += take;
    if (this.#headerFilled < size) return -1;
    this.#headerFilled = 0;
    this.#decodeLength(header, 0);
    return used;
  }

  /** Checks the rules that the first two header bytes alone decide. */
  #checkFirstTwoBytes(byte0: number, byte1: number): void {
    const fin = (byte0 & 0x80) !== 0;
    const opcode = byte0 & 0x0f;
    const masked = (byte1 & 0x80) !== 0;
    const length7 = byte1 & 0x7f;
    // RFC 6455 §5.2: reserved bits must be 0 unless an extension defines
    // them; RFC 7692 §6: permessage-deflate sets RSV1 on a message's first frame.
    const rsv1 = this.#allowRsv1 && (byte0 & 0x40) !== 0 && opcode !== OPCODE.Continuation &&
      !isControlOpcode(opcode);
    if ((byte0 & (rsv1 ? 0x30 : 0x70)) !== 0) {
      if (this.#allowRsv1 && (byte0 & 0x70) === 0x40) {
        throw this.#fail(
          `Cannot decode frame: RSV1 is set on a ${
            opcode === OPCODE.Continuation ? "continuation" : "control"
          } frame`,
        );
      }
      throw this.#fail(
        `Cannot decode frame: reserved bits 0x${((byte0 & 0x70) >> 4).toString(16)} are set ` +
          "without a negotiated extension",
      );
    }
    if (!isKnownOpcode(opcode)) {
      throw this.#fail(`Cannot decode frame: opcode 0x${opcode.toString(16)} is reserved`);
    }
    if (isControlOpcode(opcode)) {
      // RFC 6455 §5.5: control frames are never fragmented and carry at most 125 bytes.
      if (!fin) throw this.#fail("Cannot decode frame: control frame is fragmented");
      if (length7 > MAX_CONTROL_PAYLOAD) {
        throw this.#fail(
          `Cannot decode frame: control frame payload is over ${MAX_CONTROL_PAYLOAD} bytes`,
        );
      }
    } else if (opcode === OPCODE.Continuation) {
      if (!this.#inMessage) {
        throw this.#fail(
          "Cannot decode frame: continuation frame without a message to continue",
        );
      }
    } else if (this.#inMessage) {
      throw this.#fail(
        "Cannot decode frame: new message started inside a fragmented message",
      );
    }
    // RFC 6455 §5.1: clients mask every frame, servers mask none.
    if (masked !== this.#expectMasked) {
      throw this.#fail(
        this.#expectMasked
          ? "Cannot decode frame: a client frame is not masked"
          : "Cannot decode frame: a server frame is masked",
      );
    }
    this.#fin = fin;
    this.#opcode = opcode;
    this.#rsv1 = rsv1;
    this.#masked = masked;
  }

  /** Reads the payload length and masking key of a complete header and checks the limits. */
  #decodeLength(header: Uint8Array, start: number): void {
    const length7 = header[start + 1]! & 0x7f;
    let at = start + 2;
    let length = length7;
    if (length7 === 126) {
      length = (header[at]! << 8) | header[at + 1]!;
      at += 2;
      // RFC 6455 §5.2: the minimal number of bytes must be used for the length.
      if (length < 126) {
        throw this.#fail(`Cannot decode frame: length ${length} uses the 16-bit form`);
      }
    } else if (length7 === 127) {
      const high = ((header[at]! << 24) | (header[at + 1]! << 16) | (header[at + 2]! << 8) |
        header[at + 3]!) >>> 0;
      const low = ((header[at + 4]! << 24) | (header[at + 5]! << 16) | (header[at + 6]! << 8) |
        header[at + 7]!) >>> 0;
      at += 8;
      if (high >= 0x8000_0000) {
        throw this.#fail(
          "Cannot decode frame: the most significant bit of the length is set",
        );
      }
      // Past 2^53 - 1 a number cannot hold the length exactly; no limit can be that high anyway.
      if (high > MAX_SAFE_HIGH_WORD) {
        throw this.#fail("Cannot decode frame: length is over 2^53 - 1 bytes", {
          closeCode: 1009,
        });
      }
      length = high * 0x1_0000_0000 + low;
      if (length < 0x10000) {
        throw this.#fail(`Cannot decode frame: length ${length} uses the 64-bit form`);
      }
    }
    if (this.#masked) this.#mask.set(header.subarray(at, at + 4));
    if (this.#skip(length)) return;
    if (length > this.#maxFrameSize) {
      throw this.#fail(
        `Cannot decode frame: payload is ${length} bytes, limit is ${this.#maxFrameSize}`,
        { closeCode: 1009 },
      );
    }
    if (!isControlOpcode(this.#opcode)) {
      const messageSize = (this.#opcode === OPCODE.Continuation ? this.#messageSize : 0) + length;
      if (messageSize > this.#maxMessageSize) {
        throw this.#fail(
          `Cannot decode message: it is over ${this.#maxMessageSize} bytes, the limit`,
          { closeCode: 1009 },
        );
      }
      const fragments = (this.#opcode === OPCODE.Continuation ? this.#fragments : 0) + 1;
      if (fragments > this.#maxFragments) {
        throw this.#fail(
          `Cannot decode message: it has over ${this.#maxFragments} fragments, the limit`,
          { closeCode: 1008 },
        );
      }
      this.#messageSize = messageSize;
      this.#fragments = fragments;
      this.#inMessage = !this.#fin;
    }
    this.#length = length;
  }

  /**
   * Decides whether the data frame whose header was just read belongs to an
   * oversized message that `onOversizedMessage` lets us skip, and if so
   * prepares to drop its payload.
   */
  #skip(length: number): boolean {
    if (this.#onOversizedMessage === undefined || isControlOpcode(this.#opcode)) return false;
    const continuation = this.#opcode === OPCODE.Continuation;
    if (!(continuation && this.#skippingMessage)) {
      const messageSize = (continuation ? this.#messageSize : 0) + length;
      if (messageSize <= this.#maxMessageSize) return false;
      this.#onOversizedMessage(
        new LimitError(
          `Cannot receive message: it is over ${this.#maxMessageSize} bytes, the limit; skipped`,
          { closeCode: 1009, option: "maxMessageSize", limit: this.#maxMessageSize },
        ),
      );
    }
    this.#skippingMessage = !this.#fin;
    this.#inMessage = !this.#fin;
    this.#messageSize = 0;
    this.#fragments = 0;
    this.#length = length;
    this.#skippingFrame = length > 0;
    return true;
  }

  /** Records a violation, so that the parser stays failed, and returns it to throw. */
  #fail(message: string, options?: ProtocolErrorOptions): ProtocolError {
    this.#failure = new ProtocolError(message, options);
    return this.#failure;
  }

  #completeFrame(payload: Uint8Array): Frame {
    return {
      fin: this.#fin,
      opcode: this.#opcode,
      payload,
      rsv1: this.#rsv1,
      rsv2: false,
      rsv3: false,
    };
  }
}

function headerSizeOf(byte1: number): number {
  const length7 = byte1 & 0x7f;
  return 2 + (length7 === 126 ? 2 : length7 === 127 ? 8 : 0) + ((byte1 & 0x80) !== 0 ? 4 : 0);
}

function checkLimit(name: string, value: number | undefined, minimum = 0): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || Number.isNaN(value) || value < minimum) {
    throw new RangeError(
      `Cannot create parser: ${name} must be a number of at least ${minimum}, got ${value}`,
    );
  }
  return value;
}
