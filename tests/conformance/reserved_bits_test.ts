// Group 3: reserved bits. Without a negotiated extension any RSV bit fails the
// connection with 1002 (RFC 6455 §5.2); what arrived before the bad frame is
// still delivered and echoed, and nothing after it is answered.

import { test } from "node:test";
import assert from "node:assert/strict";
import { OPCODE } from "../../src/codec/mod.ts";
import {
  assertFailed,
  assertWireFrames,
  createHarness,
  deliver,
  type Delivery,
  type Harness,
  peerFrame,
  pingFrame,
  type Role,
  ROLES,
  textFrame,
  utf8,
} from "./_harness.ts";

function rsvName(rsv: number): string {
  const names = [];
  if (rsv & 4) names.push("RSV1");
  if (rsv & 2) names.push("RSV2");
  if (rsv & 1) names.push("RSV3");
  return names.join("+");
}

type Kind = "text" | "binary" | "continuation" | "ping" | "pong" | "close";

/** The frames to send: a valid text message, then the frame of `kind` with `rsv`, then a ping. */
function sequence(role: Role, kind: Kind, rsv: number): Uint8Array[] {
  const before = [textFrame(role, "Hello")];
  let bad: Uint8Array;
  switch (kind) {
    case "text":
      bad = peerFrame(role, { opcode: OPCODE.Text, payload: "Hello", rsv });
      break;
    case "binary":
      bad = peerFrame(role, { opcode: OPCODE.Binary, payload: Uint8Array.of(0, 1, 2, 0xff), rsv });
      break;
    case "continuation":
      before.push(textFrame(role, "fragment", false));
      bad = peerFrame(role, { opcode: OPCODE.Continuation, payload: "end", rsv });
      break;
    case "ping":
      bad = peerFrame(role, { opcode: OPCODE.Ping, payload: "ping", rsv });
      break;
    case "pong":
      bad = peerFrame(role, { opcode: OPCODE.Pong, payload: "pong", rsv });
      break;
    case "close":
      bad = peerFrame(role, { opcode: OPCODE.Close, payload: Uint8Array.of(0x03, 0xe8), rsv });
      break;
  }
  return [...before, bad, pingFrame(role, "after")];
}

/** The message before the bad frame is echoed, then a 1002 close and nothing more. */
function assertEchoThenFailure(h: Harness, label: string): void {
  assert.deepEqual(h.messages, ["Hello"], `${label}: messages`);
  assertFailed(h, 1002, label);
  const frames = h.frames();
  assert.equal(frames.length, 2, `${label}: the echo, then the close`);
  assertWireFrames(
    h.role,
    h.written().subarray(0, h.writes[0]?.length ?? 0),
    [{ opcode: OPCODE.Text, payload: utf8("Hello") }],
    `${label}: echo`,
  );
  assert.deepEqual(h.pings, [], `${label}: no ping reported after the failure`);
}

// The Autobahn 3.x cases, with their RSV values, frames and chopping.
const CASES: readonly { id: string; kind: Kind; rsv: number; delivery: Delivery }[] = [
  { id: "3.1", kind: "text", rsv: 1, delivery: "separately" },
  { id: "3.2", kind: "text", rsv: 2, delivery: "separately" },
  { id: "3.3", kind: "text", rsv: 3, delivery: "in one write" },
  { id: "3.4", kind: "text", rsv: 4, delivery: "byte by byte" },
  { id: "3.5", kind: "binary", rsv: 5, delivery: "separately" },
  { id: "3.6", kind: "ping", rsv: 6, delivery: "separately" },
  { id: "3.7", kind: "close", rsv: 7, delivery: "separately" },
];

const KINDS: readonly Kind[] = ["text", "binary", "continuation", "ping", "pong", "close"];
const MATRIX: readonly { id: string; delivery: Delivery }[] = [
  { id: "3.8", delivery: "separately" },
  { id: "3.9", delivery: "in one write" },
  { id: "3.10", delivery: "byte by byte" },
];

for (const role of ROLES) {
  for (const { id, kind, rsv, delivery } of CASES) {
    test(
      `Connection ${id} (${role}) fails with 1002 on a ${kind} frame with ${rsvName(rsv)} ` +
        `after echoing the message before it, sent ${delivery}`,
      () => {
        const h = createHarness(role);
        deliver(h, sequence(role, kind, rsv), delivery);
        assertEchoThenFailure(h, `${kind} ${rsvName(rsv)}`);
      },
    );
  }

  for (const { id, delivery } of MATRIX) {
    for (const [index, kind] of KINDS.entries()) {
      test(
        `Connection ${id}.${index + 1} (${role}) fails with 1002 on a ${kind} frame with each ` +
          `combination of RSV bits, sent ${delivery}`,
        () => {
          for (let rsv = 1; rsv <= 7; rsv++) {
            const h = createHarness(role);
            deliver(h, sequence(role, kind, rsv), delivery);
            assertEchoThenFailure(h, `${kind} ${rsvName(rsv)}`);
          }
        },
      );
    }
  }

  test(`Connection 3.11 (${role}) fails with 1002 on an RSV1 frame once its first two bytes arrive, before its payload`, () => {
    const h = createHarness(role);
    const bad = peerFrame(role, { opcode: OPCODE.Binary, payload: new Uint8Array(300), rsv: 4 });
    h.feed(bad.subarray(0, 1));
    assert.equal(h.writes.length, 0, "one byte does not decide");
    h.feed(bad.subarray(1, 2));
    assertFailed(h, 1002);
  });
}
