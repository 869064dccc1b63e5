import { test } from "node:test";
import assert from "node:assert/strict";
import { HandshakeError } from "../../src/errors.ts";
import { RequestHeadParser, ResponseHeadParser } from "../../src/handshake/http1.ts";
import {
  checkUpgradeRequest,
  createUpgradeResponse,
  encodeRejection,
  type UpgradeRequestLike,
} from "../../src/handshake/server.ts";
import { utf8 } from "../_helpers.ts";
import {
  fromLatin1,
  handshakeError,
  headBytes,
  RFC_ACCEPT,
  RFC_KEY,
  RFC_REQUEST_LINES,
  RFC_RESPONSE_LINES,
  withField,
} from "./_helpers.ts";

/** The RFC 6455 §1.2 request's fields, by name. */
const RFC_FIELDS: [string, string][] = [
  ["Host", "server.example.com"],
  ["Upgrade", "websocket"],
  ["Connection", "Upgrade"],
  ["Sec-WebSocket-Key", RFC_KEY],
  ["Origin", "http://example.com"],
  ["Sec-WebSocket-Protocol", "chat, superchat"],
  ["Sec-WebSocket-Version", "13"],
];

/**
 * A request as a raw server reads it: the RFC 6455 §1.2 request with one
 * field replaced, added, or removed (`undefined`).
 */
function requestWith(
  name?: string,
  value?: string,
  overrides: Partial<UpgradeRequestLike> = {},
): UpgradeRequestLike {
  const headers = new Headers(RFC_FIELDS);
  if (name !== undefined) {
    if (value === undefined) headers.delete(name);
    else headers.set(name, value);
  }
  return { method: "GET", version: "HTTP/1.1", headers, ...overrides };
}

/** Asserts that `checkUpgradeRequest` refuses a request with `status`. */
function assertRefused(
  request: UpgradeRequestLike | Request,
  status: number,
  message?: RegExp,
  label = "",
): HandshakeError {
  let caught: unknown;
  assert.throws(
    () => checkUpgradeRequest(request),
    (error) => {
      caught = error;
      return handshakeError(status, message, label)(error);
    },
    label,
  );
  assert.match((caught as HandshakeError).message, /^Cannot upgrade request: /);
  return caught as HandshakeError;
}

// --- Accepting -------------------------------------------------------------------

test("checkUpgradeRequest accepts the RFC 6455 §1.2 request read from raw TCP", () => {
  const parsed = new RequestHeadParser().push(headBytes(RFC_REQUEST_LINES));
  assert.ok(parsed !== undefined);
  assert.deepEqual(checkUpgradeRequest(parsed.head), {
    key: RFC_KEY,
    protocols: ["chat", "superchat"],
    protocol: "",
    extensions: [],
  });
});

test("checkUpgradeRequest accepts the RFC 6455 §1.2 request as a Request", () => {
  const request = new Request("http://server.example.com/chat", { headers: RFC_FIELDS });
  assert.deepEqual(checkUpgradeRequest(request), {
    key: RFC_KEY,
    protocols: ["chat", "superchat"],
    protocol: "",
    extensions: [],
  });
});

test("checkUpgradeRequest accepts a request as { method, url, headers }", () => {
  const headers = new Headers(RFC_FIELDS);
  assert.equal(checkUpgradeRequest({ method: "GET", url: "/chat", headers }).key, RFC_KEY);
});

test("checkUpgradeRequest accepts a request without subprotocols or extensions", () => {
  const info = checkUpgradeRequest(requestWith("Sec-WebSocket-Protocol", undefined));
  assert.deepEqual(info.protocols, []);
  assert.equal(info.protocol, "");
});

test("checkUpgradeRequest reads a later HTTP/1 minor version as 1.1", () => {
  assert.equal(
    checkUpgradeRequest(requestWith(undefined, undefined, { version: "HTTP/1.2" })).key,
    RFC_KEY,
  );
});

// --- Subprotocols ------------------------------------------------------------------

test("checkUpgradeRequest passes the offered subprotocols, in order, and the request to selectProtocol", () => {
  const request = requestWith();
  const calls: unknown[][] = [];
  const info = checkUpgradeRequest(request, {
    selectProtocol: (offered, given) => {
      calls.push([offered, given]);
      return "superchat";
    },
  });
  assert.deepEqual(calls, [[["chat", "superchat"], request]]);
  assert.equal(calls[0]![1], request);
  assert.equal(info.protocol, "superchat");
});

test("checkUpgradeRequest chooses no subprotocol when selectProtocol returns undefined", () => {
  assert.equal(
    checkUpgradeRequest(requestWith(), { selectProtocol: () => undefined }).protocol,
    "",
  );
});

test("checkUpgradeRequest does not call selectProtocol when none was offered", () => {
  let called = false;
  const info = checkUpgradeRequest(requestWith("Sec-WebSocket-Protocol", undefined), {
    selectProtocol: () => {
      called = true;
      return "chat";
    },
  });
  assert.equal(called, false);
  assert.equal(info.protocol, "");
});

test("checkUpgradeRequest refuses a subprotocol choice that was not offered with a TypeError", () => {
  for (const choice of ["CHAT", "other", "", "chat, superchat"]) {
    assert.throws(
      () => checkUpgradeRequest(requestWith(), { selectProtocol: () => choice }),
      (error) => error instanceof TypeError && /did not offer/.test(error.message),
      choice,
    );
  }
});

test("checkUpgradeRequest lets selectProtocol refuse the request", () => {
  const refusal = new HandshakeError("Cannot upgrade request: no common subprotocol", {
    status: 400,
  });
  assert.throws(
    () =>
      checkUpgradeRequest(requestWith(), {
        selectProtocol: () => {
          throw refusal;
        },
      }),
    (error) => error === refusal,
  );
});

test("checkUpgradeRequest reads Sec-WebSocket-Protocol as a list of distinct tokens", () => {
  const cases: [string, string[]][] = [
    ["chat", ["chat"]],
    ["chat,superchat", ["chat", "superchat"]],
    ["chat , \tsuperchat", ["chat", "superchat"]],
    ["chat, Chat", ["chat", "Chat"]],
    ["v1.json.example.com, x!#$%&'*+-.^_`|~", ["v1.json.example.com", "x!#$%&'*+-.^_`|~"]],
  ];
  for (const [value, protocols] of cases) {
    assert.deepEqual(
      checkUpgradeRequest(requestWith("Sec-WebSocket-Protocol", value)).protocols,
      protocols,
      value,
    );
  }
});

test("checkUpgradeRequest refuses a malformed Sec-WebSocket-Protocol with 400", () => {
  const cases: [string, RegExp][] = [
    ["", /empty element/],
    [",", /empty element/],
    ["chat,", /empty element/],
    ["chat, , superchat", /empty element/],
    ["chat, chat", /"chat" twice/],
    ["chat, superchat, chat", /"chat" twice/],
    ["chat superchat", /not a token/],
    ["chat/1", /not a token/],
    ['"chat"', /not a token/],
    ["ch\xe9t", /not a token/],
  ];
  for (const [value, message] of cases) {
    assertRefused(requestWith("Sec-WebSocket-Protocol", value), 400, message, value);
  }
});

test("checkUpgradeRequest refuses two Sec-WebSocket-Protocol lines that repeat a token", () => {
  const parsed = new RequestHeadParser().push(
    headBytes([...RFC_REQUEST_LINES, "Sec-WebSocket-Protocol: chat"]),
  );
  assert.ok(parsed !== undefined);
  assertRefused(parsed.head, 400, /"chat" twice/);
});

// --- Extensions ---------------------------------------------------------------------

test("checkUpgradeRequest reads the offered extensions with their parameters", () => {
  const info = checkUpgradeRequest(
    requestWith(
      "Sec-WebSocket-Extensions",
      'permessage-deflate; client_max_window_bits, permessage-deflate;server_max_window_bits="10" ;x=y,, x-webkit-deflate-frame',
    ),
  );
  assert.deepEqual(info.extensions, [
    { name: "permessage-deflate", params: [{ name: "client_max_window_bits" }] },
    {
      name: "permessage-deflate",
      params: [{ name: "server_max_window_bits", value: "10" }, { name: "x", value: "y" }],
    },
    { name: "x-webkit-deflate-frame", params: [] },
  ]);
});

test("checkUpgradeRequest unescapes quoted extension parameters", () => {
  const info = checkUpgradeRequest(requestWith("Sec-WebSocket-Extensions", 'a; b="\\1\\0"; c = d'));
  assert.deepEqual(info.extensions, [
    { name: "a", params: [{ name: "b", value: "10" }, { name: "c", value: "d" }] },
  ]);
});

test("checkUpgradeRequest accepts an empty Sec-WebSocket-Extensions as no extension", () => {
  for (const value of ["", ",", " , "]) {
    assert.deepEqual(
      checkUpgradeRequest(requestWith("Sec-WebSocket-Extensions", value)).extensions,
      [],
      value,
    );
  }
});

test("checkUpgradeRequest refuses a malformed Sec-WebSocket-Extensions with 400", () => {
  const cases = [
    "permessage-deflate;",
    "; a",
    "a;;b",
    "a; b=",
    "a; =b",
    "a b",
    "a; b c",
    'a; b="c d"',
    'a; b=""',
    'a; b="unclosed',
    'a; b="c"d',
    "a=b",
    "a; b=c=d",
    "a/1",
  ];
  for (const value of cases) {
    assertRefused(
      requestWith("Sec-WebSocket-Extensions", value),
      400,
      /Sec-WebSocket-Extensions is malformed/,
      value,
    );
  }
});

// --- Each rule and its status ---------------------------------------------------------

test("checkUpgradeRequest refuses a method other than GET with 405 and Allow: GET", () => {
  for (const method of ["POST", "HEAD", "CONNECT", "get"]) {
    const error = assertRefused(
      requestWith(undefined, undefined, { method }),
      405,
      /only GET/,
      method,
    );
    assert.equal(error.headers.get("allow"), "GET");
  }
  assertRefused(new Request("http://a/", { method: "POST", headers: RFC_FIELDS }), 405);
});

test("checkUpgradeRequest refuses HTTP/1.0 with 400 and another major version with 505", () => {
  const cases: [string, number][] = [
    ["HTTP/1.0", 400],
    ["HTTP/0.9", 505],
    ["HTTP/2.0", 505],
    ["HTTP/3.0", 505],
    ["HTTP/1.1 ", 400],
    ["1.1", 400],
    ["HTTP/1.10", 400],
  ];
  for (const [version, status] of cases) {
    assertRefused(requestWith(undefined, undefined, { version }), status, /HTTP version/, version);
  }
});

test("checkUpgradeRequest refuses a request whose Upgrade does not list websocket with 426", () => {
  const cases: (string | undefined)[] = [
    undefined,
    "",
    "h2c",
    "websockets",
    "web socket",
    "websocket/13",
  ];
  for (const value of cases) {
    const error = assertRefused(
      requestWith("Upgrade", value),
      426,
      /Upgrade is .*, it must list websocket/,
      `${value}`,
    );
    assert.equal(error.headers.get("upgrade"), "websocket");
  }
  // A browser opening the URL.
  assertRefused(new Request("http://a/", { headers: { Host: "a" } }), 426, /Upgrade is missing/);
});

test("checkUpgradeRequest reads Upgrade as a case-insensitive token list", () => {
  for (
    const value of ["WebSocket", "WEBSOCKET", "h2c, websocket", "websocket ,foo", ", websocket"]
  ) {
    assert.equal(checkUpgradeRequest(requestWith("Upgrade", value)).key, RFC_KEY, value);
  }
});

test("checkUpgradeRequest refuses a request whose Connection does not list upgrade with 400", () => {
  for (
    const value of [
      undefined,
      "",
      "close",
      "keep-alive",
      "upgrades",
      "up grade",
      "Upgrade-Insecure",
    ]
  ) {
    assertRefused(
      requestWith("Connection", value),
      400,
      /Connection is .*, it must list upgrade/,
      `${value}`,
    );
  }
});

test("checkUpgradeRequest reads Connection as a case-insensitive token list", () => {
  for (
    const value of [
      "upgrade",
      "UPGRADE",
      "keep-alive, Upgrade",
      "Upgrade,keep-alive",
      "close , upgrade",
    ]
  ) {
    assert.equal(checkUpgradeRequest(requestWith("Connection", value)).key, RFC_KEY, value);
  }
});

test("checkUpgradeRequest refuses a missing or invalid Host with 400", () => {
  assertRefused(requestWith("Host", undefined), 400, /Host is missing/);
  for (const value of ["", "a b", "a, b", "a:b:c", "a/b", "[::1", "a@b", "a:80x"]) {
    assertRefused(requestWith("Host", value), 400, /Host is ".*", not a valid host/, value);
  }
});

test("checkUpgradeRequest accepts hosts with ports and IP literals", () => {
  for (
    const value of [
      "example.com",
      "example.com:8080",
      "127.0.0.1:80",
      "[::1]",
      "[::1]:9000",
      "xn--caf-dma.example",
      "a:",
    ]
  ) {
    assert.equal(checkUpgradeRequest(requestWith("Host", value)).key, RFC_KEY, value);
  }
});

test("checkUpgradeRequest refuses a request with a body with 400", () => {
  assertRefused(requestWith("Transfer-Encoding", "chunked"), 400, /Transfer-Encoding is present/);
  for (const value of ["1", "5", "01", "0, 0", "-0", "0x0"]) {
    assertRefused(
      requestWith("Content-Length", value),
      400,
      /Content-Length is .*, an upgrade request has no body/,
      value,
    );
  }
  for (const value of ["0", "00"]) {
    assert.equal(checkUpgradeRequest(requestWith("Content-Length", value)).key, RFC_KEY, value);
  }
});

test("checkUpgradeRequest refuses a missing or malformed Sec-WebSocket-Key with 400", () => {
  assertRefused(requestWith("Sec-WebSocket-Key", undefined), 400, /Sec-WebSocket-Key is missing/);
  const cases = [
    "",
    "dGhlIHNhbXBsZSBub25jZQ", // no padding
    "dGhlIHNhbXBsZSBub25jZQ=", // short padding
    "dGhlIHNhbXBsZSBub25jZQ===", // long padding
    "AAAAAAAAAAAAAAAAAAAA", // 15 bytes
    "AAAAAAAAAAAAAAAAAAAAA==", // 21 characters before the padding
    "AAAAAAAAAAAAAAAAAAAAAAA==", // 23 characters before the padding
    "AAAAAAAAAAAAAAAAAAAAAAA=", // 17 bytes
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", // 32 bytes
    "dGhlIHNhbXBsZSBub25jZQ-=", // base64url
    "dGhlIHNhbXBsZSBub25jZ!==",
    "the sample nonce",
  ];
  for (const value of cases) {
    assertRefused(requestWith("Sec-WebSocket-Key", value), 400, /not 16 bytes in base64/, value);
  }
});

test("checkUpgradeRequest refuses a Sec-WebSocket-Key sent twice with 400", () => {
  const parsed = new RequestHeadParser().push(
    headBytes([...RFC_REQUEST_LINES, "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA=="]),
  );
  assert.ok(parsed !== undefined);
  assertRefused(parsed.head, 400, /Sec-WebSocket-Key appears more than once/);
});

test("checkUpgradeRequest accepts any 16-byte key, in the base64 alphabet", () => {
  for (
    const key of [
      "AAAAAAAAAAAAAAAAAAAAAA==",
      "/////////////////////w==",
      "+/+/+/+/+/+/+/+/+/+/+A==",
    ]
  ) {
    assert.equal(checkUpgradeRequest(requestWith("Sec-WebSocket-Key", key)).key, key);
  }
});

test("checkUpgradeRequest refuses a version other than 13 with 426 and Sec-WebSocket-Version: 13", () => {
  const cases: [string | undefined, string][] = [
    [undefined, "Cannot upgrade request: Sec-WebSocket-Version is missing, only 13 is supported"],
    ["8", "Cannot upgrade request: Sec-WebSocket-Version is 8, only 13 is supported"],
    ["", "Cannot upgrade request: Sec-WebSocket-Version is empty, only 13 is supported"],
    ["14", "Cannot upgrade request: Sec-WebSocket-Version is 14, only 13 is supported"],
    ["013", "Cannot upgrade request: Sec-WebSocket-Version is 013, only 13 is supported"],
    ["13, 8", "Cannot upgrade request: Sec-WebSocket-Version is 13, 8, only 13 is supported"],
  ];
  for (const [value, message] of cases) {
    const error = assertRefused(
      requestWith("Sec-WebSocket-Version", value),
      426,
      undefined,
      `${value}`,
    );
    assert.equal(error.message, message);
    assert.equal(error.headers.get("sec-websocket-version"), "13");
  }
});

test("checkUpgradeRequest checks the rules in order: method, version, upgrade, then the fields", () => {
  const bad = requestWith("Upgrade", undefined, { method: "POST", version: "HTTP/1.0" });
  bad.headers.delete("sec-websocket-version");
  assertRefused(bad, 405);
  assertRefused({ ...bad, method: "GET" }, 400, /HTTP version/);
  assertRefused({ ...bad, method: "GET", version: "HTTP/1.1" }, 426, /Upgrade/);
});

test("checkUpgradeRequest refuses each tampered field of a raw request with its status", () => {
  const cases: [name: string, value: string | undefined, status: number][] = [
    ["Host", undefined, 400],
    ["Upgrade", "http/2", 426],
    ["Connection", "close", 400],
    ["Sec-WebSocket-Key", "c2hvcnQ=", 400],
    ["Sec-WebSocket-Version", "7", 426],
    ["Sec-WebSocket-Protocol", "chat, chat", 400],
    ["Sec-WebSocket-Extensions", "a;", 400],
    ["Content-Length", "10", 400],
  ];
  for (const [name, value, status] of cases) {
    const parsed = new RequestHeadParser().push(
      headBytes(withField(RFC_REQUEST_LINES, name, value)),
    );
    assert.ok(parsed !== undefined, name);
    assertRefused(parsed.head, status, new RegExp(name), name);
  }
});

// --- The 101 response ------------------------------------------------------------------

test("createUpgradeResponse builds the RFC 6455 §1.2 response", async () => {
  const response = await createUpgradeResponse(requestWith(), { protocol: "chat" });
  assert.equal(fromLatin1(response.head), fromLatin1(headBytes(RFC_RESPONSE_LINES)));
  assert.equal(response.protocol, "chat");
  assert.equal(response.extensions, "");
  assert.deepEqual([...response.headers], [
    ["connection", "Upgrade"],
    ["sec-websocket-accept", RFC_ACCEPT],
    ["sec-websocket-protocol", "chat"],
    ["upgrade", "websocket"],
  ]);
});

test("createUpgradeResponse answers a Request as it answers a raw request", async () => {
  const request = new Request("http://server.example.com/chat", { headers: RFC_FIELDS });
  const response = await createUpgradeResponse(request, { protocol: "chat" });
  assert.equal(fromLatin1(response.head), fromLatin1(headBytes(RFC_RESPONSE_LINES)));
});

test("createUpgradeResponse accepts no subprotocol by default or for an empty one", async () => {
  const expected = fromLatin1(headBytes(RFC_RESPONSE_LINES.slice(0, -1)));
  for (const options of [undefined, {}, { protocol: "" }]) {
    const response = await createUpgradeResponse(requestWith(), options);
    assert.equal(fromLatin1(response.head), expected);
    assert.equal(response.protocol, "");
  }
});

test("createUpgradeResponse writes the accepted extensions after the subprotocol", async () => {
  const request = requestWith(
    "Sec-WebSocket-Extensions",
    "permessage-deflate; client_max_window_bits, x-foo",
  );
  const response = await createUpgradeResponse(request, {
    protocol: "superchat",
    extensions: " permessage-deflate; server_no_context_takeover ",
  });
  assert.equal(
    fromLatin1(response.head),
    fromLatin1(headBytes([
      ...RFC_RESPONSE_LINES.slice(0, -1),
      "Sec-WebSocket-Protocol: superchat",
      "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover",
    ])),
  );
  assert.equal(response.extensions, "permessage-deflate; server_no_context_takeover");
});

test("createUpgradeResponse writes more headers after the handshake's, conventionally spelled", async () => {
  const response = await createUpgradeResponse(requestWith(), {
    headers: [["set-cookie", "a=1"], ["Set-Cookie", "b=2"], ["x-request-id", "42"], [
      "WWW-Authenticate",
      "Basic",
    ]],
  });
  assert.equal(
    fromLatin1(response.head),
    fromLatin1(headBytes([
      ...RFC_RESPONSE_LINES.slice(0, -1),
      "Set-Cookie: a=1",
      "Set-Cookie: b=2",
      "WWW-Authenticate: Basic",
      "X-Request-Id: 42",
    ])),
  );
  assert.deepEqual(response.headers.getSetCookie(), ["a=1", "b=2"]);
  assert.equal(response.headers.get("x-request-id"), "42");
});

test("createUpgradeResponse refuses a subprotocol or extension that was not offered with a TypeError", async () => {
  const request = requestWith("Sec-WebSocket-Extensions", "permessage-deflate");
  for (
    const options of [{ protocol: "other" }, { protocol: "Chat" }, { extensions: "x-other" }, {
      extensions: "permessage-deflate, x-other",
    }]
  ) {
    await assert.rejects(
      createUpgradeResponse(request, options),
      TypeError,
      JSON.stringify(options),
    );
  }
  await assert.rejects(
    createUpgradeResponse(requestWith("Sec-WebSocket-Protocol", undefined), { protocol: "chat" }),
    TypeError,
  );
});

test("createUpgradeResponse refuses malformed extensions with a TypeError", async () => {
  const request = requestWith("Sec-WebSocket-Extensions", "permessage-deflate");
  for (
    const extensions of [
      "permessage-deflate;",
      "permessage-deflate\r\nX-Injected: 1",
      'permessage-deflate; a="\r\n"',
    ]
  ) {
    await assert.rejects(createUpgradeResponse(request, { extensions }), TypeError, extensions);
  }
});

test("createUpgradeResponse refuses headers the handshake sets with a TypeError", async () => {
  const names = [
    "Upgrade",
    "connection",
    "Sec-WebSocket-Accept",
    "Sec-WebSocket-Protocol",
    "Sec-WebSocket-Extensions",
    "Content-Length",
    "Transfer-Encoding",
  ];
  for (const name of names) {
    await assert.rejects(
      createUpgradeResponse(requestWith(), { headers: { [name]: "1" } }),
      (error) => error instanceof TypeError && error.message.includes(name.toLowerCase()),
      name,
    );
  }
});

test("createUpgradeResponse refuses a header value with CR or LF with a TypeError", async () => {
  await assert.rejects(
    createUpgradeResponse(requestWith(), { headers: { "X-A": "1\r\nX-B: 2" } }),
    TypeError,
  );
});

test("createUpgradeResponse refuses an invalid request as checkUpgradeRequest does", async () => {
  const cases: [UpgradeRequestLike, number][] = [
    [requestWith(undefined, undefined, { method: "POST" }), 405],
    [requestWith("Upgrade", undefined), 426],
    [requestWith("Sec-WebSocket-Key", undefined), 400],
    [requestWith("Sec-WebSocket-Key", "AAAA"), 400],
    [requestWith("Sec-WebSocket-Version", "8"), 426],
  ];
  for (const [request, status] of cases) {
    await assert.rejects(createUpgradeResponse(request), handshakeError(status));
  }
});

test("createUpgradeResponse's head is read back by ResponseHeadParser", async () => {
  const response = await createUpgradeResponse(requestWith(), {
    protocol: "chat",
    headers: { "X-Extra": "value" },
  });
  const parsed = new ResponseHeadParser().push(response.head);
  assert.equal(parsed?.head.status, 101);
  assert.deepEqual([...(parsed?.head.headers ?? [])], [...response.headers]);
  assert.equal(parsed?.rest.length, 0);
});

// --- Rejections ---------------------------------------------------------------------------

test("encodeRejection writes a 426 with Sec-WebSocket-Version and the message as its body", () => {
  let error: unknown;
  try {
    checkUpgradeRequest(requestWith("Sec-WebSocket-Version", "8"));
  } catch (caught) {
    error = caught;
  }
  const body = "Cannot upgrade request: Sec-WebSocket-Version is 8, only 13 is supported";
  assert.equal(
    fromLatin1(encodeRejection(error)),
    "HTTP/1.1 426 Upgrade Required\r\n" +
      "Connection: close\r\n" +
      "Content-Type: text/plain; charset=utf-8\r\n" +
      `Content-Length: ${body.length}\r\n` +
      "Sec-WebSocket-Version: 13\r\n" +
      "\r\n" +
      body,
  );
});

test("encodeRejection lists Upgrade in Connection when the rejection names a protocol", () => {
  const bytes = encodeRejection(assertRefused(requestWith("Upgrade", undefined), 426));
  const parsed = new ResponseHeadParser().push(bytes);
  assert.equal(parsed?.head.status, 426);
  assert.equal(parsed?.head.statusText, "Upgrade Required");
  assert.equal(parsed?.head.headers.get("connection"), "Upgrade, close");
  assert.equal(parsed?.head.headers.get("upgrade"), "websocket");
});

test("encodeRejection writes the reason phrase of each status it sends", () => {
  const cases: [number, string][] = [
    [400, "HTTP/1.1 400 Bad Request\r\n"],
    [403, "HTTP/1.1 403 Forbidden\r\n"],
    [405, "HTTP/1.1 405 Method Not Allowed\r\n"],
    [426, "HTTP/1.1 426 Upgrade Required\r\n"],
    [431, "HTTP/1.1 431 Request Header Fields Too Large\r\n"],
    [503, "HTTP/1.1 503 Service Unavailable\r\n"],
    [505, "HTTP/1.1 505 HTTP Version Not Supported\r\n"],
    [499, "HTTP/1.1 499\r\n"],
  ];
  for (const [status, line] of cases) {
    const text = fromLatin1(
      encodeRejection(new HandshakeError("Cannot upgrade request: no", { status })),
    );
    assert.ok(text.startsWith(line), `${status}: ${JSON.stringify(text)}`);
  }
});

test("encodeRejection counts the body's length in UTF-8 bytes", () => {
  const message = "Cannot upgrade request: room “général” is full";
  const bytes = encodeRejection(new HandshakeError(message, { status: 503 }));
  const parsed = new ResponseHeadParser().push(bytes);
  assert.ok(parsed !== undefined);
  assert.equal(Number(parsed.head.headers.get("content-length")), utf8(message).length);
  assert.deepEqual(parsed.rest, utf8(message));
});

test("encodeRejection keeps its own Connection, Content-Type and Content-Length", () => {
  const error = new HandshakeError("Cannot upgrade request: no", {
    headers: {
      Connection: "keep-alive",
      "Content-Length": "999",
      "Content-Type": "text/html",
      "Transfer-Encoding": "chunked",
      "Retry-After": "5",
    },
  });
  const parsed = new ResponseHeadParser().push(encodeRejection(error));
  assert.deepEqual([...(parsed?.head.headers ?? [])], [
    ["connection", "close"],
    ["content-length", "26"],
    ["content-type", "text/plain; charset=utf-8"],
    ["retry-after", "5"],
  ]);
});

test("encodeRejection turns anything but a HandshakeError into a 500 that hides it", () => {
  for (
    const error of [new Error("secret database password"), new TypeError("x"), "text", undefined]
  ) {
    const text = fromLatin1(encodeRejection(error));
    assert.equal(
      text,
      "HTTP/1.1 500 Internal Server Error\r\n" +
        "Connection: close\r\n" +
        "Content-Type: text/plain; charset=utf-8\r\n" +
        "Content-Length: 21\r\n" +
        "\r\n" +
        "Internal Server Error",
    );
  }
});

test("encodeRejection never writes an interim status", () => {
  const error = new HandshakeError("Cannot open connection: bad accept", { status: 101 });
  assert.ok(
    fromLatin1(encodeRejection(error)).startsWith("HTTP/1.1 500 Internal Server Error\r\n"),
  );
});

test("encodeRejection writes the status and body of a HandshakeError from the head parser", () => {
  let error: unknown;
  try {
    new RequestHeadParser({ maxHeaders: 1 }).push(headBytes(["GET / HTTP/1.1", "A: 1", "B: 2"]));
  } catch (caught) {
    error = caught;
  }
  const parsed = new ResponseHeadParser().push(encodeRejection(error));
  assert.equal(parsed?.head.status, 431);
  assert.equal(fromLatin1(parsed?.rest ?? new Uint8Array()), (error as HandshakeError).message);
});
