// Group 5: fragmentation (RFC 6455 §5.4). Fragmented text and binary messages
// are reassembled, control frames between fragments are answered at once,
// fragmented control frames and fragments out of order fail with 1002. Every
// case is sent frame by frame, in one write and byte by byte.

import { test } from "node:test";
import assert from "node:assert/strict";
import type { Message } from "../../mod.ts";
import { OPCODE } from "../../src/codec/mod.ts";
import {
  assertFailed,
  assertWireFrames,
  binaryFrame,
  closeFrame,
  continuationFrame,
  createHarness,
  deliver,
  DELIVERIES,
  describeFrames,
  patternBytes,
  peerFrame,
  pingFrame,
  pongFrame,
  type Role,
  ROLES,
  textFrame,
  utf8,
  type WireFrame,
} from "./_harness.ts";

interface Case {
  id: string;
  what: string;
  frames(role: Role): Uint8Array[];
  /** The messages delivered. */
  messages: Message[];
  /** What is written before any close frame: echoes and pongs. */
  written: WireFrame[];
  /** The close code the connection fails with, if it fails. */
  fails?: number;
}

const text = (value: string): WireFrame => ({ opcode: OPCODE.Text, payload: utf8(value) });
const binary = (value: Uint8Array): WireFrame => ({ opcode: OPCODE.Binary, payload: value });
const pong = (value: string): WireFrame => ({ opcode: OPCODE.Pong, payload: utf8(value) });

const CASES: readonly Case[] = [
  {
    id: "5.1",
    what: "fails with 1002 on a ping in 2 fragments",
    frames: (role) => [
      peerFrame(role, { opcode: OPCODE.Ping, payload: "fragment1", fin: false }),
      continuationFrame(role, "fragment2", true),
    ],
    messages: [],
    written: [],
    fails: 1002,
  },
  {
    id: "5.2",
    what: "fails with 1002 on a pong in 2 fragments",
    frames: (role) => [
      peerFrame(role, { opcode: OPCODE.Pong, payload: "fragment1", fin: false }),
      continuationFrame(role, "fragment2", true),
    ],
    messages: [],
    written: [],
    fails: 1002,
  },
  {
    id: "5.3",
    what: "echoes a text message in 2 fragments",
    frames: (role) => [
      textFrame(role, "fragment1", false),
      continuationFrame(role, "fragment2", true),
    ],
    messages: ["fragment1fragment2"],
    written: [text("fragment1fragment2")],
  },
  {
    id: "5.6",
    what: "answers a ping between 2 text fragments, then echoes the message",
    frames: (role) => [
      textFrame(role, "fragment1", false),
      pingFrame(role, "pongme!"),
      continuationFrame(role, "fragment2", true),
    ],
    messages: ["fragment1fragment2"],
    written: [pong("pongme!"), text("fragment1fragment2")],
  },
  {
    id: "5.9",
    what: "fails with 1002 on a final continuation with nothing to continue",
    frames: (role) => [
      continuationFrame(role, "non-continuation payload", true),
      textFrame(role, "Hello, world!"),
    ],
    messages: [],
    written: [],
    fails: 1002,
  },
  {
    id: "5.12",
    what: "fails with 1002 on a non-final continuation with nothing to continue",
    frames: (role) => [
      continuationFrame(role, "non-continuation payload", false),
      textFrame(role, "Hello, world!"),
    ],
    messages: [],
    written: [],
    fails: 1002,
  },
  {
    id: "5.15",
    what: "echoes a 2-fragment text message, then fails with 1002 on a stray continuation",
    frames: (role) => [
      textFrame(role, "fragment1", false),
      continuationFrame(role, "fragment2", true),
      continuationFrame(role, "fragment3", false),
      textFrame(role, "fragment4"),
    ],
    messages: ["fragment1fragment2"],
    written: [text("fragment1fragment2")],
    fails: 1002,
  },
  {
    id: "5.16",
    what: "fails with 1002 on a non-final continuation before a fragmented message",
    frames: (role) => [
      continuationFrame(role, "fragment1", false),
      textFrame(role, "fragment2", false),
      continuationFrame(role, "fragment3", true),
      continuationFrame(role, "fragment1", false),
      textFrame(role, "fragment2", false),
      continuationFrame(role, "fragment3", true),
    ],
    messages: [],
    written: [],
    fails: 1002,
  },
  {
    id: "5.17",
    what: "fails with 1002 on a final continuation before a fragmented message",
    frames: (role) => [
      continuationFrame(role, "fragment1", true),
      textFrame(role, "fragment2", false),
      continuationFrame(role, "fragment3", true),
    ],
    messages: [],
    written: [],
    fails: 1002,
  },
  {
    id: "5.18",
    what: "fails with 1002 on a text frame that starts inside a fragmented text message",
    frames: (role) => [
      textFrame(role, "fragment1", false),
      textFrame(role, "fragment2", true),
    ],
    messages: [],
    written: [],
    fails: 1002,
  },
  {
    id: "5.19",
    what: "answers pings between 5 text fragments, then echoes the message",
    frames: (role) => [
      textFrame(role, "fragment1", false),
      continuationFrame(role, "fragment2", false),
      pingFrame(role, "pongme 1!"),
      continuationFrame(role, "fragment3", false),
      continuationFrame(role, "fragment4", false),
      pingFrame(role, "pongme 2!"),
      continuationFrame(role, "fragment5", true),
    ],
    messages: ["fragment1fragment2fragment3fragment4fragment5"],
    written: [
      pong("pongme 1!"),
      pong("pongme 2!"),
      text("fragment1fragment2fragment3fragment4fragment5"),
    ],
  },
  {
    id: "5.21",
    what: "echoes a binary message in 2 fragments",
    frames: (role) => [
      binaryFrame(role, patternBytes(200, 1), false),
      continuationFrame(role, patternBytes(300, 2), true),
    ],
    messages: [Uint8Array.from([...patternBytes(200, 1), ...patternBytes(300, 2)])],
    written: [binary(Uint8Array.from([...patternBytes(200, 1), ...patternBytes(300, 2)]))],
  },
  {
    id: "5.22",
    what: "answers a ping and reports a pong between 3 binary fragments, then echoes the message",
    frames: (role) => [
      binaryFrame(role, Uint8Array.of(1, 2), false),
      pingFrame(role, "p"),
      continuationFrame(role, Uint8Array.of(3), false),
      pongFrame(role, "unsolicited"),
      continuationFrame(role, Uint8Array.of(4, 5, 6), true),
    ],
    messages: [Uint8Array.of(1, 2, 3, 4, 5, 6)],
    written: [pong("p"), binary(Uint8Array.of(1, 2, 3, 4, 5, 6))],
  },
  {
    id: "5.23",
    what: "echoes a text message whose first, middle and last fragments are empty",
    frames: (role) => [
      textFrame(role, "", false),
      continuationFrame(role, "", false),
      continuationFrame(role, "middle", false),
      continuationFrame(role, "", false),
      continuationFrame(role, "", true),
    ],
    messages: ["middle"],
    written: [text("middle")],
  },
  {
    id: "5.24",
    what: "echoes an empty text message made of empty fragments",
    frames: (role) => [
      textFrame(role, "", false),
      continuationFrame(role, "", false),
      continuationFrame(role, "", true),
    ],
    messages: [""],
    written: [text("")],
  },
  {
    id: "5.25",
    what: "echoes an empty binary message made of empty fragments",
    frames: (role) => [
      binaryFrame(role, new Uint8Array(0), false),
      continuationFrame(role, new Uint8Array(0), true),
    ],
    messages: [new Uint8Array(0)],
    written: [binary(new Uint8Array(0))],
  },
  {
    id: "5.26",
    what: "fails with 1002 on a close frame in 2 fragments",
    frames: (role) => [
      peerFrame(role, { opcode: OPCODE.Close, payload: Uint8Array.of(0x03), fin: false }),
      continuationFrame(role, Uint8Array.of(0xe8), true),
    ],
    messages: [],
    written: [],
    fails: 1002,
  },
  {
    id: "5.27",
    what: "fails with 1002 on a binary frame that starts inside a fragmented text message",
    frames: (role) => [
      textFrame(role, "fragment1", false),
      binaryFrame(role, Uint8Array.of(1, 2, 3), true),
    ],
    messages: [],
    written: [],
    fails: 1002,
  },
  {
    id: "5.28",
    what: "fails with 1002 on a text frame that starts inside a fragmented binary message",
    frames: (role) => [
      binaryFrame(role, Uint8Array.of(1, 2, 3), false),
      textFrame(role, "fragment2", false),
      continuationFrame(role, "fragment3", true),
    ],
    messages: [],
    written: [],
    fails: 1002,
  },
  {
    id: "5.29",
    what: "echoes a text message sent as 100 one-byte fragments",
    frames: (role) =>
      Array.from(
        { length: 100 },
        (_, i) =>
          i === 0 ? textFrame(role, "a", false) : continuationFrame(role, "abcd"[i % 4]!, i === 99),
      ),
    messages: ["abcd".repeat(25)],
    written: [text("abcd".repeat(25))],
  },
  {
    id: "5.30",
    what: "echoes two fragmented messages in a row, text then binary",
    frames: (role) => [
      textFrame(role, "one-", false),
      continuationFrame(role, "two", true),
      binaryFrame(role, Uint8Array.of(9), false),
      continuationFrame(role, Uint8Array.of(8), true),
      textFrame(role, "single"),
    ],
    messages: ["one-two", Uint8Array.of(9, 8), "single"],
    written: [text("one-two"), binary(Uint8Array.of(9, 8)), text("single")],
  },
];

for (const role of ROLES) {
  for (const c of CASES) {
    for (const delivery of DELIVERIES) {
      test(`Connection ${c.id} (${role}) ${c.what}, sent ${delivery}`, () => {
        const h = createHarness(role);
        deliver(h, c.frames(role), delivery);
        assert.deepEqual(h.messages, c.messages);
        const written = h.written();
        if (c.fails === undefined) {
          assertWireFrames(role, written, c.written);
          assert.equal(h.ends.length, 0, `ended: ${JSON.stringify(h.ends[0]?.info)}`);
          assert.equal(h.connection.state, "open");
        } else {
          assertFailed(h, c.fails);
          const closeLength = h.writes.at(-1)!.length;
          assertWireFrames(role, written.subarray(0, written.length - closeLength), c.written);
        }
      });
    }
  }

  for (const delivery of DELIVERIES) {
    test(`Connection 5.31 (${role}) closes cleanly on a close frame between fragments, sent ${delivery}`, () => {
      const h = createHarness(role);
      deliver(h, [
        textFrame(role, "fragment1", false),
        closeFrame(role, 1000, "mid-message"),
        continuationFrame(role, "fragment2", true),
      ], delivery);
      assert.deepEqual(h.messages, [], "the unfinished message is dropped");
      const frames = h.frames();
      assert.equal(frames.length, 1, describeFrames(frames));
      assert.deepEqual(h.ends.map((end) => end.info), [
        { code: 1000, reason: "mid-message", wasClean: true },
      ]);
    });
  }
}
