import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DEFAULT_MAX_FRAGMENTS,
  DEFAULT_MAX_MESSAGE_SIZE,
  encodeFrame,
  encodeFrameChunks,
  encodeTextFrame,
  type Frame,
  frameHeaderSize,
  type FrameMask,
  FrameParser,
  type FrameParserOptions,
  MAX_CONTROL_PAYLOAD,
  writeFrameHeader,
} from "../../src/codec/frame.ts";
import { OPCODE } from "../../src/codec/opcode.ts";
import { ProtocolError } from "../../src/errors.ts";
import {
  assertDecodeFails,
  assertDecodes,
  chunkings,
  concat,
  frameOf,
  hexToBytes,
  naiveMask,
  patternBytes,
  protocolError,
  pushAll,
  pushChunk,
  utf8,
} from "../_helpers.ts";
import {
  FRAGMENTED_TEXT,
  MASKED_TEXT,
  RFC_MASK,
  vectorBytes,
  vectorFrames,
  VECTORS,
} from "../_vectors.ts";

const CLIENT: FrameParserOptions = { role: "client" };
const SERVER: FrameParserOptions = { role: "server" };
const KEY = hexToBytes("a1 b2 c3 d4");
const HELLO = "48 65 6c 6c 6f";
const UNLIMITED: FrameParserOptions = {
  role: "client",
  maxFrameSize: Infinity,
  maxMessageSize: Infinity,
};

// --- The RFC 6455 §5.7 examples, both directions ---------------------------

for (const vector of VECTORS) {
  test(`encodeFrame and FrameParser agree on ${vector.name}`, () => {
    for (const { hex, frame, mask } of vector.frames) {
      assert.deepEqual(encodeFrame(frame, { mask }), hexToBytes(hex));
    }
    assertDecodes(vectorBytes(vector), { role: vector.receiver }, vectorFrames(vector));
  });
}

test("FrameParser decodes all the RFC 6455 §5.7 unmasked examples back to back", () => {
  const unmasked = VECTORS.filter((vector) => vector.receiver === "client").slice(0, 3);
  assertDecodes(
    concat(...unmasked.map(vectorBytes)),
    CLIENT,
    unmasked.flatMap(vectorFrames),
  );
});

// --- Length forms, both directions ------------------------------------------

const LENGTH_FORMS: { length: number; lengthHex: string }[] = [
  { length: 0, lengthHex: "00" },
  { length: 1, lengthHex: "01" },
  { length: 125, lengthHex: "7d" },
  { length: 126, lengthHex: "7e 00 7e" },
  { length: 127, lengthHex: "7e 00 7f" },
  { length: 65535, lengthHex: "7e ff ff" },
  { length: 65536, lengthHex: "7f 00 00 00 00 00 01 00 00" },
  { length: 65537, lengthHex: "7f 00 00 00 00 00 01 00 01" },
];

for (const { length, lengthHex } of LENGTH_FORMS) {
  test(`encodeFrame and FrameParser agree on an unmasked ${length}-byte payload`, () => {
    const frame = frameOf(0x2, patternBytes(length));
    const bytes = concat(hexToBytes(`82 ${lengthHex}`), frame.payload);
    assert.deepEqual(encodeFrame(frame), bytes);
    assertDecodes(bytes, CLIENT, [frame]);
  });

  test(`encodeFrame and FrameParser agree on a masked ${length}-byte payload`, () => {
    const frame = frameOf(0x2, patternBytes(length));
    const lengthBytes = hexToBytes(lengthHex);
    lengthBytes[0]! |= 0x80;
    const bytes = concat(hexToBytes("82"), lengthBytes, KEY, naiveMask(frame.payload, KEY));
    assert.deepEqual(encodeFrame(frame, { mask: KEY }), bytes);
    assertDecodes(bytes, SERVER, [frame]);
  });
}

test("encodeFrame and FrameParser agree on close, ping and pong frames", () => {
  const frames = [frameOf(0x9, ""), frameOf(0xa, "pong"), frameOf(0x8, hexToBytes("03 e8"))];
  const bytes = hexToBytes("89 00 8a 04 70 6f 6e 67 88 02 03 e8");
  assert.deepEqual(concat(...frames.map((frame) => encodeFrame(frame))), bytes);
  assertDecodes(bytes, CLIENT, frames);
});

test("encodeFrame and FrameParser agree on a masked empty frame", () => {
  const frame = frameOf(0x1, "");
  const bytes = hexToBytes("81 80 a1 b2 c3 d4");
  assert.deepEqual(encodeFrame(frame, { mask: KEY }), bytes);
  assertDecodes(bytes, SERVER, [frame]);
});

test("encodeFrame and FrameParser agree on a 125-byte ping, the largest control frame", () => {
  const frame = frameOf(0x9, patternBytes(MAX_CONTROL_PAYLOAD));
  const bytes = concat(hexToBytes("89 7d"), frame.payload);
  assert.equal(MAX_CONTROL_PAYLOAD, 125);
  assert.deepEqual(encodeFrame(frame), bytes);
  assertDecodes(bytes, CLIENT, [frame]);
});

// --- encodeFrame --------------------------------------------------------------

test("encodeFrame writes a FIN bit of 0 for a non-final frame", () => {
  assert.deepEqual(encodeFrame(frameOf(0x2, "ab", false)), hexToBytes("02 02 61 62"));
  assert.deepEqual(encodeFrame(frameOf(0x0, "", false)), hexToBytes("00 00"));
});

test("encodeFrame writes each reserved bit it is given", () => {
  const payload = new Uint8Array(0);
  assert.deepEqual(
    encodeFrame({ fin: true, opcode: 0x2, payload, rsv1: true }),
    hexToBytes("c2 00"),
  );
  assert.deepEqual(
    encodeFrame({ fin: true, opcode: 0x2, payload, rsv2: true }),
    hexToBytes("a2 00"),
  );
  assert.deepEqual(
    encodeFrame({ fin: true, opcode: 0x2, payload, rsv3: true }),
    hexToBytes("92 00"),
  );
  assert.deepEqual(
    encodeFrame({ fin: false, opcode: 0x1, payload, rsv1: true, rsv2: true, rsv3: true }),
    hexToBytes("71 00"),
  );
});

test("encodeFrame leaves the frame's payload unmasked", () => {
  const payload = utf8("Hello");
  encodeFrame({ fin: true, opcode: 0x1, payload }, { mask: KEY });
  assert.deepEqual(payload, utf8("Hello"));
});

test("encodeFrame copies the payload rather than sharing its buffer", () => {
  const payload = patternBytes(300);
  const bytes = encodeFrame(frameOf(0x2, payload));
  assert.notEqual(bytes.buffer, payload.buffer);
  payload[0] = payload[0]! ^ 0xff;
  assert.deepEqual(bytes.subarray(4), patternBytes(300));
});

test("encodeFrame rejects a masking key that is not 4 bytes with a RangeError", () => {
  for (const length of [0, 3, 5]) {
    assert.throws(
      () => encodeFrame(frameOf(0x1, "Hello"), { mask: new Uint8Array(length) }),
      RangeError,
      `key of ${length} bytes`,
    );
  }
});

test("encodeFrame with mask undefined writes an unmasked frame", () => {
  assert.deepEqual(
    encodeFrame(frameOf(0x1, "Hello"), { mask: undefined }),
    hexToBytes(`81 05 ${HELLO}`),
  );
});

test("encodeFrame with mask true masks with a fresh random key", () => {
  const frame = frameOf(0x1, "Hello");
  const first = encodeFrame(frame, { mask: true });
  const second = encodeFrame(frame, { mask: true });
  for (const bytes of [first, second]) {
    assert.equal(bytes.length, 11);
    assert.deepEqual(bytes.subarray(0, 2), hexToBytes("81 85"));
    assert.deepEqual(bytes.subarray(6), naiveMask(utf8("Hello"), bytes.slice(2, 6)));
    assertDecodes(bytes, SERVER, [frame]);
  }
  // Two random keys are equal with probability 2^-32.
  assert.notDeepEqual(first.subarray(2, 6), second.subarray(2, 6));
});

test("encodeFrame with mask false writes an unmasked frame", () => {
  assert.deepEqual(
    encodeFrame(frameOf(0x1, "Hello"), { mask: false }),
    hexToBytes(`81 05 ${HELLO}`),
  );
});

test("encodeFrame results do not overwrite each other", () => {
  const results = [1, 2, 3].map((seed) => encodeFrame(frameOf(0x2, patternBytes(200, seed))));
  for (const [i, seed] of [1, 2, 3].entries()) {
    assert.deepEqual(results[i], concat(hexToBytes("82 7e 00 c8"), patternBytes(200, seed)));
  }
});

test("encodeFrame results stay intact when another result's buffer is transferred", () => {
  // A byte stream transfers the buffer of each chunk enqueued into it.
  const first = encodeFrame(frameOf(0x2, patternBytes(100)));
  const second = encodeFrame(frameOf(0x2, patternBytes(100)));
  new ReadableStream({ type: "bytes", start: (controller) => controller.enqueue(first) });
  assert.deepEqual(second, concat(hexToBytes("82 64"), patternBytes(100)));
});

// --- encodeFrameChunks --------------------------------------------------------

/** Collects the chunks encodeFrameChunks emits. */
function encodeChunks(frame: Frame, mask: FrameMask): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  encodeFrameChunks(frame, mask, (chunk) => chunks.push(chunk));
  return chunks;
}

test("encodeFrameChunks emits a small frame as one chunk", () => {
  assert.deepEqual(encodeChunks(frameOf(0x1, "Hello"), false), [hexToBytes(`81 05 ${HELLO}`)]);
  assert.deepEqual(encodeChunks(frameOf(0x1, "Hello"), RFC_MASK), [vectorBytes(MASKED_TEXT)]);
});

test("encodeFrameChunks emits an unmasked payload under 16 KiB behind its header in one chunk", () => {
  const payload = patternBytes(16383);
  assert.deepEqual(encodeChunks(frameOf(0x2, payload), false), [
    concat(hexToBytes("82 7e 3f ff"), payload),
  ]);
});

test("encodeFrameChunks emits an unmasked payload of 16 KiB or more as header, then the payload uncopied", () => {
  for (
    const [length, header] of [[16384, "82 7e 40 00"], [
      65536,
      "82 7f 00 00 00 00 00 01 00 00",
    ]] as const
  ) {
    const payload = patternBytes(length);
    const chunks = encodeChunks(frameOf(0x2, payload), undefined);
    assert.equal(chunks.length, 2, `length ${length}`);
    assert.deepEqual(chunks[0], hexToBytes(header));
    assert.equal(chunks[1], payload);
  }
});

test("encodeFrameChunks emits a masked frame as one chunk whatever its size", () => {
  const payload = patternBytes(65536);
  const chunks = encodeChunks(frameOf(0x2, payload), KEY);
  assert.deepEqual(chunks, [
    concat(hexToBytes("82 ff 00 00 00 00 00 01 00 00"), KEY, naiveMask(payload, KEY)),
  ]);
  assert.deepEqual(payload, patternBytes(65536), "payload left unmasked");
});

test("encodeFrameChunks with mask true masks with a fresh random key", () => {
  const frame = frameOf(0x2, patternBytes(20000));
  const chunks = encodeChunks(frame, true);
  assert.equal(chunks.length, 1);
  assertDecodes(concat(...chunks), SERVER, [frame]);
});

test("encodeFrameChunks rejects a masking key that is not 4 bytes with a RangeError", () => {
  assert.throws(() => encodeChunks(frameOf(0x1, "Hello"), new Uint8Array(3)), RangeError);
});

// --- frameHeaderSize and writeFrameHeader ------------------------------------

test("frameHeaderSize gives 2, 4 or 10 bytes by length, 4 more when masked", () => {
  const cases: [number, number][] = [[0, 2], [125, 2], [126, 4], [65535, 4], [65536, 10], [
    2 ** 40,
    10,
  ]];
  for (const [length, size] of cases) {
    assert.equal(frameHeaderSize(length, false), size, `length ${length}`);
    assert.equal(frameHeaderSize(length, true), size + 4, `masked length ${length}`);
  }
});

test("writeFrameHeader writes at an offset and returns the offset past the header", () => {
  const target = new Uint8Array(12).fill(0xee);
  const end = writeFrameHeader(target, 3, frameOf(0x1, "Hello"), KEY);
  assert.equal(end, 9);
  assert.deepEqual(target, hexToBytes("ee ee ee 81 85 a1 b2 c3 d4 ee ee ee"));
});

test("writeFrameHeader and FrameParser agree on a length of 2^32 + 5 in the 64-bit form", () => {
  const length = 2 ** 32 + 5;
  // Only the header is written, so the payload need not exist.
  const frame: Frame = { fin: true, opcode: 0x2, payload: { length } as Uint8Array };
  const header = new Uint8Array(10);
  assert.equal(writeFrameHeader(header, 0, frame, undefined), 10);
  assert.deepEqual(header, hexToBytes("82 7f 00 00 00 01 00 00 00 05"));
  // The parser reads it back: the length shows in the limit's error message.
  assertDecodeFails(header, CLIENT, 1009, /payload is 4294967301 bytes/);
});

// --- FrameParser: reserved bits and opcodes -----------------------------------

for (const [bit, byte0] of [["RSV1", "c1"], ["RSV2", "a1"], ["RSV3", "91"]] as const) {
  test(`FrameParser rejects a frame with ${bit} set with 1002`, () => {
    assertDecodeFails(hexToBytes(`${byte0} 05`), CLIENT, 1002, /reserved bits/);
    assertDecodeFails(hexToBytes(`${byte0} 05 ${HELLO}`), CLIENT, 1002);
  });
}

test("FrameParser rejects every reserved opcode with 1002", () => {
  for (const opcode of [0x3, 0x4, 0x5, 0x6, 0x7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
    const byte0 = (0x80 | opcode).toString(16);
    assertDecodeFails(
      hexToBytes(`${byte0} 00`),
      CLIENT,
      1002,
      new RegExp(`opcode 0x${opcode.toString(16)} is reserved`),
    );
  }
});

test("FrameParser rejects a reserved opcode in a non-final frame with 1002", () => {
  assertDecodeFails(hexToBytes("03 01 61"), CLIENT, 1002);
});

// --- FrameParser: control frames ---------------------------------------------

test("FrameParser rejects a fragmented ping with 1002", () => {
  assertDecodeFails(hexToBytes(`09 05 ${HELLO}`), CLIENT, 1002, /control frame is fragmented/);
  assertDecodeFails(hexToBytes("09 05"), CLIENT, 1002);
});

test("FrameParser rejects a fragmented pong with 1002", () => {
  assertDecodeFails(hexToBytes("0a 00"), CLIENT, 1002);
});

test("FrameParser rejects a fragmented close with 1002", () => {
  assertDecodeFails(hexToBytes("08 02 03 e8"), CLIENT, 1002);
});

test("FrameParser rejects a 126-byte ping in the 16-bit form with 1002", () => {
  assertDecodeFails(
    concat(hexToBytes("89 7e 00 7e"), patternBytes(126)),
    CLIENT,
    1002,
    /control frame payload is over 125 bytes/,
  );
  assertDecodeFails(hexToBytes("89 7e 00 7e"), CLIENT, 1002);
});

test("FrameParser rejects a close frame in the 64-bit form with 1002", () => {
  assertDecodeFails(hexToBytes("88 7f 00 00 00 00 00 01 00 00"), CLIENT, 1002);
});

test("FrameParser accepts control frames between the fragments of a message", () => {
  const bytes = hexToBytes(`01 03 48 65 6c 89 00 8a 02 68 69 80 02 6c 6f`);
  assertDecodes(bytes, CLIENT, [
    frameOf(0x1, "Hel", false),
    frameOf(0x9, ""),
    frameOf(0xa, "hi"),
    frameOf(0x0, "lo"),
  ]);
});

// --- FrameParser: masking by role --------------------------------------------

test("FrameParser as server rejects an unmasked frame with 1002", () => {
  assertDecodeFails(hexToBytes(`81 05 ${HELLO}`), SERVER, 1002, /not masked/);
  assertDecodeFails(hexToBytes("81 05"), SERVER, 1002);
});

test("FrameParser as client rejects a masked frame with 1002", () => {
  assertDecodeFails(vectorBytes(MASKED_TEXT), CLIENT, 1002, /is masked/);
  assertDecodeFails(hexToBytes("81 85"), CLIENT, 1002);
});

test("FrameParser as server rejects an unmasked control frame with 1002", () => {
  assertDecodeFails(hexToBytes("89 00"), SERVER, 1002);
});

test("FrameParser as client rejects a masked control frame with 1002", () => {
  assertDecodeFails(hexToBytes("89 80 a1 b2 c3 d4"), CLIENT, 1002);
});

// --- FrameParser: length encodings -------------------------------------------

test("FrameParser rejects a length under 126 in the 16-bit form with 1002", () => {
  assertDecodeFails(
    concat(hexToBytes("82 7e 00 7d"), patternBytes(125)),
    CLIENT,
    1002,
    /length 125 uses the 16-bit form/,
  );
  assertDecodeFails(hexToBytes("82 7e 00 7d"), CLIENT, 1002);
  assertDecodeFails(hexToBytes("82 7e 00 00"), CLIENT, 1002);
});

test("FrameParser rejects a length under 65536 in the 64-bit form with 1002", () => {
  assertDecodeFails(
    hexToBytes("82 7f 00 00 00 00 00 00 ff ff"),
    CLIENT,
    1002,
    /length 65535 uses the 64-bit form/,
  );
  assertDecodeFails(hexToBytes("82 7f 00 00 00 00 00 00 00 7d"), CLIENT, 1002);
  assertDecodeFails(hexToBytes("82 7f 00 00 00 00 00 00 00 00"), CLIENT, 1002);
});

test("FrameParser rejects a non-minimal length in a masked frame with 1002", () => {
  assertDecodeFails(hexToBytes("82 fe 00 05 a1 b2 c3 d4"), SERVER, 1002);
});

test("FrameParser rejects a 64-bit length with the most significant bit set with 1002", () => {
  for (
    const hex of ["80 00 00 00 00 00 00 00", "ff ff ff ff ff ff ff ff", "80 00 00 00 00 01 00 00"]
  ) {
    assertDecodeFails(hexToBytes(`82 7f ${hex}`), UNLIMITED, 1002, /most significant bit/);
  }
});

test("FrameParser rejects a length over 2^53 - 1 with 1009, even with no size limit", () => {
  for (const hex of ["00 20 00 00 00 00 00 00", "7f ff ff ff ff ff ff ff"]) {
    assertDecodeFails(hexToBytes(`82 7f ${hex}`), UNLIMITED, 1009, /2\^53 - 1/);
  }
});

test("FrameParser with no size limit reports a frame too large to buffer as a ProtocolError", () => {
  // 2^53 - 1 bytes: a valid length no buffer can hold. Peer input must only
  // ever surface as a ProtocolError, never as an allocation failure.
  const header = hexToBytes("82 7f 00 1f ff ff ff ff ff ff");
  const parser = new FrameParser(UNLIMITED);
  try {
    assert.deepEqual(pushChunk(parser, header), []);
    assert.equal(parser.hasPartialFrame, true);
  } catch (error) {
    protocolError(1009)(error);
  }
});

// --- FrameParser: limits -----------------------------------------------------

test("FrameParser has documented default limits", () => {
  assert.equal(DEFAULT_MAX_MESSAGE_SIZE, 64 * 1024 * 1024);
  assert.equal(DEFAULT_MAX_FRAGMENTS, 1048576);
  // One byte over 64 MiB, announced by its header alone.
  assertDecodeFails(hexToBytes("82 7f 00 00 00 00 04 00 00 01"), CLIENT, 1009);
});

test("FrameParser rejects a frame over maxFrameSize with 1009 from its header alone", () => {
  const options = { role: "client", maxFrameSize: 10 } as const;
  assertDecodeFails(hexToBytes("82 0b"), options, 1009, /payload is 11 bytes, limit is 10/);
  assertDecodeFails(hexToBytes("82 7e 01 00"), options, 1009);
  assertDecodeFails(hexToBytes("82 7f 00 00 00 00 00 01 00 00"), options, 1009);
});

test("FrameParser accepts a frame of exactly maxFrameSize", () => {
  const frame = frameOf(0x2, patternBytes(10));
  assertDecodes(concat(hexToBytes("82 0a"), frame.payload), { role: "client", maxFrameSize: 10 }, [
    frame,
  ]);
});

test("FrameParser as server rejects a masked frame over maxFrameSize with 1009 from its header alone", () => {
  assertDecodeFails(hexToBytes("82 8b a1 b2 c3 d4"), { role: "server", maxFrameSize: 10 }, 1009);
});

test("FrameParser applies maxFrameSize to each fragment and to control frames", () => {
  const options = { role: "client", maxFrameSize: 4 } as const;
  assertDecodes(hexToBytes("01 03 48 65 6c 80 02 6c 6f"), options, vectorFrames(FRAGMENTED_TEXT));
  assertDecodeFails(hexToBytes("01 03 48 65 6c 00 05"), options, 1009);
  assertDecodeFails(hexToBytes("89 05"), options, 1009);
});

test("FrameParser with maxFrameSize 0 accepts only empty frames", () => {
  const options = { role: "client", maxFrameSize: 0 } as const;
  assertDecodes(hexToBytes("81 00 89 00"), options, [frameOf(0x1, ""), frameOf(0x9, "")]);
  assertDecodeFails(hexToBytes("81 01"), options, 1009);
});

test("FrameParser rejects a fragment that takes its message over maxMessageSize with 1009 from its header alone", () => {
  const options = { role: "client", maxMessageSize: 4 } as const;
  assertDecodeFails(
    hexToBytes("01 03 48 65 6c 80 02"),
    options,
    1009,
    /over 4 bytes/,
  );
});

test("FrameParser accepts a fragmented message of exactly maxMessageSize", () => {
  assertDecodes(
    vectorBytes(FRAGMENTED_TEXT),
    { role: "client", maxMessageSize: 5 },
    vectorFrames(FRAGMENTED_TEXT),
  );
});

test("FrameParser rejects a single frame over maxMessageSize with 1009, whatever maxFrameSize", () => {
  assertDecodeFails(hexToBytes("81 05"), { role: "client", maxMessageSize: 4 }, 1009);
  assertDecodeFails(
    hexToBytes("81 05"),
    { role: "client", maxMessageSize: 4, maxFrameSize: 100 },
    1009,
  );
});

test("FrameParser does not count control frames toward maxMessageSize", () => {
  const bytes = hexToBytes(`01 03 48 65 6c 89 05 ${HELLO} 80 02 6c 6f`);
  assertDecodes(bytes, { role: "client", maxMessageSize: 5, maxFrameSize: 125 }, [
    frameOf(0x1, "Hel", false),
    frameOf(0x9, "Hello"),
    frameOf(0x0, "lo"),
  ]);
});

test("FrameParser counts maxMessageSize afresh for each message", () => {
  const bytes = hexToBytes(`01 03 48 65 6c 80 02 6c 6f 81 05 ${HELLO} 02 04 61 62 63 64 80 01 65`);
  assertDecodes(bytes, { role: "client", maxMessageSize: 5 }, [
    frameOf(0x1, "Hel", false),
    frameOf(0x0, "lo"),
    frameOf(0x1, "Hello"),
    frameOf(0x2, "abcd", false),
    frameOf(0x0, "e"),
  ]);
});

test("FrameParser rejects a fragment past maxFragments with 1008 from its header alone", () => {
  assertDecodeFails(
    hexToBytes("01 01 48 00 01 65 80 01"),
    { role: "client", maxFragments: 2 },
    1008,
    /over 2 fragments/,
  );
});

test("FrameParser accepts a message of exactly maxFragments fragments", () => {
  assertDecodes(
    vectorBytes(FRAGMENTED_TEXT),
    { role: "client", maxFragments: 2 },
    vectorFrames(FRAGMENTED_TEXT),
  );
});

test("FrameParser with maxFragments 1 accepts unfragmented messages only", () => {
  const options = { role: "client", maxFragments: 1 } as const;
  assertDecodes(hexToBytes("81 01 61 82 01 62"), options, [frameOf(0x1, "a"), frameOf(0x2, "b")]);
  assertDecodeFails(vectorBytes(FRAGMENTED_TEXT), options, 1008);
});

test("FrameParser does not count control frames toward maxFragments", () => {
  assertDecodes(
    hexToBytes("01 03 48 65 6c 89 00 8a 00 80 02 6c 6f"),
    { role: "client", maxFragments: 2 },
    [frameOf(0x1, "Hel", false), frameOf(0x9, ""), frameOf(0xa, ""), frameOf(0x0, "lo")],
  );
});

test("FrameParser counts maxFragments afresh for each message", () => {
  const bytes = concat(vectorBytes(FRAGMENTED_TEXT), vectorBytes(FRAGMENTED_TEXT));
  const frames = vectorFrames(FRAGMENTED_TEXT);
  assertDecodes(bytes, { role: "client", maxFragments: 2 }, [...frames, ...frames]);
});

test("FrameParser rejects a negative or NaN limit with a RangeError", () => {
  for (const name of ["maxFrameSize", "maxMessageSize", "maxFragments"]) {
    for (const value of [-1, -Infinity, Number.NaN]) {
      assert.throws(
        () => new FrameParser({ role: "client", [name]: value }),
        RangeError,
        `${name}: ${value}`,
      );
    }
  }
});

test("FrameParser accepts size limits of 0 and Infinity", () => {
  for (const name of ["maxFrameSize", "maxMessageSize"]) {
    for (const value of [0, Infinity]) {
      assert.ok(new FrameParser({ role: "client", [name]: value }) instanceof FrameParser);
    }
  }
});

test("FrameParser accepts maxFragments of 1 and Infinity and rejects 0", () => {
  for (const value of [1, Infinity]) {
    assert.ok(new FrameParser({ role: "client", maxFragments: value }) instanceof FrameParser);
  }
  assert.throws(() => new FrameParser({ role: "client", maxFragments: 0 }), RangeError);
});

test("FrameParser stays failed after a frame handler throws", () => {
  const parser = new FrameParser(CLIENT);
  const boom = new Error("handler failed");
  assert.throws(() =>
    parser.push(hexToBytes("81 01 61 81 01 62"), () => {
      throw boom;
    }), (error) => error === boom);
  assert.throws(
    () => parser.push(hexToBytes("81 01 63"), () => {}),
    (error) => error instanceof ProtocolError && error.closeCode === 1011 && error.cause === boom,
  );
});

// --- FrameParser: fragment order ---------------------------------------------

test("FrameParser rejects a continuation frame without a message to continue with 1002", () => {
  assertDecodeFails(
    hexToBytes("80 02 6c 6f"),
    CLIENT,
    1002,
    /continuation frame without a message/,
  );
  assertDecodeFails(hexToBytes("00 00"), CLIENT, 1002);
});

test("FrameParser rejects a continuation frame after a complete message with 1002", () => {
  assertDecodeFails(hexToBytes(`81 05 ${HELLO} 80 00`), CLIENT, 1002);
  assertDecodeFails(concat(vectorBytes(FRAGMENTED_TEXT), hexToBytes("80 00")), CLIENT, 1002);
});

test("FrameParser rejects a new message inside a fragmented one with 1002", () => {
  assertDecodeFails(
    hexToBytes("01 03 48 65 6c 81 02 6c 6f"),
    CLIENT,
    1002,
    /new message started inside a fragmented message/,
  );
  assertDecodeFails(hexToBytes("01 03 48 65 6c 82 00"), CLIENT, 1002);
  assertDecodeFails(hexToBytes("02 01 61 00 01 62 01 00"), CLIENT, 1002);
});

// --- FrameParser: failure is final ------------------------------------------

test("FrameParser stays failed: a later push throws the same error", () => {
  const parser = new FrameParser(CLIENT);
  let first: unknown;
  assert.throws(() => pushChunk(parser, hexToBytes("83 00")), (error) => {
    first = error;
    return error instanceof ProtocolError;
  });
  for (const bytes of [hexToBytes(`81 05 ${HELLO}`), new Uint8Array(0), hexToBytes("89 00")]) {
    assert.throws(() => pushChunk(parser, bytes), (error) => error === first);
  }
});

test("FrameParser stays failed after a limit error raised by a split header", () => {
  const parser = new FrameParser({ role: "client", maxFrameSize: 300 });
  assert.deepEqual(pushChunk(parser, hexToBytes("82 7e 01")), []);
  let first: unknown;
  assert.throws(() => pushChunk(parser, hexToBytes("2d")), (error) => {
    first = error;
    return protocolError(1009)(error);
  });
  assert.throws(() => pushChunk(parser, hexToBytes("81 00")), (error) => error === first);
});

test("FrameParser hands over the frames before a violation in the same chunk", () => {
  const bytes = hexToBytes("81 01 61 89 00 83 00");
  for (const { label, chunks } of chunkings(bytes)) {
    const parser = new FrameParser(CLIENT);
    const frames: Frame[] = [];
    assert.throws(
      () => {
        for (const chunk of chunks) parser.push(chunk, (frame) => frames.push(frame));
      },
      protocolError(1002, /opcode 0x3/),
      label,
    );
    assert.deepEqual(frames, [frameOf(0x1, "a"), frameOf(0x9, "")], label);
  }
});

test("FrameParser lets an error thrown by onFrame propagate and stops parsing the chunk", () => {
  const parser = new FrameParser(CLIENT);
  const thrown = new Error("handler failed");
  const frames: Frame[] = [];
  assert.throws(
    () =>
      parser.push(hexToBytes("81 01 61 81 01 62"), (frame) => {
        frames.push(frame);
        throw thrown;
      }),
    (error) => error === thrown,
  );
  assert.deepEqual(frames, [frameOf(0x1, "a")]);
});

// --- FrameParser: views and chunking ----------------------------------------

test("FrameParser gives a frame whole inside one chunk a view into that chunk", () => {
  const backing = concat(hexToBytes("ff ff ff"), hexToBytes(`81 05 ${HELLO}`), hexToBytes("ff"));
  const chunk = backing.subarray(3, 10);
  const [frame, ...rest] = pushChunk(new FrameParser(CLIENT), chunk);
  assert.deepEqual(rest, []);
  assert.ok(frame !== undefined);
  assert.equal(frame.payload.buffer, backing.buffer);
  assert.equal(frame.payload.byteOffset, 5);
  assert.deepEqual(frame.payload, utf8("Hello"));
});

test("FrameParser unmasks a masked frame whole inside one chunk in place", () => {
  const chunk = vectorBytes(MASKED_TEXT);
  const [frame] = pushChunk(new FrameParser(SERVER), chunk);
  assert.ok(frame !== undefined);
  assert.equal(frame.payload.buffer, chunk.buffer);
  assert.equal(frame.payload.byteOffset, 6);
  assert.deepEqual(chunk.subarray(6), utf8("Hello"));
});

test("FrameParser unmasks payloads in place at every alignment of the chunk", () => {
  const payload = patternBytes(1000);
  const bytes = concat(hexToBytes("82 fe 03 e8"), KEY, naiveMask(payload, KEY));
  for (let byteOffset = 0; byteOffset < 4; byteOffset++) {
    const backing = new Uint8Array(byteOffset + bytes.length);
    backing.set(bytes, byteOffset);
    const [frame] = pushChunk(new FrameParser(SERVER), backing.subarray(byteOffset));
    assert.ok(frame !== undefined);
    assert.equal(frame.payload.buffer, backing.buffer);
    assert.deepEqual(frame.payload, payload, `byteOffset ${byteOffset}`);
  }
});

test("FrameParser copies a frame split across chunks into a buffer of its exact size", () => {
  const payload = patternBytes(300);
  const bytes = concat(hexToBytes("82 fe 01 2c"), KEY, naiveMask(payload, KEY));
  for (const cut of [1, 2, 5, 8, 9, 100, bytes.length - 1]) {
    const head = bytes.slice(0, cut);
    const tail = bytes.slice(cut);
    const frames = pushAll(new FrameParser(SERVER), [head, tail]);
    assert.equal(frames.length, 1, `cut at ${cut}`);
    const [frame] = frames;
    assert.ok(frame !== undefined);
    assert.deepEqual(frame.payload, payload, `cut at ${cut}`);
    if (cut > 8) {
      // Some payload bytes were in the first chunk: the payload was gathered.
      assert.notEqual(frame.payload.buffer, head.buffer);
      assert.notEqual(frame.payload.buffer, tail.buffer);
      assert.equal(frame.payload.buffer.byteLength, 300);
    }
  }
});

test("FrameParser gives a payload in a later chunk than its header a view into that chunk", () => {
  const parser = new FrameParser(CLIENT);
  assert.deepEqual(pushChunk(parser, hexToBytes("81 05")), []);
  const chunk = utf8("Hello");
  const [frame] = pushChunk(parser, chunk);
  assert.ok(frame !== undefined);
  assert.deepEqual(frame.payload, chunk);
});

test("FrameParser decodes many frames in one chunk, each a view into it", () => {
  const chunk = hexToBytes(
    `81 05 ${HELLO} 89 02 70 31 02 01 61 8a 00 80 02 62 63 82 01 64 88 02 03 e8`,
  );
  const frames = pushChunk(new FrameParser(CLIENT), chunk);
  assert.deepEqual(frames, [
    frameOf(0x1, "Hello"),
    frameOf(0x9, "p1"),
    frameOf(0x2, "a", false),
    frameOf(0xa, ""),
    frameOf(0x0, "bc"),
    frameOf(0x2, "d"),
    frameOf(0x8, hexToBytes("03 e8")),
  ]);
  for (const frame of frames) {
    if (frame.payload.length > 0) assert.equal(frame.payload.buffer, chunk.buffer);
  }
});

test("FrameParser returns the complete frames of a chunk and keeps the partial one", () => {
  const parser = new FrameParser(CLIENT);
  assert.deepEqual(pushChunk(parser, hexToBytes(`81 05 ${HELLO} 82 03 61`)), [
    frameOf(0x1, "Hello"),
  ]);
  assert.equal(parser.hasPartialFrame, true);
  assert.deepEqual(pushChunk(parser, hexToBytes("62 63 89")), [frameOf(0x2, "abc")]);
  assert.equal(parser.hasPartialFrame, true);
  assert.deepEqual(pushChunk(parser, hexToBytes("00")), [frameOf(0x9, "")]);
  assert.equal(parser.hasPartialFrame, false);
});

test("FrameParser push of an empty chunk returns no frames and changes nothing", () => {
  const parser = new FrameParser(CLIENT);
  assert.deepEqual(pushChunk(parser, new Uint8Array(0)), []);
  assert.equal(parser.hasPartialFrame, false);
  assert.deepEqual(pushChunk(parser, hexToBytes("81")), []);
  assert.deepEqual(pushChunk(parser, new Uint8Array(0)), []);
  assert.equal(parser.hasPartialFrame, true);
  assert.deepEqual(pushChunk(parser, hexToBytes("01 61")), [frameOf(0x1, "a")]);
});

test("FrameParser hasPartialFrame is true only while a frame is incomplete", () => {
  const bytes = concat(hexToBytes("82 fe 00 7e"), KEY, naiveMask(patternBytes(126), KEY));
  const parser = new FrameParser(SERVER);
  assert.equal(parser.hasPartialFrame, false);
  for (let i = 0; i < bytes.length - 1; i++) {
    assert.deepEqual(pushChunk(parser, bytes.slice(i, i + 1)), []);
    assert.equal(parser.hasPartialFrame, true, `after ${i + 1} bytes`);
  }
  assert.equal(pushChunk(parser, bytes.slice(-1)).length, 1);
  assert.equal(parser.hasPartialFrame, false);
});

test("FrameParser hasPartialFrame is false after a complete empty frame", () => {
  const parser = new FrameParser(SERVER);
  pushChunk(parser, hexToBytes("81 80 a1 b2"));
  assert.equal(parser.hasPartialFrame, true);
  assert.equal(pushChunk(parser, hexToBytes("c3 d4")).length, 1);
  assert.equal(parser.hasPartialFrame, false);
});

test("FrameParser decodes frames with RSV bits cleared", () => {
  const [frame] = pushChunk(new FrameParser(CLIENT), hexToBytes("81 00"));
  assert.deepEqual(frame, {
    fin: true,
    opcode: 0x1,
    payload: new Uint8Array(0),
    rsv1: false,
    rsv2: false,
    rsv3: false,
  });
});

test("encodeTextFrame gives the bytes encodeFrame gives for the text's UTF-8, at every header form", () => {
  const texts = [
    "",
    "a",
    "héllo ✓ 🎉",
    "\ud800 lone surrogate",
    "x".repeat(41),
    "x".repeat(42), // 126 bytes of room: the 16-bit form is reserved, the 7-bit one used
    "x".repeat(125),
    "x".repeat(126),
    "é".repeat(32767), // 65534 bytes: the 64-bit form reserved, the 16-bit one used
    "x".repeat(65536),
  ];
  for (const text of texts) {
    const payload = new TextEncoder().encode(text);
    const expected = encodeFrame({ fin: true, opcode: OPCODE.Text, payload });
    assert.deepEqual(encodeTextFrame(text, false), expected, `${text.length} units`);
  }
});

test("encodeTextFrame masks with a fresh key that a server parser undoes", () => {
  for (const text of ["", "masked ✓", "y".repeat(300)]) {
    const bytes = encodeTextFrame(text, true);
    assert.equal(bytes[1]! & 0x80, 0x80);
    const frames: Frame[] = [];
    new FrameParser({ role: "server" }).push(bytes, (frame) => frames.push(frame));
    assert.equal(frames.length, 1);
    assert.equal(frames[0]!.opcode, OPCODE.Text);
    assert.equal(new TextDecoder().decode(frames[0]!.payload), text);
  }
});

const rsv1Text = Uint8Array.of(0xc1, 0x02, 0x61, 0x62); // FIN, RSV1, text "ab"

test("FrameParser with allowRsv1 reports RSV1 on a data message's first frame", () => {
  const parser = new FrameParser({ role: "client", allowRsv1: true });
  const [frame] = pushChunk(parser, rsv1Text);
  assert.equal(frame?.opcode, OPCODE.Text);
  assert.equal(frame?.rsv1, true);
  const [plain] = pushChunk(parser, Uint8Array.of(0x82, 0x01, 0x07));
  assert.equal(plain?.rsv1, false);
});

test("FrameParser without allowRsv1 fails RSV1 with 1002, naming the missing extension", () => {
  const parser = new FrameParser({ role: "client" });
  assert.throws(
    () => pushChunk(parser, rsv1Text),
    protocolError(1002, /without a negotiated extension/),
  );
});

test("FrameParser with allowRsv1 fails RSV1 on a continuation or control frame with 1002", () => {
  const continuation = new FrameParser({ role: "client", allowRsv1: true });
  pushChunk(continuation, Uint8Array.of(0x41, 0x01, 0x61)); // RSV1, text, not FIN
  assert.throws(
    () => pushChunk(continuation, Uint8Array.of(0xc0, 0x01, 0x62)),
    protocolError(1002, /RSV1 is set on a continuation frame/),
  );
  for (const opcode of [OPCODE.Ping, OPCODE.Pong, OPCODE.Close]) {
    const parser = new FrameParser({ role: "client", allowRsv1: true });
    assert.throws(
      () => pushChunk(parser, Uint8Array.of(0xc0 | opcode, 0x00)),
      protocolError(1002, /RSV1 is set on a control frame/),
    );
  }
});

test("FrameParser with allowRsv1 still fails RSV2 and RSV3 with 1002", () => {
  for (const byte0 of [0xe1, 0xd1, 0xa1, 0x91]) {
    const parser = new FrameParser({ role: "client", allowRsv1: true });
    assert.throws(() => pushChunk(parser, Uint8Array.of(byte0, 0x00)), protocolError(1002));
  }
});
