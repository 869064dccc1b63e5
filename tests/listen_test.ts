import { test } from "node:test";
import assert from "node:assert/strict";
import { connect as tcpConnect, type Socket } from "node:net";
import { connect, HandshakeError, listen, type ListenOptions, type ServerChannel } from "../mod.ts";
import { within } from "./_servers.ts";

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";
const UPGRADE = [
  "GET /chat?room=1 HTTP/1.1",
  "Host: 127.0.0.1",
  "Upgrade: websocket",
  "Connection: Upgrade",
  `Sec-WebSocket-Key: ${KEY}`,
  "Sec-WebSocket-Version: 13",
];

/** Starts a server; returns it with a function to stop it. */
async function serve(
  options: Partial<ListenOptions> = {},
  handler: (channel: ServerChannel) => void | Promise<void> = (channel) => {
    channel.readable.pipeTo(channel.writable).catch(() => {});
  },
) {
  const errors: unknown[] = [];
  const server = await listen(
    { hostname: "127.0.0.1", port: 0, onError: (error) => errors.push(error), ...options },
    handler,
  );
  return { server, errors, url: `ws://127.0.0.1:${server.port}` };
}

/** Sends raw bytes and collects everything the server answers until it closes. */
function rawExchange(port: number, request: string | Uint8Array, timeout = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket: Socket = tcpConnect({ host: "127.0.0.1", port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no end from the server within ${timeout} ms`));
    }, timeout);
    socket.on("connect", () => socket.write(request));
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString("latin1"));
    });
  });
}

const head = (lines: string[]) => `${lines.join("\r\n")}\r\n\r\n`;

test("listen answers a plain HTTP request with 426 and closes", async () => {
  const { server } = await serve();
  try {
    const answer = await rawExchange(server.port, head(["GET / HTTP/1.1", "Host: 127.0.0.1"]));
    assert.match(answer, /^HTTP\/1\.1 426 /);
    assert.match(answer, /\r\nUpgrade: websocket\r\n/i);
  } finally {
    await server.close();
  }
});

test("listen hands plain HTTP requests to fetch when given", async () => {
  const { server } = await serve({
    fetch: (request) => new Response(`hello ${new URL(request.url).pathname}`, { status: 200 }),
  });
  try {
    const answer = await rawExchange(server.port, head(["GET /page HTTP/1.1", "Host: 127.0.0.1"]));
    assert.match(answer, /^HTTP\/1\.1 200 OK\r\n/);
    assert.ok(answer.endsWith("\r\n\r\nhello /page"), answer);
  } finally {
    await server.close();
  }
});

test("listen refuses a request head over the size limit with 431", async () => {
  const { server } = await serve({ maxHeadSize: 1024 });
  try {
    const big = head([...UPGRADE, `X-Padding: ${"a".repeat(2000)}`]);
    assert.match(await rawExchange(server.port, big), /^HTTP\/1\.1 431 /);
  } finally {
    await server.close();
  }
});

test("listen drops a client that trickles its head past the handshake timeout", async () => {
  const { server } = await serve({ handshakeTimeout: 100 });
  try {
    const started = performance.now();
    // Half a request line, then nothing: the server must hang up by itself.
    const answer = await rawExchange(server.port, "GET / HTTP/1.1\r\nHost: 127", 2000);
    assert.equal(answer, "");
    assert.ok(performance.now() - started >= 90);
  } finally {
    await server.close();
  }
});

test("listen refuses a bad upgrade request with its status", async () => {
  const { server } = await serve();
  try {
    const wrongVersion = head(UPGRADE.map((line) => line.replace("Version: 13", "Version: 8")));
    const answer = await rawExchange(server.port, wrongVersion);
    assert.match(answer, /^HTTP\/1\.1 426 /);
    assert.match(answer, /\r\nSec-WebSocket-Version: 13\r\n/i);
    const badKey = head(UPGRADE.map((line) => line.replace(KEY, "short")));
    assert.match(await rawExchange(server.port, badKey), /^HTTP\/1\.1 400 /);
  } finally {
    await server.close();
  }
});

test("listen answers a method fetch forbids with 405, not a server error", async () => {
  const { server, errors } = await serve();
  try {
    const answer = await rawExchange(
      server.port,
      head(["TRACE / HTTP/1.1", "Host: 127.0.0.1", "Upgrade: websocket", "Connection: Upgrade"]),
    );
    assert.match(answer, /^HTTP\/1\.1 405 /);
    assert.match(answer, /\r\nAllow: GET\r\n/i);
    assert.deepEqual(errors, []);
  } finally {
    await server.close();
  }
});

test("listen lets onUpgrade refuse with any status, headers and body", async () => {
  const seen: string[] = [];
  const { server, url } = await serve({
    onUpgrade: (request, info) => {
      seen.push(new URL(request.url).pathname, info.remoteAddress.transport);
      if (request.headers.get("authorization") !== "Bearer ok") {
        return new Response("who are you?", {
          status: 401,
          headers: { "WWW-Authenticate": "Bearer" },
        });
      }
    },
  });
  try {
    await assert.rejects(
      connect(`${url}/private`),
      (error) =>
        error instanceof HandshakeError && error.status === 401 &&
        error.message.includes("who are you?") &&
        error.headers.get("www-authenticate") === "Bearer",
    );
    const channel = await connect(`${url}/private`, { headers: { authorization: "Bearer ok" } });
    channel.close(1000);
    await channel.closed;
    assert.deepEqual(seen, ["/private", "tcp", "/private", "tcp"]);
  } finally {
    await server.close();
  }
});

test("listen picks the subprotocol with selectProtocol and gives the handler the request", async () => {
  let request: Request | undefined;
  const { server, url } = await serve({
    selectProtocol: (offered) => offered.find((protocol) => protocol === "b"),
  }, (channel) => {
    request = channel.request;
    assert.equal(channel.remoteAddress.transport, "tcp");
    channel.close(1000);
  });
  try {
    const channel = await connect(`${url}/room?id=7`, { protocols: ["a", "b"] });
    assert.equal(channel.protocol, "b");
    await channel.closed;
    assert.equal(request?.url, `http://127.0.0.1:${server.port}/room?id=7`);
    assert.equal(request?.headers.get("sec-websocket-protocol"), "a, b");
  } finally {
    await server.close();
  }
});

test("listen answers 500 without detail when a hook throws, and reports the error", async () => {
  const { server, errors, url } = await serve({
    onUpgrade: () => {
      throw new Error("secret detail");
    },
  });
  try {
    await assert.rejects(
      connect(url),
      (error) =>
        error instanceof HandshakeError && error.status === 500 &&
        !error.message.includes("secret"),
    );
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]), /secret detail/);
  } finally {
    await server.close();
  }
});

test("listen closes with 1011 when the connection handler throws", async () => {
  const { server, errors, url } = await serve({}, () => {
    throw new Error("handler failed");
  });
  try {
    const channel = await connect(url);
    assert.equal((await channel.closed).code, 1011);
    assert.match(String(errors[0]), /handler failed/);
  } finally {
    await server.close();
  }
});

test("listen delivers frames that arrive in the same packet as the request head", async () => {
  // The raw client never answers the close frame: the server cuts it off after closeTimeout.
  const { server } = await serve({ closeTimeout: 100 }, async (channel) => {
    const { value } = await channel.readable.getReader().read();
    await channel.writable.getWriter().write(`got ${value}`);
    channel.close(1000);
  });
  try {
    // A masked text frame "hi" right behind the head, in one write.
    const frame = new Uint8Array([0x81, 0x82, 1, 2, 3, 4, 0x68 ^ 1, 0x69 ^ 2]);
    const request = new Uint8Array([...new TextEncoder().encode(head(UPGRADE)), ...frame]);
    const answer = await rawExchange(server.port, request);
    assert.match(answer, /^HTTP\/1\.1 101 /);
    assert.ok(answer.includes("got hi"), answer);
  } finally {
    await server.close();
  }
});

test("listen tells onPing and onPong which connection a ping or pong came on", async () => {
  const handed: ServerChannel[] = [];
  let bothHanded!: () => void;
  const handedTwice = new Promise<void>((resolve) => bothHanded = resolve);
  const seen: [string, number, ServerChannel][] = [];
  const { server, url } = await serve({
    onPing: (payload, channel) => seen.push(["ping", payload[0]!, channel as ServerChannel]),
    onPong: (payload, channel) => seen.push(["pong", payload[0]!, channel as ServerChannel]),
  }, (channel) => {
    if (handed.push(channel) === 2) bothHanded();
  });
  try {
    const first = await connect(url);
    const second = await connect(url);
    await within(handedTwice, "second connection");
    await second.ping(new Uint8Array([2]));
    await first.ping(new Uint8Array([1]));
    await handed[1]!.ping(new Uint8Array([22]));
    assert.deepEqual(seen.map(([kind, byte]) => `${kind} ${byte}`), [
      "ping 2",
      "ping 1",
      "pong 22",
    ]);
    assert.equal(seen[0]![2], handed[1]);
    assert.equal(seen[1]![2], handed[0]);
    assert.equal(seen[2]![2], handed[1]);
    first.close(1000);
    second.close(1000);
    await Promise.all([first.closed, second.closed]);
  } finally {
    await server.close();
  }
});

test("listen close stops accepting connections", async () => {
  const { server, url } = await serve();
  await server.close();
  await assert.rejects(connect(url));
});

test("listen with tls and connect speak wss:// end to end", async () => {
  const { readFileSync } = await import("node:fs");
  const fixture = (name: string) =>
    readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");
  const cert = fixture("tls_cert.pem");
  const { server } = await serve({
    hostname: "127.0.0.1",
    tls: { cert, key: fixture("tls_key.pem") },
  });
  try {
    const channel = await connect(`wss://localhost:${server.port}`, { tls: { caCerts: [cert] } });
    const writer = channel.writable.getWriter();
    const reader = channel.readable.getReader();
    const big = new Uint8Array(256 * 1024).map((_, i) => i & 0xff);
    await writer.write("secure");
    await writer.write(big);
    assert.equal((await reader.read()).value, "secure");
    assert.deepEqual((await reader.read()).value, big);
    channel.close(1000);
    assert.equal((await channel.closed).wasClean, true);
    // Without the certificate trusted, the TLS handshake fails.
    await assert.rejects(connect(`wss://localhost:${server.port}`, { handshakeTimeout: 2000 }));
  } finally {
    await server.close();
  }
});

test("listen accepts a backlog option and still serves", async () => {
  const { server, url } = await serve({ backlog: 1 });
  try {
    const channel = await connect(url);
    channel.close(1000);
    assert.equal((await channel.closed).code, 1000);
  } finally {
    await server.close();
  }
});
