import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ConnectionClosedError,
  HandshakeError,
  LimitError,
  ProtocolError,
  TimeoutError,
} from "../src/errors.ts";

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

const MESSAGE = "Cannot upgrade request: Sec-WebSocket-Version is 8, only 13 is supported";

test("HandshakeError is an Error named HandshakeError with its message", () => {
  const error = new HandshakeError(MESSAGE);
  assert.ok(error instanceof Error);
  assert.ok(error instanceof HandshakeError);
  assert.equal(error instanceof ProtocolError, false);
  assert.equal(error.name, "HandshakeError");
  assert.equal(error.message, MESSAGE);
  assert.match(String(error), /^HandshakeError: Cannot upgrade request/);
});

test("HandshakeError has status 400 and no extra headers by default", () => {
  for (const error of [new HandshakeError(MESSAGE), new HandshakeError(MESSAGE, {})]) {
    assert.equal(error.status, 400);
    assert.ok(error.headers instanceof Headers);
    assert.deepEqual([...error.headers], []);
  }
});

test("HandshakeError keeps the status and headers it is given", () => {
  const error = new HandshakeError(MESSAGE, {
    status: 426,
    headers: { "Sec-WebSocket-Version": "13" },
  });
  assert.equal(error.status, 426);
  assert.deepEqual([...error.headers], [["sec-websocket-version", "13"]]);
});

test("HandshakeError takes headers in every HeadersInit form, copied", () => {
  const source = new Headers({ Allow: "GET" });
  for (const headers of [source, [["Allow", "GET"]] as [string, string][], { Allow: "GET" }]) {
    const error = new HandshakeError(MESSAGE, { status: 405, headers });
    assert.equal(error.headers.get("allow"), "GET");
    assert.notEqual(error.headers, source);
  }
  source.set("Allow", "POST");
  assert.equal(new HandshakeError(MESSAGE, { headers: source }).headers.get("allow"), "POST");
});

test("HandshakeError forwards the cause", () => {
  const cause = new TypeError("bad header");
  const error = new HandshakeError(MESSAGE, { cause });
  assert.equal(error.cause, cause);
  assert.equal(error.status, 400);
});

test("HandshakeError has no cause unless given one", () => {
  assert.equal("cause" in new HandshakeError(MESSAGE), false);
});

test("HandshakeError accepts every status from 100 to 599", () => {
  for (const status of [100, 101, 200, 302, 400, 426, 431, 502, 599]) {
    assert.equal(new HandshakeError(MESSAGE, { status }).status, status);
  }
});

test("HandshakeError refuses a status outside 100-599 with a RangeError", () => {
  for (const status of [0, 99, 600, 1000, 400.5, NaN, Infinity, -400]) {
    assert.throws(() => new HandshakeError(MESSAGE, { status }), RangeError, `${status}`);
  }
});

test("HandshakeError refuses an invalid header with a TypeError", () => {
  assert.throws(
    () => new HandshakeError(MESSAGE, { headers: { "X-A": "1\r\nX-B: 2" } }),
    TypeError,
  );
  assert.throws(() => new HandshakeError(MESSAGE, { headers: { "X A": "1" } }), TypeError);
});

test("HandshakeError.toResponse has the status, the headers and the message as plain text", async () => {
  const error = new HandshakeError(MESSAGE, {
    status: 426,
    headers: { "Sec-WebSocket-Version": "13", "Retry-After": "1" },
  });
  const response = error.toResponse();
  assert.equal(response.status, 426);
  assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8");
  assert.equal(response.headers.get("sec-websocket-version"), "13");
  assert.equal(response.headers.get("retry-after"), "1");
  assert.equal(await response.text(), MESSAGE);
});

test("HandshakeError.toResponse builds a new response each time", async () => {
  const error = new HandshakeError(MESSAGE);
  const first = error.toResponse();
  const second = error.toResponse();
  assert.notEqual(first, second);
  assert.equal(await first.text(), MESSAGE);
  assert.equal(await second.text(), MESSAGE);
  // Changing one response's headers leaves the error's alone.
  first.headers.set("X-A", "1");
  assert.equal(error.headers.has("x-a"), false);
});

test("HandshakeError.toResponse writes its own Content-Type", () => {
  const error = new HandshakeError(MESSAGE, { headers: { "Content-Type": "text/html" } });
  assert.equal(error.toResponse().headers.get("content-type"), "text/plain; charset=utf-8");
});

test("HandshakeError.toResponse refuses an interim status with a RangeError", () => {
  for (const status of [100, 101, 199]) {
    assert.throws(() => new HandshakeError(MESSAGE, { status }).toResponse(), RangeError);
  }
  assert.equal(new HandshakeError(MESSAGE, { status: 200 }).toResponse().status, 200);
});

test("LimitError is a ProtocolError that names the option and its limit", () => {
  const error = new LimitError("Cannot send message: 9 bytes wait to be sent, limit is 8", {
    closeCode: 1008,
    option: "maxQueuedBytes",
    limit: 8,
  });
  assert.ok(error instanceof ProtocolError);
  assert.equal(error.name, "LimitError");
  assert.equal(error.closeCode, 1008);
  assert.equal(error.option, "maxQueuedBytes");
  assert.equal(error.limit, 8);
  assert.match(String(error), /^LimitError: Cannot send message/);
});

test("TimeoutError names the option and how long was waited, as a TimeoutError", () => {
  const cause = new Error("underlying");
  const error = new TimeoutError("Cannot close connection: not closed within 5 ms", {
    option: "closeTimeout",
    timeout: 5,
    cause,
  });
  assert.ok(error instanceof Error);
  assert.equal(error.name, "TimeoutError");
  assert.equal(error.option, "closeTimeout");
  assert.equal(error.timeout, 5);
  assert.equal(error.cause, cause);
});
