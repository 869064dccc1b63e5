import { test } from "node:test";
import assert from "node:assert/strict";
import { isControlOpcode, isKnownOpcode, OPCODE } from "../../src/codec/opcode.ts";

test("OPCODE holds the opcodes of RFC 6455 §11.8", () => {
  assert.deepEqual(OPCODE, {
    Continuation: 0x0,
    Text: 0x1,
    Binary: 0x2,
    Close: 0x8,
    Ping: 0x9,
    Pong: 0xa,
  });
});

test("isKnownOpcode accepts 0x0-0x2 and 0x8-0xA", () => {
  for (const opcode of [0x0, 0x1, 0x2, 0x8, 0x9, 0xa]) {
    assert.equal(isKnownOpcode(opcode), true, `opcode 0x${opcode.toString(16)}`);
  }
});

test("isKnownOpcode rejects the reserved opcodes 0x3-0x7 and 0xB-0xF", () => {
  for (const opcode of [0x3, 0x4, 0x5, 0x6, 0x7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
    assert.equal(isKnownOpcode(opcode), false, `opcode 0x${opcode.toString(16)}`);
  }
});

test("isKnownOpcode agrees with the values of OPCODE", () => {
  const known = new Set<number>(Object.values(OPCODE));
  for (let opcode = 0; opcode <= 0xf; opcode++) {
    assert.equal(isKnownOpcode(opcode), known.has(opcode), `opcode 0x${opcode.toString(16)}`);
  }
});

test("isControlOpcode accepts every opcode with the high bit set, 0x8-0xF", () => {
  for (let opcode = 0x8; opcode <= 0xf; opcode++) {
    assert.equal(isControlOpcode(opcode), true, `opcode 0x${opcode.toString(16)}`);
  }
});

test("isControlOpcode rejects the data opcodes 0x0-0x7", () => {
  for (let opcode = 0x0; opcode <= 0x7; opcode++) {
    assert.equal(isControlOpcode(opcode), false, `opcode 0x${opcode.toString(16)}`);
  }
});

test("isControlOpcode classifies close, ping and pong as control, text and binary as data", () => {
  assert.equal(isControlOpcode(OPCODE.Close), true);
  assert.equal(isControlOpcode(OPCODE.Ping), true);
  assert.equal(isControlOpcode(OPCODE.Pong), true);
  assert.equal(isControlOpcode(OPCODE.Continuation), false);
  assert.equal(isControlOpcode(OPCODE.Text), false);
  assert.equal(isControlOpcode(OPCODE.Binary), false);
});
