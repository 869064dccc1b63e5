import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { lookup } from "node:dns/promises";
import { readFileSync } from "node:fs";
import { ConnectionClosedError, listen, type Message, type ServerChannel } from "../../../mod.ts";
import { createClient, socket, WsClient } from "../../../src/compat/edgeros/mod.ts";
import { encodeFrame, FrameParser } from "../../../src/codec/mod.ts";
import { delay, handshakeThen, type Loopback, serve, within } from "../../_servers.ts";
import { collect, next } from "./_helpers.ts";

const cert = readFileSync(new URL("../../fixtures/tls_cert.pem", import.meta.url), "utf8");
const key = readFileSync(new URL("../../fixtures/tls_key.pem", import.meta.url), "utf8");

/** A server of the core that keeps each connection's pings, silently. */
async function server(options: Parameters<typeof serve>[1] = {}): Promise<
  Loopback & { pings: string[] }
> {
  const pings: string[] = [];
  const loopback = await serve(() => {}, {
    onPing: (payload) => pings.push(new TextDecoder().decode(payload)),
    ...options,
  });
  return Object.assign(loopback, { pings });
}

/** The server side of the first connection, arrived or to come. */
function firstChannel(loopback: Loopback): Promise<ServerChannel> {
  return loopback.channels[0] === undefined
    ? loopback.nextChannel()
    : Promise.resolve(loopback.channels[0]);
}

/** Reads the next message a server channel receives. */
async function read(channel: ServerChannel): Promise<Message | undefined> {
  const reader = channel.readable.getReader();
  try {
    return (await within(reader.read(), "message")).value;
  } finally {
    reader.releaseLock();
  }
}

/** Writes a message from a server channel. */
async function write(channel: ServerChannel, message: string | Uint8Array): Promise<void> {
  const writer = channel.writable.getWriter();
  try {
    await within(writer.write(message), "write");
  } finally {
    writer.releaseLock();
  }
}

/** A connected client: created, its `open` heard. */
async function opened(url: string, options = {}): Promise<WsClient> {
  const client = WsClient.createClient(url, options);
  await next(client, "open");
  return client;
}

/** Closes a client and waits for its close event. */
async function closed(client: WsClient): Promise<void> {
  const done = next(client, "close");
  client.close(1000);
  await done;
}

test("WsClient.createClient() returns the client at once, which connects and emits open", async () => {
  const loopback = await serve((channel) => write(channel, "welcome"));
  try {
    const client = WsClient.createClient(`${loopback.url}/`);
    assert.ok(client instanceof WsClient);
    assert.ok(!(client instanceof Promise));
    const order: string[] = [];
    client.on("open", () => order.push("open"));
    client.on("message", (msg) => order.push(`message ${msg}`));
    await next(client, "message");
    assert.deepEqual(order, ["open", "message welcome"]);
    await closed(client);
  } finally {
    await loopback.close();
  }
});

test("WsClient send() before open queues the message, sent first once connected", async () => {
  const loopback = await server();
  try {
    const client = WsClient.createClient(loopback.url);
    assert.equal(client.send("early"), true);
    client.on("open", () => client.send("from open"));
    const channel = await firstChannel(loopback);
    assert.equal(await read(channel), "early");
    assert.equal(await read(channel), "from open");
    await closed(client);
  } finally {
    await loopback.close();
  }
});

test("WsClient.createClient() with async: true returns a promise, and open follows its then()", async () => {
  const loopback = await serve((channel) => write(channel, "welcome"));
  try {
    const promise = WsClient.createClient(loopback.url, { async: true });
    assert.ok(promise instanceof Promise);
    const heard: string[] = [];
    const client = await within(
      promise.then((client) => {
        client.on("open", () => heard.push("open"));
        client.on("message", (msg) => heard.push(String(msg)));
        return client;
      }),
      "client",
    );
    assert.ok(client instanceof WsClient);
    await next(client, "message");
    assert.deepEqual(heard, ["open", "welcome"]);
    await closed(client);
  } finally {
    await loopback.close();
  }
});

test("createClient() of the module object makes a WsClient, at once or as a promise", async () => {
  const loopback = await server();
  try {
    const sync = createClient(loopback.url);
    assert.ok(sync instanceof WsClient);
    await next(sync, "open");
    const awaited = await within(createClient(loopback.url, { async: true }), "client");
    assert.ok(awaited instanceof WsClient);
    await next(awaited, "open");
    await closed(sync);
    await closed(awaited);
  } finally {
    await loopback.close();
  }
});

/** A URL nothing listens on, a moment ago free. */
async function deadUrl(): Promise<string> {
  const closedServer = await listen({ hostname: "127.0.0.1", port: 0 }, () => {});
  await closedServer.close();
  return `ws://127.0.0.1:${closedServer.port}/`;
}

test("WsClient.createClient() with async: true rejects when it cannot connect, with no event", async () => {
  const url = await deadUrl();
  await assert.rejects(within(WsClient.createClient(url, { async: true }), "rejection"));
});

test("WsClient that connects in the background emits error then close 1006 when it cannot connect", async () => {
  const client = WsClient.createClient(await deadUrl());
  const events: unknown[][] = [];
  client.on("error", (error) => events.push(["error", error instanceof Error]));
  const done = next(client, "close");
  client.on("close", (code, reason) => events.push(["close", code, reason]));
  await done;
  assert.deepEqual(events, [["error", true], ["close", 1006, ""]]);
  assert.equal(client.send("late"), false);
  assert.throws(
    () => client.ping(),
    (error) => error instanceof ConnectionClosedError && error.closeCode === 1006,
  );
});

test("WsClient emits text messages as strings and binary ones as Buffers", async () => {
  const loopback = await server();
  try {
    const client = await opened(loopback.url);
    const messages = collect(client, "message");
    const channel = await firstChannel(loopback);
    await write(channel, "text");
    await write(channel, new Uint8Array([0, 128, 255]));
    await within(
      (async () => {
        while (messages.length < 2) await delay(10);
      })(),
      "messages",
    );
    assert.equal(messages[0], "text");
    assert.ok(Buffer.isBuffer(messages[1]));
    assert.deepEqual([...(messages[1] as Buffer)], [0, 128, 255]);
    await closed(client);
  } finally {
    await loopback.close();
  }
});

test("WsClient send() frames strings, bytes, numbers, booleans and objects as documented", async () => {
  const loopback = await server();
  try {
    const client = await opened(loopback.url);
    const channel = await firstChannel(loopback);
    const sent: [unknown, Message][] = [
      ["hi", "hi"],
      [Buffer.from("ab"), new Uint8Array([97, 98])],
      [new Uint16Array([1]), new Uint8Array(new Uint16Array([1]).buffer)],
      [0, "0"],
      [true, "true"],
      [{ x: 1 }, '{"x":1}'],
    ];
    for (const [chunk, expected] of sent) {
      assert.equal(client.send(chunk as never), true);
      const received = await read(channel);
      if (typeof expected === "string") assert.equal(received, expected);
      else {
        assert.ok(received instanceof Uint8Array);
        assert.deepEqual([...received], [...expected]);
      }
    }
    for (const chunk of [null, undefined, 2n, () => {}]) {
      assert.throws(() => client.send(chunk as never), TypeError);
    }
    await closed(client);
    assert.equal(client.send("late"), false);
  } finally {
    await loopback.close();
  }
});

test("WsClient close() sends its code and reason; close is emitted with them", async () => {
  const loopback = await server();
  try {
    const client = await opened(loopback.url);
    const channel = await firstChannel(loopback);
    assert.throws(() => client.close(1005), RangeError);
    assert.throws(() => client.close(1000, "é".repeat(62)), RangeError);
    const done = next(client, "close");
    client.close(4321, "done here");
    assert.equal(client.send("late"), false);
    assert.deepEqual(await done, [4321, "done here"]);
    assert.equal((await within(channel.closed, "server close")).code, 4321);
  } finally {
    await loopback.close();
  }
});

test("WsClient emits close with the server's code, after the messages before it", async () => {
  const loopback = await server();
  try {
    const client = await opened(loopback.url);
    const channel = await firstChannel(loopback);
    const events: unknown[][] = [];
    client.on("message", (msg) => events.push(["message", msg]));
    client.on("close", (code, reason) => events.push(["close", code, reason]));
    const done = next(client, "close");
    await write(channel, "last words");
    channel.close(4002, "server says bye");
    await done;
    assert.deepEqual(events, [["message", "last words"], ["close", 4002, "server says bye"]]);
  } finally {
    await loopback.close();
  }
});

test("WsClient close() while connecting gives up, with a close event and no error", async () => {
  const loopback = await server();
  try {
    const client = WsClient.createClient(loopback.url);
    const errors = collect(client, "error");
    const done = next(client, "close");
    assert.throws(() => client.close(999), RangeError);
    client.close(1000);
    assert.deepEqual(await done, [1006, ""]);
    assert.equal(errors.length, 0);
    assert.equal(client.send("late"), false);
  } finally {
    await loopback.close();
  }
});

test("WsClient ping() returns tags 1, 2, ... and the callbacks get the pongs' tags", async () => {
  const loopback = await server();
  try {
    const client = await opened(loopback.url);
    const first = new Promise((resolve) => assert.equal(client.ping(1000, resolve), "1"));
    const second = new Promise((resolve) => assert.equal(client.ping(1000, resolve), "2"));
    assert.equal(await within(first, "first pong"), "1");
    assert.equal(await within(second, "second pong"), "2");
    assert.deepEqual(loopback.pings, ["1", "2"]);
    assert.equal(client.ping(), "3", "a callback is optional");
    await closed(client);
  } finally {
    await loopback.close();
  }
});

test("WsClient ping() before open is sent once connected", async () => {
  const loopback = await server();
  try {
    const client = WsClient.createClient(loopback.url);
    const tag = client.ping(5000, () => {});
    const pong = new Promise((resolve) => client.ping(5000, resolve));
    assert.equal(tag, "1");
    assert.equal(await within(pong, "pong"), "2");
    assert.deepEqual(loopback.pings, ["1", "2"]);
    await closed(client);
  } finally {
    await loopback.close();
  }
});

test("WsClient ping() waits 30 seconds for its pong by default", async () => {
  const loopback = await server();
  const original = globalThis.setTimeout;
  try {
    const client = await opened(loopback.url);
    const delays: unknown[] = [];
    globalThis.setTimeout = ((fn: () => void, ms?: number) => {
      delays.push(ms);
      return original(fn, ms);
    }) as typeof setTimeout;
    try {
      client.ping();
    } finally {
      globalThis.setTimeout = original;
    }
    assert.deepEqual(delays, [30_000]);
    await closed(client);
  } finally {
    globalThis.setTimeout = original;
    await loopback.close();
  }
});

test("WsClient ping() closes the connection with 1001 when no pong comes within the timeout", async () => {
  let closeFrame: { code: number; reason: string } | undefined;
  const silent = await handshakeThen((socket) => {
    // Reads the client's frames and answers nothing, pings included.
    const parser = new FrameParser({ role: "server" });
    socket.on("data", (chunk: Uint8Array) => {
      parser.push(new Uint8Array(chunk), (frame) => {
        if (frame.opcode !== 8) return;
        const view = new DataView(frame.payload.buffer, frame.payload.byteOffset);
        closeFrame = {
          code: view.getUint16(0),
          reason: new TextDecoder().decode(frame.payload.subarray(2)),
        };
        socket.destroy();
      });
    });
  });
  try {
    const client = await opened(silent.url);
    const called = collect(client, "pong");
    const done = next(client, "close");
    const started = performance.now();
    client.ping(200, () => called.push("callback"));
    const [code] = await done;
    assert.ok(performance.now() - started >= 190, "not before the timeout");
    assert.deepEqual(closeFrame, { code: 1001, reason: "Pong timeout" });
    assert.equal(code, 1006, "the server never answered the close frame");
    assert.deepEqual(called, []);
  } finally {
    await silent.close();
  }
});

test("WsClient ping() callbacks get the tag of the pong that answered, which answers earlier pings too", async () => {
  const silent = await handshakeThen((socket) => {
    // Answers the second ping only.
    const parser = new FrameParser({ role: "server" });
    socket.on("data", (chunk: Uint8Array) => {
      parser.push(new Uint8Array(chunk), (frame) => {
        if (frame.opcode === 9 && new TextDecoder().decode(frame.payload) === "2") {
          socket.write(encodeFrame({ fin: true, opcode: 10, payload: frame.payload }));
        }
      });
    });
  });
  try {
    const client = await opened(silent.url);
    const tags: string[] = [];
    client.ping(5000, (tag) => tags.push(`first ${tag}`));
    const second = new Promise((resolve) =>
      client.ping(5000, (tag) => resolve(tags.push(`second ${tag}`)))
    );
    await within(second, "pong");
    assert.deepEqual(tags, ["first 2", "second 2"]);
    const done = next(client, "close");
    client.close(1000);
    await silent.close();
    await done;
  } finally {
    await silent.close();
  }
});

test("WsClient ping() refuses a bad timeout or callback", async () => {
  const loopback = await server();
  try {
    const client = await opened(loopback.url);
    for (const timeout of [-1, NaN, "10"]) {
      assert.throws(() => client.ping(timeout as never), RangeError, String(timeout));
    }
    assert.throws(() => client.ping(10, "call me" as never), TypeError);
    assert.deepEqual(loopback.pings, []);
    await closed(client);
    assert.throws(
      () => client.ping(),
      (error) => error instanceof ConnectionClosedError && error.closeCode === 1000,
    );
  } finally {
    await loopback.close();
  }
});

test("WsClient options.path replaces the URL's path and query", async () => {
  const loopback = await server();
  try {
    const client = WsClient.createClient(`${loopback.url}/ignored?a=1`, { path: "/used?b=2" });
    const channel = await firstChannel(loopback);
    const url = new URL(channel.request.url);
    assert.equal(url.pathname + url.search, "/used?b=2");
    await next(client, "open");
    await closed(client);
    assert.throws(() => WsClient.createClient(loopback.url, { path: "relative" }), TypeError);
  } finally {
    await loopback.close();
  }
});

test("WsClient options.protocol offers a comma-separated list of subprotocols", async () => {
  const loopback = await server({ selectProtocol: (offered) => offered[1] });
  try {
    const client = WsClient.createClient(loopback.url, { protocol: "chat, superchat" });
    const channel = await firstChannel(loopback);
    assert.equal(channel.request.headers.get("sec-websocket-protocol"), "chat, superchat");
    assert.equal(channel.protocol, "superchat");
    await next(client, "open");
    await closed(client);
    for (const protocol of ["", "a b", "a,,b", 42]) {
      assert.throws(
        () => WsClient.createClient(loopback.url, { protocol: protocol as string }),
        TypeError,
        String(protocol),
      );
    }
  } finally {
    await loopback.close();
  }
});

test("WsClient options.saddr connects to that address, which Host then names", async () => {
  const loopback = await server();
  try {
    const port = Number(new URL(loopback.url).port);
    const client = WsClient.createClient("ws://no-such-host.invalid:1/room", {
      saddr: socket.sockaddr("127.0.0.1", port),
    });
    const channel = await firstChannel(loopback);
    assert.equal(channel.request.headers.get("host"), `127.0.0.1:${port}`);
    assert.equal(new URL(channel.request.url).pathname, "/room");
    await next(client, "open");
    await closed(client);
    assert.throws(
      () => WsClient.createClient(loopback.url, { saddr: { addr: "localhost", port } }),
      TypeError,
    );
    assert.throws(
      () => WsClient.createClient(loopback.url, { saddr: { addr: "127.0.0.1", port: 70000 } }),
      RangeError,
    );
  } finally {
    await loopback.close();
  }
});

test("WsClient options.domain AF_INET resolves the host name to IPv4, which Host then names", async () => {
  const loopback = await server();
  try {
    const port = Number(new URL(loopback.url).port);
    const client = WsClient.createClient(`ws://localhost:${port}/`, { domain: socket.AF_INET });
    const channel = await firstChannel(loopback);
    assert.equal(channel.request.headers.get("host"), `127.0.0.1:${port}`);
    assert.deepEqual(channel.remoteAddress, {
      transport: "tcp",
      hostname: "127.0.0.1",
      port: channel.remoteAddress.transport === "tcp" ? channel.remoteAddress.port : 0,
    });
    await next(client, "open");
    await closed(client);
  } finally {
    await loopback.close();
  }
});

test("WsClient options.domain AF_INET6 resolves the host name to IPv6 only", async () => {
  const ipv6 = await lookup("localhost", { family: 6 }).then((found) => found.address, () => "");
  const loopback = await serve(undefined, { hostname: ipv6 || "127.0.0.1" });
  try {
    const port = Number(new URL(loopback.url).port);
    const client = WsClient.createClient(`ws://localhost:${port}/`, { domain: socket.AF_INET6 });
    if (ipv6 === "") {
      // localhost has no IPv6 address here: the lookup fails, IPv4 is not tried.
      const errors = collect(client, "error");
      assert.deepEqual(await next(client, "close"), [1006, ""]);
      assert.match(String((errors[0] as Error).message), /localhost has no IPv6 address/);
      assert.equal(loopback.channels.length, 0);
    } else {
      const channel = await firstChannel(loopback);
      assert.equal(channel.request.headers.get("host"), `[${ipv6}]:${port}`);
      await next(client, "open");
      await closed(client);
    }
    assert.throws(() => WsClient.createClient(loopback.url, { domain: 4 }), TypeError);
  } finally {
    await loopback.close();
  }
});

test("WsClient tlsOpt trusts its ca and checks its name, even for a ws:// URL", async () => {
  const loopback = await serve(undefined, { tls: { cert, key } });
  try {
    const port = Number(new URL(loopback.url).port);
    const client = WsClient.createClient(`ws://127.0.0.1:${port}/`, {}, { ca: cert });
    await next(client, "open");
    const channel = await firstChannel(loopback);
    assert.equal(new URL(channel.request.url).protocol, "https:");
    await closed(client);
    const named = WsClient.createClient(`wss://127.0.0.1:${port}/`, {}, {
      ca: cert,
      name: "localhost",
    });
    await next(named, "open");
    await closed(named);
    // A name the certificate does not hold fails.
    const wrong = WsClient.createClient(`wss://127.0.0.1:${port}/`, {}, {
      ca: cert,
      name: "example.com",
    });
    await next(wrong, "error");
    // Without the CA, the certificate is not trusted.
    await assert.rejects(
      within(WsClient.createClient(`wss://localhost:${port}/`, { async: true }), "rejection"),
    );
  } finally {
    await loopback.close();
  }
});

test("WsClient.createClient() refuses a bad URL, options or tlsOpt with a TypeError", () => {
  for (const url of ["not a url", "http://127.0.0.1/", "ws://127.0.0.1/#top"]) {
    assert.throws(() => WsClient.createClient(url), TypeError, url);
  }
  assert.throws(() => WsClient.createClient("ws://127.0.0.1/", null as never), TypeError);
  for (const tlsOpt of [null, { cert }, { passwd: "x" }, { ca: 1 }, { name: 2 }]) {
    assert.throws(
      () => WsClient.createClient("ws://127.0.0.1/", {}, tlsOpt as never),
      TypeError,
      JSON.stringify(tlsOpt),
    );
  }
});
