import { test } from "node:test";
import assert from "node:assert/strict";
import { type Frame, FrameParser, type Role } from "../../src/codec/frame.ts";
import { ConnectionClosedError, ProtocolError } from "../../src/errors.ts";
import {
  type CloseInfo,
  Connection,
  type ConnectionHandler,
  type ConnectionOptions,
  type Message,
} from "../../src/protocol/connection.ts";
import {
  concat,
  frameOf,
  hexToBytes,
  naiveMask,
  patternBytes,
  pushAll,
  utf8,
} from "../_helpers.ts";

const PEER_KEY = hexToBytes("a1 b2 c3 d4");

/** A connection and everything it reported. */
interface Harness {
  connection: Connection;
  role: Role;
  /** Copies of the chunks written, in order. */
  written: Uint8Array[];
  messages: Message[];
  pings: Uint8Array[];
  pongs: Uint8Array[];
  ends: { info: CloseInfo; error: unknown }[];
}

/** Opens a connection whose handler records every callback. */
function open(
  role: Role,
  options: Omit<ConnectionOptions, "role"> = {},
  handler: Partial<ConnectionHandler> = {},
): Harness {
  const harness: Omit<Harness, "connection"> = {
    role,
    written: [],
    messages: [],
    pings: [],
    pongs: [],
    ends: [],
  };
  const connection = new Connection({ role, ...options }, {
    write: (bytes) => harness.written.push(bytes.slice()),
    message: (data) => harness.messages.push(data),
    ping: (payload) => harness.pings.push(payload.slice()),
    pong: (payload) => harness.pongs.push(payload.slice()),
    end: (info, error) => harness.ends.push({ info, error }),
    ...handler,
  });
  return { connection, ...harness };
}

/** Decodes everything the connection wrote, as its peer would. */
function writtenFrames(harness: Harness): Frame[] {
  const peer = new FrameParser({
    role: harness.role === "server" ? "client" : "server",
    maxMessageSize: Infinity,
  });
  return pushAll(peer, [concat(...harness.written)]);
}

/**
 * Builds a frame as the peer sends it: masked with {@linkcode PEER_KEY} when
 * the peer is a client. Built by hand, so the connection's tests do not rest
 * on the encoder.
 */
function peerFrame(
  role: Role,
  opcode: number,
  payload: Uint8Array | string,
  fin = true,
): Uint8Array {
  const data = typeof payload === "string" ? utf8(payload) : payload;
  const masked = role === "server";
  const maskBit = masked ? 0x80 : 0;
  const length = data.length < 126
    ? [maskBit | data.length]
    : [maskBit | 126, data.length >> 8, data.length & 0xff];
  assert.ok(data.length < 0x10000, "peerFrame builds lengths up to 16 bits");
  return concat(
    new Uint8Array([(fin ? 0x80 : 0) | opcode, ...length]),
    masked ? PEER_KEY : new Uint8Array(0),
    masked ? naiveMask(data, PEER_KEY) : data,
  );
}

/** A close frame's payload. */
function closePayload(code: number, reason = ""): Uint8Array {
  return concat(new Uint8Array([code >> 8, code & 0xff]), utf8(reason));
}

const ROLES: Role[] = ["server", "client"];

// --- States and the closing handshake ----------------------------------------

test("Connection starts open with no closeInfo and writes nothing", () => {
  for (const role of ROLES) {
    const harness = open(role);
    assert.equal(harness.connection.state, "open");
    assert.equal(harness.connection.closeInfo, undefined);
    assert.deepEqual(harness.written, []);
    assert.deepEqual(harness.ends, []);
  }
});

test("Connection close moves from open to closing, and the peer's close frame to closed", () => {
  for (const role of ROLES) {
    const harness = open(role);
    harness.connection.close(1000, "bye");
    assert.equal(harness.connection.state, "closing", role);
    assert.equal(harness.connection.closeInfo, undefined, role);
    assert.deepEqual(harness.ends, [], role);
    assert.deepEqual(writtenFrames(harness), [frameOf(0x8, closePayload(1000, "bye"))], role);

    harness.connection.receive(peerFrame(role, 0x8, closePayload(1000, "ok")));
    const info = { code: 1000, reason: "ok", wasClean: true };
    assert.equal(harness.connection.state, "closed", role);
    assert.deepEqual(harness.connection.closeInfo, info, role);
    assert.deepEqual(harness.ends, [{ info, error: undefined }], role);
    // The handshake is complete: no second close frame.
    assert.equal(writtenFrames(harness).length, 1, role);
  }
});

test("Connection answers a peer's close frame by echoing its code and reason, then ends cleanly", () => {
  for (const role of ROLES) {
    const harness = open(role);
    harness.connection.receive(peerFrame(role, 0x8, closePayload(1001, "away")));
    const info = { code: 1001, reason: "away", wasClean: true };
    assert.equal(harness.connection.state, "closed", role);
    assert.deepEqual(harness.connection.closeInfo, info, role);
    assert.deepEqual(harness.ends, [{ info, error: undefined }], role);
    assert.deepEqual(writtenFrames(harness), [frameOf(0x8, closePayload(1001, "away"))], role);
  }
});

test("Connection answers an empty close frame with an empty one and reports 1005", () => {
  const harness = open("server");
  harness.connection.receive(peerFrame("server", 0x8, ""));
  assert.deepEqual(harness.connection.closeInfo, { code: 1005, reason: "", wasClean: true });
  assert.deepEqual(writtenFrames(harness), [frameOf(0x8, "")]);
});

test("Connection close sends one close frame when called twice", () => {
  const harness = open("server");
  harness.connection.close(1000, "first");
  harness.connection.close(1001, "second");
  harness.connection.close();
  assert.equal(harness.connection.state, "closing");
  assert.deepEqual(writtenFrames(harness), [frameOf(0x8, closePayload(1000, "first"))]);
});

test("Connection close after the connection ended writes nothing", () => {
  const harness = open("server");
  harness.connection.receiveEnd();
  harness.connection.close(1000);
  assert.deepEqual(harness.written, []);
  assert.equal(harness.connection.state, "closed");
});

test("Connection close without a code sends an empty close frame", () => {
  const harness = open("server");
  harness.connection.close();
  assert.deepEqual(writtenFrames(harness), [frameOf(0x8, "")]);
});

test("Connection close with an application code sends it", () => {
  const harness = open("server");
  harness.connection.close(4000, "done");
  assert.deepEqual(writtenFrames(harness), [frameOf(0x8, hexToBytes("0f a0 64 6f 6e 65"))]);
});

test("Connection close rejects a code that may not be sent with a RangeError", () => {
  for (const code of [1005, 1006, 1015, 999, 1004, 2999, 5000]) {
    const harness = open("server");
    assert.throws(() => harness.connection.close(code), RangeError, `code ${code}`);
    assert.equal(harness.connection.state, "open", `code ${code}`);
    assert.deepEqual(harness.written, [], `code ${code}`);
  }
});

test("Connection close rejects a reason over 123 bytes with a RangeError", () => {
  const harness = open("server");
  assert.throws(() => harness.connection.close(1000, "x".repeat(124)), RangeError);
  assert.throws(() => harness.connection.close(1000, "é".repeat(62)), RangeError);
  assert.equal(harness.connection.state, "open");
  assert.deepEqual(harness.written, []);
  harness.connection.close(1000, "x".repeat(123));
  assert.deepEqual(writtenFrames(harness), [frameOf(0x8, closePayload(1000, "x".repeat(123)))]);
});

test("Connection close rejects a reason without a code with a TypeError", () => {
  const harness = open("server");
  assert.throws(() => harness.connection.close(undefined, "bye"), TypeError);
  assert.equal(harness.connection.state, "open");
  assert.deepEqual(harness.written, []);
});

test("Connection state is closed when the peer's close arrives while close is writing", () => {
  // Two connections wired through memory: the server's answer reaches the
  // client inside the client's own write.
  const ends: CloseInfo[] = [];
  const server: Connection = new Connection({ role: "server" }, {
    write: (bytes) => client.receive(bytes),
    message: () => {},
    end: () => {},
  });
  const client: Connection = new Connection({ role: "client" }, {
    write: (bytes) => server.receive(bytes),
    message: () => {},
    end: (info) => ends.push(info),
  });
  client.close(1000, "done");
  assert.deepEqual(ends, [{ code: 1000, reason: "done", wasClean: true }]);
  assert.deepEqual(client.closeInfo, { code: 1000, reason: "done", wasClean: true });
  assert.equal(client.state, "closed");
  assert.equal(server.state, "closed");
});

// --- receiveEnd and fail -------------------------------------------------------

test("Connection receiveEnd ends the connection with 1006", () => {
  const harness = open("client");
  harness.connection.receiveEnd();
  const info = { code: 1006, reason: "", wasClean: false };
  assert.equal(harness.connection.state, "closed");
  assert.deepEqual(harness.connection.closeInfo, info);
  assert.deepEqual(harness.ends, [{ info, error: undefined }]);
  assert.deepEqual(harness.written, []);
});

test("Connection receiveEnd while closing ends the connection with 1006", () => {
  const harness = open("client");
  harness.connection.close(1000);
  harness.connection.receiveEnd();
  assert.equal(harness.connection.state, "closed");
  assert.deepEqual(harness.connection.closeInfo, { code: 1006, reason: "", wasClean: false });
});

test("Connection receiveEnd after the connection ended does nothing", () => {
  const harness = open("client");
  harness.connection.receive(peerFrame("client", 0x8, closePayload(1000)));
  harness.connection.receiveEnd();
  assert.equal(harness.ends.length, 1);
  assert.deepEqual(harness.connection.closeInfo, { code: 1000, reason: "", wasClean: true });
});

test("Connection ignores bytes received after it ended", () => {
  const harness = open("server");
  harness.connection.receiveEnd();
  harness.connection.receive(peerFrame("server", 0x1, "late"));
  harness.connection.receive(hexToBytes("ff ff"));
  assert.deepEqual(harness.messages, []);
  assert.deepEqual(harness.written, []);
  assert.equal(harness.ends.length, 1);
});

test("Connection fail with a non-ProtocolError sends 1011 with an empty reason", () => {
  for (const role of ROLES) {
    const harness = open(role);
    const error = new Error("database password is hunter2");
    harness.connection.fail(error);
    const info = { code: 1011, reason: "", wasClean: false };
    assert.deepEqual(writtenFrames(harness), [frameOf(0x8, closePayload(1011))], role);
    assert.equal(harness.connection.state, "closed", role);
    assert.deepEqual(harness.connection.closeInfo, info, role);
    assert.equal(harness.ends.length, 1, role);
    assert.deepEqual(harness.ends[0]?.info, info, role);
    assert.equal(harness.ends[0]?.error, error, role);
  }
});

test("Connection fail with a value that is not an Error sends 1011", () => {
  const harness = open("server");
  harness.connection.fail("a string");
  assert.deepEqual(writtenFrames(harness), [frameOf(0x8, closePayload(1011))]);
});

test("Connection fail with a ProtocolError sends its close code and message", () => {
  const harness = open("server");
  const error = new ProtocolError("Cannot decode message: it is over 10 bytes, the limit", {
    closeCode: 1009,
  });
  harness.connection.fail(error);
  const reason = "Cannot decode message: it is over 10 bytes, the limit";
  assert.deepEqual(writtenFrames(harness), [frameOf(0x8, closePayload(1009, reason))]);
  assert.deepEqual(harness.connection.closeInfo, { code: 1009, reason, wasClean: false });
  assert.equal(harness.ends[0]?.error, error);
});

test("Connection fail drops a ProtocolError message over 123 bytes from the close reason", () => {
  const harness = open("server");
  harness.connection.fail(new ProtocolError(`Cannot decode frame: ${"x".repeat(110)}`));
  assert.deepEqual(writtenFrames(harness), [frameOf(0x8, closePayload(1002))]);
  assert.deepEqual(harness.connection.closeInfo, { code: 1002, reason: "", wasClean: false });
});

test("Connection fail with a close code that may not be sent ends without a close frame", () => {
  const harness = open("server");
  harness.connection.fail(
    new ProtocolError("Cannot decode frame: stream ended", { closeCode: 1006 }),
  );
  assert.deepEqual(harness.written, []);
  assert.deepEqual(harness.connection.closeInfo, {
    code: 1006,
    reason: "Cannot decode frame: stream ended",
    wasClean: false,
  });
});

test("Connection fail after close sends no second close frame", () => {
  const harness = open("server");
  harness.connection.close(1000);
  harness.connection.fail(new Error("boom"));
  assert.deepEqual(writtenFrames(harness), [frameOf(0x8, closePayload(1000))]);
  assert.equal(harness.connection.state, "closed");
  assert.deepEqual(harness.connection.closeInfo, { code: 1011, reason: "", wasClean: false });
});

test("Connection fail after the connection ended does nothing", () => {
  const harness = open("server");
  harness.connection.receiveEnd();
  harness.connection.fail(new Error("boom"));
  assert.deepEqual(harness.written, []);
  assert.equal(harness.ends.length, 1);
  assert.equal(harness.connection.closeInfo?.code, 1006);
});

test("Connection fails with 1011 when the message handler throws", () => {
  const thrown = new Error("handler bug");
  const harness = open("server", {}, {
    message: () => {
      throw thrown;
    },
  });
  harness.connection.receive(
    concat(peerFrame("server", 0x1, "hi"), peerFrame("server", 0x1, "again")),
  );
  assert.deepEqual(writtenFrames(harness), [frameOf(0x8, closePayload(1011))]);
  assert.deepEqual(harness.connection.closeInfo, { code: 1011, reason: "", wasClean: false });
  assert.equal(harness.ends.length, 1);
  assert.equal(harness.ends[0]?.error, thrown);
});

test("Connection fails with 1011 when the ping handler throws", () => {
  const harness = open("client", {}, {
    ping: () => {
      throw new Error("handler bug");
    },
  });
  harness.connection.receive(peerFrame("client", 0x9, "p"));
  const frames = writtenFrames(harness);
  assert.deepEqual(frames.at(-1), frameOf(0x8, closePayload(1011)));
  assert.equal(harness.connection.closeInfo?.code, 1011);
});

// --- Peer violations ---------------------------------------------------------

test("Connection fails with the ProtocolError's code on a peer violation, without throwing", () => {
  const cases: { name: string; bytes: Uint8Array; code: number; options?: ConnectionOptions }[] = [
    { name: "reserved opcode", bytes: hexToBytes("83 80 00 00 00 00"), code: 1002 },
    { name: "unmasked frame", bytes: hexToBytes("81 00"), code: 1002 },
    {
      name: "invalid UTF-8 text",
      bytes: peerFrame("server", 0x1, hexToBytes("c3 28")),
      code: 1007,
    },
    {
      name: "invalid UTF-8 across fragments",
      bytes: concat(
        peerFrame("server", 0x1, hexToBytes("61 ed"), false),
        peerFrame("server", 0x0, hexToBytes("a0 80")),
      ),
      code: 1007,
    },
    {
      name: "text ending inside a character",
      bytes: concat(
        peerFrame("server", 0x1, hexToBytes("61 e2"), false),
        peerFrame("server", 0x0, hexToBytes("82")),
      ),
      code: 1007,
    },
    {
      name: "close code 1005 on the wire",
      bytes: peerFrame("server", 0x8, closePayload(1005)),
      code: 1002,
    },
    {
      name: "one-byte close payload",
      bytes: peerFrame("server", 0x8, hexToBytes("03")),
      code: 1002,
    },
    {
      name: "close reason not UTF-8",
      bytes: peerFrame("server", 0x8, concat(closePayload(1000), hexToBytes("ff"))),
      code: 1007,
    },
    {
      name: "message over maxMessageSize",
      bytes: peerFrame("server", 0x2, patternBytes(11)),
      code: 1009,
      options: { role: "server", maxMessageSize: 10 },
    },
    {
      name: "too many fragments",
      bytes: concat(
        peerFrame("server", 0x2, "a", false),
        peerFrame("server", 0x0, "b", false),
        peerFrame("server", 0x0, "c"),
      ),
      code: 1008,
      options: { role: "server", maxFragments: 2 },
    },
  ];
  for (const { name, bytes, code, options } of cases) {
    const harness = open("server", options ?? {});
    harness.connection.receive(bytes);
    assert.equal(harness.connection.state, "closed", name);
    assert.equal(harness.connection.closeInfo?.code, code, name);
    assert.equal(harness.connection.closeInfo?.wasClean, false, name);
    const error = harness.ends[0]?.error;
    assert.ok(error instanceof ProtocolError, name);
    assert.equal(error.closeCode, code, name);
    const frames = writtenFrames(harness);
    assert.equal(frames.length, 1, name);
    assert.equal(frames[0]?.opcode, 0x8, name);
    assert.deepEqual(frames[0]?.payload.subarray(0, 2), closePayload(code), name);
    assert.deepEqual(harness.messages, [], name);
  }
});

test("Connection ignores frames after a close frame in the same chunk", () => {
  const harness = open("server");
  harness.connection.receive(concat(
    peerFrame("server", 0x8, closePayload(1000)),
    peerFrame("server", 0x1, "after"),
    peerFrame("server", 0x9, "p"),
  ));
  assert.deepEqual(harness.messages, []);
  assert.deepEqual(harness.pings, []);
  assert.deepEqual(writtenFrames(harness), [frameOf(0x8, closePayload(1000))]);
});

test("Connection closes cleanly on a close frame followed by garbage in the same chunk", () => {
  const harness = open("server");
  harness.connection.receive(
    concat(peerFrame("server", 0x8, closePayload(1000)), hexToBytes("ff ff")),
  );
  assert.deepEqual(harness.connection.closeInfo, { code: 1000, reason: "", wasClean: true });
  assert.deepEqual(writtenFrames(harness), [frameOf(0x8, closePayload(1000))]);
  assert.equal(harness.ends.length, 1);
});

// --- Sending -----------------------------------------------------------------

test("Connection send writes a string as a text frame and bytes as a binary frame", () => {
  for (const role of ROLES) {
    const harness = open(role);
    harness.connection.send("héllo");
    harness.connection.send(hexToBytes("00 01 02"));
    harness.connection.send("");
    assert.deepEqual(writtenFrames(harness), [
      frameOf(0x1, "héllo"),
      frameOf(0x2, hexToBytes("00 01 02")),
      frameOf(0x1, ""),
    ], role);
  }
});

test("Connection send splits a message into fragments of fragmentSize bytes", () => {
  for (const role of ROLES) {
    const harness = open(role, { fragmentSize: 2 });
    harness.connection.send("Hello");
    harness.connection.send(hexToBytes("01 02"));
    assert.deepEqual(writtenFrames(harness), [
      frameOf(0x1, "He", false),
      frameOf(0x0, "ll", false),
      frameOf(0x0, "o"),
      frameOf(0x2, hexToBytes("01 02")),
    ], role);
  }
});

test("Connection never splits a ping, pong or close by fragmentSize", () => {
  const harness = open("server", { fragmentSize: 1 });
  harness.connection.ping(utf8("abc"));
  harness.connection.pong(utf8("de"));
  harness.connection.close(1000, "bye");
  assert.deepEqual(writtenFrames(harness), [
    frameOf(0x9, "abc"),
    frameOf(0xa, "de"),
    frameOf(0x8, closePayload(1000, "bye")),
  ]);
});

test("Connection rejects a fragmentSize under 1 with a RangeError", () => {
  for (const fragmentSize of [0, -1, 0.5, Number.NaN]) {
    assert.throws(
      () => open("server", { fragmentSize }),
      RangeError,
      `fragmentSize ${fragmentSize}`,
    );
  }
});

test("Connection rejects a negative limit with a RangeError", () => {
  assert.throws(() => open("server", { maxMessageSize: -1 }), RangeError);
  assert.throws(() => open("server", { maxFrameSize: -1 }), RangeError);
  assert.throws(() => open("server", { maxFragments: -1 }), RangeError);
});

test("Connection ping sends a ping frame with its payload, empty by default", () => {
  const harness = open("server");
  harness.connection.ping();
  harness.connection.ping(utf8("beat"));
  harness.connection.ping(patternBytes(125));
  assert.deepEqual(writtenFrames(harness), [
    frameOf(0x9, ""),
    frameOf(0x9, "beat"),
    frameOf(0x9, patternBytes(125)),
  ]);
});

test("Connection ping rejects a payload over 125 bytes with a RangeError", () => {
  const harness = open("server");
  assert.throws(() => harness.connection.ping(patternBytes(126)), RangeError);
  assert.deepEqual(harness.written, []);
  assert.equal(harness.connection.state, "open");
});

test("Connection pong sends an unsolicited pong, empty by default", () => {
  const harness = open("client");
  harness.connection.pong();
  harness.connection.pong(utf8("alive"));
  assert.deepEqual(writtenFrames(harness), [frameOf(0xa, ""), frameOf(0xa, "alive")]);
});

test("Connection pong rejects a payload over 125 bytes with a RangeError", () => {
  const harness = open("client");
  assert.throws(() => harness.connection.pong(patternBytes(126)), RangeError);
  assert.deepEqual(harness.written, []);
});

test("Connection send, ping and pong throw ConnectionClosedError once close was called", () => {
  const harness = open("server");
  harness.connection.close(1000, "bye");
  const before = harness.written.length;
  for (
    const call of [
      () => harness.connection.send("x"),
      () => harness.connection.ping(),
      () => harness.connection.pong(),
    ]
  ) {
    assert.throws(call, (error) => {
      assert.ok(error instanceof ConnectionClosedError);
      assert.equal(error.name, "ConnectionClosedError");
      assert.equal(error.wasClean, false);
      assert.equal(error.closeCode, 1000);
      assert.equal(error.reason, "bye");
      assert.match(error.message, /connection is closing/);
      return true;
    });
  }
  assert.equal(harness.written.length, before);
});

test("Connection send throws ConnectionClosedError with the close code, reason and wasClean after a clean close", () => {
  const harness = open("server");
  harness.connection.receive(peerFrame("server", 0x8, closePayload(4001, "gone")));
  assert.throws(() => harness.connection.send("x"), (error) => {
    assert.ok(error instanceof ConnectionClosedError);
    assert.equal(error.closeCode, 4001);
    assert.equal(error.reason, "gone");
    assert.equal(error.wasClean, true);
    assert.match(error.message, /connection is closed/);
    return true;
  });
});

test("Connection send, ping and pong throw ConnectionClosedError with 1006 after receiveEnd", () => {
  const harness = open("client");
  harness.connection.receiveEnd();
  for (
    const call of [
      () => harness.connection.send(utf8("x")),
      () => harness.connection.ping(),
      () => harness.connection.pong(),
    ]
  ) {
    assert.throws(call, (error) => {
      assert.ok(error instanceof ConnectionClosedError);
      assert.equal(error.closeCode, 1006);
      assert.equal(error.reason, "");
      assert.equal(error.wasClean, false);
      return true;
    });
  }
  assert.deepEqual(harness.written, []);
});

test("Connection send throws ConnectionClosedError with 1011 after a failure", () => {
  const harness = open("client");
  harness.connection.fail(new Error("boom"));
  assert.throws(() => harness.connection.send("x"), (error) => {
    assert.ok(error instanceof ConnectionClosedError);
    assert.equal(error.closeCode, 1011);
    assert.equal(error.wasClean, false);
    return true;
  });
});

// --- Masking by role ---------------------------------------------------------

test("Connection as client masks every frame it writes", () => {
  const harness = open("client");
  const large = patternBytes(70000);
  harness.connection.send("text");
  harness.connection.send(hexToBytes("01 02"));
  harness.connection.send(large);
  harness.connection.ping(utf8("p"));
  harness.connection.pong(utf8("q"));
  harness.connection.close(1000);
  for (const chunk of harness.written) {
    assert.equal(chunk[1]! & 0x80, 0x80, `MASK bit of a ${chunk.length}-byte chunk`);
  }
  // A server parser rejects any unmasked frame.
  assert.deepEqual(writtenFrames(harness), [
    frameOf(0x1, "text"),
    frameOf(0x2, hexToBytes("01 02")),
    frameOf(0x2, large),
    frameOf(0x9, "p"),
    frameOf(0xa, "q"),
    frameOf(0x8, closePayload(1000)),
  ]);
  assert.deepEqual(large, patternBytes(70000), "the payload sent is left unmasked");
});

test("Connection as client masks its automatic pong and close replies", () => {
  const harness = open("client");
  harness.connection.receive(peerFrame("client", 0x9, "ping?"));
  harness.connection.receive(peerFrame("client", 0x8, closePayload(1000)));
  assert.equal(harness.written.length, 2);
  for (const chunk of harness.written) assert.equal(chunk[1]! & 0x80, 0x80);
  assert.deepEqual(writtenFrames(harness), [
    frameOf(0xa, "ping?"),
    frameOf(0x8, closePayload(1000)),
  ]);
});

test("Connection as server writes every frame unmasked", () => {
  const harness = open("server");
  const large = patternBytes(70000);
  harness.connection.send("text");
  harness.connection.send(large);
  harness.connection.ping(utf8("p"));
  harness.connection.close(1000);
  // A client parser rejects any masked frame.
  assert.deepEqual(writtenFrames(harness), [
    frameOf(0x1, "text"),
    frameOf(0x2, large),
    frameOf(0x9, "p"),
    frameOf(0x8, closePayload(1000)),
  ]);
});

// --- Receiving ---------------------------------------------------------------

test("Connection delivers a binary message as a Uint8Array and a text message as a string", () => {
  for (const role of ROLES) {
    const harness = open(role);
    harness.connection.receive(peerFrame(role, 0x2, hexToBytes("00 ff 10")));
    harness.connection.receive(peerFrame(role, 0x1, "héllo"));
    harness.connection.receive(peerFrame(role, 0x2, ""));
    harness.connection.receive(peerFrame(role, 0x1, ""));
    const [binary, text, emptyBinary, emptyText] = harness.messages;
    assert.ok(binary instanceof Uint8Array, role);
    assert.deepEqual(binary, hexToBytes("00 ff 10"), role);
    assert.equal(text, "héllo", role);
    assert.ok(emptyBinary instanceof Uint8Array, role);
    assert.equal(emptyBinary.length, 0, role);
    assert.equal(emptyText, "", role);
    assert.equal(harness.messages.length, 4, role);
  }
});

test("Connection reassembles a fragmented text message, a character split across fragments", () => {
  const harness = open("server");
  // "κόσμε" with the 2-byte "ό" (cf8c) split between the first and second fragment.
  harness.connection.receive(peerFrame("server", 0x1, hexToBytes("ce ba cf"), false));
  harness.connection.receive(peerFrame("server", 0x0, hexToBytes("8c cf 83"), false));
  assert.deepEqual(harness.messages, []);
  harness.connection.receive(peerFrame("server", 0x0, hexToBytes("ce bc ce b5")));
  assert.deepEqual(harness.messages, ["κόσμε"]);
});

test("Connection reassembles a fragmented binary message into one Uint8Array", () => {
  const harness = open("client");
  const payload = patternBytes(10000);
  harness.connection.receive(peerFrame("client", 0x2, payload.subarray(0, 1), false));
  harness.connection.receive(peerFrame("client", 0x0, payload.subarray(1, 5000), false));
  harness.connection.receive(peerFrame("client", 0x0, new Uint8Array(0), false));
  harness.connection.receive(peerFrame("client", 0x0, payload.subarray(5000)));
  assert.equal(harness.messages.length, 1);
  const [message] = harness.messages;
  assert.ok(message instanceof Uint8Array);
  assert.deepEqual(message, payload);
});

test("Connection delivers consecutive fragmented messages separately", () => {
  const harness = open("client");
  for (const word of ["ab", "cd"]) {
    harness.connection.receive(peerFrame("client", 0x2, word.slice(0, 1), false));
    harness.connection.receive(peerFrame("client", 0x0, word.slice(1)));
  }
  for (const word of ["ef", "gh"]) {
    harness.connection.receive(peerFrame("client", 0x1, word.slice(0, 1), false));
    harness.connection.receive(peerFrame("client", 0x0, word.slice(1)));
  }
  assert.deepEqual(harness.messages, [utf8("ab"), utf8("cd"), "ef", "gh"]);
});

test("Connection delivers messages whatever the chunking of the bytes", () => {
  const bytes = concat(
    peerFrame("server", 0x1, "Hel", false),
    peerFrame("server", 0x9, "p"),
    peerFrame("server", 0x0, "lo"),
    peerFrame("server", 0x2, hexToBytes("01 02 03")),
  );
  for (let cut = 0; cut <= bytes.length; cut++) {
    const harness = open("server");
    harness.connection.receive(bytes.slice(0, cut));
    harness.connection.receive(bytes.slice(cut));
    assert.deepEqual(harness.messages, ["Hello", hexToBytes("01 02 03")], `cut at ${cut}`);
    assert.deepEqual(harness.pings, [utf8("p")], `cut at ${cut}`);
  }
});

test("Connection answers a ping with a pong carrying its payload, and reports the ping", () => {
  for (const role of ROLES) {
    const harness = open(role);
    harness.connection.receive(peerFrame(role, 0x9, "Hello"));
    assert.deepEqual(writtenFrames(harness), [frameOf(0xa, "Hello")], role);
    assert.deepEqual(harness.pings, [utf8("Hello")], role);
    assert.equal(harness.connection.state, "open", role);
  }
});

test("Connection answers a ping between the fragments of a message", () => {
  const harness = open("server");
  harness.connection.receive(concat(
    peerFrame("server", 0x1, "a", false),
    peerFrame("server", 0x9, ""),
    peerFrame("server", 0x0, "b"),
  ));
  assert.deepEqual(writtenFrames(harness), [frameOf(0xa, "")]);
  assert.deepEqual(harness.messages, ["ab"]);
});

test("Connection reports a pong and writes nothing", () => {
  const harness = open("server");
  harness.connection.receive(peerFrame("server", 0xa, "beat"));
  assert.deepEqual(harness.pongs, [utf8("beat")]);
  assert.deepEqual(harness.written, []);
});

test("Connection works without ping and pong handlers", () => {
  const written: Uint8Array[] = [];
  const connection = new Connection({ role: "client" }, {
    write: (bytes) => written.push(bytes.slice()),
    message: () => {},
    end: () => {},
  });
  connection.receive(peerFrame("client", 0x9, "p"));
  connection.receive(peerFrame("client", 0xa, "q"));
  assert.equal(connection.state, "open");
  assert.equal(written.length, 1);
});

test("Connection does not answer a ping after sending its close frame", () => {
  const harness = open("server");
  harness.connection.close(1000);
  harness.connection.receive(peerFrame("server", 0x9, "late"));
  assert.deepEqual(writtenFrames(harness), [frameOf(0x8, closePayload(1000))]);
  assert.deepEqual(harness.pings, [utf8("late")]);
});

test("Connection delivers messages that arrive while closing", () => {
  const harness = open("server");
  harness.connection.close(1000);
  harness.connection.receive(peerFrame("server", 0x1, "last words"));
  assert.deepEqual(harness.messages, ["last words"]);
  assert.equal(harness.connection.state, "closing");
});
