import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import type * as WsModule from "ws";
import { type CloseInfo, connect, HandshakeError, type ServerChannel } from "../../mod.ts";
import {
  type BunServer,
  type BunUpgradeOptions,
  createWebsocketHandler,
  upgrade,
  websocket,
  type WebsocketHandler,
} from "../../src/runtime/bun_serve.ts";

const skip = "Bun" in globalThis ? false : "needs Bun";

/** The slice of `Bun.serve` the tests use. */
interface BunServeApi {
  serve(options: {
    hostname: string;
    port: number;
    websocket: WebsocketHandler;
    fetch(request: Request, server: BunServer): Promise<Response | undefined>;
  }): { port: number; stop(closeActiveConnections?: boolean): void };
}

/** npm's ws, by file path: Bun's own `ws` module is a different client. */
function loadWs(): typeof WsModule {
  return createRequire(import.meta.url)("../../node_modules/ws/index.js");
}

/** Serves on a free loopback port; `accepted()` waits for the first connection. */
function serve(options: Partial<BunUpgradeOptions> = {}, handler = websocket) {
  let accept!: (channel: ServerChannel) => void;
  const accepted = new Promise<ServerChannel>((resolve) => accept = resolve);
  const errors: unknown[] = [];
  const bun = (globalThis as unknown as { Bun: BunServeApi }).Bun;
  const server = bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    websocket: handler,
    fetch: (request, server) =>
      upgrade(request, server, {
        onConnection: accept,
        onError: (error) => errors.push(error),
        ...options,
      }),
  });
  const url = `ws://127.0.0.1:${server.port}`;
  // Bounded only when awaited: tests that are refused never get a connection.
  return { server, accepted: () => within(accepted, "connection"), errors, url };
}

/** Rejects when the promise takes longer than `ms`. */
function within<T>(promise: Promise<T>, what: string, ms = 5000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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

function echo(channel: ServerChannel): void {
  channel.readable.pipeTo(channel.writable).catch(() => {});
}

test("upgrade echoes text, binary and 1 MiB messages to our client", { skip }, async () => {
  const { server, accepted, url } = serve();
  try {
    const client = await connect(url);
    const channel = await accepted();
    // A view sends only its own bytes, not its whole buffer.
    const view = crypto.getRandomValues(new Uint8Array(1024 * 1024).subarray(16, 65536));
    const mib = new Uint8Array(1024 * 1024).map((_, i) => i % 251);
    const writer = client.writable.getWriter();
    await writer.write("hello");
    await writer.write(new Uint8Array([1, 2, 3]));
    await writer.write(mib);
    await writer.write(view);
    const received = await take(channel, 4);
    assert.equal(received[0], "hello");
    // Binary arrives as a plain Uint8Array, not as Bun's Buffer.
    assert.equal(Object.getPrototypeOf(received[1]), Uint8Array.prototype);
    assert.deepEqual(received[1], new Uint8Array([1, 2, 3]));
    assert.deepEqual(received[2], mib);
    const serverWriter = channel.writable.getWriter();
    for (const message of received) await serverWriter.write(message as string | Uint8Array);
    assert.deepEqual(await take(client, 4), ["hello", new Uint8Array([1, 2, 3]), mib, view]);
    assert.equal(channel.remoteAddress.transport, "tcp");
    assert.equal(new URL(channel.request.url).host, new URL(url).host);
    client.close(1000);
    await within(client.closed, "close");
  } finally {
    server.stop(true);
  }
});

test("upgrade echoes text and binary to ws's client", { skip }, async () => {
  const { server, url } = serve({ onConnection: echo });
  try {
    const ws = new (loadWs().WebSocket)(url);
    const received: [string, boolean][] = [];
    const done = new Promise<void>((resolve) => {
      ws.on("message", (data, isBinary) => {
        received.push([Buffer.from(data as Buffer).toString("hex"), isBinary]);
        if (received.length === 2) resolve();
      });
    });
    await within(new Promise((resolve) => ws.once("open", resolve)), "open");
    ws.send("hi");
    ws.send(new Uint8Array([0xff, 0]));
    await within(done, "echo");
    assert.deepEqual(received, [["6869", false], ["ff00", true]]);
    ws.close();
  } finally {
    server.stop(true);
  }
});

test("upgrade agrees on the subprotocol selectProtocol picks", { skip }, async () => {
  const { server, accepted, url } = serve({
    selectProtocol: (offered) => offered.find((protocol) => protocol === "chat"),
    headers: { "X-Server": "bun" },
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
    const response = await within(
      new Promise<{ headers: Record<string, unknown> }>((resolve) => ws.once("upgrade", resolve)),
      "101",
    );
    assert.equal(response.headers["sec-websocket-protocol"], "chat");
    assert.equal(response.headers["x-server"], "bun");
    ws.terminate();
  } finally {
    server.stop(true);
  }
});

const BYE: CloseInfo = { code: 4000, reason: "bye", wasClean: true };

test("ServerChannel.close sends 4000 bye, seen on both ends", { skip }, async () => {
  const { server, accepted, url } = serve();
  try {
    const client = await connect(url);
    const channel = await accepted();
    channel.close(4000, "bye");
    assert.deepEqual(await within(channel.closed, "server close"), BYE);
    assert.deepEqual(await within(client.closed, "client close"), BYE);
    await assert.rejects(channel.writable.getWriter().write("late"), { closeCode: 4000 });
  } finally {
    server.stop(true);
  }
});

test("client close with 4000 bye is seen on both ends", { skip }, async () => {
  const { server, accepted, url } = serve();
  try {
    const client = await connect(url);
    const channel = await accepted();
    client.close(4000, "bye");
    assert.deepEqual(await within(client.closed, "client close"), BYE);
    assert.deepEqual(await within(channel.closed, "server close"), BYE);
    assert.deepEqual(await take(channel, 1), []);
  } finally {
    server.stop(true);
  }
});

test("ServerChannel.ping resolves with the round-trip time", { skip }, async () => {
  const { server, accepted, url } = serve();
  try {
    const client = await connect(url);
    const channel = await accepted();
    const roundTrip = await within(channel.ping(), "pong");
    assert.ok(roundTrip >= 0 && roundTrip < 5000, String(roundTrip));
    assert.ok(await within(channel.ping(new Uint8Array([7, 7])), "pong") >= 0);
    await assert.rejects(channel.ping(new Uint8Array(126)), RangeError);
    client.close(1000);
    await within(channel.closed, "close");
    await assert.rejects(channel.ping(), { closeCode: 1000 });
  } finally {
    server.stop(true);
  }
});

test("upgrade lets onUpgrade refuse with 401", { skip }, async () => {
  const { server, url } = serve({
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
    server.stop(true);
  }
});

test("upgrade refuses a wrong version with 426", { skip }, async () => {
  const { server, url, errors } = serve();
  try {
    const ws = new (loadWs().WebSocket)(url, { protocolVersion: 8 });
    ws.on("error", () => {});
    const response = await within(
      new Promise<{ statusCode?: number | undefined; headers: Record<string, unknown> }>(
        (resolve) => {
          ws.on("unexpected-response", (_request, response) => resolve(response));
        },
      ),
      "response",
    );
    assert.equal(response.statusCode, 426);
    assert.equal(response.headers["sec-websocket-version"], "13");
    ws.terminate();
    assert.deepEqual(errors, []);
  } finally {
    server.stop(true);
  }
});

test("createWebsocketHandler's maxMessageSize closes with 1009", { skip }, async () => {
  const { server, accepted, url } = serve({}, createWebsocketHandler({ maxMessageSize: 1024 }));
  try {
    const client = await connect(url);
    const channel = await accepted();
    const writer = client.writable.getWriter();
    await writer.write(new Uint8Array(1024));
    await writer.write(new Uint8Array(1025)).catch(() => {});
    assert.equal((await within(client.closed, "client close")).code, 1009);
    // Bun reports a connection it failed itself as 1006.
    assert.deepEqual(await within(channel.closed, "server close"), {
      code: 1006,
      reason: "Received too big message",
      wasClean: false,
    });
  } finally {
    server.stop(true);
  }
});

test("ServerChannel.readable pauses Bun's socket while unread", { skip }, async () => {
  const { server, accepted, url } = serve({ readableHighWaterMark: 64 * 1024 });
  try {
    const ws = new (loadWs().WebSocket)(url);
    await within(new Promise((resolve) => ws.once("open", resolve)), "open");
    const channel = await accepted();
    const size = 64 * 1024;
    const count = 512; // 32 MiB
    for (let i = 0; i < count; i++) {
      const message = new Uint8Array(size);
      new DataView(message.buffer).setUint32(0, i);
      ws.send(message);
    }
    await delay(500);
    // What left the client: the server's queue plus the kernel's buffers.
    const taken = size * count - ws.bufferedAmount;
    console.log(`read backpressure: ${taken} of ${size * count} bytes taken while unread`);
    assert.ok(taken < 16 * 1024 * 1024, `${taken} bytes taken`);
    let next = 0;
    const reader = channel.readable.getReader();
    while (next < count) {
      const { value } = await within(reader.read(), `message ${next}`);
      assert.ok(value instanceof Uint8Array && value.byteLength === size);
      assert.equal(new DataView(value.buffer, value.byteOffset).getUint32(0), next++);
    }
    ws.close();
  } finally {
    server.stop(true);
  }
});

test("ServerChannel.writable waits while the client does not read", { skip }, async () => {
  const { server, accepted, url } = serve();
  try {
    const client = await connect(url);
    const channel = await accepted();
    const writer = channel.writable.getWriter();
    const size = 1024 * 1024;
    let written = 0;
    // Write until writer.ready stays pending: the client reads nothing meanwhile.
    for (; written < 256; written++) {
      const ready = await Promise.race([writer.ready.then(() => true), delay(300)]);
      if (!ready) break;
      const message = new Uint8Array(size);
      new DataView(message.buffer).setUint32(0, written);
      writer.write(message).catch(() => {});
    }
    console.log(`write backpressure: ${written} MiB written before writer.ready waited`);
    assert.ok(written < 64, `${written} MiB written`);
    const reader = client.readable.getReader();
    for (let i = 0; i < written; i++) {
      const { value } = await within(reader.read(), `message ${i}`);
      assert.ok(value instanceof Uint8Array && value.byteLength === size);
      assert.equal(new DataView(value.buffer, value.byteOffset).getUint32(0), i);
    }
    await within(writer.ready, "ready");
    client.close(1000);
    await within(channel.closed, "close");
  } finally {
    server.stop(true);
  }
});

test(
  "upgrade refuses options Bun cannot honor per request with a 500 and a TypeError naming them",
  {
    skip,
  },
  async () => {
    for (
      const name of [
        "maxFrameSize",
        "maxFragments",
        "fragmentSize",
        "maxMessageSize",
        "idleTimeout",
      ]
    ) {
      const { server, url, errors } = serve({ [name]: 10 });
      try {
        await assert.rejects(
          connect(url),
          (error) => error instanceof HandshakeError && error.status === 500,
        );
        assert.equal(errors.length, 1);
        assert.ok(errors[0] instanceof TypeError);
        assert.ok(
          errors[0].message.startsWith(
            `Cannot upgrade request: option ${name} is not supported by Bun.serve (mode native)`,
          ),
          errors[0].message,
        );
      } finally {
        server.stop(true);
      }
    }
  },
);

test("upgrade reports pings and pongs to onPing and onPong, and pong() sends one", {
  skip,
}, async () => {
  const pings: number[][] = [];
  const pongs: number[][] = [];
  const { server, url, accepted } = serve({
    onPing: (payload) => pings.push([...payload]),
    onPong: (payload) => pongs.push([...payload]),
  });
  const clientPongs: number[][] = [];
  try {
    const client = await connect(url, { onPong: (payload) => clientPongs.push([...payload]) });
    const channel = await accepted();
    await client.ping(new Uint8Array([1, 2]));
    await channel.ping(new Uint8Array([3]));
    channel.pong(new Uint8Array([4]));
    await delay(50);
    assert.deepEqual(pings, [[1, 2]]);
    assert.deepEqual(pongs, [[3]]);
    assert.deepEqual(clientPongs, [[1, 2], [4]]);
    client.close(1000);
    await within(client.closed, "close");
  } finally {
    server.stop(true);
  }
});

test("upgrade agrees on no subprotocol when selectProtocol picks none of the offers", {
  skip,
}, async () => {
  const { server, url, accepted } = serve({ selectProtocol: () => undefined });
  try {
    const client = await connect(url, { protocols: ["c", "echo"] });
    const channel = await accepted();
    assert.equal(client.protocol, "");
    assert.equal(channel.protocol, "");
    client.close(1000);
    await within(client.closed, "close");
  } finally {
    server.stop(true);
  }
});
