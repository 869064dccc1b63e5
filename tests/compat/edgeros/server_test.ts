import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { readFileSync } from "node:fs";
import { createServer as createHttpServer, type Server as NodeServer } from "node:http";
import { type AddressInfo, createServer as createNetServer } from "node:net";
import {
  type ClientChannel,
  connect,
  HandshakeError,
  type Message,
  serve,
  type ServeOptions,
} from "../../../mod.ts";
import {
  createServer,
  socket,
  type WebApp,
  WsServer,
  WsServerChannel,
} from "../../../src/compat/edgeros/mod.ts";
import { delay, within } from "../../_servers.ts";
import { collect, listening, next, stopped } from "./_helpers.ts";

const cert = readFileSync(new URL("../../fixtures/tls_cert.pem", import.meta.url), "utf8");
const key = readFileSync(new URL("../../fixtures/tls_key.pem", import.meta.url), "utf8");

/** Connects a core client and waits for the server's channel. */
async function pair(
  server: WsServer,
  url: string,
  options: Parameters<typeof connect>[1] = {},
): Promise<{ client: ClientChannel; channel: WsServerChannel }> {
  const connection = next(server, "connection");
  const client = await within(connect(url, options), "connection");
  const [channel] = await connection;
  assert.ok(channel instanceof WsServerChannel);
  return { client, channel };
}

/** Reads the next message a core client receives. */
async function read(client: ClientChannel): Promise<Message | undefined> {
  const reader = client.readable.getReader();
  try {
    return (await within(reader.read(), "message")).value;
  } finally {
    reader.releaseLock();
  }
}

/** Writes a message from a core client. */
async function write(client: ClientChannel, message: string | Uint8Array): Promise<void> {
  const writer = client.writable.getWriter();
  try {
    await within(writer.write(message), "write");
  } finally {
    writer.releaseLock();
  }
}

/** Listens on a Node HTTP server at 127.0.0.1 and a free port. */
async function listenHttp(server: NodeServer): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closeHttp(server: NodeServer): Promise<void> {
  return within(
    new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
    "HTTP server close",
  );
}

test("WsServer.createServer() with a socket address listens on start(): true, the start event, then port()", async () => {
  const server = WsServer.createServer("/", socket.sockaddr(socket.INADDR_LOOPBACK, 0));
  assert.equal(server.port(), undefined);
  const started = next(server, "start");
  assert.equal(server.start(), true);
  assert.equal(server.start(), false, "starting already");
  await started;
  const port = server.port();
  assert.ok(Number.isInteger(port) && port! > 0, `port ${port}`);
  assert.equal(server.start(), false, "started already");
  const { client, channel } = await pair(server, `ws://127.0.0.1:${port}/`);
  assert.equal(channel.path, "/");
  client.close(1000);
  await stopped(server);
});

test("WsServer.createServer() takes a plain { addr, port } too", async () => {
  const server = WsServer.createServer("/", { addr: "127.0.0.1", port: 0 });
  const started = next(server, "start");
  server.start();
  await started;
  const { client } = await pair(server, `ws://127.0.0.1:${server.port()}/`);
  client.close(1000);
  await stopped(server);
});

test("WsServer.createServer() listens on 0.0.0.0 when the address has no addr", async (t) => {
  // Without listening beyond the loopback: a port taken on 127.0.0.2 stops
  // a bind to every address, not one to 127.0.0.1.
  const blocker = createNetServer();
  const bound = await new Promise<boolean>((resolve) => {
    blocker.once("error", () => resolve(false));
    blocker.listen(0, "127.0.0.2", () => resolve(true));
  });
  if (!bound) return t.skip("127.0.0.2 is not a loopback address here");
  const { port } = blocker.address() as AddressInfo;
  try {
    const loopback = WsServer.createServer("/", { addr: "127.0.0.1", port });
    const started = next(loopback, "start");
    loopback.start();
    await started;
    await stopped(loopback);
    const server = WsServer.createServer("/", { port });
    const failed = next(server, "error");
    assert.equal(server.start(), true);
    const [error] = await failed;
    assert.equal((error as { code?: string }).code, "EADDRINUSE");
    assert.equal(server.port(), undefined);
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
  }
});

test("WsServer start() reports a port in use with an error event, and can start again", async () => {
  const { server: first, url } = await listening();
  const port = Number(new URL(url).port);
  const second = WsServer.createServer("/", socket.sockaddr("127.0.0.1", port));
  const failed = next(second, "error");
  assert.equal(second.start(), true);
  const [error] = await failed;
  assert.equal((error as { code?: string }).code, "EADDRINUSE");
  await stopped(first);
  const started = next(second, "start");
  assert.equal(second.start(), true, "stopped after the failure");
  await started;
  assert.equal(second.port(), port);
  await stopped(second);
});

test("WsServer start() with no error listener survives a port in use", async () => {
  const { server: first, url } = await listening();
  const second = WsServer.createServer(
    "/",
    socket.sockaddr("127.0.0.1", Number(new URL(url).port)),
  );
  assert.equal(second.start(), true);
  await delay(300);
  assert.equal(second.port(), undefined);
  assert.equal(second.start(), true, "the failed start left it stopped");
  await delay(300);
  await stopped(first);
});

test("createServer() of the module object makes a WsServer", async () => {
  const server = createServer("/", socket.sockaddr("127.0.0.1", 0));
  assert.ok(server instanceof WsServer);
  const started = next(server, "start");
  server.start();
  await started;
  const { client } = await pair(server, `ws://127.0.0.1:${server.port()}/`);
  client.close(1000);
  await stopped(server);
});

test("WsServer.createServer() refuses a bad path, address or TLS option with a TypeError or RangeError", () => {
  const saddr = socket.sockaddr("127.0.0.1", 0);
  for (const path of ["", "chat", "/chat?room=1", "/a#b", 42]) {
    assert.throws(() => WsServer.createServer(path as string, saddr), TypeError, String(path));
  }
  for (const bad of [null, 8000, "127.0.0.1:8000"]) {
    assert.throws(() => WsServer.createServer("/", bad as never), TypeError, String(bad));
  }
  for (const port of [-1, 65536, 1.5, "80", undefined]) {
    assert.throws(
      () => WsServer.createServer("/", { addr: "127.0.0.1", port } as never),
      RangeError,
      String(port),
    );
  }
  assert.throws(() => WsServer.createServer("/", { addr: 1, port: 0 } as never), TypeError);
  assert.throws(() => WsServer.createServer("/", saddr, { cert } as never), /cert and key/);
  assert.throws(
    () => WsServer.createServer("/", saddr, { cert, key, passwd: "x" } as never),
    /tlsOpt.passwd is not supported/,
  );
});

test("WsServer answers a plain HTTP request with 426 and an upgrade to another path with 404", async () => {
  const { server, url } = await listening("/chat");
  const http = url.replace("ws:", "http:");
  const response = await within(fetch(http), "response");
  assert.equal(response.status, 426);
  assert.equal(response.headers.get("upgrade"), "websocket");
  await response.body?.cancel();
  await assert.rejects(
    connect(url.replace("/chat", "/other")),
    (error) => error instanceof HandshakeError && error.status === 404,
  );
  // The query is no part of the path.
  const { client, channel } = await pair(server, `${url}?room=1`);
  assert.equal(channel.path, "/chat?room=1");
  client.close(1000);
  await stopped(server);
});

test("WsServerChannel has an id, the path, the headers as pairs, and eos with the client's address", async () => {
  const { server, url } = await listening("/a");
  const first = await pair(server, `${url}?x=1`, {
    headers: { "X-Trace": "abc" },
    protocols: ["chat", "superchat"],
  });
  const second = await pair(server, url);
  const { channel } = first;
  assert.equal(typeof channel.id, "number");
  assert.equal(second.channel.id, channel.id + 1);
  assert.equal(channel.path, "/a?x=1");
  assert.ok(Array.isArray(channel.headers));
  assert.ok(channel.headers.some(([name, value]) => name === "x-trace" && value === "abc"));
  assert.ok(
    channel.headers.some(([name, value]) =>
      name === "sec-websocket-protocol" && value === "chat, superchat"
    ),
  );
  assert.ok(channel.headers.every(([name]) => name === name.toLowerCase()));
  assert.equal(channel.eos.remoteAddress, "127.0.0.1");
  assert.ok(channel.eos.remotePort > 0);
  assert.notEqual(channel.eos.remotePort, second.channel.eos.remotePort);
  assert.equal(channel.eos.secure, false);
  // No subprotocol is agreed on.
  assert.equal(first.client.protocol, "");
  first.client.close(1000);
  second.client.close(1000);
  await stopped(server);
});

test("WsServerChannel emits text messages as strings and binary ones as Buffers, in order", async () => {
  const { server, url } = await listening();
  const { client, channel } = await pair(server, url);
  const messages = collect(channel, "message");
  await write(client, "héllo");
  await write(client, new Uint8Array([0, 1, 255]));
  await write(client, "");
  await within(
    (async () => {
      while (messages.length < 3) await delay(10);
    })(),
    "three messages",
  );
  assert.equal(messages[0], "héllo");
  assert.ok(Buffer.isBuffer(messages[1]));
  assert.deepEqual([...(messages[1] as Buffer)], [0, 1, 255]);
  assert.equal(messages[2], "");
  client.close(1000);
  await stopped(server);
});

test("WsServerChannel send() frames strings, bytes, numbers, booleans and objects as documented", async () => {
  const { server, url } = await listening();
  const { client, channel } = await pair(server, url);
  const sent: [unknown, Message][] = [
    ["text", "text"],
    [Buffer.from([1, 2]), new Uint8Array([1, 2])],
    [new Uint8Array([3]), new Uint8Array([3])],
    [new Uint8Array([9, 4, 9]).subarray(1, 2), new Uint8Array([4])],
    [new Uint8Array([5, 6]).buffer, new Uint8Array([5, 6])],
    [new DataView(new Uint8Array([7]).buffer), new Uint8Array([7])],
    [42, "42"],
    [-1.5, "-1.5"],
    [NaN, "NaN"],
    [true, "true"],
    [false, "false"],
    [{ a: [1, "b"], c: null }, '{"a":[1,"b"],"c":null}'],
    [[1, 2], "[1,2]"],
    [new Date(0), '"1970-01-01T00:00:00.000Z"'],
  ];
  for (const [chunk, expected] of sent) {
    assert.equal(channel.send(chunk as never), true);
    const received = await read(client);
    if (typeof expected === "string") assert.equal(received, expected, String(chunk));
    else {
      assert.ok(received instanceof Uint8Array, `binary for ${String(chunk)}`);
      assert.deepEqual([...received], [...expected]);
    }
  }
  client.close(1000);
  await stopped(server);
});

test("WsServerChannel send() refuses what has no framing with a TypeError", async () => {
  const { server, url } = await listening();
  const { client, channel } = await pair(server, url);
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  for (const chunk of [null, undefined, () => {}, Symbol("s"), 1n, cyclic, { toJSON() {} }]) {
    assert.throws(
      () => channel.send(chunk as never),
      (error) => error instanceof TypeError && error.message.startsWith("Cannot send message: "),
      String(typeof chunk),
    );
  }
  // Nothing was sent: the next message is the one sent now.
  channel.send("after");
  assert.equal(await read(client), "after");
  client.close(1000);
  await stopped(server);
});

test("WsServerChannel close() sends its code and reason, then send() returns false and close fires", async () => {
  const { server, url } = await listening();
  const { client, channel } = await pair(server, url);
  const closed = next(channel, "close");
  assert.throws(() => channel.close(1006), RangeError);
  assert.throws(() => channel.close(1000, "x".repeat(124)), RangeError);
  channel.close(4001, "go away");
  assert.equal(channel.send("late"), false);
  channel.close(1000); // does nothing once closing
  assert.deepEqual(await within(client.closed, "client close"), {
    code: 4001,
    reason: "go away",
    wasClean: true,
  });
  assert.deepEqual(await closed, [4001, "go away"]);
  await stopped(server);
});

test("WsServerChannel close() without a code sends a close frame without one", async () => {
  const { server, url } = await listening();
  const { client, channel } = await pair(server, url);
  channel.close();
  assert.equal((await within(client.closed, "client close")).code, 1005);
  await stopped(server);
});

test("WsServerChannel emits close with the client's code after the messages before it", async () => {
  const { server, url } = await listening();
  const { client, channel } = await pair(server, url);
  const events: unknown[][] = [];
  channel.on("message", (msg) => events.push(["message", msg]));
  const closed = next(channel, "close");
  channel.on("close", (code, reason) => events.push(["close", code, reason]));
  await write(client, "one");
  await write(client, "two");
  client.close(4000, "bye");
  await closed;
  assert.deepEqual(events, [["message", "one"], ["message", "two"], ["close", 4000, "bye"]]);
  assert.equal(channel.send("late"), false);
  await stopped(server);
});

test("WsServerChannel emits ping with the payload as a Buffer, and the pong goes back by itself", async () => {
  const { server, url } = await listening();
  const { client, channel } = await pair(server, url);
  const pinged = next(channel, "ping");
  const roundTrip = await within(client.ping(new TextEncoder().encode("tag-7")), "pong");
  assert.equal(typeof roundTrip, "number");
  const [payload] = await pinged;
  assert.ok(Buffer.isBuffer(payload));
  assert.equal((payload as Buffer).toString(), "tag-7");
  client.close(1000);
  await stopped(server);
});

test("WsServer broadcast() sends one framing to every open channel", async () => {
  const { server, url } = await listening();
  const a = await pair(server, url);
  const b = await pair(server, url);
  const c = await pair(server, url);
  const cClosed = next(c.channel, "close");
  c.client.close(1000);
  await cClosed;
  server.broadcast({ event: "hello" });
  assert.equal(await read(a.client), '{"event":"hello"}');
  assert.equal(await read(b.client), '{"event":"hello"}');
  server.broadcast(Buffer.from("bin"));
  for (const { client } of [a, b]) {
    const bytes = await read(client);
    assert.ok(bytes instanceof Uint8Array);
    assert.equal(new TextDecoder().decode(bytes), "bin");
  }
  server.broadcast(7);
  assert.equal(await read(a.client), "7");
  assert.equal(await read(b.client), "7");
  assert.throws(() => server.broadcast(undefined as never), TypeError);
  a.client.close(1000);
  b.client.close(1000);
  await stopped(server);
});

test("WsServer stop() closes every channel with 1001, each close before stop, and frees the port", async () => {
  const { server, url } = await listening();
  const a = await pair(server, url);
  const b = await pair(server, url);
  const order: string[] = [];
  a.channel.on("close", (code) => order.push(`a ${code}`));
  b.channel.on("close", (code) => order.push(`b ${code}`));
  server.on("stop", () => order.push("stop"));
  await stopped(server);
  assert.deepEqual(order.slice(-1), ["stop"]);
  assert.deepEqual(order.slice(0, 2).sort(), ["a 1001", "b 1001"]);
  assert.equal((await within(a.client.closed, "close")).code, 1001);
  assert.equal((await within(b.client.closed, "close")).code, 1001);
  assert.equal(server.port(), undefined);
  await assert.rejects(connect(url, { handshakeTimeout: 2000 }));
  // And it starts again.
  const started = next(server, "start");
  assert.equal(server.start(), true);
  await started;
  const again = await pair(server, `ws://127.0.0.1:${server.port()}/`);
  again.client.close(1000);
  await stopped(server);
});

test("WsServer stop() before start does nothing, and during start stops once started", async () => {
  const server = WsServer.createServer("/", socket.sockaddr("127.0.0.1", 0));
  const events = collect(server, "stop");
  server.stop();
  await delay(50);
  assert.equal(events.length, 0);
  const order: string[] = [];
  server.on("start", () => order.push("start"));
  const done = next(server, "stop");
  server.start();
  server.stop();
  await done;
  assert.deepEqual(order, ["start"]);
  assert.equal(server.port(), undefined);
});

test("WsServer with tlsOpt listens for wss://", async () => {
  const server = WsServer.createServer("/", socket.sockaddr("127.0.0.1", 0), { cert, key });
  const started = next(server, "start");
  server.start();
  await started;
  const url = `wss://localhost:${server.port()}/`;
  const { client, channel } = await pair(server, url, { tls: { caCerts: [cert] } });
  assert.equal(channel.eos.secure, true);
  channel.send("secret");
  assert.equal(await read(client), "secret");
  client.close(1000);
  await stopped(server);
});

test("WsServer.createServer() refuses a TLS certificate or key that cannot be read", () => {
  const saddr = socket.sockaddr("127.0.0.1", 0);
  assert.throws(
    () => WsServer.createServer("/", saddr, { cert: "not a certificate", key }),
    (error) => error instanceof TypeError && /tlsOpt\.cert cannot be read/.test(error.message),
  );
  assert.throws(
    () => WsServer.createServer("/", saddr, { cert, key: cert }),
    (error) => error instanceof TypeError && /tlsOpt\.key cannot be read/.test(error.message),
  );
});

test("WsServer on a node:http server runs in UPGRADE mode: no port, start() throws, HTTP left to the server", async () => {
  const http = createHttpServer((_request, response) => response.end("plain"));
  // tlsOpt is ignored in UPGRADE mode.
  const wsServer = WsServer.createServer("/ws", http, { nonsense: true } as never);
  assert.throws(
    () => wsServer.start(),
    (error) => error instanceof Error && /UPGRADE mode on the HTTP server/.test(error.message),
  );
  const host = await listenHttp(http);
  try {
    assert.equal(wsServer.port(), undefined);
    const response = await within(fetch(`http://${host}/ws`), "response");
    assert.equal(await response.text(), "plain");
    const { client, channel } = await pair(wsServer, `ws://${host}/ws`);
    assert.equal(channel.eos.remoteAddress, "127.0.0.1");
    const pinged = next(channel, "ping");
    await within(client.ping(new Uint8Array([1])), "pong");
    assert.deepEqual([...(await pinged)[0] as Buffer], [1]);
    channel.send("hi");
    assert.equal(await read(client), "hi");
    await assert.rejects(
      connect(`ws://${host}/other`),
      (error) => error instanceof HandshakeError && error.status === 404,
    );
    client.close(1000);
    await stopped(wsServer);
    await within(client.closed, "close");
    // Stopped, it has left the server: nothing serves the path any more.
    await assert.rejects(
      connect(`ws://${host}/ws`),
      (error) => error instanceof HandshakeError && error.status === 404,
    );
  } finally {
    await closeHttp(http);
  }
});

test("WsServer on a node:http server shares it by path, and leaves other paths to other upgrade listeners", async () => {
  const http = createHttpServer();
  const chat = WsServer.createServer("/chat", http);
  const news = createServer("/news", http);
  assert.throws(() => WsServer.createServer("/chat", http), /another WsServer serves path \/chat/);
  const others: string[] = [];
  http.on("upgrade", (request, socket) => {
    if (request.url === "/mine") {
      others.push(request.url);
      socket.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
    }
  });
  const host = await listenHttp(http);
  try {
    const a = await pair(chat, `ws://${host}/chat`);
    const b = await pair(news, `ws://${host}/news`);
    chat.broadcast("chat only");
    news.broadcast("news only");
    assert.equal(await read(a.client), "chat only");
    assert.equal(await read(b.client), "news only");
    await assert.rejects(
      connect(`ws://${host}/mine`),
      (error) => error instanceof HandshakeError && error.status === 403,
    );
    assert.deepEqual(others, ["/mine"]);
    await stopped(chat);
    assert.equal((await within(a.client.closed, "close")).code, 1001);
    // Stopped, it has left the server; the other stays.
    assert.throws(() => chat.start(), /UPGRADE mode/);
    news.broadcast("still here");
    assert.equal(await read(b.client), "still here");
    b.client.close(1000);
    await stopped(news);
  } finally {
    await closeHttp(http);
  }
});

/** A web app of serve() options on 127.0.0.1 and a free port. */
function webApp(extra: Partial<ServeOptions> = {}): WebApp & ServeOptions {
  return {
    hostname: "127.0.0.1",
    port: 0,
    fetch: () => new Response("from the app"),
    ...extra,
  } as WebApp & ServeOptions;
}

test("WsServer on a web app takes its upgrades to the path once serve(app) starts it", async () => {
  const app = webApp();
  const wsServer = WsServer.createServer("/", app);
  assert.throws(() => wsServer.start(), /UPGRADE mode on the web app/);
  assert.equal(typeof app.onConnection, "function");
  assert.equal(typeof app.onUpgrade, "function");
  const running = await serve(app);
  const host = `127.0.0.1:${running.port}`;
  try {
    assert.equal(wsServer.port(), undefined);
    const response = await within(fetch(`http://${host}/page`), "response");
    assert.equal(await response.text(), "from the app");
    const { client, channel } = await pair(wsServer, `ws://${host}/?q=1`);
    assert.equal(channel.path, "/?q=1");
    assert.equal(channel.eos.remoteAddress, "127.0.0.1");
    // The pong comes back, though a web app reports no ping events.
    const pings = collect(channel, "ping");
    await within(client.ping(new Uint8Array([2])), "pong");
    assert.equal(pings.length, 0);
    await write(client, "up");
    assert.deepEqual(await next(channel, "message"), ["up"]);
    await assert.rejects(
      connect(`ws://${host}/other`),
      (error) => error instanceof HandshakeError && error.status === 404,
    );
    await stopped(wsServer);
    assert.equal((await within(client.closed, "close")).code, 1001);
    await assert.rejects(
      connect(`ws://${host}/`),
      (error) => error instanceof HandshakeError && error.status === 404,
    );
  } finally {
    await running.close();
  }
});

test("WsServer on a web app keeps the app's own onUpgrade and onConnection", async () => {
  const own: string[] = [];
  const app = webApp({
    onUpgrade: (request) =>
      request.headers.get("origin") === "https://evil.example"
        ? new Response(null, { status: 403 })
        : undefined,
    onConnection: (channel) => {
      own.push(new URL(channel.request.url).pathname);
      channel.close(4004, "app");
    },
  });
  const wsServer = WsServer.createServer("/ws", app);
  const running = await serve(app);
  const host = `127.0.0.1:${running.port}`;
  try {
    await assert.rejects(
      connect(`ws://${host}/ws`, { origin: "https://evil.example" }),
      (error) => error instanceof HandshakeError && error.status === 403,
    );
    const { client } = await pair(wsServer, `ws://${host}/ws`);
    const other = await within(connect(`ws://${host}/elsewhere`), "connection");
    assert.equal((await within(other.closed, "close")).code, 4004);
    assert.deepEqual(own, ["/elsewhere"]);
    client.close(1000);
    await stopped(wsServer);
  } finally {
    await running.close();
  }
});

test("WsServer.createServer() refuses a server serve() started, naming what to do instead", async () => {
  const running = await serve({ hostname: "127.0.0.1", port: 0, onConnection: () => {} });
  try {
    assert.throws(
      () => WsServer.createServer("/", running as never),
      (error) => error instanceof TypeError && /pass the options object/.test(error.message),
    );
  } finally {
    await running.close();
  }
});

test("WsServer with no listeners: messages, pings and errors go nowhere without a crash", async () => {
  const { server, url } = await listening();
  const client = await within(connect(url), "connection");
  await write(client, "nobody listens");
  await within(client.ping(), "pong");
  client.close(1000);
  assert.equal((await within(client.closed, "close")).code, 1000);
  await stopped(server);
});
