/**
 * The WebSocket frame codec (RFC 6455 §5), free of I/O: a synchronous
 * incremental {@linkcode FrameParser}, {@linkcode encodeFrame}, the
 * {@linkcode FrameDecoderStream} and {@linkcode FrameEncoderStream} pair built
 * on them, and the opcode and close code tables.
 *
 * @example A client encodes, a server decodes
 * ```ts
 * import { encodeFrame, FrameParser, OPCODE } from "@seed/websocket/codec";
 * import assert from "node:assert/strict";
 *
 * const payload = new TextEncoder().encode("ping?");
 * const bytes = encodeFrame({ fin: true, opcode: OPCODE.Text, payload }, { mask: true });
 * const texts: string[] = [];
 * new FrameParser({ role: "server" }).push(bytes, (frame) => {
 *   texts.push(new TextDecoder().decode(frame.payload));
 * });
 * assert.deepEqual(texts, ["ping?"]);
 * ```
 *
 * @module
 */

export { isControlOpcode, isKnownOpcode, OPCODE, type Opcode } from "./opcode.ts";
export {
  CLOSE_CODE,
  type CloseCode,
  type ClosePayload,
  encodeClosePayload,
  isValidCloseCode,
  parseClosePayload,
} from "./close_code.ts";
export { applyMask, generateMaskKey } from "./mask.ts";
export { decodeUtf8, Utf8StreamDecoder } from "./utf8.ts";
export {
  encodeFrame,
  encodeFrameChunks,
  type EncodeFrameOptions,
  encodeTextFrame,
  type Frame,
  type FrameMask,
  FrameParser,
  type FrameParserOptions,
  type Role,
} from "./frame.ts";
export { FrameDecoderStream, type FrameDecoderStreamOptions } from "./frame_decoder_stream.ts";
export { FrameEncoderStream, type FrameEncoderStreamOptions } from "./frame_encoder_stream.ts";
export {
  LimitError,
  type LimitErrorOptions,
  ProtocolError,
  type ProtocolErrorOptions,
} from "../errors.ts";
