// Group 2: pings and pongs. A ping is answered with a pong carrying the same
// payload; an unsolicited pong is reported and not answered; a control frame
// over 125 bytes fails the connection.

import { test } from "node:test";
import assert from "node:assert/strict";
import { OPCODE } from "../../src/codec/mod.ts";
import {
  assertFailed,
  assertSilentAndOpen,
  assertWireFrames,
  closeFrame,
  concat,
  createHarness,
  decodeFrames,
  patternBytes,
  pingFrame,
  pongFrame,
  rawFrame,
  ROLES,
  textFrame,
  utf8,
} from "./_harness.ts";

const PAYLOADS: readonly { id: string; what: string; payload: Uint8Array }[] = [
  { id: "2.1", what: "an empty ping", payload: new Uint8Array(0) },
  { id: "2.2", what: "a ping with a text payload", payload: utf8("Hello, world!") },
  {
    id: "2.3",
    what: "a ping with a binary payload",
    payload: Uint8Array.of(0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff),
  },
  { id: "2.4", what: "a 125-byte ping", payload: patternBytes(125) },
];

for (const role of ROLES) {
  for (const { id, what, payload } of PAYLOADS) {
    test(`Connection ${id} (${role}) answers ${what} with an identical pong`, () => {
      const h = createHarness(role);
      h.feed(pingFrame(role, payload));
      assertWireFrames(role, h.written(), [{ opcode: OPCODE.Pong, payload }]);
      assert.deepEqual(h.pings, [payload]);
      assert.deepEqual(h.pongs, []);
      assert.equal(h.ends.length, 0);
    });
  }

  test(`Connection 2.5 (${role}) fails with 1002 on a 126-byte ping, as soon as its length is read`, () => {
    const h = createHarness(role);
    const ping = rawFrame(role, 0x89, [126, 0x00, 0x7e], patternBytes(126));
    h.feed(ping.subarray(0, 2));
    assertFailed(h, 1002);
    h.feed(ping.subarray(2));
    assert.equal(h.frames().length, 1, "no pong after the close");
    assert.deepEqual(h.pings, []);
  });

  test(`Connection 2.6 (${role}) answers a 125-byte ping fed byte by byte with an identical pong`, () => {
    const h = createHarness(role);
    const payload = patternBytes(125, 6);
    const ping = pingFrame(role, payload);
    h.feed(ping.subarray(0, ping.length - 1), "bytewise");
    assert.equal(h.writes.length, 0, "no pong before the ping is complete");
    h.feed(ping.subarray(ping.length - 1));
    assertWireFrames(role, h.written(), [{ opcode: OPCODE.Pong, payload }]);
  });

  test(`Connection 2.7 (${role}) reports an unsolicited empty pong and writes nothing`, () => {
    const h = createHarness(role);
    h.feed(pongFrame(role));
    assert.deepEqual(h.pongs, [new Uint8Array(0)]);
    assertSilentAndOpen(h);
  });

  test(`Connection 2.8 (${role}) reports an unsolicited pong with a payload and writes nothing`, () => {
    const h = createHarness(role);
    h.feed(pongFrame(role, "unsolicited pong payload"));
    assert.deepEqual(h.pongs, [utf8("unsolicited pong payload")]);
    assertSilentAndOpen(h);
  });

  test(`Connection 2.9 (${role}) answers only the ping after an unsolicited pong`, () => {
    const h = createHarness(role);
    h.feed(concat(pongFrame(role, "unsolicited"), pingFrame(role, "ping payload")));
    assertWireFrames(role, h.written(), [{ opcode: OPCODE.Pong, payload: utf8("ping payload") }]);
    assert.deepEqual(h.pongs, [utf8("unsolicited")]);
    assert.deepEqual(h.pings, [utf8("ping payload")]);
  });

  for (const [id, chunking] of [["2.10", "whole"], ["2.11", "bytewise"]] as const) {
    const how = chunking === "whole" ? "in one write" : "byte by byte";
    test(`Connection ${id} (${role}) answers 10 pings sent ${how} with 10 pongs in order`, () => {
      const h = createHarness(role);
      const payloads = Array.from({ length: 10 }, (_, i) => utf8(`payload-${i}`));
      h.feed(concat(...payloads.map((payload) => pingFrame(role, payload))), chunking);
      assertWireFrames(
        role,
        h.written(),
        payloads.map((payload) => ({ opcode: OPCODE.Pong, payload })),
      );
      assert.equal(h.writes.length, 10, "one write per pong");
      assert.deepEqual(h.pings, payloads);
    });
  }

  test(`Connection 2.12 (${role}) sends no pong for a ping that arrives after its close frame`, () => {
    const h = createHarness(role);
    h.connection.close(1000, "bye");
    assert.equal(h.writes.length, 1);
    h.feed(pingFrame(role, "late"));
    const frames = h.frames();
    assert.deepEqual(frames.map((frame) => frame.opcode), [OPCODE.Close], "only our close frame");
    assert.equal(h.connection.state, "closing");
    assert.equal(h.ends.length, 0);
  });

  test(`Connection 2.13 (${role}) ignores a ping that follows the peer's close frame`, () => {
    const h = createHarness(role);
    h.feed(closeFrame(role, 1000));
    h.feed(pingFrame(role, "after close"));
    const frames = h.frames();
    assert.deepEqual(frames.map((frame) => frame.opcode), [OPCODE.Close]);
    assert.deepEqual(h.pings, []);
    assert.equal(h.ends.length, 1);
  });

  test(`Connection 2.14 (${role}) answers a ping between two text messages in order`, () => {
    const h = createHarness(role);
    h.feed(concat(textFrame(role, "before"), pingFrame(role, "p"), textFrame(role, "after")));
    assertWireFrames(role, h.written(), [
      { opcode: OPCODE.Text, payload: utf8("before") },
      { opcode: OPCODE.Pong, payload: utf8("p") },
      { opcode: OPCODE.Text, payload: utf8("after") },
    ]);
  });

  test(`Connection 2.15 (${role}) sends a ping the peer can decode, and reports its pong`, () => {
    const h = createHarness(role);
    h.connection.ping(utf8("heartbeat"));
    const [ping] = decodeFrames(role, h.written());
    assert.equal(ping?.opcode, OPCODE.Ping);
    assert.deepEqual(ping?.payload, utf8("heartbeat"));
    h.feed(pongFrame(role, "heartbeat"));
    assert.deepEqual(h.pongs, [utf8("heartbeat")]);
    assert.equal(h.writes.length, 1, "a pong is not answered");
    assert.throws(() => h.connection.ping(patternBytes(126)), RangeError);
  });
}
