import { test } from "node:test";
import assert from "node:assert/strict";
import { type Channel, type ChannelOptions, fromByteStreams } from "../../mod.ts";
import { encodeFrame, type Frame, FrameParser, OPCODE } from "../../src/codec/mod.ts";
import { ConnectionClosedError } from "../../src/errors.ts";

/** A client and a server channel joined by two in-memory byte pipes. */
function pair(
  clientOptions: Partial<ChannelOptions> = {},
  serverOptions: Partial<ChannelOptions> = {},
): { client: Channel; server: Channel } {
  const toServer = new TransformStream<Uint8Array, Uint8Array>();
  const toClient = new TransformStream<Uint8Array, Uint8Array>();
  const client = fromByteStreams(
    { readable: toClient.readable, writable: toServer.writable },
    { role: "client", ...clientOptions },
  );
  const server = fromByteStreams(
    { readable: toServer.readable, writable: toClient.writable },
    { role: "server", ...serverOptions },
  );
  return { client, server };
}

/** A server channel whose peer is driven by hand: raw frames in, written frames decoded. */
function rawPeer(options: Partial<ChannelOptions> = {}) {
  const toServer = new TransformStream<Uint8Array, Uint8Array>();
  const frames: Frame[] = [];
  const parser = new FrameParser({ role: "client" });
  let reads = 0;
  const server = fromByteStreams({
    readable: toServer.readable.pipeThrough(
      new TransformStream({
        transform(chunk, controller) {
          reads++;
          controller.enqueue(chunk);
        },
      }),
    ),
    writable: new WritableStream({
      write: (bytes) => parser.push(bytes, (frame) => frames.push(frame)),
    }),
  }, { role: "server", ...options });
  const peer = toServer.writable.getWriter();
  const send = (frame: Frame) => peer.write(encodeFrame(frame, { mask: true }));
  return { server, frames, peer, send, reads: () => reads };
}

const text = (s: string): Frame => ({
  fin: true,
  opcode: OPCODE.Text,
  payload: new TextEncoder().encode(s),
});
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

test("fromByteStreams carries text and binary both ways and closes cleanly", async () => {
  const { client, server } = pair();
  const serverWriter = server.writable.getWriter();
  const clientWriter = client.writable.getWriter();
  await clientWriter.write("from client");
  await clientWriter.write(new Uint8Array([1, 2, 3]));
  await serverWriter.write("from server");
  const serverReader = server.readable.getReader();
  assert.deepEqual(await serverReader.read(), { value: "from client", done: false });
  assert.deepEqual(await serverReader.read(), { value: new Uint8Array([1, 2, 3]), done: false });
  const clientReader = client.readable.getReader();
  assert.deepEqual(await clientReader.read(), { value: "from server", done: false });

  server.close(4000, "bye");
  assert.deepEqual(await client.closed, { code: 4000, reason: "bye", wasClean: true });
  assert.deepEqual(await server.closed, { code: 4000, reason: "bye", wasClean: true });
  assert.deepEqual(await clientReader.read(), { value: undefined, done: true });
  assert.deepEqual(await serverReader.read(), { value: undefined, done: true });
});

test("fromByteStreams writable accepts an ArrayBuffer and any view, and refuses other values", async () => {
  const { client, server } = pair();
  const writer = client.writable.getWriter();
  await writer.write(new Uint16Array([0x0201]).buffer);
  await writer.write(new DataView(new Uint8Array([9, 8, 7]).buffer, 1, 2));
  const reader = server.readable.getReader();
  assert.deepEqual((await reader.read()).value, new Uint8Array([0x01, 0x02]));
  assert.deepEqual((await reader.read()).value, new Uint8Array([8, 7]));
  await assert.rejects(writer.write(42 as unknown as string), TypeError);
});

test("fromByteStreams writes after close reject with ConnectionClosedError", async () => {
  const { client } = pair();
  client.close(1000);
  await assert.rejects(
    client.writable.getWriter().write("late"),
    (error) => error instanceof ConnectionClosedError && error.closeCode === 1000,
  );
});

test("fromByteStreams answers pings and ping() resolves with the round-trip time", async () => {
  const { client, server } = pair();
  const roundTrip = await client.ping(new Uint8Array([7]));
  assert.equal(typeof roundTrip, "number");
  assert.ok(roundTrip >= 0);
  // A ping with no payload gets a unique one; several in flight all resolve.
  const times = await Promise.all([server.ping(), server.ping(), server.ping()]);
  assert.equal(times.length, 3);
  client.close(1000);
  await server.closed;
});

test("fromByteStreams rejects pending pings with ConnectionClosedError when the connection ends", async () => {
  const { server, peer } = rawPeer();
  const pending = server.ping(new Uint8Array([1]));
  await peer.close(); // the transport ends without a pong
  await assert.rejects(
    pending,
    (error) => error instanceof ConnectionClosedError && error.closeCode === 1006,
  );
  assert.deepEqual(await server.closed, { code: 1006, reason: "", wasClean: false });
});

test("fromByteStreams reports 1006 and errors readable when the transport ends mid-stream", async () => {
  const { server, peer, send } = rawPeer();
  await send(text("one"));
  await peer.close();
  const reader = server.readable.getReader();
  assert.deepEqual(await reader.read(), { value: "one", done: false });
  await assert.rejects(
    reader.read(),
    (error) => error instanceof ConnectionClosedError && error.closeCode === 1006,
  );
  assert.deepEqual(await server.closed, { code: 1006, reason: "", wasClean: false });
});

test("fromByteStreams fails with 1002 on a protocol violation and writes the close frame", async () => {
  const { server, frames, send } = rawPeer();
  await send({ fin: true, opcode: 0x3, payload: new Uint8Array() });
  const info = await server.closed;
  assert.equal(info.code, 1002);
  assert.equal(info.wasClean, false);
  const close = frames.at(-1);
  assert.equal(close?.opcode, OPCODE.Close);
  assert.equal((close!.payload[0]! << 8) | close!.payload[1]!, 1002);
});

test("fromByteStreams cuts the connection off with 1006 when the peer never answers a close", async () => {
  const { server, frames } = rawPeer({ closeTimeout: 30 });
  const started = performance.now();
  server.close(1000, "going");
  assert.deepEqual(await server.closed, { code: 1006, reason: "", wasClean: false });
  assert.ok(performance.now() - started >= 25);
  assert.equal(frames.at(-1)?.opcode, OPCODE.Close);
});

test("fromByteStreams stops reading the transport while readable is full", async () => {
  const { server, send, reads } = rawPeer({ readableHighWaterMark: 4096 });
  const payload = new Uint8Array(1024);
  const writes: Promise<void>[] = [];
  for (let i = 0; i < 64; i++) {
    writes.push(send({ fin: true, opcode: OPCODE.Binary, payload }));
  }
  for (let i = 0; i < 20; i++) await tick();
  // Messages wait in readable up to its high-water mark, then reading stops.
  const readBeforeConsuming = reads();
  assert.ok(readBeforeConsuming >= 4 && readBeforeConsuming <= 6, `read ${readBeforeConsuming}`);
  const reader = server.readable.getReader();
  for (let i = 0; i < 64; i++) assert.equal((await reader.read()).value?.length, 1024);
  assert.equal(reads(), 64);
  await Promise.all(writes);
});

/** A server channel over a transport whose writes wait until `release()`; records their sizes. */
function blockedTransport() {
  let release!: () => void;
  const blocked = new Promise<void>((resolve) => release = resolve);
  const writes: number[] = [];
  const channel = fromByteStreams({
    readable: new ReadableStream(),
    writable: new WritableStream<Uint8Array>({
      async write(chunk) {
        writes.push(chunk.length);
        await blocked;
      },
    }, { highWaterMark: 1 }),
  }, { role: "server" });
  return { channel, writes, release };
}

test("fromByteStreams joins the frames written while a transport write is in flight", async () => {
  const { channel, writes, release } = blockedTransport();
  const writer = channel.writable.getWriter();
  await writer.write("one"); // handed to the transport, which is now busy
  await writer.write("two");
  await writer.write("three");
  assert.deepEqual(writes, [5]);
  release();
  await tick();
  assert.deepEqual(writes, [5, 5 + 7], "two and three go out in one write");
});

test("fromByteStreams makes writes wait once 64 KiB wait for the transport", async () => {
  const { channel, writes, release } = blockedTransport();
  const writer = channel.writable.getWriter();
  const text = "x".repeat(10_000); // a frame of 10,004 bytes
  await writer.write(text); // in flight
  for (let i = 0; i < 6; i++) await writer.write(text); // 60,024 bytes wait
  const seventh = writer.write(text); // 70,028 bytes wait: over the limit
  let done = false;
  seventh.then(() => done = true);
  await tick();
  assert.equal(done, false, "the write resolved while 64 KiB were waiting");
  assert.ok((writer.desiredSize ?? 0) <= 0, "writer.ready should wait");
  release();
  await seventh;
  assert.equal(writes.reduce((sum, n) => sum + n, 0), 8 * 10_004);
});

test("fromByteStreams makes a server's uncopied binary write wait until the transport took it", async () => {
  const { channel, release } = blockedTransport();
  const writer = channel.writable.getWriter();
  const big = new Uint8Array(64 * 1024);
  const write = writer.write(big);
  let done = false;
  write.then(() => done = true);
  await tick();
  assert.equal(done, false, "the caller could change bytes not yet written");
  release();
  await write;
});

test("fromByteStreams cancelling readable starts the closing handshake with 1000", async () => {
  const { server, frames } = rawPeer({ closeTimeout: 30 });
  await server.readable.cancel();
  await server.closed;
  const close = frames.at(-1);
  assert.equal(close?.opcode, OPCODE.Close);
  assert.equal((close!.payload[0]! << 8) | close!.payload[1]!, 1000);
});

test("fromByteStreams closes the writable side by sending close 1000 and waiting for closed", async () => {
  const { client, server } = pair();
  await client.writable.close();
  assert.deepEqual(await client.closed, { code: 1000, reason: "", wasClean: true });
  assert.equal((await server.closed).code, 1000);
});

test("fromByteStreams exposes the handshake's protocol and extensions", () => {
  const { client, server } = pair({ protocol: "chat" }, { protocol: "chat", extensions: "x" });
  assert.equal(client.protocol, "chat");
  assert.equal(client.extensions, "");
  assert.equal(server.extensions, "x");
});

test("fromByteStreams rejects a negative closeTimeout", () => {
  assert.throws(() => pair({ closeTimeout: -1 }), RangeError);
});

test("fromByteStreams reports pings and pongs to onPing and onPong, and pong() sends an unsolicited pong", async () => {
  const pings: number[][] = [];
  const pongs: number[][] = [];
  const { client, server } = pair(
    { onPong: (payload) => pongs.push([...payload]) },
    { onPing: (payload) => pings.push([...payload]) },
  );
  await client.ping(new Uint8Array([1, 2]));
  server.pong(new Uint8Array([9]));
  client.close(1000);
  await Promise.all([client.closed, server.closed]);
  assert.deepEqual(pings, [[1, 2]]);
  assert.deepEqual(pongs, [[1, 2], [9]]);
});

test("fromByteStreams passes onPing and onPong the channel the control frame came on", async () => {
  const seen: [string, Channel][] = [];
  const { client, server } = pair(
    { onPong: (_, channel) => seen.push(["pong", channel]) },
    { onPing: (_, channel) => seen.push(["ping", channel]) },
  );
  await client.ping(new Uint8Array([3]));
  client.close(1000);
  await Promise.all([client.closed, server.closed]);
  assert.equal(seen.length, 2);
  assert.deepEqual(seen.map(([kind]) => kind), ["ping", "pong"]);
  assert.equal(seen[0]![1], server);
  assert.equal(seen[1]![1], client);
});

test("fromByteStreams pong() refuses a payload over 125 bytes", () => {
  const { server } = rawPeer();
  assert.throws(() => server.pong(new Uint8Array(126)), RangeError);
  server.close(1000);
});

test("fromByteStreams pings an idle peer after idleTimeout, then closes with 1001 when it stays silent", async () => {
  const { server, frames } = rawPeer({ idleTimeout: 0.03, closeTimeout: 20 });
  const started = performance.now();
  const info = await server.closed;
  const elapsed = performance.now() - started;
  assert.deepEqual(frames.map((frame) => frame.opcode), [OPCODE.Ping, OPCODE.Close]);
  const close = frames[1]!;
  assert.equal((close.payload[0]! << 8) | close.payload[1]!, 1001);
  assert.equal(new TextDecoder().decode(close.payload.subarray(2)), "Idle timeout");
  assert.equal(info.code, 1006); // the silent peer never answered the close either
  assert.ok(elapsed >= 55, `closed after ${elapsed} ms`);
});

test("fromByteStreams keeps a connection whose peer answers the idle ping", async () => {
  const { client, server } = pair({}, { idleTimeout: 0.02 });
  await new Promise((resolve) => setTimeout(resolve, 120));
  const writer = client.writable.getWriter();
  await writer.write("still here");
  const reader = server.readable.getReader();
  assert.deepEqual(await reader.read(), { value: "still here", done: false });
  client.close(1000);
  assert.equal((await server.closed).code, 1000);
});

test("fromByteStreams rejects a negative idleTimeout", () => {
  assert.throws(() => pair({}, { idleTimeout: -1 }), RangeError);
});
