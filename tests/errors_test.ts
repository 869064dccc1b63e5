import { test } from "node:test";
import assert from "node:assert/strict";
import { ConnectionClosedError, ProtocolError } from "../src/errors.ts";

test("ProtocolError is an Error named ProtocolError with its message", () => {
  const error = new ProtocolError("Cannot decode frame: opcode 0x3 is reserved");
  assert.ok(error instanceof Error);
  assert.ok(error instanceof ProtocolError);
  assert.equal(error.name, "ProtocolError");
  assert.equal(error.message, "Cannot decode frame: opcode 0x3 is reserved");
  assert.match(String(error), /^ProtocolError: Cannot decode frame/);
});

test("ProtocolError has close code 1002 by default", () => {
  assert.equal(new ProtocolError("Cannot decode frame: bad").closeCode, 1002);
  assert.equal(new ProtocolError("Cannot decode frame: bad", {}).closeCode, 1002);
});

test("ProtocolError keeps the close code it is given", () => {
  for (const closeCode of [1007, 1008, 1009, 1006]) {
    assert.equal(new ProtocolError("Cannot decode frame: bad", { closeCode }).closeCode, closeCode);
  }
});

test("ProtocolError forwards the cause", () => {
  const cause = new TypeError("The encoded data was not valid");
  const error = new ProtocolError("Cannot decode text: invalid UTF-8", { closeCode: 1007, cause });
  assert.equal(error.cause, cause);
  assert.equal(error.closeCode, 1007);
});

test("ProtocolError has no cause unless given one", () => {
  assert.equal("cause" in new ProtocolError("Cannot decode frame: bad"), false);
});

test("ConnectionClosedError is an Error named ConnectionClosedError with its message", () => {
  const error = new ConnectionClosedError("Cannot send message: connection is closed", {
    closeCode: 1000,
  });
  assert.ok(error instanceof Error);
  assert.ok(error instanceof ConnectionClosedError);
  assert.equal(error.name, "ConnectionClosedError");
  assert.equal(error.message, "Cannot send message: connection is closed");
  assert.match(String(error), /^ConnectionClosedError: Cannot send message/);
});

test("ConnectionClosedError carries the close code, reason and wasClean it is given", () => {
  const error = new ConnectionClosedError("Cannot send message: connection is closed", {
    closeCode: 4001,
    reason: "bye",
    wasClean: true,
  });
  assert.equal(error.closeCode, 4001);
  assert.equal(error.reason, "bye");
  assert.equal(error.wasClean, true);
});

test("ConnectionClosedError defaults to an empty reason and wasClean false", () => {
  const error = new ConnectionClosedError("Cannot send message: connection is closed", {
    closeCode: 1006,
  });
  assert.equal(error.closeCode, 1006);
  assert.equal(error.reason, "");
  assert.equal(error.wasClean, false);
});

test("ConnectionClosedError forwards the cause", () => {
  const cause = new Error("socket reset");
  const error = new ConnectionClosedError("Cannot send message: connection is closed", {
    closeCode: 1006,
    cause,
  });
  assert.equal(error.cause, cause);
});

test("ProtocolError and ConnectionClosedError are distinct classes", () => {
  const protocolError = new ProtocolError("Cannot decode frame: bad");
  const closedError = new ConnectionClosedError("Cannot send: closed", { closeCode: 1000 });
  assert.equal(protocolError instanceof ConnectionClosedError, false);
  assert.equal(closedError instanceof ProtocolError, false);
});
