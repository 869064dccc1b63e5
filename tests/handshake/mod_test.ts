import { test } from "node:test";
import assert from "node:assert/strict";
import {
  checkUpgradeRequest,
  checkUpgradeResponse,
  createUpgradeRequest,
  type CreateUpgradeRequestOptions,
  createUpgradeResponse,
  type CreateUpgradeResponseOptions,
  encodeRejection,
  HandshakeError,
  type ParsedHead,
  type RequestHead,
  RequestHeadParser,
  type ResponseHead,
  ResponseHeadParser,
  type UpgradeResponseInfo,
} from "../../src/handshake/mod.ts";
import { chunkings, concat, patternBytes } from "../_helpers.ts";
import { fromLatin1, handshakeError, latin1 } from "./_helpers.ts";

/** Pushes chunks until the head is complete; returns it and every byte after it. */
function readHead<Head>(
  parser: { push(chunk: Uint8Array): ParsedHead<Head> | undefined },
  chunks: Uint8Array[],
): { head: Head; after: Uint8Array } {
  for (let i = 0; i < chunks.length; i++) {
    const parsed = parser.push(chunks[i]!);
    if (parsed !== undefined) {
      return { head: parsed.head, after: concat(parsed.rest, ...chunks.slice(i + 1)) };
    }
  }
  throw new Error("the head never completed");
}

/** The whole handshake through memory, each head as bytes, with a server choosing "chat". */
async function shakeHands(
  url: string,
  clientOptions: CreateUpgradeRequestOptions,
  responseOptions: Omit<CreateUpgradeResponseOptions, "protocol"> = {},
): Promise<UpgradeResponseInfo> {
  const request = createUpgradeRequest(url, clientOptions);
  const received = readHead(new RequestHeadParser(), [request.head]).head;
  const { protocol } = checkUpgradeRequest(received, {
    selectProtocol: (offered) => offered.includes("chat") ? "chat" : undefined,
  });
  const response = await createUpgradeResponse(received, { ...responseOptions, protocol });
  const answer = readHead(new ResponseHeadParser(), [response.head]).head;
  return await checkUpgradeResponse(answer, request);
}

test("the handshake round trip agrees on a subprotocol", async () => {
  assert.deepEqual(
    await shakeHands("ws://example.com/chat", { protocols: ["superchat", "chat"] }),
    { protocol: "chat", extensions: "" },
  );
});

test("the handshake round trip agrees on no subprotocol", async () => {
  assert.deepEqual(await shakeHands("ws://example.com/", {}), { protocol: "", extensions: "" });
  assert.deepEqual(
    await shakeHands("ws://example.com/", { protocols: ["superchat"] }),
    { protocol: "", extensions: "" },
  );
});

test("the handshake round trip works for every URL form and extra header", async () => {
  const urls = [
    "ws://example.com",
    "wss://example.com:8443/a/b?c=d",
    "http://[::1]:9000/x",
    "https://café.example/é?q=1",
  ];
  for (const url of urls) {
    const info = await shakeHands(
      url,
      { protocols: ["chat"], origin: "https://example.com", headers: { Cookie: "a=1" } },
      { headers: { "Set-Cookie": "b=2" } },
    );
    assert.equal(info.protocol, "chat", url);
  }
});

test("the handshake round trip keeps the first frames behind each head, for every chunking", async () => {
  const request = createUpgradeRequest("ws://example.com/chat", { protocols: "chat" });
  const clientFrames = patternBytes(40, 1);
  for (const { label, chunks } of chunkings(concat(request.head, clientFrames))) {
    const { head, after } = readHead(new RequestHeadParser(), chunks);
    assert.deepEqual(after, clientFrames, label);
    assert.equal(checkUpgradeRequest(head).key, request.key, label);
  }
  const received = readHead(new RequestHeadParser(), [request.head]).head;
  const response = await createUpgradeResponse(received, { protocol: "chat" });
  const serverFrames = patternBytes(40, 2);
  for (const { label, chunks } of chunkings(concat(response.head, serverFrames))) {
    const { head, after } = readHead(new ResponseHeadParser(), chunks);
    assert.deepEqual(after, serverFrames, label);
    assert.deepEqual(await checkUpgradeResponse(head, request), {
      protocol: "chat",
      extensions: "",
    }, label);
  }
});

test("the handshake round trip works through a Request, as a runtime's server gives it", async () => {
  const request = createUpgradeRequest("ws://example.com/chat");
  const { head } = readHead(new RequestHeadParser(), [request.head]);
  const asRequest = new Request(`http://example.com${head.target}`, {
    method: head.method,
    headers: head.headers,
  });
  checkUpgradeRequest(asRequest);
  const response = await createUpgradeResponse(asRequest);
  const answer = readHead(new ResponseHeadParser(), [response.head]).head;
  assert.deepEqual(await checkUpgradeResponse(answer, request), { protocol: "", extensions: "" });
});

// --- Tampering with the request ---------------------------------------------------------

/** Edits the request head as text: replaces `from` with `to`, which must be found. */
function tamper(head: Uint8Array, from: string | RegExp, to: string): Uint8Array {
  const text = fromLatin1(head);
  const tampered = text.replace(from, to);
  assert.notEqual(tampered, text, `${from} not found in ${JSON.stringify(text)}`);
  return latin1(tampered);
}

function serverRefuses(bytes: Uint8Array): HandshakeError {
  let refusal: unknown;
  try {
    const { head } = readHead(new RequestHeadParser(), [bytes]);
    checkUpgradeRequest(head, { selectProtocol: ([first]) => first });
  } catch (error) {
    refusal = error;
  }
  assert.ok(refusal instanceof HandshakeError, `expected a refusal, got ${String(refusal)}`);
  return refusal;
}

test("a server refuses each tampered field of a client's request with its status", () => {
  const { head } = createUpgradeRequest("ws://example.com/chat", { protocols: ["chat"] });
  const cases: [name: string, from: string | RegExp, to: string, status: number][] = [
    ["method", /^GET /, "POST ", 405],
    ["HTTP version", "HTTP/1.1\r\n", "HTTP/1.0\r\n", 400],
    ["HTTP major version", "HTTP/1.1\r\n", "HTTP/2.0\r\n", 505],
    ["request line", "GET /chat", "GET  /chat", 400],
    ["Host removed", /Host: [^\r]*\r\n/, "", 400],
    ["Host doubled", /(Host: [^\r]*\r\n)/, "$1$1", 400],
    ["Upgrade", "Upgrade: websocket", "Upgrade: h2c", 426],
    ["Upgrade removed", "Upgrade: websocket\r\n", "", 426],
    ["Connection", "Connection: Upgrade", "Connection: keep-alive", 400],
    ["Connection removed", "Connection: Upgrade\r\n", "", 400],
    ["Sec-WebSocket-Key", /Sec-WebSocket-Key: [^\r]*/, "Sec-WebSocket-Key: c2hvcnQ=", 400],
    ["Sec-WebSocket-Key removed", /Sec-WebSocket-Key: [^\r]*\r\n/, "", 400],
    ["Sec-WebSocket-Key doubled", /(Sec-WebSocket-Key: [^\r]*\r\n)/, "$1$1", 400],
    ["Sec-WebSocket-Version", "Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8", 426],
    ["Sec-WebSocket-Version removed", "Sec-WebSocket-Version: 13\r\n", "", 426],
    [
      "Sec-WebSocket-Protocol",
      "Sec-WebSocket-Protocol: chat",
      "Sec-WebSocket-Protocol: chat, chat",
      400,
    ],
    ["a folded field", "Upgrade: websocket\r\n", "Upgrade:\r\n websocket\r\n", 400],
    ["a bare LF", "Connection: Upgrade\r\n", "Connection: Upgrade\n", 400],
    ["a body", "\r\n\r\n", "\r\nContent-Length: 3\r\n\r\n", 400],
  ];
  for (const [name, from, to, status] of cases) {
    const refusal = serverRefuses(tamper(head, from, to));
    assert.ok(handshakeError(status, undefined, name)(refusal));
    // The refusal the server writes carries the same status.
    const written = readHead(new ResponseHeadParser(), [encodeRejection(refusal)]);
    assert.equal(written.head.status, status, name);
    assert.equal(fromLatin1(written.after), refusal.message, name);
  }
});

// --- Tampering with the response ------------------------------------------------------------

test("a client refuses each tampered field of a server's response with 502", async () => {
  const request = createUpgradeRequest("ws://example.com/chat", { protocols: ["chat"] });
  const received = readHead(new RequestHeadParser(), [request.head]).head;
  const { head } = await createUpgradeResponse(received, { protocol: "chat" });
  const cases: [name: string, from: string | RegExp, to: string, message: RegExp][] = [
    ["HTTP version", /^HTTP\/1\.1/, "HTTP/1.0", /HTTP version/],
    ["status line", "HTTP/1.1 101", "HTTP/1.1  101", /status line/],
    ["Upgrade", "Upgrade: websocket", "Upgrade: h2c", /Upgrade/],
    ["Upgrade removed", "Upgrade: websocket\r\n", "", /Upgrade is missing/],
    ["Connection", "Connection: Upgrade", "Connection: close", /Connection/],
    ["Connection removed", "Connection: Upgrade\r\n", "", /Connection is missing/],
    [
      "Sec-WebSocket-Accept",
      // A fixed wrong value: changing one character could leave it as it was.
      /Sec-WebSocket-Accept: [^\r]*/,
      "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
      /Sec-WebSocket-Accept/,
    ],
    [
      "Sec-WebSocket-Accept removed",
      /Sec-WebSocket-Accept: [^\r]*\r\n/,
      "",
      /Sec-WebSocket-Accept is missing/,
    ],
    [
      "Sec-WebSocket-Protocol",
      "Sec-WebSocket-Protocol: chat",
      "Sec-WebSocket-Protocol: superchat",
      /subprotocol/,
    ],
    [
      "Sec-WebSocket-Extensions added",
      "\r\n\r\n",
      "\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
      /extension permessage-deflate/,
    ],
    ["a bare LF", "Upgrade: websocket\r\n", "Upgrade: websocket\n", /LF without CR/],
  ];
  for (const [name, from, to, message] of cases) {
    await assert.rejects(
      async () => {
        const { head: answer } = readHead(new ResponseHeadParser(), [tamper(head, from, to)]);
        await checkUpgradeResponse(answer, request);
      },
      handshakeError(502, message, name),
      name,
    );
  }
});

test("a client refuses the answer to another request", async () => {
  const first = createUpgradeRequest("ws://example.com/");
  const second = createUpgradeRequest("ws://example.com/");
  const received = readHead(new RequestHeadParser(), [first.head]).head;
  const response = await createUpgradeResponse(received);
  const answer: ResponseHead = readHead(new ResponseHeadParser(), [response.head]).head;
  assert.deepEqual(await checkUpgradeResponse(answer, first), { protocol: "", extensions: "" });
  await assert.rejects(
    checkUpgradeResponse(answer, second),
    handshakeError(502, /Sec-WebSocket-Accept/),
  );
});

test("a client reads a server's refusal and gets its status", async () => {
  const request = createUpgradeRequest("ws://example.com/");
  const tampered = tamper(request.head, "Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 12");
  const refusal = serverRefuses(tampered);
  const { head, after } = readHead(new ResponseHeadParser(), [encodeRejection(refusal)]);
  await assert.rejects(
    checkUpgradeResponse(head, request),
    handshakeError(426, /server answered 426 Upgrade Required, not 101/),
  );
  assert.equal(head.headers.get("sec-websocket-version"), "13");
  assert.equal(fromLatin1(after), refusal.message);
});

test("the handshake module's request head type is what checkUpgradeRequest takes", () => {
  const head: RequestHead = {
    method: "GET",
    target: "/",
    version: "HTTP/1.1",
    headers: new Headers({
      Host: "a",
      Upgrade: "websocket",
      Connection: "Upgrade",
      "Sec-WebSocket-Key": "AAAAAAAAAAAAAAAAAAAAAA==",
      "Sec-WebSocket-Version": "13",
    }),
  };
  assert.equal(checkUpgradeRequest(head).key, "AAAAAAAAAAAAAAAAAAAAAA==");
});
