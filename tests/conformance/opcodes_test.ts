// Group 4: opcodes. The reserved data opcodes 0x3-0x7 and control opcodes
// 0xB-0xF fail the connection with 1002 (RFC 6455 §5.2); the message before
// the bad frame is still echoed and the ping after it is not answered.

import { test } from "node:test";
import assert from "node:assert/strict";
import { OPCODE } from "../../src/codec/mod.ts";
import {
  assertFailed,
  assertWireFrames,
  createHarness,
  deliver,
  type Harness,
  patternBytes,
  peerFrame,
  pingFrame,
  type Role,
  ROLES,
  textFrame,
  utf8,
} from "./_harness.ts";

const DATA_OPCODES = [0x3, 0x4, 0x5, 0x6, 0x7] as const;
const CONTROL_OPCODES = [0xb, 0xc, 0xd, 0xe, 0xf] as const;

function opcodeName(opcode: number): string {
  return `0x${opcode.toString(16).toUpperCase()}`;
}

function sequence(role: Role, opcode: number, payload: Uint8Array): Uint8Array[] {
  return [
    textFrame(role, "Hello"),
    peerFrame(role, { opcode, payload }),
    pingFrame(role, "after"),
  ];
}

function assertEchoThenFailure(h: Harness, label: string): void {
  assert.deepEqual(h.messages, ["Hello"], `${label}: messages`);
  assertFailed(h, 1002, label);
  assert.equal(h.frames().length, 2, `${label}: the echo, then the close`);
  assertWireFrames(
    h.role,
    h.writes[0] ?? new Uint8Array(0),
    [{ opcode: OPCODE.Text, payload: utf8("Hello") }],
    `${label}: echo`,
  );
  assert.deepEqual(h.pings, [], `${label}: no ping after the failure`);
}

const PAYLOADS: readonly { what: string; payload: Uint8Array }[] = [
  { what: "without payload", payload: new Uint8Array(0) },
  { what: "with a payload", payload: patternBytes(20) },
];

for (const role of ROLES) {
  for (
    const [group, opcodes, kind] of [
      ["4.1", DATA_OPCODES, "data"],
      ["4.2", CONTROL_OPCODES, "control"],
    ] as const
  ) {
    for (const [index, opcode] of opcodes.entries()) {
      for (const { what, payload } of PAYLOADS) {
        test(
          `Connection ${group}.${index + 1} (${role}) fails with 1002 on reserved ${kind} opcode ` +
            `${opcodeName(opcode)} ${what}, after echoing a message`,
          () => {
            const h = createHarness(role);
            deliver(h, sequence(role, opcode, payload), "separately");
            assertEchoThenFailure(h, opcodeName(opcode));
          },
        );
      }
    }
  }

  for (const [id, delivery] of [["4.3", "in one write"], ["4.4", "byte by byte"]] as const) {
    test(
      `Connection ${id} (${role}) fails with 1002 on every reserved opcode after echoing a ` +
        `message, all sent ${delivery}`,
      () => {
        for (const opcode of [...DATA_OPCODES, ...CONTROL_OPCODES]) {
          for (const { what, payload } of PAYLOADS) {
            const h = createHarness(role);
            deliver(h, sequence(role, opcode, payload), delivery);
            assertEchoThenFailure(h, `${opcodeName(opcode)} ${what}`);
          }
        }
      },
    );
  }

  test(`Connection 4.5 (${role}) fails with 1002 on a reserved opcode inside a fragmented message`, () => {
    for (const opcode of [...DATA_OPCODES, ...CONTROL_OPCODES]) {
      const h = createHarness(role);
      deliver(h, [
        textFrame(role, "frag", false),
        peerFrame(role, { opcode, payload: utf8("x") }),
        peerFrame(role, { opcode: OPCODE.Continuation, payload: "ment" }),
      ], "separately");
      assert.deepEqual(h.messages, [], opcodeName(opcode));
      assertFailed(h, 1002, opcodeName(opcode));
      assert.equal(h.frames().length, 1, opcodeName(opcode));
    }
  });

  test(`Connection 4.6 (${role}) fails with 1002 on a reserved opcode once its first two bytes arrive`, () => {
    for (const opcode of [...DATA_OPCODES, ...CONTROL_OPCODES]) {
      const h = createHarness(role);
      const frame = peerFrame(role, { opcode, payload: patternBytes(100) });
      h.feed(frame.subarray(0, 2));
      assertFailed(h, 1002, opcodeName(opcode));
    }
  });
}
