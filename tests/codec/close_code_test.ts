import { test } from "node:test";
import assert from "node:assert/strict";
import {
  CLOSE_CODE,
  encodeClosePayload,
  isValidCloseCode,
  MAX_CLOSE_REASON_BYTES,
  parseClosePayload,
} from "../../src/codec/close_code.ts";
import { concat, hexToBytes, protocolError, utf8 } from "../_helpers.ts";

test("CLOSE_CODE holds the codes of RFC 6455 §7.4.1 and the IANA registry", () => {
  assert.deepEqual(CLOSE_CODE, {
    NormalClosure: 1000,
    GoingAway: 1001,
    ProtocolError: 1002,
    UnsupportedData: 1003,
    NoStatusReceived: 1005,
    AbnormalClosure: 1006,
    InvalidFramePayloadData: 1007,
    PolicyViolation: 1008,
    MessageTooBig: 1009,
    MandatoryExtension: 1010,
    InternalError: 1011,
    ServiceRestart: 1012,
    TryAgainLater: 1013,
    BadGateway: 1014,
    TlsHandshake: 1015,
  });
});

test("MAX_CLOSE_REASON_BYTES leaves 2 bytes of a 125-byte control payload for the code", () => {
  assert.equal(MAX_CLOSE_REASON_BYTES, 123);
});

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
  3001,
  3999,
  4000,
  4999,
];

const INVALID_CODES = [
  0,
  1,
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
];

test("isValidCloseCode accepts 1000-1003, 1007-1014 and 3000-4999", () => {
  for (const code of VALID_CODES) assert.equal(isValidCloseCode(code), true, `code ${code}`);
});

test("isValidCloseCode rejects 1004, the local-only 1005, 1006, 1015 and unassigned ranges", () => {
  for (const code of INVALID_CODES) assert.equal(isValidCloseCode(code), false, `code ${code}`);
});

test("isValidCloseCode rejects values that are not integers", () => {
  for (const code of [1000.5, Number.NaN, Infinity, -1000]) {
    assert.equal(isValidCloseCode(code), false, `code ${code}`);
  }
});

// Payloads and what they mean, checked in both directions.
const CLOSE_PAYLOADS: { name: string; hex: string; code: number; reason: string }[] = [
  { name: "a code alone", hex: "03 e8", code: 1000, reason: "" },
  { name: "a code and an ASCII reason", hex: "03 e8 6f 6b", code: 1000, reason: "ok" },
  { name: "code 1011 and a reason", hex: "03 f3 6f 6f 70 73", code: 1011, reason: "oops" },
  { name: "an application code", hex: "0f a0 62 79 65", code: 4000, reason: "bye" },
  { name: "the highest application code", hex: "13 87", code: 4999, reason: "" },
  {
    name: "a multibyte reason",
    hex: "03 e9 63 61 66 c3 a9 20 e2 98 95",
    code: 1001,
    reason: "café ☕",
  },
];

for (const { name, hex, code, reason } of CLOSE_PAYLOADS) {
  test(`parseClosePayload and encodeClosePayload agree on ${name}`, () => {
    assert.deepEqual(parseClosePayload(hexToBytes(hex)), { code, reason });
    assert.deepEqual(encodeClosePayload(code, reason), hexToBytes(hex));
  });
}

test("parseClosePayload reads an empty payload as code 1005 with no reason", () => {
  assert.deepEqual(parseClosePayload(new Uint8Array(0)), { code: 1005, reason: "" });
});

test("encodeClosePayload without arguments builds an empty payload", () => {
  assert.deepEqual(encodeClosePayload(), new Uint8Array(0));
  assert.deepEqual(encodeClosePayload(undefined, ""), new Uint8Array(0));
});

test("parseClosePayload rejects a one-byte payload with 1002", () => {
  assert.throws(() => parseClosePayload(hexToBytes("03")), protocolError(1002, /1 byte/));
});

test("parseClosePayload rejects every code that may not be on the wire with 1002", () => {
  for (const code of INVALID_CODES) {
    assert.throws(
      () => parseClosePayload(new Uint8Array([code >> 8, code & 0xff])),
      protocolError(1002, new RegExp(`close code ${code} `)),
      `code ${code}`,
    );
  }
});

test("parseClosePayload accepts every code that may be on the wire", () => {
  for (const code of VALID_CODES) {
    assert.deepEqual(
      parseClosePayload(new Uint8Array([code >> 8, code & 0xff])),
      { code, reason: "" },
      `code ${code}`,
    );
  }
});

test("parseClosePayload rejects a reason that is not UTF-8 with 1007", () => {
  // A lone continuation byte, a truncated sequence, and an encoded surrogate.
  for (const reason of ["80", "6f c3", "ed a0 80"]) {
    assert.throws(
      () => parseClosePayload(hexToBytes(`03 e8 ${reason}`)),
      protocolError(1007, /^Cannot decode close reason: invalid UTF-8$/),
      reason,
    );
  }
});

test("parseClosePayload keeps a leading byte order mark in the reason", () => {
  assert.deepEqual(parseClosePayload(hexToBytes("03 e8 ef bb bf 61")), {
    code: 1000,
    reason: "\ufeffa",
  });
});

test("encodeClosePayload accepts a reason of exactly 123 bytes", () => {
  const reason = "r".repeat(123);
  const payload = encodeClosePayload(1000, reason);
  assert.deepEqual(payload, concat(hexToBytes("03 e8"), utf8(reason)));
  assert.equal(payload.length, 125);
  assert.deepEqual(parseClosePayload(payload), { code: 1000, reason });
});

test("encodeClosePayload rejects a reason of 124 bytes with a RangeError", () => {
  assert.throws(() => encodeClosePayload(1000, "r".repeat(124)), RangeError);
});

test("encodeClosePayload counts the reason's UTF-8 bytes, not its characters", () => {
  // 41 three-byte characters fit (123 bytes), 62 two-byte characters do not (124 bytes).
  assert.equal(encodeClosePayload(1000, "€".repeat(41)).length, 125);
  assert.throws(() => encodeClosePayload(1000, "é".repeat(62)), RangeError);
});

test("encodeClosePayload rejects every code that may not be sent with a RangeError", () => {
  for (const code of [...INVALID_CODES, 1000.5, Number.NaN]) {
    assert.throws(() => encodeClosePayload(code), RangeError, `code ${code}`);
  }
});

test("encodeClosePayload rejects a reason without a code with a TypeError", () => {
  assert.throws(() => encodeClosePayload(undefined, "bye"), TypeError);
});
