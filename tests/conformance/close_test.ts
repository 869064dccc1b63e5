// Group 7: the closing handshake (RFC 6455 §5.5.1, §7). A close frame is
// answered once, echoing its code and reason; nothing after it is processed; close codes
// and reasons are validated (1002 for a code not allowed on the wire, 1007
// for a reason that is not UTF-8); our own close waits for the peer's.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ConnectionClosedError } from "../../mod.ts";
import { OPCODE } from "../../src/codec/mod.ts";
import {
  assertBytes,
  assertClosedByPeer,
  assertFailed,
  assertWireFrames,
  binaryFrame,
  closeFrame,
  concat,
  continuationFrame,
  createHarness,
  deliver,
  DELIVERIES,
  describeFrames,
  fromHex,
  patternBytes,
  patternText,
  pingFrame,
  rawFrame,
  ROLES,
  textFrame,
  utf8,
} from "./_harness.ts";

const codeBytes = (code: number): Uint8Array => Uint8Array.of(code >> 8, code & 0xff);

const VALID_CODES = [
  1000,
  1001,
  1002,
  1003,
  1007,
  1008,
  1009,
  1010,
  1011,
  1012,
  1013,
  1014,
  3000,
  3999,
  4000,
  4999,
] as const;
const INVALID_CODES = [
  0,
  999,
  1004,
  1005,
  1006,
  1015,
  1016,
  1100,
  2000,
  2999,
  5000,
  65535,
] as const;

for (const role of ROLES) {
  for (const delivery of DELIVERIES) {
    test(`Connection 7.1.1 (${role}) echoes a message, then answers the close with 1000, sent ${delivery}`, () => {
      const h = createHarness(role);
      deliver(h, [textFrame(role, "Hello World"), closeFrame(role, 1000)], delivery);
      assert.deepEqual(h.messages, ["Hello World"]);
      assertWireFrames(role, h.written(), [
        { opcode: OPCODE.Text, payload: utf8("Hello World") },
        { opcode: OPCODE.Close, payload: codeBytes(1000) },
      ]);
      assertClosedByPeer(h, 1000, "", 1000);
    });

    test(`Connection 7.1.2 (${role}) answers only the first of two close frames, sent ${delivery}`, () => {
      const h = createHarness(role);
      deliver(h, [closeFrame(role, 1000), closeFrame(role, 1001, "again")], delivery);
      assertWireFrames(role, h.written(), [{ opcode: OPCODE.Close, payload: codeBytes(1000) }]);
      assertClosedByPeer(h, 1000, "", 1000);
    });

    test(`Connection 7.1.3 (${role}) sends no pong for a ping after the peer's close, sent ${delivery}`, () => {
      const h = createHarness(role);
      deliver(h, [closeFrame(role, 1000), pingFrame(role, "Hello")], delivery);
      assertWireFrames(role, h.written(), [{ opcode: OPCODE.Close, payload: codeBytes(1000) }]);
      assert.deepEqual(h.pings, []);
      assertClosedByPeer(h, 1000, "", 1000);
    });

    test(`Connection 7.1.4 (${role}) ignores a text message after the peer's close, sent ${delivery}`, () => {
      const h = createHarness(role);
      deliver(h, [closeFrame(role, 1000), textFrame(role, "after close")], delivery);
      assert.deepEqual(h.messages, []);
      assertWireFrames(role, h.written(), [{ opcode: OPCODE.Close, payload: codeBytes(1000) }]);
      assertClosedByPeer(h, 1000, "", 1000);
    });

    test(`Connection 7.1.5 (${role}) drops a fragmented message cut by the peer's close, sent ${delivery}`, () => {
      const h = createHarness(role);
      deliver(h, [
        textFrame(role, "fragment1", false),
        closeFrame(role, 1000),
        continuationFrame(role, "fragment2", true),
      ], delivery);
      assert.deepEqual(h.messages, []);
      assertClosedByPeer(h, 1000, "", 1000);
      assert.equal(h.frames().length, 1);
    });

    test(`Connection 7.1.6 (${role}) echoes a 256 KiB message, then closes and ignores a ping, sent ${delivery}`, () => {
      const h = createHarness(role);
      const big = patternText(256 * 1024);
      deliver(
        h,
        [textFrame(role, big), closeFrame(role, 1000), pingFrame(role, "Hello")],
        delivery,
      );
      assert.deepEqual(h.messages, [big]);
      assertWireFrames(role, h.written(), [
        { opcode: OPCODE.Text, payload: utf8(big) },
        { opcode: OPCODE.Close, payload: codeBytes(1000) },
      ]);
      assertClosedByPeer(h, 1000, "", 1000);
    });

    test(`Connection 7.1.7 (${role}) ignores invalid bytes after the peer's close, sent ${delivery}`, () => {
      const h = createHarness(role);
      deliver(h, [
        closeFrame(role, 1000, "bye"),
        rawFrame(role, 0xf3, [5], patternBytes(5)),
        fromHex("ff ff ff ff ff ff ff ff ff ff ff ff ff ff"),
      ], delivery);
      assertWireFrames(role, h.written(), [
        { opcode: OPCODE.Close, payload: concat(codeBytes(1000), utf8("bye")) },
      ]);
      assertClosedByPeer(h, 1000, "bye", 1000);
    });
  }

  test(`Connection 7.2.1 (${role}) sends its close frame, then ends cleanly on the peer's answer`, () => {
    const h = createHarness(role);
    h.connection.close(1000, "bye");
    assertWireFrames(role, h.written(), [
      { opcode: OPCODE.Close, payload: concat(codeBytes(1000), utf8("bye")) },
    ]);
    assert.equal(h.connection.state, "closing");
    assert.equal(h.ends.length, 0);
    assert.equal(h.connection.closeInfo, undefined);
    h.feed(closeFrame(role, 1000));
    assert.equal(h.writes.length, 1, "the answer is not answered");
    assert.deepEqual(h.ends.map((end) => end.info), [{ code: 1000, reason: "", wasClean: true }]);
    assert.deepEqual(h.connection.closeInfo, { code: 1000, reason: "", wasClean: true });
    assert.equal(h.connection.state, "closed");
  });

  test(`Connection 7.2.2 (${role}) still delivers data that arrives after its close, until the peer's close`, () => {
    const h = createHarness(role);
    h.connection.close(1001);
    const binary = patternBytes(40);
    h.feedEach([
      textFrame(role, "late text"),
      binaryFrame(role, binary),
      textFrame(role, "frag", false),
      continuationFrame(role, "mented", true),
      pingFrame(role, "late ping"),
    ]);
    assert.deepEqual(h.messages, ["late text", binary, "fragmented"]);
    assert.deepEqual(h.frames().map((frame) => frame.opcode), [OPCODE.Close], "no echo, no pong");
    assert.equal(h.connection.state, "closing");
    h.feed(concat(closeFrame(role, 1001, "ok"), textFrame(role, "after the handshake")));
    assert.equal(h.messages.length, 3);
    assert.deepEqual(h.ends.map((end) => end.info), [{ code: 1001, reason: "ok", wasClean: true }]);
  });

  test(`Connection 7.2.3 (${role}) refuses to send after its close and sends one close frame only`, () => {
    const h = createHarness(role);
    h.connection.close(1000);
    assert.throws(() => h.connection.send("too late"), ConnectionClosedError);
    assert.throws(() => h.connection.ping(), ConnectionClosedError);
    h.connection.close(1001, "second");
    assert.equal(h.writes.length, 1, describeFrames(h.frames()));
    h.feed(closeFrame(role, 1000));
    assert.throws(
      () => h.connection.send("closed"),
      (error) =>
        error instanceof ConnectionClosedError && error.closeCode === 1000 && error.wasClean,
    );
    h.connection.close(1000);
    assert.equal(h.writes.length, 1);
  });

  test(`Connection 7.2.4 (${role}) sends an empty close frame without a code and reports 1005 on an empty answer`, () => {
    const h = createHarness(role);
    h.connection.close();
    assertWireFrames(role, h.written(), [{ opcode: OPCODE.Close, payload: new Uint8Array(0) }]);
    h.feed(closeFrame(role));
    assert.deepEqual(h.ends.map((end) => end.info), [{ code: 1005, reason: "", wasClean: true }]);
  });

  test(`Connection 7.2.5 (${role}) reports the code of the peer's answer, not its own`, () => {
    const h = createHarness(role);
    h.connection.close(4000, "mine");
    h.feed(closeFrame(role, 1001, "theirs"));
    assert.deepEqual(h.connection.closeInfo, { code: 1001, reason: "theirs", wasClean: true });
    assert.equal(h.writes.length, 1);
  });

  test(`Connection 7.2.6 (${role}) fails with 1002 without a second close frame on a bad frame after its close`, () => {
    const h = createHarness(role);
    h.connection.close(1000);
    h.feed(rawFrame(role, 0x83, [0]));
    assert.equal(h.writes.length, 1, describeFrames(h.frames()));
    assert.equal(h.ends.length, 1);
    assert.equal(h.ends[0]!.info.code, 1002);
    assert.equal(h.ends[0]!.info.wasClean, false);
  });

  test(`Connection 7.2.7 (${role}) refuses close codes and reasons it may not send`, () => {
    const h = createHarness(role);
    for (const code of INVALID_CODES) {
      assert.throws(() => h.connection.close(code), RangeError, `code ${code}`);
    }
    assert.throws(() => h.connection.close(1000, "x".repeat(124)), RangeError);
    assert.throws(() => h.connection.close(1000, "é".repeat(62)), RangeError, "124 bytes");
    assert.throws(() => h.connection.close(undefined, "reason"), TypeError);
    assert.equal(h.writes.length, 0);
    h.connection.close(1000, "é".repeat(61) + "a");
    assert.equal(h.frames()[0]?.payload.length, 125);
  });

  test(`Connection 7.2.8 (${role}) reports 1006 when the transport ends before the peer's answer`, () => {
    const h = createHarness(role);
    h.connection.close(1000);
    h.connection.receiveEnd();
    assert.deepEqual(h.ends.map((end) => end.info), [{ code: 1006, reason: "", wasClean: false }]);
    assert.equal(h.writes.length, 1);
  });

  test(`Connection 7.3.1 (${role}) answers an empty close frame with an empty one and reports 1005`, () => {
    const h = createHarness(role);
    h.feed(closeFrame(role));
    assertWireFrames(role, h.written(), [{ opcode: OPCODE.Close, payload: new Uint8Array(0) }]);
    assertClosedByPeer(h, 1005, "", undefined);
  });

  test(`Connection 7.3.2 (${role}) fails with 1002 on a close frame with a 1-byte payload`, () => {
    const h = createHarness(role);
    h.feed(rawFrame(role, 0x88, [1], Uint8Array.of(0x03)));
    assertFailed(h, 1002);
  });

  test(`Connection 7.3.3 (${role}) answers a close with code 1000 and no reason`, () => {
    const h = createHarness(role);
    h.feed(closeFrame(role, 1000));
    assertClosedByPeer(h, 1000, "", 1000);
  });

  test(`Connection 7.3.4 (${role}) answers a close with code 1000 and a reason, and reports the reason`, () => {
    const h = createHarness(role);
    h.feed(closeFrame(role, 1000, "Hello World!"));
    assertWireFrames(role, h.written(), [
      { opcode: OPCODE.Close, payload: concat(codeBytes(1000), utf8("Hello World!")) },
    ]);
    assertClosedByPeer(h, 1000, "Hello World!", 1000);
  });

  test(`Connection 7.3.5 (${role}) answers a close with a 123-byte reason and reports it whole`, () => {
    const h = createHarness(role);
    const reason = patternText(61) + "é".repeat(31);
    assert.equal(utf8(reason).length, 123);
    h.feed(closeFrame(role, 1000, reason), "bytewise");
    assertClosedByPeer(h, 1000, reason, 1000);
  });

  test(`Connection 7.3.6 (${role}) fails with 1002 on a close frame with a 124-byte reason`, () => {
    const h = createHarness(role);
    const payload = concat(codeBytes(1000), utf8(patternText(124)));
    h.feed(rawFrame(role, 0x88, [126, 0x00, 126], payload));
    assertFailed(h, 1002);
  });

  test(`Connection 7.5.1 (${role}) fails with 1007 on a close reason that is not UTF-8`, () => {
    const h = createHarness(role);
    h.feed(
      closeFrame(
        role,
        1000,
        fromHex("ce ba e1 bd b9 cf 83 ce bc ce b5 ed a0 80 65 64 69 74 65 64"),
      ),
    );
    assertFailed(h, 1007);
  });

  test(`Connection 7.5.2 (${role}) fails with 1007 on a close reason that ends inside a sequence`, () => {
    const h = createHarness(role);
    h.feed(closeFrame(role, 1000, fromHex("61 62 e2 82")));
    assertFailed(h, 1007);
  });

  test(`Connection 7.5.3 (${role}) keeps a U+FEFF that opens a close reason`, () => {
    const h = createHarness(role);
    h.feed(closeFrame(role, 1000, fromHex("ef bb bf 6f 6b")));
    assertClosedByPeer(h, 1000, "\ufeffok", 1000);
  });

  for (const [index, code] of VALID_CODES.entries()) {
    test(`Connection 7.7.${index + 1} (${role}) echoes the valid close code ${code} and reports it with its reason`, () => {
      const h = createHarness(role);
      h.feed(closeFrame(role, code, `reason ${code}`));
      assertWireFrames(role, h.written(), [
        { opcode: OPCODE.Close, payload: concat(codeBytes(code), utf8(`reason ${code}`)) },
      ]);
      assertClosedByPeer(h, code, `reason ${code}`, code);
    });
  }

  for (const [index, code] of INVALID_CODES.entries()) {
    test(`Connection 7.9.${index + 1} (${role}) fails with 1002 on the close code ${code}`, () => {
      const h = createHarness(role);
      h.feed(closeFrame(role, code));
      assertFailed(h, 1002);
      assertBytes(h.frames()[0]!.payload.subarray(0, 2), codeBytes(1002));
    });
  }

  test(`Connection 7.13.1 (${role}) reports 1006 when the transport ends without a close frame`, () => {
    const h = createHarness(role);
    h.feed(textFrame(role, "hi"));
    h.connection.receiveEnd();
    assert.deepEqual(h.ends.map((end) => end.info), [{ code: 1006, reason: "", wasClean: false }]);
    assert.deepEqual(h.connection.closeInfo, { code: 1006, reason: "", wasClean: false });
    assert.equal(h.frames().length, 1, "only the echo: 1006 is never sent");
  });

  test(`Connection 7.13.2 (${role}) reports 1006 when the transport ends inside a frame`, () => {
    const h = createHarness(role);
    const frame = textFrame(role, "cut short");
    h.feed(frame.subarray(0, frame.length - 2));
    h.connection.receiveEnd();
    assert.deepEqual(h.ends.map((end) => end.info), [{ code: 1006, reason: "", wasClean: false }]);
    assert.deepEqual(h.messages, []);
    assert.equal(h.writes.length, 0);
  });

  test(`Connection 7.13.3 (${role}) ends only once, and ignores input after it ended`, () => {
    const h = createHarness(role);
    h.feed(closeFrame(role, 1000));
    h.connection.receiveEnd();
    h.feed(textFrame(role, "late"));
    h.connection.receiveEnd();
    assert.equal(h.ends.length, 1);
    assert.deepEqual(h.messages, []);
    assertClosedByPeer(h, 1000, "", 1000);
  });
}
