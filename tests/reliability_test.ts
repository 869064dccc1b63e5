import { test } from "node:test";
import assert from "node:assert/strict";
import {
  connect,
  ConnectionClosedError,
  HandshakeError,
  LimitError,
  listen,
  type ListenOptions,
  serve,
  type ServerChannel,
  TimeoutError,
} from "../mod.ts";
import { closeCodeOf, decodeFrames, textFrame } from "./conformance/_harness.ts";
import { rawPeer } from "./_raw_peer.ts";
import { delay, handshakeThen, within } from "./_servers.ts";

/** Starts a server that hands its connections to the test; returns it and them. */
async function server(options: Partial<ListenOptions> = {}) {
  const channels: ServerChannel[] = [];
  const waiting: ((channel: ServerChannel) => void)[] = [];
  const errors: unknown[] = [];
  const listener = await listen(
    { hostname: "127.0.0.1", port: 0, onError: (error) => errors.push(error), ...options },
    (channel) => {
      const next = waiting.shift();
      if (next === undefined) channels.push(channel);
      else next(channel);
    },
  );
  const nextChannel = () =>
    within(
      channels.length > 0
        ? Promise.resolve(channels.shift()!)
        : new Promise<ServerChannel>((resolve) => waiting.push(resolve)),
      "server connection",
    );
  return { listener, nextChannel, errors, url: `ws://127.0.0.1:${listener.port}` };
}

/** The close codes in the close frames a server sent. */
function closeCodesSent(bytes: Uint8Array): (number | undefined)[] {
  return decodeFrames("server", bytes).filter((frame) => frame.opcode === 0x8).map(closeCodeOf);
}

test("a server refuses an upgrade past maxConnections with 503, and admits again once one closes", async () => {
  const { listener, nextChannel } = await server({ maxConnections: 2 });
  try {
    const first = await connect(`ws://127.0.0.1:${listener.port}`);
    const second = await connect(`ws://127.0.0.1:${listener.port}`);
    await nextChannel();
    await nextChannel();
    assert.equal(listener.connections.size, 2);
    const refused = await connect(`ws://127.0.0.1:${listener.port}`).then(
      () => assert.fail("a third connection was accepted"),
      (error: unknown) => error,
    );
    assert.ok(refused instanceof HandshakeError);
    assert.equal(refused.status, 503);
    first.close(1000);
    await within(first.closed, "first close");
    for (let i = 0; i < 50 && listener.connections.size > 1; i++) await delay(10);
    const third = await connect(`ws://127.0.0.1:${listener.port}`);
    await nextChannel();
    second.close(1000);
    third.close(1000);
    await within(Promise.all([second.closed, third.closed]), "closes");
  } finally {
    await listener.shutdown(1000);
  }
});

test("a server rejects maxConnections that is not a whole number of at least 1", async () => {
  for (const maxConnections of [0, -1, 1.5, Number.NaN]) {
    await assert.rejects(
      listen({ hostname: "127.0.0.1", port: 0, maxConnections }, () => {}),
      RangeError,
    );
  }
});

test("the heartbeat pings a silent peer, measures the round trip as latency, and keeps it open", async () => {
  const { listener, nextChannel } = await server({ idleTimeout: 0.1 });
  try {
    const client = await connect(`ws://127.0.0.1:${listener.port}`, { idleTimeout: 0 });
    const channel = await nextChannel();
    assert.equal(channel.latency, undefined);
    for (let i = 0; i < 100 && channel.latency === undefined; i++) await delay(20);
    assert.equal(typeof channel.latency, "number");
    assert.ok(channel.latency! >= 0 && channel.latency! < 1000, `latency ${channel.latency}`);
    await delay(300);
    const writer = client.writable.getWriter();
    await writer.write("still here");
    assert.deepEqual(await within(channel.readable.getReader().read(), "message"), {
      value: "still here",
      done: false,
    });
    const rtt = await client.ping();
    assert.equal(client.latency, rtt);
    client.close(1000);
    assert.equal((await within(channel.closed, "close")).code, 1000);
  } finally {
    await listener.shutdown(1000);
  }
});

test("the heartbeat closes with 1001 a peer that does not answer its ping, then cuts it off", async () => {
  const { listener, nextChannel } = await server({ idleTimeout: 0.1, closeTimeout: 100 });
  try {
    const peer = await rawPeer(listener.port);
    const channel = await nextChannel();
    const reading = channel.readable.getReader().read().then(
      () => assert.fail("the read resolved"),
      (error: unknown) => error,
    );
    const info = await within(channel.closed, "close", 3000);
    assert.equal(info.code, 1006);
    assert.equal(info.wasClean, false);
    await within(peer.ended, "end of the socket");
    // A ping, then a close frame with 1001.
    const frames = decodeFrames("server", peer.received());
    assert.equal(frames[0]?.opcode, 0x9);
    assert.deepEqual(closeCodesSent(peer.received()), [1001]);
    const error = await reading;
    assert.ok(error instanceof ConnectionClosedError);
    assert.ok(error.cause instanceof TimeoutError, String(error.cause));
  } finally {
    await listener.shutdown(1000);
  }
});

test("a peer that never answers a close frame is cut off after closeTimeout with a TimeoutError", async () => {
  const { listener, nextChannel } = await server({ idleTimeout: 0, closeTimeout: 150 });
  try {
    const peer = await rawPeer(listener.port);
    const channel = await nextChannel();
    const reading = channel.readable.getReader().read().catch((error: unknown) => error);
    const started = performance.now();
    channel.close(1000, "bye");
    const info = await within(channel.closed, "close", 3000);
    assert.ok(performance.now() - started >= 140);
    assert.equal(info.code, 1006);
    await within(peer.ended, "end of the socket");
    assert.deepEqual(closeCodesSent(peer.received()), [1000]);
    const error = await reading;
    assert.ok(error instanceof ConnectionClosedError);
    assert.ok(error.cause instanceof TimeoutError);
    assert.equal(error.cause.option, "closeTimeout");
  } finally {
    await listener.shutdown(1000);
  }
});

test("onQueueFull close sends 1008 after the write in flight once maxQueuedBytes wait, then cuts off a peer that does not answer", async () => {
  const limit = 4 * 1024 * 1024;
  const { listener, nextChannel } = await server({
    maxQueuedBytes: limit,
    onQueueFull: "close",
    closeTimeout: 1000,
  });
  try {
    const peer = await rawPeer(listener.port);
    peer.socket.pause();
    const channel = await nextChannel();
    const writer = channel.writable.getWriter();
    const chunk = new Uint8Array(256 * 1024);
    const writes: Promise<unknown>[] = [];
    // Writes that do not wait: 32 MiB that the peer does not read.
    for (let i = 0; i < 128; i++) writes.push(writer.write(chunk).catch((error) => error));
    await new Promise((resolve) => setTimeout(resolve, 100));
    // The peer reads at last: what was handed over, then the close frame; it never answers.
    peer.socket.resume();
    const outcomes = await within(Promise.all(writes), "writes settled");
    const failed = outcomes.filter((outcome) => outcome instanceof Error);
    assert.ok(failed.length > 0);
    const first = failed[0] as ConnectionClosedError;
    assert.ok(first instanceof ConnectionClosedError, String(first));
    assert.ok(first.cause instanceof LimitError, String(first.cause));
    assert.equal(first.cause.option, "maxQueuedBytes");
    assert.equal(first.cause.limit, limit);
    const info = await within(channel.closed, "close", 5000);
    assert.equal(info.code, 1006);
    await within(peer.ended, "end of the socket");
    assert.deepEqual(closeCodesSent(peer.received()), [1008]);
    // Far less than the 32 MiB written reached the peer: the queue was dropped.
    assert.ok(peer.received().byteLength < 16 * 1024 * 1024, `${peer.received().byteLength}`);
  } finally {
    await listener.shutdown(1000);
  }
});

test("onQueueFull wait, the default, keeps a slow peer and delivers everything once it reads", async () => {
  const { listener, nextChannel } = await server({ maxQueuedBytes: 64 * 1024 });
  try {
    const client = await connect(`ws://127.0.0.1:${listener.port}`);
    const channel = await nextChannel();
    const writer = channel.writable.getWriter();
    const chunk = new Uint8Array(64 * 1024).fill(7);
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 64; i++) writes.push(writer.write(chunk));
    await delay(100);
    const reader = client.readable.getReader();
    let bytes = 0;
    for (let i = 0; i < 64; i++) {
      const { value } = await within(reader.read(), "message");
      bytes += (value as Uint8Array).byteLength;
    }
    await within(Promise.all(writes), "writes");
    assert.equal(bytes, 64 * 64 * 1024);
    client.close(1000);
    assert.equal((await within(channel.closed, "close")).code, 1000);
  } finally {
    await listener.shutdown(1000);
  }
});

test("shutdown closes every connection with 1001, waits for the handshakes, and cuts off the rest", async () => {
  const { listener, nextChannel } = await server({ idleTimeout: 0 });
  const client = await connect(`ws://127.0.0.1:${listener.port}`);
  const polite = await nextChannel();
  const peer = await rawPeer(listener.port);
  const silent = await nextChannel();
  const silentRead = silent.readable.getReader().read().catch((error: unknown) => error);
  const started = performance.now();
  await within(listener.shutdown(300), "shutdown");
  const took = performance.now() - started;
  assert.ok(took >= 290 && took < 3000, `took ${took} ms`);
  assert.deepEqual(await client.closed, {
    code: 1001,
    reason: "Server shutting down",
    wasClean: true,
  });
  assert.equal((await polite.closed).code, 1001);
  assert.equal((await silent.closed).code, 1006);
  const error = await silentRead;
  assert.ok(error instanceof ConnectionClosedError);
  assert.ok(error.cause instanceof TimeoutError);
  assert.equal(error.cause.option, "shutdown");
  await within(peer.ended, "end of the silent socket");
  assert.deepEqual(closeCodesSent(peer.received()), [1001]);
  assert.equal(listener.connections.size, 0);
  await assert.rejects(connect(`ws://127.0.0.1:${listener.port}`, { handshakeTimeout: 2000 }));
});

test("close leaves open connections open, and shutdown afterwards still closes them", async () => {
  const { listener, nextChannel } = await server();
  const client = await connect(`ws://127.0.0.1:${listener.port}`);
  const channel = await nextChannel();
  await listener.close();
  await channel.writable.getWriter().write("after close");
  assert.deepEqual(await within(client.readable.getReader().read(), "message"), {
    value: "after close",
    done: false,
  });
  await within(listener.shutdown(1000), "shutdown");
  assert.equal((await client.closed).code, 1001);
});

test("serve refuses an upgrade past maxConnections with 503 on the runtime's own server", async () => {
  const server = await serve({
    hostname: "127.0.0.1",
    port: 0,
    maxConnections: 1,
    onConnection: () => {},
  });
  try {
    const url = `ws://127.0.0.1:${server.port}`;
    const first = await connect(url);
    await assert.rejects(
      connect(url),
      (error) => error instanceof HandshakeError && error.status === 503,
    );
    assert.equal(server.connections.size, 1);
    first.close(1000);
    await within(first.closed, "close");
  } finally {
    await server.shutdown(1000);
  }
});

test("serve's shutdown closes its connections with 1001 and stops accepting", async () => {
  const server = await serve({
    hostname: "127.0.0.1",
    port: 0,
    onConnection: (channel) => channel.readable.pipeTo(channel.writable).catch(() => {}),
  });
  const url = `ws://127.0.0.1:${server.port}`;
  const clients = [await connect(url), await connect(url)];
  for (let i = 0; i < 100 && server.connections.size < 2; i++) await delay(10);
  await within(server.shutdown(2000), "shutdown");
  for (const client of clients) assert.equal((await client.closed).code, 1001);
  assert.equal(server.connections.size, 0);
  await assert.rejects(connect(url, { handshakeTimeout: 2000 }));
});

test("messages received before a connection fails are still read, then the readable errors", async () => {
  // Three text messages, "m0" to "m2", then the server drops the connection without a close frame.
  const server = await handshakeThen((socket) => {
    socket.write(new Uint8Array([0x81, 2, 0x6d, 0x30, 0x81, 2, 0x6d, 0x31, 0x81, 2, 0x6d, 0x32]));
    setTimeout(() => socket.destroy(), 20);
  });
  try {
    const client = await connect(server.url, { closeTimeout: 100 });
    // Read only once the connection has failed.
    const info = await within(client.closed, "close");
    assert.equal(info.code, 1006);
    const reader = client.readable.getReader();
    const read: unknown[] = [];
    for (let i = 0; i < 3; i++) read.push((await within(reader.read(), "message")).value);
    assert.deepEqual(read, ["m0", "m1", "m2"]);
    await assert.rejects(reader.read(), ConnectionClosedError);
  } finally {
    await server.close();
  }
});

test("serve refuses the queue and oversize options on a runtime server that cannot honor them", async () => {
  const native = "Deno" in globalThis || "Bun" in globalThis;
  for (
    const option of [
      { maxQueuedBytes: 1024 },
      { onQueueFull: "close" as const },
      { onOversizedMessage: () => {} },
    ]
  ) {
    const name = Object.keys(option)[0]!;
    const started = serve({ hostname: "127.0.0.1", port: 0, onConnection: () => {}, ...option });
    if (native) {
      await assert.rejects(
        started,
        (error: unknown) =>
          error instanceof TypeError && error.message.includes(`option ${name} is not supported`),
      );
    } else {
      await (await started).shutdown(1000);
    }
  }
});

test("a server channel reads the messages a client sent before it dropped, then errors", async () => {
  let resolveChannel!: (channel: ServerChannel) => void;
  const accepted = new Promise<ServerChannel>((resolve) => resolveChannel = resolve);
  const server = await serve({
    hostname: "127.0.0.1",
    port: 0,
    closeTimeout: 200,
    onConnection: resolveChannel,
  });
  try {
    const peer = await rawPeer(server.port);
    const channel = await within(accepted, "server connection");
    // Three masked text messages, then the socket is destroyed without a close frame.
    for (const text of ["m0", "m1", "m2"]) peer.socket.write(textFrame("server", text));
    await delay(100);
    peer.socket.destroy();
    const info = await within(channel.closed, "close");
    assert.equal(info.wasClean, false);
    const reader = channel.readable.getReader();
    const read: unknown[] = [];
    for (let i = 0; i < 3; i++) read.push((await within(reader.read(), "message")).value);
    assert.deepEqual(read, ["m0", "m1", "m2"]);
    await assert.rejects(reader.read(), ConnectionClosedError);
  } finally {
    await server.shutdown(1000);
  }
});
