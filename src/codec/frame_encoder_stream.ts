/**
 * {@linkcode FrameEncoderStream}: frames in, bytes out.
 *
 * @module
 */

import { checkFragmentSize, encodeFrameChunks, type Frame, type Role } from "./frame.ts";
import { isControlOpcode, OPCODE } from "./opcode.ts";

/** Options of {@linkcode FrameEncoderStream}. */
export interface FrameEncoderStreamOptions {
  /** The side this encoder writes for. A client masks every frame with a fresh random key. */
  role: Role;
  /**
   * The largest payload of one data frame, in bytes; a longer data frame is
   * written as several fragments. Control frames are never split.
   *
   * @default {Infinity}
   */
  fragmentSize?: number;
}

/**
 * Transforms WebSocket frames into bytes: the smallest length form, masked
 * with a fresh random key per frame in the client role, and data frames split
 * into fragments of at most `fragmentSize` bytes. The frames' payloads are not
 * modified; an unmasked payload of 16 KiB or more is passed on as its own
 * chunk, uncopied, so it must not change until it has been written.
 *
 * @example Encoding a server's frames
 * ```ts
 * import { FrameEncoderStream, OPCODE } from "@seed/websocket/codec";
 * import assert from "node:assert/strict";
 *
 * const payload = new TextEncoder().encode("Hello");
 * const bytes = ReadableStream.from([{ fin: true, opcode: OPCODE.Text, payload }])
 *   .pipeThrough(new FrameEncoderStream({ role: "server" }));
 * const { value } = await bytes.getReader().read();
 * assert.deepEqual(value, new Uint8Array([0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]));
 * ```
 *
 * @example Splitting a message into fragments
 * ```ts
 * import { FrameEncoderStream, OPCODE } from "@seed/websocket/codec";
 * import assert from "node:assert/strict";
 *
 * const payload = new TextEncoder().encode("Hello");
 * const bytes = ReadableStream.from([{ fin: true, opcode: OPCODE.Text, payload }])
 *   .pipeThrough(new FrameEncoderStream({ role: "server", fragmentSize: 3 }));
 * const chunks = [];
 * for await (const chunk of bytes) chunks.push(chunk);
 * assert.deepEqual(chunks, [
 *   new Uint8Array([0x01, 0x03, 0x48, 0x65, 0x6c]), // "Hel", not final
 *   new Uint8Array([0x80, 0x02, 0x6c, 0x6f]), // continuation "lo", final
 * ]);
 * ```
 */
export class FrameEncoderStream extends TransformStream<Frame, Uint8Array> {
  /**
   * Constructs a new instance.
   *
   * @param options The role and the fragment size.
   * @throws {RangeError} When `fragmentSize` is not a whole number of at least 1.
   */
  constructor(options: FrameEncoderStreamOptions) {
    const masked = options.role === "client";
    const fragmentSize = checkFragmentSize(options.fragmentSize, "encoder");
    const emit = (frame: Frame, controller: TransformStreamDefaultController<Uint8Array>) =>
      encodeFrameChunks(
        frame,
        masked,
        (chunk) => controller.enqueue(chunk),
      );
    super({
      transform(frame, controller) {
        const length = frame.payload.length;
        if (length <= fragmentSize || isControlOpcode(frame.opcode)) {
          emit(frame, controller);
          return;
        }
        for (let start = 0; start < length; start += fragmentSize) {
          const end = Math.min(start + fragmentSize, length);
          emit(
            {
              fin: frame.fin && end === length,
              opcode: start === 0 ? frame.opcode : OPCODE.Continuation,
              payload: frame.payload.subarray(start, end),
              rsv1: start === 0 && frame.rsv1 === true,
              rsv2: start === 0 && frame.rsv2 === true,
              rsv3: start === 0 && frame.rsv3 === true,
            },
            controller,
          );
        }
      },
    });
  }
}
