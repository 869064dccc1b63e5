import { test } from "node:test";
import assert from "node:assert/strict";
import { HandshakeError } from "../../src/errors.ts";
import {
  checkUpgradeResponse,
  createUpgradeRequest,
  type UpgradeResponseLike,
} from "../../src/handshake/client.ts";
import { RequestHeadParser, ResponseHeadParser } from "../../src/handshake/http1.ts";
import {
  fromLatin1,
  handshakeError,
  headBytes,
  RFC_ACCEPT,
  RFC_KEY,
  RFC_RESPONSE_LINES,
  syntaxError,
  withField,
} from "./_helpers.ts";

/** The request head `createUpgradeRequest` should write, with the key it chose. */
function expectedHead(target: string, host: string, key: string, more: string[] = []): string {
  return fromLatin1(headBytes([
    `GET ${target} HTTP/1.1`,
    `Host: ${host}`,
    "Upgrade: websocket",
    "Connection: Upgrade",
    `Sec-WebSocket-Key: ${key}`,
    "Sec-WebSocket-Version: 13",
    ...more,
  ]));
}

// --- The request -------------------------------------------------------------------

test("createUpgradeRequest writes the request line and the handshake's fields", () => {
  const request = createUpgradeRequest("ws://server.example.com/chat");
  assert.equal(fromLatin1(request.head), expectedHead("/chat", "server.example.com", request.key));
  assert.equal(request.url.href, "ws://server.example.com/chat");
  assert.deepEqual(request.protocols, []);
});

test("createUpgradeRequest offers the subprotocols in order", () => {
  const request = createUpgradeRequest("ws://server.example.com/chat", {
    protocols: ["chat", "superchat"],
  });
  assert.equal(
    fromLatin1(request.head),
    expectedHead("/chat", "server.example.com", request.key, [
      "Sec-WebSocket-Protocol: chat, superchat",
    ]),
  );
  assert.deepEqual(request.protocols, ["chat", "superchat"]);
});

test("createUpgradeRequest takes one subprotocol as a string", () => {
  const request = createUpgradeRequest("ws://a/", { protocols: "chat" });
  assert.deepEqual(request.protocols, ["chat"]);
  assert.match(fromLatin1(request.head), /\r\nSec-WebSocket-Protocol: chat\r\n/);
});

test("createUpgradeRequest sends no Sec-WebSocket-Protocol for an empty list", () => {
  const request = createUpgradeRequest("ws://a/", { protocols: [] });
  assert.doesNotMatch(fromLatin1(request.head), /Sec-WebSocket-Protocol/);
});

test("createUpgradeRequest writes Origin and more headers after the handshake's", () => {
  const request = createUpgradeRequest("wss://example.com/", {
    protocols: ["chat"],
    origin: "https://example.com",
    headers: [["authorization", "Bearer abc"], ["Cookie", "a=1"], ["x-trace", "7"]],
  });
  assert.equal(
    fromLatin1(request.head),
    expectedHead("/", "example.com", request.key, [
      "Sec-WebSocket-Protocol: chat",
      "Origin: https://example.com",
      "Authorization: Bearer abc",
      "Cookie: a=1",
      "X-Trace: 7",
    ]),
  );
});

test("createUpgradeRequest accepts Origin among the headers when the option is absent", () => {
  const request = createUpgradeRequest("ws://a/", { headers: { Origin: "http://b" } });
  assert.match(fromLatin1(request.head), /\r\nOrigin: http:\/\/b\r\n/);
});

test("createUpgradeRequest writes the port in Host only when it is not the scheme's default", () => {
  const cases: [url: string, host: string, href: string][] = [
    ["ws://example.com/", "example.com", "ws://example.com/"],
    ["ws://example.com:80/", "example.com", "ws://example.com/"],
    ["ws://example.com:443/", "example.com:443", "ws://example.com:443/"],
    ["ws://example.com:8080/", "example.com:8080", "ws://example.com:8080/"],
    ["wss://example.com:443/", "example.com", "wss://example.com/"],
    ["wss://example.com:80/", "example.com:80", "wss://example.com:80/"],
    ["http://example.com:80/", "example.com", "ws://example.com/"],
    ["http://example.com:8080/", "example.com:8080", "ws://example.com:8080/"],
    ["https://example.com:443/", "example.com", "wss://example.com/"],
    ["https://example.com:8443/", "example.com:8443", "wss://example.com:8443/"],
    ["ws://[::1]:9000/", "[::1]:9000", "ws://[::1]:9000/"],
    ["ws://127.0.0.1/", "127.0.0.1", "ws://127.0.0.1/"],
    ["ws://EXAMPLE.com/", "example.com", "ws://example.com/"],
    ["ws://café.example/", "xn--caf-dma.example", "ws://xn--caf-dma.example/"],
  ];
  for (const [url, host, href] of cases) {
    const request = createUpgradeRequest(url);
    assert.match(
      fromLatin1(request.head),
      new RegExp(`\r\nHost: ${host.replace(/[[\].]/g, "\\$&")}\r\n`),
      url,
    );
    assert.equal(request.url.href, href, url);
  }
});

test("createUpgradeRequest writes the path and query as the request target", () => {
  const cases: [url: string, target: string][] = [
    ["ws://a", "/"],
    ["ws://a/", "/"],
    ["ws://a/chat", "/chat"],
    ["ws://a/chat/", "/chat/"],
    ["ws://a/chat?room=1&x=y", "/chat?room=1&x=y"],
    ["ws://a/?q", "/?q"],
    ["ws://a/a b/é", "/a%20b/%C3%A9"],
    ["ws://a/x?y=a b", "/x?y=a%20b"],
  ];
  for (const [url, target] of cases) {
    assert.ok(
      fromLatin1(createUpgradeRequest(url).head).startsWith(`GET ${target} HTTP/1.1\r\n`),
      url,
    );
  }
});

test("createUpgradeRequest takes a URL object and does not change it", () => {
  const url = new URL("http://example.com/chat");
  const request = createUpgradeRequest(url);
  assert.equal(url.href, "http://example.com/chat");
  assert.equal(request.url.href, "ws://example.com/chat");
});

test("createUpgradeRequest does not send the URL's user information", () => {
  const request = createUpgradeRequest("ws://user:secret@example.com/");
  const text = fromLatin1(request.head);
  assert.doesNotMatch(text, /user|secret|Authorization/);
  assert.match(text, /\r\nHost: example\.com\r\n/);
});

test("createUpgradeRequest sends a fresh, valid key each time", () => {
  const keys = new Set<string>();
  for (let i = 0; i < 50; i++) {
    const { key } = createUpgradeRequest("ws://a/");
    assert.match(key, /^[A-Za-z0-9+/]{22}==$/);
    assert.equal(atob(key).length, 16);
    keys.add(key);
  }
  assert.equal(keys.size, 50);
});

test("createUpgradeRequest refuses what the WebSocket constructor refuses with a SyntaxError", () => {
  const urls = [
    "not a url",
    "/chat",
    "",
    "ftp://example.com/",
    "file:///socket",
    "wss:",
    "ws://example.com/#",
    "ws://example.com/#top",
    "https://example.com/chat?x=1#frag",
  ];
  for (const url of urls) {
    assert.throws(() => createUpgradeRequest(url), syntaxError(url), url);
  }
  const protocols: (string | string[])[] = [
    "",
    [""],
    "a b",
    ["chat, superchat"],
    ["ch\u00e9t"],
    ["chat/1"],
    ['"chat"'],
    ["chat", "superchat", "chat"],
  ];
  for (const offered of protocols) {
    assert.throws(
      () => createUpgradeRequest("ws://a/", { protocols: offered }),
      syntaxError(JSON.stringify(offered)),
      JSON.stringify(offered),
    );
  }
});

test("createUpgradeRequest tells subprotocols apart by case", () => {
  assert.deepEqual(createUpgradeRequest("ws://a/", { protocols: ["chat", "Chat"] }).protocols, [
    "chat",
    "Chat",
  ]);
});

test("createUpgradeRequest refuses headers the handshake sets with a TypeError", () => {
  const names = [
    "Host",
    "Upgrade",
    "Connection",
    "Sec-WebSocket-Key",
    "Sec-WebSocket-Version",
    "Sec-WebSocket-Protocol",
    "Sec-WebSocket-Extensions",
    "Content-Length",
    "Transfer-Encoding",
  ];
  for (const name of names) {
    assert.throws(
      () => createUpgradeRequest("ws://a/", { headers: { [name]: "1" } }),
      (error) => error instanceof TypeError && error.message.includes(name.toLowerCase()),
      name,
    );
  }
  assert.throws(
    () => createUpgradeRequest("ws://a/", { origin: "http://a", headers: { Origin: "http://b" } }),
    TypeError,
  );
});

test("createUpgradeRequest refuses an origin or header value with CR or LF with a TypeError", () => {
  assert.throws(() => createUpgradeRequest("ws://a/", { origin: "http://a\r\nX-B: 1" }), TypeError);
  assert.throws(
    () => createUpgradeRequest("ws://a/", { headers: { "X-A": "1\nX-B: 2" } }),
    TypeError,
  );
});

test("createUpgradeRequest's head is read back by RequestHeadParser", () => {
  const request = createUpgradeRequest("wss://example.com:8443/chat?x=1", {
    protocols: ["chat", "superchat"],
    origin: "https://example.com",
  });
  const parsed = new RequestHeadParser().push(request.head);
  assert.ok(parsed !== undefined);
  assert.equal(parsed.head.method, "GET");
  assert.equal(parsed.head.target, "/chat?x=1");
  assert.equal(parsed.head.version, "HTTP/1.1");
  assert.deepEqual([...parsed.head.headers], [
    ["connection", "Upgrade"],
    ["host", "example.com:8443"],
    ["origin", "https://example.com"],
    ["sec-websocket-key", request.key],
    ["sec-websocket-protocol", "chat, superchat"],
    ["sec-websocket-version", "13"],
    ["upgrade", "websocket"],
  ]);
});

// --- The response --------------------------------------------------------------------

/** The RFC 6455 §1.2 response as a raw client reads it, with one field replaced or removed. */
function responseWith(
  name?: string,
  value?: string,
  lines = RFC_RESPONSE_LINES,
): UpgradeResponseLike {
  const bytes = headBytes(name === undefined ? lines : withField(lines, name, value));
  const parsed = new ResponseHeadParser().push(bytes);
  assert.ok(parsed !== undefined);
  return parsed.head;
}

const OFFER = { key: RFC_KEY, protocols: ["chat", "superchat"] };

test("checkUpgradeResponse accepts the RFC 6455 §1.2 response", async () => {
  assert.deepEqual(await checkUpgradeResponse(responseWith(), OFFER), {
    protocol: "chat",
    extensions: "",
  });
});

test("checkUpgradeResponse accepts a response without a subprotocol", async () => {
  const response = responseWith("Sec-WebSocket-Protocol", undefined);
  assert.deepEqual(await checkUpgradeResponse(response, OFFER), { protocol: "", extensions: "" });
  assert.deepEqual(await checkUpgradeResponse(response, { key: RFC_KEY }), {
    protocol: "",
    extensions: "",
  });
});

test("checkUpgradeResponse takes one offered subprotocol as a string", async () => {
  const info = await checkUpgradeResponse(responseWith(), { key: RFC_KEY, protocols: "chat" });
  assert.equal(info.protocol, "chat");
});

test("checkUpgradeResponse accepts a response given as { status, headers }", async () => {
  const headers = new Headers({
    Upgrade: "websocket",
    Connection: "Upgrade",
    "Sec-WebSocket-Accept": RFC_ACCEPT,
  });
  assert.deepEqual(await checkUpgradeResponse({ status: 101, headers }, { key: RFC_KEY }), {
    protocol: "",
    extensions: "",
  });
});

test("checkUpgradeResponse reads Upgrade and Connection case-insensitively", async () => {
  const cases: [string, string][] = [
    ["Upgrade", "WebSocket"],
    ["Upgrade", "WEBSOCKET"],
    ["Upgrade", " websocket, "],
    ["Connection", "upgrade"],
    ["Connection", "UPGRADE"],
    ["Connection", "keep-alive, Upgrade"],
    ["Connection", "Upgrade,close"],
  ];
  for (const [name, value] of cases) {
    assert.equal(
      (await checkUpgradeResponse(responseWith(name, value), OFFER)).protocol,
      "chat",
      value,
    );
  }
});

test("checkUpgradeResponse ignores a Content-Length on a 101", async () => {
  const response = responseWith("Content-Length", "0");
  assert.equal((await checkUpgradeResponse(response, OFFER)).protocol, "chat");
});

test("checkUpgradeResponse refuses a status other than 101 with that status", async () => {
  const cases: [status: number, reason: string][] = [
    [200, "OK"],
    [301, "Moved Permanently"],
    [400, "Bad Request"],
    [401, "Unauthorized"],
    [403, "Forbidden"],
    [404, "Not Found"],
    [426, "Upgrade Required"],
    [500, "Internal Server Error"],
    [503, "Service Unavailable"],
  ];
  for (const [status, reason] of cases) {
    const response = responseWith(undefined, undefined, [`HTTP/1.1 ${status} ${reason}`]);
    await assert.rejects(
      checkUpgradeResponse(response, OFFER),
      handshakeError(
        status,
        new RegExp(
          `^Cannot open connection: server answered ${status} ${reason}, not 101 Switching Protocols$`,
        ),
        `${status}`,
      ),
    );
  }
});

test("checkUpgradeResponse names a status by the reason phrase it was sent with, if any", async () => {
  await assert.rejects(
    checkUpgradeResponse({ status: 404, statusText: "Nope", headers: new Headers() }, OFFER),
    handshakeError(404, /server answered 404 Nope,/),
  );
  await assert.rejects(
    checkUpgradeResponse({ status: 404, headers: new Headers() }, OFFER),
    handshakeError(404, /server answered 404 Not Found,/),
  );
  await assert.rejects(
    checkUpgradeResponse({ status: 599, headers: new Headers() }, OFFER),
    handshakeError(599, /server answered 599, not 101/),
  );
});

test("checkUpgradeResponse refuses an interim status other than 101, carrying it", async () => {
  for (const status of [100, 103]) {
    await assert.rejects(
      checkUpgradeResponse({ status, headers: new Headers() }, OFFER),
      handshakeError(status),
    );
  }
});

test("checkUpgradeResponse refuses a status outside 100-599 with 502", async () => {
  for (const status of [0, 99, 600, 101.5, NaN]) {
    await assert.rejects(
      checkUpgradeResponse({ status, headers: new Headers() }, OFFER),
      handshakeError(502),
      `${status}`,
    );
  }
});

test("checkUpgradeResponse refuses a 101 of another HTTP version with 502", async () => {
  for (const version of ["HTTP/1.0", "HTTP/2.0", "HTTP/1.10"]) {
    const response = { ...responseWith(), version };
    await assert.rejects(
      checkUpgradeResponse(response, OFFER),
      handshakeError(502, /HTTP version/),
      version,
    );
  }
});

test("checkUpgradeResponse refuses an Upgrade other than websocket with 502", async () => {
  for (
    const value of [
      undefined,
      "",
      "websockets",
      "h2c",
      "websocket, h2c",
      "h2c, websocket",
      "websocket/13",
    ]
  ) {
    await assert.rejects(
      checkUpgradeResponse(responseWith("Upgrade", value), OFFER),
      handshakeError(
        502,
        /^Cannot open connection: Upgrade is .*, expected websocket$/,
        `${value}`,
      ),
    );
  }
});

test("checkUpgradeResponse refuses a Connection without upgrade with 502", async () => {
  for (const value of [undefined, "", "close", "keep-alive", "upgraded"]) {
    await assert.rejects(
      checkUpgradeResponse(responseWith("Connection", value), OFFER),
      handshakeError(502, /Connection is .*, it must list upgrade/, `${value}`),
    );
  }
});

test("checkUpgradeResponse refuses a missing or wrong Sec-WebSocket-Accept with 502", async () => {
  await assert.rejects(
    checkUpgradeResponse(responseWith("Sec-WebSocket-Accept", undefined), OFFER),
    handshakeError(502, /Sec-WebSocket-Accept is missing/),
  );
  const wrong = [
    "",
    RFC_KEY,
    RFC_ACCEPT.toLowerCase(),
    RFC_ACCEPT.slice(0, -1),
    `${RFC_ACCEPT}=`,
    `${RFC_ACCEPT}, ${RFC_ACCEPT}`,
    "HSmrc0sMlYUkAGmm5OPpG2HaGWk=", // the accept value of another key
  ];
  for (const value of wrong) {
    await assert.rejects(
      checkUpgradeResponse(responseWith("Sec-WebSocket-Accept", value), OFFER),
      handshakeError(
        502,
        /Sec-WebSocket-Accept is ".*", expected "s3pPLMBiTxaQ9kYGzzhZRbK\+xOo="/,
        value,
      ),
    );
  }
  // The right answer, to another request.
  await assert.rejects(
    checkUpgradeResponse(responseWith(), { ...OFFER, key: "x3JJHMbDL1EzLkh9GBhXDw==" }),
    handshakeError(502, /Sec-WebSocket-Accept/),
  );
});

test("checkUpgradeResponse refuses a subprotocol that was not offered with 502", async () => {
  for (const value of ["other", "Chat", "", "chat, superchat", "chat,"]) {
    await assert.rejects(
      checkUpgradeResponse(responseWith("Sec-WebSocket-Protocol", value), OFFER),
      handshakeError(502, /server chose subprotocol ".*", which was not offered/, value),
    );
  }
  await assert.rejects(
    checkUpgradeResponse(responseWith(), { key: RFC_KEY }),
    handshakeError(502, /server chose subprotocol "chat", but none was offered/),
  );
});

test("checkUpgradeResponse refuses any extension, since none is offered, with 502", async () => {
  for (const value of ["permessage-deflate", "x-foo; a=1", ", permessage-deflate"]) {
    await assert.rejects(
      checkUpgradeResponse(responseWith("Sec-WebSocket-Extensions", value), OFFER),
      handshakeError(502, /server accepted extension .*, which was not offered/, value),
    );
  }
  for (const value of ["permessage-deflate;", "a b"]) {
    await assert.rejects(
      checkUpgradeResponse(responseWith("Sec-WebSocket-Extensions", value), OFFER),
      handshakeError(502, /Sec-WebSocket-Extensions is malformed/, value),
    );
  }
});

test("checkUpgradeResponse accepts an empty Sec-WebSocket-Extensions as no extension", async () => {
  for (const value of ["", ","]) {
    const info = await checkUpgradeResponse(responseWith("Sec-WebSocket-Extensions", value), OFFER);
    assert.deepEqual(info, { protocol: "chat", extensions: "" }, value);
  }
});

test("checkUpgradeResponse's errors start with what could not be done", async () => {
  await assert.rejects(checkUpgradeResponse(responseWith("Upgrade", undefined), OFFER), (error) => {
    assert.ok(error instanceof HandshakeError);
    assert.equal(error.name, "HandshakeError");
    assert.equal(error.message, "Cannot open connection: Upgrade is missing, expected websocket");
    return true;
  });
});
