import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { connect as tcpConnect } from "node:net";
import type * as WsModule from "ws";
import {
  type CloseInfo,
  connect,
  ConnectionClosedError,
  HandshakeError,
  type ServerChannel,
} from "../../mod.ts";
import {
  type DenoServeInfo,
  type DenoUpgradeOptions,
  upgrade,
} from "../../src/runtime/deno_serve.ts";
import { delay, within } from "../_servers.ts";

const skip = "Deno" in globalThis ? false : "needs Deno";

/** The slice of `Deno.serve` the tests use. */
interface DenoServeApi {
  serve(
    options: { hostname: string; port: number; onListen(): void },
    handler: (request: Request, info: DenoServeInfo) => Promise<Response>,
  ): { addr: { port: number }; shutdown(): Promise<void> };
}

/** npm's ws, by file path. */
function loadWs(): typeof WsModule {
  return createRequire(import.meta.url)("../../node_modules/ws/index.js");
}

function echo(channel: ServerChannel): void {
  channel.readable.pipeTo(channel.writable).catch(() => {});
}

/** Serves on a free loopback port; `accepted()` waits for the first connection. */
function serve(
  options: DenoUpgradeOptions = {},
  onChannel: (channel: ServerChannel) => void = () => {},
) {
  let accept!: (channel: ServerChannel) => void;
  const accepted = new Promise<ServerChannel>((resolve) => accept = resolve);
  const errors: unknown[] = [];
  const deno = (globalThis as unknown as { Deno: DenoServeApi }).Deno;
  const server = deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request, info) => {
      const { response, channel } = await upgrade(request, {
        info,
        onError: (error) => errors.push(error),
        ...options,
      });
      if (channel !== undefined) {
        accept(channel);
        onChannel(channel);
      }
      return response;
    },
  );
  const url = `ws://127.0.0.1:${server.addr.port}`;
  const stop = () => within(server.shutdown(), "shutdown");
  // Bounded only when awaited: tests that are refused never get a connection.
  return {
    stop,
    accepted: () => within(accepted, "connection"),
    errors,
    url,
    port: server.addr.port,
  };
}

/** Reads `count` messages. */
async function take(channel: { readable: ReadableStream<unknown> }, count: number) {
  const reader = channel.readable.getReader();
  const messages: unknown[] = [];
  try {
    while (messages.length < count) {
      const { value, done } = await within(reader.read(), "message");
      if (done) break;
      messages.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  return messages;
}

function opened(ws: WsModule.WebSocket): Promise<unknown> {
  return within(new Promise((resolve) => ws.once("open", resolve)), "open");
}

function wsClosed(ws: WsModule.WebSocket): Promise<CloseInfo> {
  return within(
    new Promise((resolve) =>
      ws.once(
        "close",
        (code, reason) => resolve({ code, reason: reason.toString(), wasClean: true }),
      )
    ),
    "close",
  );
}

test("upgrade echoes text, binary and 1 MiB messages to our client", { skip }, async () => {
  const { stop, accepted, url } = serve({}, echo);
  try {
    const client = await connect(`${url}/chat?room=1`);
    const channel = await accepted();
    assert.equal(channel.remoteAddress.transport, "tcp");
    assert.equal(
      channel.remoteAddress.transport === "tcp" && channel.remoteAddress.hostname,
      "127.0.0.1",
    );
    assert.equal(new URL(channel.request.url).pathname, "/chat");
    const mib = new Uint8Array(1024 * 1024).map((_, i) => i % 251);
    const writer = client.writable.getWriter();
    await writer.write("hello");
    await writer.write(new Uint8Array([1, 2, 3]));
    await writer.write(mib);
    const received = await take(client, 3);
    assert.equal(received[0], "hello");
    assert.equal(Object.getPrototypeOf(received[1]), Uint8Array.prototype);
    assert.deepEqual(received[1], new Uint8Array([1, 2, 3]));
    assert.deepEqual(received[2], mib);
    client.close(1000);
    await within(client.closed, "close");
    await within(channel.closed, "server close");
  } finally {
    await stop();
  }
});

test("upgrade echoes text and binary to ws's client", { skip }, async () => {
  const { stop, accepted, url } = serve({}, echo);
  try {
    const ws = new (loadWs().WebSocket)(url);
    const received: [string, boolean][] = [];
    const done = new Promise<void>((resolve) => {
      ws.on("message", (data, isBinary) => {
        received.push([Buffer.from(data as Buffer).toString("hex"), isBinary]);
        if (received.length === 2) resolve();
      });
    });
    await opened(ws);
    ws.send("hi");
    ws.send(new Uint8Array([0xff, 0]));
    await within(done, "echo");
    assert.deepEqual(received, [["6869", false], ["ff00", true]]);
    ws.close(1000);
    await within((await accepted()).closed, "server close");
  } finally {
    await stop();
  }
});

test("upgrade agrees on the subprotocol selectProtocol picks", { skip }, async () => {
  const { stop, accepted, url } = serve({
    selectProtocol: (offered) => offered.find((protocol) => protocol === "chat"),
    headers: { "X-Server": "deno" },
  });
  try {
    const client = await connect(url, { protocols: ["superchat", "chat"] });
    const channel = await accepted();
    assert.equal(client.protocol, "chat");
    assert.equal(channel.protocol, "chat");
    assert.equal(channel.extensions, "");
    client.close(1000);
    await within(client.closed, "close");
    const ws = new (loadWs().WebSocket)(url, ["chat"]);
    const wsOpened = opened(ws);
    const response = await within(
      new Promise<{ headers: Record<string, unknown> }>((resolve) => ws.once("upgrade", resolve)),
      "101",
    );
    assert.equal(response.headers["sec-websocket-protocol"], "chat");
    assert.equal(response.headers["x-server"], "deno");
    await wsOpened;
    ws.close(1000);
    await wsClosed(ws);
  } finally {
    await stop();
  }
});

const BYE: CloseInfo = { code: 4000, reason: "bye", wasClean: true };

test("ServerChannel.close sends 4000 bye, seen on both ends", { skip }, async () => {
  const { stop, accepted, url } = serve();
  try {
    const client = await connect(url);
    const channel = await accepted();
    channel.close(4000, "bye");
    assert.deepEqual(await within(client.closed, "client close"), BYE);
    assert.deepEqual(await within(channel.closed, "server close"), BYE);
    await assert.rejects(channel.writable.getWriter().write("late"), { closeCode: 4000 });
    assert.throws(() => channel.close(1006), RangeError);
  } finally {
    await stop();
  }
});

test("client close with 4000 bye is seen on both ends", { skip }, async () => {
  const { stop, accepted, url } = serve();
  try {
    const client = await connect(url);
    const channel = await accepted();
    client.close(4000, "bye");
    assert.deepEqual(await within(client.closed, "client close"), BYE);
    assert.deepEqual(await within(channel.closed, "server close"), BYE);
    assert.deepEqual(await take(channel, 1), []);
  } finally {
    await stop();
  }
});

test("ServerChannel.ping rejects: Deno's WebSocket cannot ping", { skip }, async () => {
  const { stop, accepted, url } = serve();
  try {
    const client = await connect(url);
    const channel = await accepted();
    await assert.rejects(channel.ping(), /Deno's WebSocket has no ping API/);
    client.close(1000);
    await within(channel.closed, "server close");
  } finally {
    await stop();
  }
});

test("upgrade lets onUpgrade refuse with 401", { skip }, async () => {
  const { stop, url } = serve({
    onUpgrade: (request, info) => {
      assert.equal(info.remoteAddress.transport, "tcp");
      if (request.headers.get("authorization") !== "Bearer ok") {
        return new Response("who are you?", { status: 401 });
      }
    },
  });
  try {
    await assert.rejects(
      connect(url),
      (error) =>
        error instanceof HandshakeError && error.status === 401 &&
        error.message.includes("who are you?"),
    );
  } finally {
    await stop();
  }
});

test("upgrade refuses a wrong version with 426, and a plain request too", { skip }, async () => {
  const { stop, port, errors } = serve();
  try {
    const answer = await within(
      new Promise<string>((resolve, reject) => {
        const socket = tcpConnect({ host: "127.0.0.1", port }, () => {
          socket.write(
            "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
          );
        });
        let text = "";
        socket.on("data", (chunk) => {
          text += chunk.toString("latin1");
          if (text.includes("only 13 is supported")) socket.destroy();
        });
        socket.on("close", () => resolve(text));
        socket.on("error", reject);
      }),
      "answer",
    );
    assert.match(answer, /^HTTP\/1\.1 426 /);
    assert.match(answer, /\r\nsec-websocket-version: 13\r\n/i);
    const plain = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(plain.status, 426);
    assert.equal(plain.headers.get("upgrade"), "websocket");
    await plain.body?.cancel();
    assert.deepEqual(errors, []);
  } finally {
    await stop();
  }
});

test("upgrade hands plain requests to fetch when given", { skip }, async () => {
  const { stop, port } = serve({ fetch: () => new Response("plain answer") });
  try {
    const plain = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(await plain.text(), "plain answer");
  } finally {
    await stop();
  }
});

test("upgrade's maxMessageSize closes with 1009, counted in UTF-8 for text", { skip }, async () => {
  const servers = [serve({ maxMessageSize: 1000 }, echo), serve({ maxMessageSize: 1000 }, echo)];
  try {
    for (const [i, tooBig] of [new Uint8Array(1001), "\u00e9".repeat(501)].entries()) {
      const { url, accepted } = servers[i]!;
      const client = await connect(url);
      const writer = client.writable.getWriter();
      await writer.write(new Uint8Array(1000));
      await writer.write("\u00e9".repeat(500));
      assert.equal((await take(client, 2)).length, 2);
      await writer.write(tooBig);
      const info = await within(client.closed, "client close");
      assert.equal(info.code, 1009);
      assert.match(info.reason, /over 1000 bytes/);
      assert.deepEqual(await within((await accepted()).closed, "server close"), {
        ...info,
        wasClean: false,
      });
    }
  } finally {
    for (const { stop } of servers) await stop();
  }
});

test("ServerChannel.readable closes with 1008 once its queue is full", { skip }, async () => {
  const { stop, accepted, url } = serve({ readableHighWaterMark: 64 * 1024 });
  try {
    const ws = new (loadWs().WebSocket)(url);
    await opened(ws);
    const channel = await accepted();
    const closed = wsClosed(ws);
    // Nobody reads: 16 messages of 4 KiB fill the queue, the 17th overflows it.
    for (let i = 0; i < 16; i++) ws.send(new Uint8Array(4096));
    assert.equal(await Promise.race([channel.closed, delay(200)]), undefined);
    ws.send(new Uint8Array(4096));
    const info = await within(channel.closed, "server close");
    assert.deepEqual(info, {
      code: 1008,
      reason: "Cannot receive message: too many messages wait unread",
      wasClean: false,
    });
    assert.deepEqual(await closed, { ...info, wasClean: true });
    // The 16 messages queued before the failure are still read, then the error.
    const reader = channel.readable.getReader();
    for (let i = 0; i < 16; i++) assert.equal((await reader.read()).value?.length, 4096);
    await assert.rejects(
      reader.read(),
      (error) => error instanceof ConnectionClosedError && error.closeCode === 1008,
    );
  } finally {
    await stop();
  }
});

test("ServerChannel.writable waits while Deno's bufferedAmount is high", { skip }, async () => {
  const { stop, accepted, url } = serve();
  try {
    const ws = new (loadWs().WebSocket)(url);
    let received = 0;
    ws.on("message", () => received++);
    await opened(ws);
    ws.pause();
    const channel = await accepted();
    const writer = channel.writable.getWriter();
    const chunk = new Uint8Array(256 * 1024);
    let written = 0;
    // Writes until one is still pending after 300 ms: the client is not reading.
    while (written < 1024) {
      const ready = await Promise.race([writer.ready.then(() => true), delay(300)]);
      if (ready !== true) break;
      writer.write(chunk).catch(() => {});
      written++;
    }
    console.log(`write backpressure: ${written * chunk.length} bytes written before waiting`);
    assert.ok(written < 1024, `${written} writes never waited`);
    ws.resume();
    await within(writer.ready, "ready");
    const started = performance.now();
    while (received < written && performance.now() - started < 5000) await delay(10);
    assert.equal(received, written);
    ws.close(1000);
    await within(channel.closed, "server close");
  } finally {
    await stop();
  }
});

test("upgrade refuses options Deno cannot honor with a 500 and a TypeError naming them", {
  skip,
}, async () => {
  for (const name of ["maxFrameSize", "maxFragments", "fragmentSize", "onPing", "onPong"]) {
    const { stop, url, errors } = serve({ [name]: name.startsWith("on") ? () => {} : 10 });
    try {
      await assert.rejects(
        connect(url),
        (error) => error instanceof HandshakeError && error.status === 500,
      );
      assert.equal(errors.length, 1);
      assert.ok(errors[0] instanceof TypeError);
      assert.ok(
        errors[0].message.startsWith(
          `Cannot upgrade request: option ${name} is not supported by Deno.serve (mode native)`,
        ),
        errors[0].message,
      );
    } finally {
      await stop();
    }
  }
});
