// Group 1: framing. Text and binary messages of every length encoding, echoed
// back byte for byte; masking by role; length encodings the encoder cannot produce.

import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeFrame, OPCODE } from "../../src/codec/mod.ts";
import {
  assertFailed,
  assertSilentAndOpen,
  assertWireFrames,
  binaryFrame,
  type Chunking,
  concat,
  createHarness,
  maskedFrame,
  patternBytes,
  patternText,
  pingFrame,
  rawFrame,
  ROLES,
  SMALL_CHUNKS,
  textFrame,
  utf8,
} from "./_harness.ts";

const LENGTHS = [0, 125, 126, 127, 128, 65535, 65536, 262144] as const;
const DELIVERIES: readonly { name: string; chunking: Chunking }[] = [
  { name: "delivered whole", chunking: "whole" },
  { name: "delivered in small chunks", chunking: SMALL_CHUNKS },
];

for (const role of ROLES) {
  for (const [index, length] of LENGTHS.entries()) {
    for (const { name, chunking } of DELIVERIES) {
      test(`Connection 1.1.${index + 1} (${role}) echoes a ${length}-byte text message ${name}`, () => {
        const h = createHarness(role);
        const text = patternText(length);
        h.feed(textFrame(role, text), chunking);
        assert.equal(h.messages.length, 1);
        assert.equal(h.messages[0], text);
        assertWireFrames(role, h.written(), [{ opcode: OPCODE.Text, payload: utf8(text) }]);
        assert.equal(h.ends.length, 0);
      });

      test(`Connection 1.2.${index + 1} (${role}) echoes a ${length}-byte binary message ${name}`, () => {
        const h = createHarness(role);
        const payload = patternBytes(length, index);
        h.feed(binaryFrame(role, payload), chunking);
        assert.equal(h.messages.length, 1);
        assert.deepEqual(h.messages[0], payload);
        assertWireFrames(role, h.written(), [{ opcode: OPCODE.Binary, payload }]);
        assert.equal(h.ends.length, 0);
      });
    }
  }
}

test("Connection 1.3.1 (server) rejects an unmasked text frame with 1002", () => {
  const h = createHarness("server");
  h.feed(encodeFrame({ fin: true, opcode: OPCODE.Text, payload: utf8("Hello") }));
  assertFailed(h, 1002);
  assert.deepEqual(h.messages, []);
});

test("Connection 1.3.1 (client) rejects a masked text frame with 1002", () => {
  const h = createHarness("client");
  h.feed(maskedFrame({ fin: true, opcode: OPCODE.Text, payload: utf8("Hello") }));
  assertFailed(h, 1002);
  assert.deepEqual(h.messages, []);
});

test("Connection 1.3.2 (server) rejects an unmasked ping with 1002 and sends no pong", () => {
  const h = createHarness("server");
  h.feed(encodeFrame({ fin: true, opcode: OPCODE.Ping, payload: utf8("ping") }));
  assertFailed(h, 1002);
  assert.equal(h.frames().length, 1);
  assert.deepEqual(h.pings, []);
});

test("Connection 1.3.2 (client) rejects a masked ping with 1002 and sends no pong", () => {
  const h = createHarness("client");
  h.feed(maskedFrame({ fin: true, opcode: OPCODE.Ping, payload: utf8("ping") }));
  assertFailed(h, 1002);
  assert.equal(h.frames().length, 1);
  assert.deepEqual(h.pings, []);
});

test("Connection 1.3.3 (server) rejects an unmasked frame after a valid masked one", () => {
  const h = createHarness("server");
  h.feed(textFrame("server", "first"));
  h.feed(encodeFrame({ fin: true, opcode: OPCODE.Binary, payload: Uint8Array.of(1, 2, 3) }));
  assert.deepEqual(h.messages, ["first"]);
  assertFailed(h, 1002);
});

test("Connection 1.3.3 (client) rejects a masked frame after a valid unmasked one", () => {
  const h = createHarness("client");
  h.feed(textFrame("client", "first"));
  h.feed(maskedFrame({ fin: true, opcode: OPCODE.Binary, payload: Uint8Array.of(1, 2, 3) }));
  assert.deepEqual(h.messages, ["first"]);
  assertFailed(h, 1002);
});

// Length encodings the encoder never produces, written as raw bytes.
const BAD_LENGTHS: readonly {
  id: string;
  what: string;
  lengthBytes: number[];
  payloadLength: number;
  code: number;
}[] = [
  {
    id: "1.4.1",
    what: "a length of 125 in the 16-bit form",
    lengthBytes: [126, 0x00, 0x7d],
    payloadLength: 125,
    code: 1002,
  },
  {
    id: "1.4.2",
    what: "a length of 0 in the 16-bit form",
    lengthBytes: [126, 0x00, 0x00],
    payloadLength: 0,
    code: 1002,
  },
  {
    id: "1.4.3",
    what: "a length of 65535 in the 64-bit form",
    lengthBytes: [127, 0, 0, 0, 0, 0, 0, 0xff, 0xff],
    payloadLength: 65535,
    code: 1002,
  },
  {
    id: "1.4.4",
    what: "a length of 5 in the 64-bit form",
    lengthBytes: [127, 0, 0, 0, 0, 0, 0, 0, 5],
    payloadLength: 5,
    code: 1002,
  },
  {
    id: "1.4.5",
    what: "a 64-bit length with the most significant bit set",
    lengthBytes: [127, 0x80, 0, 0, 0, 0, 0, 0, 5],
    payloadLength: 0,
    code: 1002,
  },
  {
    id: "1.4.6",
    what: "a 64-bit length of 2^64 - 1",
    lengthBytes: [127, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    payloadLength: 0,
    code: 1002,
  },
  {
    id: "1.4.7",
    what: "a 64-bit length of 2^53, past the exact range of a number",
    lengthBytes: [127, 0x00, 0x20, 0, 0, 0, 0, 0, 0],
    payloadLength: 0,
    code: 1009,
  },
];

for (const role of ROLES) {
  for (const { id, what, lengthBytes, payloadLength, code } of BAD_LENGTHS) {
    test(`Connection ${id} (${role}) fails with ${code} on a binary frame with ${what}`, () => {
      const h = createHarness(role);
      const frame = rawFrame(role, 0x82, lengthBytes, patternBytes(payloadLength));
      const headerLength = frame.length - payloadLength;
      // The header alone decides: the close is written before any payload arrives.
      h.feed(frame.subarray(0, headerLength), "bytewise");
      assertFailed(h, code);
      h.feed(frame.subarray(headerLength));
      assert.deepEqual(h.messages, []);
      assert.equal(h.frames().length, 1);
    });
  }

  test(`Connection 1.4.8 (${role}) accepts the smallest lengths of each form from raw headers`, () => {
    const h = createHarness(role, { echo: false });
    const parts = [
      rawFrame(role, 0x82, [125], patternBytes(125)),
      rawFrame(role, 0x82, [126, 0x00, 0x7e], patternBytes(126)),
      rawFrame(role, 0x82, [127, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00], patternBytes(65536)),
    ];
    h.feed(concat(...parts), SMALL_CHUNKS);
    assert.deepEqual(h.messages, [patternBytes(125), patternBytes(126), patternBytes(65536)]);
    assertSilentAndOpen(h);
  });

  test(`Connection 1.5.1 (${role}) echoes several messages that arrive in one write, in order`, () => {
    const h = createHarness(role);
    const binary = patternBytes(300);
    h.feed(concat(
      textFrame(role, "one"),
      binaryFrame(role, binary),
      pingFrame(role, "p"),
      textFrame(role, ""),
    ));
    assert.deepEqual(h.messages, ["one", binary, ""]);
    assertWireFrames(role, h.written(), [
      { opcode: OPCODE.Text, payload: utf8("one") },
      { opcode: OPCODE.Binary, payload: binary },
      { opcode: OPCODE.Pong, payload: utf8("p") },
      { opcode: OPCODE.Text, payload: new Uint8Array(0) },
    ]);
  });
}
