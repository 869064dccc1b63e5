import { test } from "node:test";
import assert from "node:assert/strict";
import { HandshakeError } from "../../src/errors.ts";
import {
  DEFAULT_MAX_HEAD_SIZE,
  DEFAULT_MAX_HEADERS,
  type HeadParserOptions,
  type ParsedHead,
  type RequestHead,
  RequestHeadParser,
  type ResponseHead,
  ResponseHeadParser,
} from "../../src/handshake/http1.ts";
import { byteByByte, chunkings, concat, patternBytes } from "../_helpers.ts";
import {
  handshakeError,
  headBytes,
  latin1,
  RFC_ACCEPT,
  RFC_KEY,
  RFC_REQUEST_LINES,
  RFC_RESPONSE_LINES,
} from "./_helpers.ts";

type Parser = RequestHeadParser | ResponseHeadParser;

/**
 * Pushes chunks until the head is complete; returns the head and every byte
 * that came after it: the rest of the completing chunk, then the chunks not pushed.
 */
function readHead<Head>(
  parser: { push(chunk: Uint8Array): ParsedHead<Head> | undefined },
  chunks: Uint8Array[],
): { head: Head; after: Uint8Array } | undefined {
  for (let i = 0; i < chunks.length; i++) {
    const parsed = parser.push(chunks[i]!);
    if (parsed !== undefined) {
      return { head: parsed.head, after: concat(parsed.rest, ...chunks.slice(i + 1)) };
    }
  }
  return undefined;
}

/** Asserts that a new parser fails with `status` on `bytes`, for every chunking. */
function assertHeadFails(
  create: () => Parser,
  bytes: Uint8Array,
  status: number,
  message?: RegExp,
): void {
  for (const { label, chunks } of chunkings(bytes)) {
    const parser = create();
    assert.throws(
      () => {
        for (const chunk of chunks) parser.push(chunk);
      },
      handshakeError(status, message, label),
      label,
    );
  }
}

const request = (options?: HeadParserOptions) => new RequestHeadParser(options);
const response = (options?: HeadParserOptions) => new ResponseHeadParser(options);

// --- Reading heads -----------------------------------------------------------

test("RequestHeadParser reads the RFC 6455 §1.2 request, for every chunking", () => {
  for (const { label, chunks } of chunkings(headBytes(RFC_REQUEST_LINES))) {
    const read = readHead(new RequestHeadParser(), chunks);
    assert.ok(read !== undefined, label);
    const { head, after } = read;
    assert.equal(head.method, "GET", label);
    assert.equal(head.target, "/chat", label);
    assert.equal(head.version, "HTTP/1.1", label);
    assert.deepEqual([...head.headers], [
      ["connection", "Upgrade"],
      ["host", "server.example.com"],
      ["origin", "http://example.com"],
      ["sec-websocket-key", RFC_KEY],
      ["sec-websocket-protocol", "chat, superchat"],
      ["sec-websocket-version", "13"],
      ["upgrade", "websocket"],
    ], label);
    assert.equal(after.length, 0, label);
  }
});

test("ResponseHeadParser reads the RFC 6455 §1.2 response, for every chunking", () => {
  for (const { label, chunks } of chunkings(headBytes(RFC_RESPONSE_LINES))) {
    const read = readHead(new ResponseHeadParser(), chunks);
    assert.ok(read !== undefined, label);
    const { head, after } = read;
    assert.equal(head.version, "HTTP/1.1", label);
    assert.equal(head.status, 101, label);
    assert.equal(head.statusText, "Switching Protocols", label);
    assert.deepEqual([...head.headers], [
      ["connection", "Upgrade"],
      ["sec-websocket-accept", RFC_ACCEPT],
      ["sec-websocket-protocol", "chat"],
      ["upgrade", "websocket"],
    ], label);
    assert.equal(after.length, 0, label);
  }
});

test("RequestHeadParser keeps the bytes after the head exactly, for every chunking", () => {
  const head = headBytes(RFC_REQUEST_LINES);
  // Frames that start with CR LF bytes, so a scan running past the head shows.
  const tail = concat(latin1("\r\n\r\n"), patternBytes(300));
  for (const { label, chunks } of chunkings(concat(head, tail))) {
    const read = readHead(new RequestHeadParser(), chunks);
    assert.ok(read !== undefined, label);
    assert.deepEqual(read.after, tail, label);
    assert.equal(read.head.headers.get("sec-websocket-key"), RFC_KEY, label);
  }
});

test("ResponseHeadParser keeps the bytes after the head exactly, for every chunking", () => {
  const head = headBytes(RFC_RESPONSE_LINES);
  const tail = patternBytes(200, 3);
  for (const { label, chunks } of chunkings(concat(head, tail))) {
    const read = readHead(new ResponseHeadParser(), chunks);
    assert.ok(read !== undefined, label);
    assert.deepEqual(read.after, tail, label);
  }
});

test("RequestHeadParser returns the head at the last byte of its empty line, not before", () => {
  const bytes = headBytes(RFC_REQUEST_LINES);
  const parser = new RequestHeadParser();
  const chunks = [...byteByByte(bytes)];
  for (let i = 0; i < chunks.length - 1; i++) {
    assert.equal(parser.push(chunks[i]!), undefined, `byte ${i}`);
  }
  const parsed = parser.push(chunks[chunks.length - 1]!);
  assert.equal(parsed?.head.target, "/chat");
  assert.deepEqual(parsed?.rest, new Uint8Array(0));
});

test("RequestHeadParser returns a view of the completing chunk as the rest", () => {
  const chunk = concat(headBytes(["GET / HTTP/1.1", "Host: a"]), new Uint8Array([0x81, 0x80]));
  const parsed = new RequestHeadParser().push(chunk);
  assert.ok(parsed !== undefined);
  assert.equal(parsed.rest.buffer, chunk.buffer);
  assert.equal(parsed.rest.byteOffset, chunk.length - 2);
  assert.deepEqual(parsed.rest, new Uint8Array([0x81, 0x80]));
});

test("RequestHeadParser does not modify the chunks it is given", () => {
  const bytes = concat(headBytes(RFC_REQUEST_LINES), patternBytes(40));
  for (const { label, chunks } of chunkings(bytes)) {
    const copies = chunks.map((chunk) => chunk.slice());
    readHead(new RequestHeadParser(), chunks);
    assert.deepEqual(chunks, copies, label);
  }
});

test("RequestHeadParser ignores an empty chunk", () => {
  const parser = new RequestHeadParser();
  assert.equal(parser.push(new Uint8Array(0)), undefined);
  assert.equal(parser.push(latin1("GET / HTTP/1.1\r\n")), undefined);
  assert.equal(parser.push(new Uint8Array(0)), undefined);
  assert.equal(parser.push(latin1("\r\n"))?.head.method, "GET");
});

test("RequestHeadParser reads a head without header fields", () => {
  const parsed = new RequestHeadParser().push(headBytes(["OPTIONS * HTTP/1.0"]));
  assert.deepEqual(
    parsed && { ...parsed.head, headers: [...parsed.head.headers] },
    { method: "OPTIONS", target: "*", version: "HTTP/1.0", headers: [] },
  );
});

test("RequestHeadParser keeps the method, target and version exactly as sent", () => {
  const parsed = new RequestHeadParser().push(
    headBytes(["get http://example.com:8080/a/b?c=d&e=%20f HTTP/1.1", "Host: example.com"]),
  );
  assert.equal(parsed?.head.method, "get");
  assert.equal(parsed?.head.target, "http://example.com:8080/a/b?c=d&e=%20f");
  assert.equal(parsed?.head.version, "HTTP/1.1");
});

// --- Header fields -----------------------------------------------------------

function fieldsOf(lines: string[]): Headers {
  const parsed = new RequestHeadParser().push(headBytes(["GET / HTTP/1.1", ...lines]));
  assert.ok(parsed !== undefined);
  return parsed.head.headers;
}

test("RequestHeadParser trims spaces and tabs around field values", () => {
  const headers = fieldsOf(["A:x", "B: \t x y \t ", "C:", "D:   "]);
  assert.equal(headers.get("a"), "x");
  assert.equal(headers.get("b"), "x y");
  assert.equal(headers.get("c"), "");
  assert.equal(headers.get("d"), "");
});

test("RequestHeadParser joins repeated field lines with a comma, in order", () => {
  const headers = fieldsOf([
    "Sec-WebSocket-Protocol: chat",
    "X-Other: 1",
    "sec-websocket-PROTOCOL: superchat",
    "Sec-WebSocket-Protocol: ",
  ]);
  assert.equal(headers.get("sec-websocket-protocol"), "chat, superchat,");
  assert.equal(headers.get("x-other"), "1");
});

test("RequestHeadParser keeps an empty first line of a repeated field in the joined value", () => {
  // Left to Headers.append, runtimes disagree on this one.
  assert.equal(fieldsOf(["X-A:", "X-A: chat"]).get("x-a"), ", chat");
});

test("RequestHeadParser keeps each Set-Cookie line apart", () => {
  const headers = fieldsOf(["Set-Cookie: a=1", "Set-Cookie: b=2"]);
  assert.deepEqual(headers.getSetCookie(), ["a=1", "b=2"]);
});

test("RequestHeadParser reads bytes 0x80-0xFF in values as Latin-1", () => {
  const headers = fieldsOf(["X-Name: caf\xe9 \x80\xff"]);
  const value = headers.get("x-name");
  assert.deepEqual(
    Array.from(value ?? "", (char) => char.charCodeAt(0)),
    [0x63, 0x61, 0x66, 0xe9, 0x20, 0x80, 0xff],
  );
});

test("RequestHeadParser reads field names case-insensitively and stores every token name", () => {
  const headers = fieldsOf(["UPGRADE: websocket", "x-!#$%&'*+-.^_`|~09az: 1", "__proto__: 2"]);
  assert.equal(headers.get("upgrade"), "websocket");
  assert.equal(headers.get("x-!#$%&'*+-.^_`|~09az"), "1");
  assert.equal(headers.get("__proto__"), "2");
});

test("RequestHeadParser refuses a second Host line with 400", () => {
  assertHeadFails(
    request,
    headBytes(["GET / HTTP/1.1", "Host: a", "host: b"]),
    400,
    /more than one Host/,
  );
  assertHeadFails(request, headBytes(["GET / HTTP/1.1", "Host: a", "Host: a"]), 400);
});

// --- Limits --------------------------------------------------------------------

// The bytes of a request head around its padding: "GET / HTTP/1.1", "Host: a",
// "X-Pad: ", each with its CRLF, and the empty line.
const PAD_OVERHEAD = 16 + 9 + 9 + 2;

/** A request head of exactly `size` bytes, at least 36, padded in one field value. */
function requestOfSize(size: number): Uint8Array {
  const bytes = headBytes([
    "GET / HTTP/1.1",
    "Host: a",
    `X-Pad: ${"p".repeat(size - PAD_OVERHEAD)}`,
  ]);
  assert.equal(bytes.length, size);
  return bytes;
}

test("DEFAULT_MAX_HEAD_SIZE and DEFAULT_MAX_HEADERS are 8 KiB and 100", () => {
  assert.equal(DEFAULT_MAX_HEAD_SIZE, 8192);
  assert.equal(DEFAULT_MAX_HEADERS, 100);
});

test("RequestHeadParser accepts a head of exactly 8 KiB, for every chunking", () => {
  const bytes = requestOfSize(8192);
  for (const { label, chunks } of chunkings(bytes)) {
    const read = readHead(new RequestHeadParser(), chunks);
    assert.deepEqual(read?.after, new Uint8Array(0), label);
    assert.equal(read?.head.headers.get("x-pad")?.length, 8192 - PAD_OVERHEAD, label);
  }
});

test("RequestHeadParser refuses a head of 8 KiB + 1 with 431, for every chunking", () => {
  assertHeadFails(request, requestOfSize(8193), 431, /over 8192 bytes/);
});

test("RequestHeadParser does not count the bytes after the head against the limit", () => {
  const tail = patternBytes(10000);
  const read = readHead(new RequestHeadParser(), [concat(requestOfSize(8192), tail)]);
  assert.deepEqual(read?.after, tail);
});

test("RequestHeadParser takes maxHeadSize as the limit, accepting it and refusing one more", () => {
  for (const maxHeadSize of [36, 64, 1000, 20000]) {
    const options = { maxHeadSize };
    for (const { label, chunks } of chunkings(requestOfSize(maxHeadSize))) {
      assert.ok(readHead(new RequestHeadParser(options), chunks) !== undefined, label);
    }
    assertHeadFails(() => request(options), requestOfSize(maxHeadSize + 1), 431);
  }
});

test("RequestHeadParser refuses a head trickled forever, at the byte past the limit", () => {
  for (const maxHeadSize of [DEFAULT_MAX_HEAD_SIZE, 100]) {
    const parser = new RequestHeadParser({ maxHeadSize });
    const line = latin1("GET / HTTP/1.1\r\nX-Slow: ");
    let pushed = 0;
    for (const chunk of byteByByte(line)) {
      assert.equal(parser.push(chunk), undefined);
      pushed++;
    }
    let error: unknown;
    const byte = latin1("z");
    while (error === undefined) {
      try {
        parser.push(byte);
        pushed++;
      } catch (caught) {
        error = caught;
      }
      assert.ok(pushed <= maxHeadSize, "the parser accepted a byte past the limit");
    }
    assert.equal(pushed, maxHeadSize, "bytes accepted before the refusal");
    assert.ok(handshakeError(431, /over/)(error));
    // It stays failed.
    assert.throws(() => parser.push(byte), (again) => again === error);
  }
});

test("RequestHeadParser refuses one huge chunk without a head end at once with 431", () => {
  const parser = new RequestHeadParser();
  assert.throws(
    () => parser.push(concat(latin1("GET / HTTP/1.1\r\nX: "), new Uint8Array(16 << 20).fill(0x61))),
    handshakeError(431),
  );
});

/** A request head with exactly `count` field lines. */
function requestWithFields(count: number): Uint8Array {
  const lines = ["GET / HTTP/1.1"];
  for (let i = 0; i < count; i++) lines.push(`X-Field-${i}: ${i}`);
  return headBytes(lines);
}

test("RequestHeadParser accepts exactly 100 field lines, for every chunking", () => {
  for (const { label, chunks } of chunkings(requestWithFields(100))) {
    const read = readHead(new RequestHeadParser(), chunks);
    assert.equal([...(read?.head.headers ?? [])].length, 100, label);
  }
});

test("RequestHeadParser refuses 101 field lines with 431, for every chunking", () => {
  assertHeadFails(request, requestWithFields(101), 431, /over 100 header lines/);
});

test("RequestHeadParser counts repeated field lines one by one", () => {
  const lines = ["GET / HTTP/1.1"];
  for (let i = 0; i < 101; i++) lines.push("X-Same: 1");
  assertHeadFails(request, headBytes(lines), 431);
});

test("RequestHeadParser takes maxHeaders as the limit, accepting it and refusing one more", () => {
  for (const maxHeaders of [0, 1, 5, 300]) {
    const options = { maxHeaders, maxHeadSize: 100_000 };
    assert.ok(new RequestHeadParser(options).push(requestWithFields(maxHeaders)) !== undefined);
    assertHeadFails(() => request(options), requestWithFields(maxHeaders + 1), 431);
  }
});

test("RequestHeadParser refuses invalid limits with a RangeError", () => {
  for (const maxHeadSize of [0, -1, 1.5, NaN, Infinity]) {
    assert.throws(() => new RequestHeadParser({ maxHeadSize }), RangeError, `${maxHeadSize}`);
  }
  for (const maxHeaders of [-1, 0.5, NaN, Infinity]) {
    assert.throws(() => new RequestHeadParser({ maxHeaders }), RangeError, `${maxHeaders}`);
  }
});

// --- Malformed requests ----------------------------------------------------------

const MALFORMED_REQUESTS: [name: string, head: string][] = [
  ["a request line without a version", "GET /\r\nHost: a\r\n\r\n"],
  ["a request line with two spaces", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n"],
  ["a request line with a tab", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n"],
  ["a request line with a trailing space", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n"],
  ["a request line with a space in the target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n"],
  ["a request line with a byte above 0x7F in the target", "GET /caf\xe9 HTTP/1.1\r\n\r\n"],
  ["a request line with a lowercase version", "GET / http/1.1\r\nHost: a\r\n\r\n"],
  ["a request line with a two-digit version", "GET / HTTP/1.10\r\nHost: a\r\n\r\n"],
  ["a request line with a bad method", "G(E)T / HTTP/1.1\r\nHost: a\r\n\r\n"],
  ["a request line without a method", " / HTTP/1.1\r\nHost: a\r\n\r\n"],
  ["a field line without a colon", "GET / HTTP/1.1\r\nHost a\r\n\r\n"],
  ["a space before the colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n"],
  ["a tab before the colon", "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n"],
  ["an empty field name", "GET / HTTP/1.1\r\n: a\r\n\r\n"],
  ["a field name with a separator", "GET / HTTP/1.1\r\nX(Y): a\r\n\r\n"],
  ["a field name with a byte above 0x7F", "GET / HTTP/1.1\r\nX-\xe9: a\r\n\r\n"],
  ["a folded line (obs-fold) with a space", "GET / HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n"],
  ["a folded line (obs-fold) with a tab", "GET / HTTP/1.1\r\nX-A: a\r\n\tb\r\n\r\n"],
  ["whitespace before the first field", "GET / HTTP/1.1\r\n Host: a\r\n\r\n"],
  ["a NUL in a value", "GET / HTTP/1.1\r\nX-A: a\x00b\r\n\r\n"],
  ["a control character in a value", "GET / HTTP/1.1\r\nX-A: a\x01b\r\n\r\n"],
  ["an escape character in a value", "GET / HTTP/1.1\r\nX-A: \x1b[31m\r\n\r\n"],
  ["a DEL in a value", "GET / HTTP/1.1\r\nX-A: a\x7fb\r\n\r\n"],
  ["a bare LF ending the request line", "GET / HTTP/1.1\nHost: a\r\n\r\n"],
  ["a bare LF ending a field line", "GET / HTTP/1.1\r\nHost: a\n\r\n"],
  ["bare LFs only", "GET / HTTP/1.1\nHost: a\n\n"],
  ["a bare LF ending the empty line", "GET / HTTP/1.1\r\nHost: a\r\n\n"],
  ["a bare CR inside a value", "GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n"],
  ["a CR CR LF line end", "GET / HTTP/1.1\r\r\nHost: a\r\n\r\n"],
  ["an empty line before the request line", "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"],
];

for (const [name, head] of MALFORMED_REQUESTS) {
  test(`RequestHeadParser refuses ${name} with 400, for every chunking`, () => {
    assertHeadFails(request, latin1(head), 400, /^Cannot read request head: /);
  });
}

test("RequestHeadParser refuses a bare LF as soon as it comes", () => {
  const parser = new RequestHeadParser();
  assert.equal(parser.push(latin1("GET / HTTP/1.1\r\nHost: a")), undefined);
  assert.throws(() => parser.push(latin1("\n")), handshakeError(400, /LF without CR/));
});

test("RequestHeadParser keeps failing with the same error", () => {
  const parser = new RequestHeadParser();
  let first: unknown;
  try {
    parser.push(latin1("GET / HTTP/1.1\r\nHost a\r\n\r\n"));
  } catch (error) {
    first = error;
  }
  assert.ok(first instanceof HandshakeError);
  assert.throws(() => parser.push(latin1("GET / HTTP/1.1\r\n\r\n")), (error) => error === first);
});

test("RequestHeadParser refuses a push after the head with a TypeError", () => {
  const parser = new RequestHeadParser();
  assert.ok(parser.push(headBytes(["GET / HTTP/1.1"])) !== undefined);
  assert.throws(() => parser.push(new Uint8Array([0x81])), TypeError);
});

// --- Responses -------------------------------------------------------------------

function statusOf(line: string): ResponseHead | undefined {
  return new ResponseHeadParser().push(headBytes([line, "Upgrade: websocket"]))?.head;
}

test("ResponseHeadParser reads the status code and reason phrase", () => {
  assert.deepEqual(
    [statusOf("HTTP/1.1 404 Not Found")?.status, statusOf("HTTP/1.1 404 Not Found")?.statusText],
    [404, "Not Found"],
  );
  assert.equal(statusOf("HTTP/1.0 599 ")?.statusText, "");
  assert.equal(statusOf("HTTP/1.1 100 \tOdd\xe9 reason ")?.statusText, "\tOdd\xe9 reason ");
});

test("ResponseHeadParser accepts a status line without a reason phrase", () => {
  const head = statusOf("HTTP/1.1 101");
  assert.equal(head?.status, 101);
  assert.equal(head?.statusText, "");
  assert.equal(head?.headers.get("upgrade"), "websocket");
});

test("ResponseHeadParser joins a folded line (obs-fold) to the one before with a space", () => {
  const head = new ResponseHeadParser().push(
    headBytes(["HTTP/1.1 101 Switching Protocols", "X-A: one", " two", "\t three ", "Y: 1"]),
  )?.head;
  assert.equal(head?.headers.get("x-a"), "one two three");
  assert.equal(head?.headers.get("y"), "1");
});

const MALFORMED_RESPONSES: [name: string, head: string][] = [
  ["a status code of two digits", "HTTP/1.1 99 Odd\r\n\r\n"],
  ["a status code of four digits", "HTTP/1.1 1010 Odd\r\n\r\n"],
  ["a status code below 100", "HTTP/1.1 099 Odd\r\n\r\n"],
  ["a status code above 599", "HTTP/1.1 600 Odd\r\n\r\n"],
  ["a status code that is not a number", "HTTP/1.1 abc Odd\r\n\r\n"],
  ["a status line without a code", "HTTP/1.1\r\n\r\n"],
  ["a status line with two spaces", "HTTP/1.1  101 Switching Protocols\r\n\r\n"],
  ["a lowercase version", "http/1.1 101 Switching Protocols\r\n\r\n"],
  ["a control character in the reason", "HTTP/1.1 101 Switching\x00\r\n\r\n"],
  ["a request line", "GET / HTTP/1.1\r\n\r\n"],
  ["a field line without a colon", "HTTP/1.1 101 OK\r\nUpgrade websocket\r\n\r\n"],
  ["a space before the colon", "HTTP/1.1 101 OK\r\nUpgrade : websocket\r\n\r\n"],
  ["a control character in a value", "HTTP/1.1 101 OK\r\nUpgrade: web\x7fsocket\r\n\r\n"],
  ["a control character in a folded line", "HTTP/1.1 101 OK\r\nX: a\r\n b\x00\r\n\r\n"],
  ["whitespace before the first field", "HTTP/1.1 101 OK\r\n Upgrade: websocket\r\n\r\n"],
  ["a bare LF", "HTTP/1.1 101 OK\nUpgrade: websocket\r\n\r\n"],
  ["a bare CR", "HTTP/1.1 101 OK\rUpgrade: websocket\r\n\r\n"],
];

for (const [name, head] of MALFORMED_RESPONSES) {
  test(`ResponseHeadParser refuses ${name} with 502, for every chunking`, () => {
    assertHeadFails(response, latin1(head), 502, /^Cannot read response head: /);
  });
}

test("ResponseHeadParser accepts a head at its limits and refuses one more, with 502", () => {
  const lines = ["HTTP/1.1 101 Switching Protocols"];
  const bare = headBytes([...lines, "X-Pad: "]).length;
  const sized = (size: number) => headBytes([...lines, `X-Pad: ${"p".repeat(size - bare)}`]);
  assert.equal(new ResponseHeadParser().push(sized(8192))?.head.status, 101);
  assertHeadFails(response, sized(8193), 502, /over 8192 bytes/);
  const fields = (count: number) =>
    headBytes([...lines, ...Array.from({ length: count }, (_, i) => `X-${i}: ${i}`)]);
  assert.equal(new ResponseHeadParser().push(fields(100))?.head.status, 101);
  assertHeadFails(response, fields(101), 502, /over 100 header lines/);
});

test("ResponseHeadParser refuses a push after the head with a TypeError", () => {
  const parser = new ResponseHeadParser();
  assert.ok(parser.push(headBytes(RFC_RESPONSE_LINES)) !== undefined);
  assert.throws(() => parser.push(new Uint8Array([0x81])), TypeError);
});

test("RequestHeadParser's and ResponseHeadParser's heads have only their own fields", () => {
  const requestHead: RequestHead | undefined = new RequestHeadParser().push(
    headBytes(["GET / HTTP/1.1"]),
  )?.head;
  assert.deepEqual(Object.keys(requestHead ?? {}).sort(), [
    "headers",
    "method",
    "target",
    "version",
  ]);
  const responseHead = new ResponseHeadParser().push(headBytes(["HTTP/1.1 101 OK"]))?.head;
  assert.deepEqual(Object.keys(responseHead ?? {}).sort(), [
    "headers",
    "status",
    "statusText",
    "version",
  ]);
});
