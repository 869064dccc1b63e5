import { test } from "node:test";
import assert from "node:assert/strict";
import type { Frame } from "../../src/codec/frame.ts";
import { FrameDecoderStream } from "../../src/codec/frame_decoder_stream.ts";
import type { FrameParserOptions } from "../../src/codec/frame.ts";
import {
  byteByByte,
  chunkings,
  collect,
  concat,
  frameOf,
  hexToBytes,
  protocolError,
  splitAtEveryOffset,
} from "../_helpers.ts";
import { FRAGMENTED_TEXT, vectorBytes, vectorFrames, VECTORS } from "../_vectors.ts";

/** Pipes chunks through a new decoder stream and collects the frames. */
function decode(chunks: Uint8Array[], options: FrameParserOptions): Promise<Frame[]> {
  return collect(ReadableStream.from(chunks).pipeThrough(new FrameDecoderStream(options)));
}

for (const vector of VECTORS) {
  test(`FrameDecoderStream decodes ${vector.name} whatever the chunking`, async () => {
    const expected = vectorFrames(vector);
    for (const { label, chunks } of chunkings(vectorBytes(vector))) {
      assert.deepEqual(await decode(chunks, { role: vector.receiver }), expected, label);
    }
  });
}

test("FrameDecoderStream decodes several frames from each chunk", async () => {
  const bytes = hexToBytes("81 02 68 69 89 00 01 01 61 8a 01 70 80 01 62 82 00");
  const expected = [
    frameOf(0x1, "hi"),
    frameOf(0x9, ""),
    frameOf(0x1, "a", false),
    frameOf(0xa, "p"),
    frameOf(0x0, "b"),
    frameOf(0x2, ""),
  ];
  for (const { label, chunks } of chunkings(bytes)) {
    assert.deepEqual(await decode(chunks, { role: "client" }), expected, label);
  }
});

test("FrameDecoderStream ends without error on a stream that ends between frames", async () => {
  assert.deepEqual(await decode([], { role: "client" }), []);
  assert.deepEqual(await decode([new Uint8Array(0)], { role: "client" }), []);
});

test("FrameDecoderStream errors with ProtocolError 1002 on a reserved opcode", async () => {
  for (const { label, chunks } of chunkings(hexToBytes("83 00"))) {
    await assert.rejects(
      decode(chunks, { role: "client" }),
      protocolError(1002, /reserved/),
      label,
    );
  }
});

test("FrameDecoderStream as server errors with ProtocolError 1002 on an unmasked frame", async () => {
  for (const { label, chunks } of chunkings(hexToBytes("81 05 48 65 6c 6c 6f"))) {
    await assert.rejects(decode(chunks, { role: "server" }), protocolError(1002), label);
  }
});

test("FrameDecoderStream as client errors with ProtocolError 1002 on a masked frame", async () => {
  for (const { label, chunks } of chunkings(hexToBytes("81 80 01 02 03 04"))) {
    await assert.rejects(decode(chunks, { role: "client" }), protocolError(1002), label);
  }
});

test("FrameDecoderStream errors with ProtocolError 1009 on a frame over maxFrameSize", async () => {
  for (const { label, chunks } of chunkings(hexToBytes("82 7e 01 00"))) {
    await assert.rejects(
      decode(chunks, { role: "client", maxFrameSize: 255 }),
      protocolError(1009),
      label,
    );
  }
});

test("FrameDecoderStream errors with ProtocolError 1009 on a message over maxMessageSize", async () => {
  for (const { label, chunks } of chunkings(vectorBytes(FRAGMENTED_TEXT))) {
    await assert.rejects(
      decode(chunks, { role: "client", maxMessageSize: 4 }),
      protocolError(1009),
      label,
    );
  }
});

test("FrameDecoderStream errors with ProtocolError 1008 on a message over maxFragments", async () => {
  for (const { label, chunks } of chunkings(vectorBytes(FRAGMENTED_TEXT))) {
    await assert.rejects(
      decode(chunks, { role: "client", maxFragments: 1 }),
      protocolError(1008),
      label,
    );
  }
});

test("FrameDecoderStream delivers the frames before a violation, then errors", async () => {
  const chunks = [hexToBytes("81 01 61"), hexToBytes("89 00"), hexToBytes("80 00")];
  const reader = ReadableStream.from(chunks)
    .pipeThrough(new FrameDecoderStream({ role: "client" }))
    .getReader();
  assert.deepEqual(await reader.read(), { done: false, value: frameOf(0x1, "a") });
  assert.deepEqual(await reader.read(), { done: false, value: frameOf(0x9, "") });
  await assert.rejects(reader.read(), protocolError(1002, /continuation/));
});

test("FrameDecoderStream errors with ProtocolError 1006 when the stream ends inside a frame", async () => {
  // Every non-empty prefix that does not end between the frames.
  // The second frame announces 126 bytes and gets 3.
  const bytes = concat(hexToBytes("81 05 48 65 6c 6c 6f"), hexToBytes("82 7e 00 7e 01 02 03"));
  for (let end = 1; end <= bytes.length; end++) {
    if (end === 7) continue;
    const prefix = bytes.slice(0, end);
    await assert.rejects(
      decode([prefix], { role: "client" }),
      protocolError(1006, /stream ended inside a frame/),
      `ends after ${end} bytes`,
    );
  }
});

test("FrameDecoderStream errors with 1006 at the end inside a frame whatever the chunking", async () => {
  const bytes = hexToBytes("81 05 48 65 6c");
  for (const [head, tail] of splitAtEveryOffset(bytes)) {
    await assert.rejects(
      decode([head, tail], { role: "client" }),
      protocolError(1006),
      `cut at ${head.length}`,
    );
  }
  await assert.rejects(decode([...byteByByte(bytes)], { role: "client" }), protocolError(1006));
});

test("FrameDecoderStream ends without error inside a fragmented message, between its frames", async () => {
  // Reassembly is not the decoder's job: only a cut frame is an error here.
  assert.deepEqual(await decode([hexToBytes("01 03 48 65 6c")], { role: "client" }), [
    frameOf(0x1, "Hel", false),
  ]);
});

test("FrameDecoderStream errors the writable side too, so a writer sees the ProtocolError", async () => {
  const stream = new FrameDecoderStream({ role: "client" });
  const writer = stream.writable.getWriter();
  const reading = collect(stream.readable);
  await assert.rejects(writer.write(hexToBytes("c1 00")), protocolError(1002));
  await assert.rejects(reading, protocolError(1002));
});

test("FrameDecoderStream rejects a negative limit with a RangeError", () => {
  assert.throws(() => new FrameDecoderStream({ role: "client", maxMessageSize: -1 }), RangeError);
  assert.throws(() => new FrameDecoderStream({ role: "client", maxFrameSize: -1 }), RangeError);
  assert.throws(() => new FrameDecoderStream({ role: "client", maxFragments: -1 }), RangeError);
});
