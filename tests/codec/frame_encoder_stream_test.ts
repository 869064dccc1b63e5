import { test } from "node:test";
import assert from "node:assert/strict";
import { type Frame, FrameParser } from "../../src/codec/frame.ts";
import {
  FrameEncoderStream,
  type FrameEncoderStreamOptions,
} from "../../src/codec/frame_encoder_stream.ts";
import {
  assertDecodes,
  collect,
  concat,
  frameOf,
  hexToBytes,
  patternBytes,
  pushAll,
  utf8,
} from "../_helpers.ts";
import { vectorBytes, vectorFrames, VECTORS } from "../_vectors.ts";

/** Pipes frames through a new encoder stream and collects the chunks. */
function encode(frames: Frame[], options: FrameEncoderStreamOptions): Promise<Uint8Array[]> {
  return collect(ReadableStream.from(frames).pipeThrough(new FrameEncoderStream(options)));
}

/** Splits the bytes of masked frames into their header, key and masked payload. */
function maskedParts(bytes: Uint8Array): { key: Uint8Array; payloadStart: number } {
  assert.equal(bytes[1]! & 0x80, 0x80, "MASK bit is set");
  const length7 = bytes[1]! & 0x7f;
  const keyStart = 2 + (length7 === 126 ? 2 : length7 === 127 ? 8 : 0);
  return { key: bytes.slice(keyStart, keyStart + 4), payloadStart: keyStart + 4 };
}

for (const vector of VECTORS.filter((vector) => vector.receiver === "client")) {
  test(`FrameEncoderStream as server encodes ${vector.name}`, async () => {
    const chunks = await encode(vectorFrames(vector), { role: "server" });
    assert.deepEqual(concat(...chunks), vectorBytes(vector));
  });
}

test("FrameEncoderStream as server writes one chunk per small frame", async () => {
  const chunks = await encode([frameOf(0x1, "Hello"), frameOf(0x9, "")], { role: "server" });
  assert.deepEqual(chunks, [hexToBytes("81 05 48 65 6c 6c 6f"), hexToBytes("89 00")]);
});

test("FrameEncoderStream as client masks every frame, so its bytes differ from the unmasked ones", async () => {
  for (const vector of VECTORS) {
    const frames = vectorFrames(vector);
    const chunks = await encode(frames, { role: "client" });
    assert.equal(chunks.length, frames.length, vector.name);
    for (const [i, chunk] of chunks.entries()) {
      const { payloadStart } = maskedParts(chunk);
      const frame = frames[i]!;
      assert.equal(chunk.length, payloadStart + frame.payload.length);
      assert.notDeepEqual(chunk.subarray(payloadStart), frame.payload, vector.name);
    }
  }
});

test("FrameEncoderStream as client writes frames a server parser decodes back", async () => {
  for (const vector of VECTORS) {
    const frames = vectorFrames(vector);
    const bytes = concat(...await encode(frames, { role: "client" }));
    assertDecodes(bytes, { role: "server" }, frames);
  }
});

test("FrameEncoderStream as client gives each frame a different key", async () => {
  const frames = Array.from({ length: 100 }, (_, i) => frameOf(0x2, patternBytes(8, i)));
  const keys = (await encode(frames, { role: "client" })).map((chunk) => maskedParts(chunk).key);
  // 100 random 32-bit keys are all distinct with probability above 0.999998.
  assert.equal(new Set(keys.map((key) => key.join(","))).size, 100);
});

test("FrameEncoderStream as client leaves the frames' payloads unmasked", async () => {
  const payload = utf8("Hello");
  const large = patternBytes(20000);
  await encode([frameOf(0x1, payload), frameOf(0x2, large)], { role: "client" });
  assert.deepEqual(payload, utf8("Hello"));
  assert.deepEqual(large, patternBytes(20000));
});

test("FrameEncoderStream splits a data frame into fragments of fragmentSize bytes", async () => {
  assert.deepEqual(await encode([frameOf(0x1, "Hello")], { role: "server", fragmentSize: 2 }), [
    hexToBytes("01 02 48 65"),
    hexToBytes("00 02 6c 6c"),
    hexToBytes("80 01 6f"),
  ]);
  assert.deepEqual(await encode([frameOf(0x2, "abcd")], { role: "server", fragmentSize: 2 }), [
    hexToBytes("02 02 61 62"),
    hexToBytes("80 02 63 64"),
  ]);
});

test("FrameEncoderStream with fragmentSize 1 writes one frame per byte", async () => {
  assert.deepEqual(await encode([frameOf(0x1, "abc")], { role: "server", fragmentSize: 1 }), [
    hexToBytes("01 01 61"),
    hexToBytes("00 01 62"),
    hexToBytes("80 01 63"),
  ]);
});

test("FrameEncoderStream leaves a data frame of at most fragmentSize bytes whole", async () => {
  assert.deepEqual(await encode([frameOf(0x1, "Hello")], { role: "server", fragmentSize: 5 }), [
    hexToBytes("81 05 48 65 6c 6c 6f"),
  ]);
  assert.deepEqual(await encode([frameOf(0x2, "")], { role: "server", fragmentSize: 1 }), [
    hexToBytes("82 00"),
  ]);
});

test("FrameEncoderStream never splits control frames", async () => {
  const frames = [frameOf(0x9, "Hello"), frameOf(0xa, "Hello"), frameOf(0x8, hexToBytes("03 e8"))];
  assert.deepEqual(await encode(frames, { role: "server", fragmentSize: 1 }), [
    hexToBytes("89 05 48 65 6c 6c 6f"),
    hexToBytes("8a 05 48 65 6c 6c 6f"),
    hexToBytes("88 02 03 e8"),
  ]);
});

test("FrameEncoderStream keeps FIN clear on every fragment of a non-final frame", async () => {
  assert.deepEqual(
    await encode([frameOf(0x1, "abc", false)], { role: "server", fragmentSize: 2 }),
    [hexToBytes("01 02 61 62"), hexToBytes("00 01 63")],
  );
});

test("FrameEncoderStream splits a continuation frame into continuation frames", async () => {
  assert.deepEqual(
    await encode([frameOf(0x0, "abc")], { role: "server", fragmentSize: 2 }),
    [hexToBytes("00 02 61 62"), hexToBytes("80 01 63")],
  );
});

test("FrameEncoderStream sets the reserved bits on the first fragment only", async () => {
  const frame: Frame = { fin: true, opcode: 0x2, payload: utf8("abc"), rsv1: true };
  assert.deepEqual(await encode([frame], { role: "server", fragmentSize: 2 }), [
    hexToBytes("42 02 61 62"),
    hexToBytes("80 01 63"),
  ]);
});

test("FrameEncoderStream as client masks each fragment with its own key", async () => {
  const payload = patternBytes(10);
  const chunks = await encode([frameOf(0x2, payload)], { role: "client", fragmentSize: 4 });
  assert.equal(chunks.length, 3);
  const frames = pushAll(new FrameParser({ role: "server" }), [concat(...chunks)]);
  assert.deepEqual(frames, [
    frameOf(0x2, payload.subarray(0, 4), false),
    frameOf(0x0, payload.subarray(4, 8), false),
    frameOf(0x0, payload.subarray(8)),
  ]);
  const keys = chunks.map((chunk) => maskedParts(chunk).key.join(","));
  assert.equal(new Set(keys).size, 3);
});

test("FrameEncoderStream as server passes a payload of 16 KiB or more as its own chunk, uncopied", async () => {
  const payload = patternBytes(16384);
  const chunks = await encode([frameOf(0x2, payload)], { role: "server" });
  assert.equal(chunks.length, 2);
  assert.deepEqual(chunks[0], hexToBytes("82 7e 40 00"));
  assert.equal(chunks[1], payload);
});

test("FrameEncoderStream as server copies a payload under 16 KiB behind its header", async () => {
  const payload = patternBytes(16383);
  const chunks = await encode([frameOf(0x2, payload)], { role: "server" });
  assert.deepEqual(chunks, [concat(hexToBytes("82 7e 3f ff"), payload)]);
});

test("FrameEncoderStream as server passes large fragments as uncopied views of the payload", async () => {
  const payload = patternBytes(40000);
  const chunks = await encode([frameOf(0x2, payload)], { role: "server", fragmentSize: 20000 });
  assert.equal(chunks.length, 4);
  assert.deepEqual(chunks[0], hexToBytes("02 7e 4e 20"));
  assert.deepEqual(chunks[2], hexToBytes("80 7e 4e 20"));
  for (const [index, start] of [[1, 0], [3, 20000]] as const) {
    const view = chunks[index]!;
    assert.equal(view.buffer, payload.buffer);
    assert.equal(view.byteOffset, start);
    assert.equal(view.length, 20000);
  }
});

test("FrameEncoderStream as client writes a large payload masked in one chunk", async () => {
  const frame = frameOf(0x2, patternBytes(65536));
  const chunks = await encode([frame], { role: "client" });
  assert.equal(chunks.length, 1);
  assert.notEqual(chunks[0]!.buffer, frame.payload.buffer);
  assertDecodes(chunks[0]!, { role: "server" }, [frame]);
});

test("FrameEncoderStream rejects a fragmentSize under 1 with a RangeError", () => {
  for (const fragmentSize of [0, 0.5, -1, Number.NaN]) {
    assert.throws(
      () => new FrameEncoderStream({ role: "server", fragmentSize }),
      RangeError,
      `fragmentSize ${fragmentSize}`,
    );
  }
});

test("FrameEncoderStream accepts a fragmentSize of Infinity", async () => {
  assert.deepEqual(
    await encode([frameOf(0x1, "Hello")], { role: "server", fragmentSize: Infinity }),
    [
      hexToBytes("81 05 48 65 6c 6c 6f"),
    ],
  );
});
