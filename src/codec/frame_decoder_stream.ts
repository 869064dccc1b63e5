/**
 * {@linkcode FrameDecoderStream}: bytes in, frames out.
 *
 * @module
 */

import { ProtocolError } from "../errors.ts";
import { type Frame, FrameParser, type FrameParserOptions } from "./frame.ts";

/** Options of {@linkcode FrameDecoderStream}: the same as the parser's. */
export type FrameDecoderStreamOptions = FrameParserOptions;

/**
 * Transforms a byte stream into WebSocket frames, whatever the chunking, with
 * the rules and limits of {@linkcode FrameParser}. On the first violation the
 * stream errors with a {@linkcode ProtocolError} whose `closeCode` is the code
 * to send. Frames whole inside one chunk carry views into it, unmasked in
 * place: do not reuse chunks written to this stream.
 *
 * @example Decoding frames from a byte stream
 * ```ts
 * import { FrameDecoderStream, OPCODE } from "@seed/websocket/codec";
 * import assert from "node:assert/strict";
 *
 * // A text frame and a ping, split in the middle of the first
 * const frames = ReadableStream.from([
 *   new Uint8Array([0x81, 0x02, 0x68]),
 *   new Uint8Array([0x69, 0x89, 0x00]),
 * ]).pipeThrough(new FrameDecoderStream({ role: "client" }));
 *
 * const opcodes = [];
 * for await (const frame of frames) opcodes.push(frame.opcode);
 * assert.deepEqual(opcodes, [OPCODE.Text, OPCODE.Ping]);
 * ```
 *
 * @example A protocol violation errors the stream with its close code
 * ```ts
 * import { FrameDecoderStream, ProtocolError } from "@seed/websocket/codec";
 * import assert from "node:assert/strict";
 *
 * // Opcode 0x3 is reserved
 * const frames = ReadableStream.from([new Uint8Array([0x83, 0x00])])
 *   .pipeThrough(new FrameDecoderStream({ role: "client" }));
 * await assert.rejects(
 *   frames.getReader().read(),
 *   (error) => error instanceof ProtocolError && error.closeCode === 1002,
 * );
 * ```
 */
export class FrameDecoderStream extends TransformStream<Uint8Array, Frame> {
  /**
   * Constructs a new instance.
   *
   * @param options The role and the limits.
   * @throws {RangeError} When a limit is not a non-negative number.
   */
  constructor(options: FrameDecoderStreamOptions) {
    const parser = new FrameParser(options);
    super({
      transform(chunk, controller) {
        parser.push(chunk, (frame) => controller.enqueue(frame));
      },
      flush() {
        if (parser.hasPartialFrame) {
          throw new ProtocolError("Cannot decode frame: stream ended inside a frame", {
            closeCode: 1006,
          });
        }
      },
    });
  }
}
