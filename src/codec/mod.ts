/**
 * The WebSocket frame codec (RFC 6455 §5), free of I/O: a synchronous
 * incremental {@linkcode FrameParser}, {@linkcode encodeFrame}, the
 * {@linkcode FrameDecoderStream} and {@linkcode FrameEncoderStream} pair built
 * on them, and the opcode and close code tables.
 *
 * @example A client encodes, a server decodes
 * ```ts
 * import { encodeFrame, FrameParser, generateMaskKey, OPCODE } from "@seed/websocket/codec";
 * import assert from "node:assert/strict";
 *
 * const payload = new TextEncoder().encode("ping?");
 * const bytes = encodeFrame({ fin: true, opcode: OPCODE.Text, payload }, {
 *   mask: generateMaskKey(),
 * });
 * const [frame] = new FrameParser({ role: "server" }).push(bytes);
 * assert.equal(new TextDecoder().decode(frame?.payload), "ping?");
 * ```
 *
 * @module
 */

export * from "./opcode.ts";
export * from "./close_code.ts";
export * from "./mask.ts";
export * from "./utf8.ts";
export * from "./frame.ts";
export * from "./frame_decoder_stream.ts";
export * from "./frame_encoder_stream.ts";
export { ProtocolError } from "../errors.ts";
