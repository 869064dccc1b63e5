// Group 10: automatic fragmentation. With `fragmentSize`, an outgoing message
// longer than it is written as a first frame with the message's opcode, then
// continuation frames, FIN set on the last only (RFC 6455 §5.4). Control
// frames are never fragmented.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Connection, type Message } from "../../mod.ts";
import { OPCODE } from "../../src/codec/mod.ts";
import {
  assertWireFrames,
  createHarness,
  type Harness,
  otherRole,
  patternBytes,
  patternText,
  pingFrame,
  ROLES,
  textFrame,
  utf8,
  type WireFrame,
} from "./_harness.ts";

/** The frames a message of `payload` should become with `fragmentSize`. */
function expectedFragments(opcode: number, payload: Uint8Array, fragmentSize: number): WireFrame[] {
  if (payload.length <= fragmentSize) return [{ opcode, payload, fin: true }];
  const frames: WireFrame[] = [];
  for (let start = 0; start < payload.length; start += fragmentSize) {
    const end = Math.min(start + fragmentSize, payload.length);
    frames.push({
      opcode: start === 0 ? opcode : OPCODE.Continuation,
      payload: payload.subarray(start, end),
      fin: end === payload.length,
    });
  }
  return frames;
}

const SIZES: readonly { id: string; what: string; fragmentSize: number; length: number }[] = [
  { id: "10.1.2", what: "shorter than fragmentSize", fragmentSize: 100, length: 99 },
  { id: "10.1.3", what: "exactly fragmentSize long", fragmentSize: 100, length: 100 },
  { id: "10.1.4", what: "one byte over fragmentSize", fragmentSize: 100, length: 101 },
  { id: "10.1.5", what: "three times fragmentSize", fragmentSize: 100, length: 300 },
  { id: "10.1.6", what: "empty", fragmentSize: 100, length: 0 },
  { id: "10.1.7", what: "of 10 bytes with fragmentSize 1", fragmentSize: 1, length: 10 },
  {
    id: "10.1.8",
    what: "of 50000 bytes with fragmentSize 20000",
    fragmentSize: 20000,
    length: 50000,
  },
  {
    id: "10.1.9",
    what: "of 70000 bytes with fragmentSize 65536",
    fragmentSize: 65536,
    length: 70000,
  },
];

for (const role of ROLES) {
  test(`Connection 10.1.1 (${role}) echoes a 65536-byte text message as 1300-byte fragments`, () => {
    const h = createHarness(role, { fragmentSize: 1300 });
    const text = patternText(65536);
    h.feed(textFrame(role, text));
    assert.deepEqual(h.messages, [text]);
    const expected = expectedFragments(OPCODE.Text, utf8(text), 1300);
    assert.equal(expected.length, 51);
    assert.equal(expected.at(-1)?.payload.length, 536);
    assertWireFrames(role, h.written(), expected);
  });

  for (const { id, what, fragmentSize, length } of SIZES) {
    for (const kind of ["text", "binary"] as const) {
      test(`Connection ${id} (${role}) sends a ${kind} message ${what} as the right frames`, () => {
        const h = createHarness(role, { fragmentSize });
        const payload = kind === "text" ? utf8(patternText(length)) : patternBytes(length);
        h.connection.send(kind === "text" ? patternText(length) : payload);
        const opcode = kind === "text" ? OPCODE.Text : OPCODE.Binary;
        const expected = expectedFragments(opcode, payload, fragmentSize);
        assertWireFrames(role, h.written(), expected);
        const frames = h.frames();
        assert.equal(frames.length, Math.max(1, Math.ceil(length / fragmentSize)));
        assert.deepEqual(frames.map((frame) => frame.fin), expected.map((frame) => frame.fin));
      });
    }
  }

  test(`Connection 10.1.10 (${role}) splits UTF-8 text on byte boundaries, and the peer reassembles it`, () => {
    const text = "κόσμε😀€é".repeat(10);
    const h = createHarness(role, { fragmentSize: 3 });
    h.connection.send(text);
    assertWireFrames(role, h.written(), expectedFragments(OPCODE.Text, utf8(text), 3));
    const peer = createHarness(otherRole(role), { echo: false });
    peer.feed(h.written());
    assert.deepEqual(peer.messages, [text]);
  });

  test(`Connection 10.1.11 (${role}) never fragments pings, pongs or close frames`, () => {
    const h = createHarness(role, { fragmentSize: 10 });
    h.connection.ping(patternBytes(125));
    h.connection.pong(patternBytes(30));
    h.feed(pingFrame(role, patternBytes(125, 1)));
    h.connection.close(1000, patternText(123));
    assertWireFrames(role, h.written(), [
      { opcode: OPCODE.Ping, payload: patternBytes(125) },
      { opcode: OPCODE.Pong, payload: patternBytes(30) },
      { opcode: OPCODE.Pong, payload: patternBytes(125, 1) },
      { opcode: OPCODE.Close, payload: Uint8Array.of(0x03, 0xe8, ...utf8(patternText(123))) },
    ]);
  });

  test(`Connection 10.1.12 (${role}) delivers auto-fragmented messages intact to a peer connection`, () => {
    const received: Message[] = [];
    const peer: Connection = new Connection({ role: otherRole(role) }, {
      write: () => {},
      message: (data) => received.push(typeof data === "string" ? data : data.slice()),
      end: () => {},
    });
    const sender = new Connection({ role, fragmentSize: 7 }, {
      write: (bytes) => peer.receive(bytes.slice()),
      message: () => {},
      end: () => {},
    });
    const messages: Message[] = [
      "",
      "short",
      patternText(1000),
      patternBytes(0),
      patternBytes(999),
    ];
    for (const message of messages) sender.send(message);
    assert.deepEqual(received, messages);
  });

  test(`Connection 10.2.1 (${role}) refuses a fragmentSize below 1 or not a number`, () => {
    const handler = { write() {}, message() {}, end() {} };
    for (const fragmentSize of [0, -1, 0.5, Number.NaN]) {
      assert.throws(
        () => new Connection({ role, fragmentSize }, handler),
        RangeError,
        `fragmentSize ${fragmentSize}`,
      );
    }
  });

  test(`Connection 10.2.2 (${role}) never writes a fragment longer than a fractional fragmentSize`, () => {
    let h: Harness;
    try {
      h = createHarness(role, { fragmentSize: 2.5 });
    } catch (error) {
      // Refusing a fractional size is as good as honouring it.
      assert.ok(error instanceof RangeError);
      return;
    }
    h.connection.send(patternBytes(10));
    const frames = h.frames();
    for (const frame of frames) {
      assert.ok(frame.payload.length <= 2.5, `a fragment of ${frame.payload.length} bytes`);
    }
    assert.equal(frames.reduce((sum, frame) => sum + frame.payload.length, 0), 10);
  });
}
