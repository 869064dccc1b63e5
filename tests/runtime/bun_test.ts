import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bunNet } from "../../src/runtime/bun.ts";
import type { ListenOptions, Transport, TransportListener } from "../../src/runtime/_transport.ts";

const skip = "Bun" in globalThis ? false : "needs Bun";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Listens on a free loopback port; `accepted` resolves the first accepted transport. */
async function listenOnce(
  options: Partial<ListenOptions> = {},
): Promise<{ listener: TransportListener; accepted: Promise<Transport>; port: number }> {
  let accept!: (transport: Transport) => void;
  const accepted = new Promise<Transport>((resolve) => accept = resolve);
  const listener = await bunNet.listen({ hostname: "127.0.0.1", port: 0, ...options }, accept);
  const port = listener.address.transport === "tcp" ? listener.address.port : 0;
  return { listener, accepted, port };
}

/** A client transport and the server transport it was accepted as. */
async function connectedPair(): Promise<
  { client: Transport; server: Transport; listener: TransportListener; port: number }
> {
  const { listener, accepted, port } = await listenOnce();
  const client = await bunNet.connect({ hostname: "127.0.0.1", port });
  return { client, server: await accepted, listener, port };
}

async function readAll(readable: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of readable) chunks.push(chunk);
  return concat(chunks);
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(chunks.reduce((n, chunk) => n + chunk.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  return all;
}

/** Bytes from a xorshift generator, so that a lost, repeated or swapped chunk shows. */
function noise(size: number, seed = 0x9e3779b9): Uint8Array {
  const bytes = new Uint8Array(size);
  let state = seed;
  for (let i = 0; i < size; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

/** Asserts equal bytes, naming the first difference instead of printing megabytes. */
function assertSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  assert.equal(actual.length, expected.length, "byte count");
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) assert.fail(`bytes differ first at offset ${i}`);
  }
}

/** Settles after a number of microtask turns, during which no socket I/O can run. */
async function microtasks(turns: number): Promise<void> {
  for (let i = 0; i < turns; i++) await Promise.resolve();
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Reads what `readable` already holds without letting any I/O run: a read of a
 * queued chunk settles within a few microtask turns, and socket data arrives
 * only on a later event loop turn.
 */
async function readQueued(
  reader: ReadableStreamDefaultReader<Uint8Array>,
): Promise<{ chunks: Uint8Array[]; pending: Promise<ReadableStreamReadResult<Uint8Array>> }> {
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < 100_000; i++) {
    const read = reader.read();
    const result = await Promise.race([read, microtasks(50).then(() => undefined)]);
    if (result === undefined) return { chunks, pending: read };
    if (result.done) break;
    chunks.push(result.value);
  }
  return { chunks, pending: reader.read() };
}

test("bunNet carries bytes both ways and reports addresses", { skip }, async () => {
  const { client, server, listener, port } = await connectedPair();
  assert.deepEqual(listener.address, { transport: "tcp", hostname: "127.0.0.1", port });
  assert.deepEqual(client.remoteAddress, { transport: "tcp", hostname: "127.0.0.1", port });
  assert.deepEqual(server.localAddress, { transport: "tcp", hostname: "127.0.0.1", port });
  assert.equal(client.localAddress.transport, "tcp");
  assert.deepEqual(server.remoteAddress, client.localAddress);
  assert.equal(client.secure, false);
  assert.equal(server.secure, false);

  const clientWriter = client.writable.getWriter();
  await clientWriter.write(encoder.encode("ping"));
  const serverReader = server.readable.getReader();
  const received = await serverReader.read();
  assert.ok(received.value instanceof Uint8Array);
  assert.equal(decoder.decode(received.value), "ping");

  const serverWriter = server.writable.getWriter();
  await serverWriter.write(encoder.encode("pong"));
  await serverWriter.close();
  assert.equal(decoder.decode(await readAll(client.readable)), "pong");
  await clientWriter.close();
  assert.equal((await serverReader.read()).done, true);
  await listener.close();
});

test("bunNet delivers many chunks whole and in order", { skip }, async () => {
  const { client, server, listener } = await connectedPair();
  const expected = noise(1_000 * 2_048);
  const writer = client.writable.getWriter();
  const writes: Promise<void>[] = [];
  for (let at = 0, i = 0; at < expected.length; i++) {
    const size = Math.min(1 + ((i * 7919) % 4_096), expected.length - at);
    writes.push(writer.write(expected.subarray(at, at + size)));
    at += size;
  }
  writes.push(writer.close());
  const received = await readAll(server.readable);
  await Promise.all(writes);
  assertSameBytes(received, expected);
  await listener.close();
});

test("bunNet closing writable half-closes: the peer's reply is still read", { skip }, async () => {
  const { client, server, listener } = await connectedPair();
  const writer = client.writable.getWriter();
  await writer.write(encoder.encode("request"));
  await writer.close();
  // The server sees the end of the client's bytes, then answers.
  assert.equal(decoder.decode(await readAll(server.readable)), "request");
  await sleep(20); // a later event loop turn: the socket must still be open
  const reply = server.writable.getWriter();
  await reply.write(encoder.encode("answer after your FIN"));
  await reply.close();
  assert.equal(decoder.decode(await readAll(client.readable)), "answer after your FIN");
  await listener.close();
});

test("bunNet keeps writable open when the peer half-closes", { skip }, async () => {
  const { client, server, listener } = await connectedPair();
  const writer = server.writable.getWriter();
  await writer.write(encoder.encode("notice"));
  await writer.close();
  assert.equal(decoder.decode(await readAll(client.readable)), "notice");
  await sleep(20); // a later event loop turn: the socket must still be open
  const reply = client.writable.getWriter();
  await reply.write(encoder.encode("answer after your FIN"));
  await reply.close();
  assert.equal(decoder.decode(await readAll(server.readable)), "answer after your FIN");
  await listener.close();
});

test("bunNet stops reading the socket while readable is not read", { skip }, async () => {
  const { client, server, listener } = await connectedPair();
  const expected = noise(8 * 1024 * 1024);
  const writer = server.writable.getWriter();
  let written = false;
  const writing = writer.write(expected).then(() => written = true);
  await sleep(200);

  // What our side took from the socket is what can be read without any I/O.
  const reader = client.readable.getReader();
  const { chunks, pending } = await readQueued(reader);
  const buffered = chunks.reduce((n, chunk) => n + chunk.length, 0);
  assert.ok(buffered > 0, "nothing was read from the socket");
  assert.ok(buffered <= 1024 * 1024, `took ${buffered} bytes from the socket while not read`);
  assert.equal(written, false, "the peer's write finished while nothing was read");

  const first = await pending;
  assert.equal(first.done, false);
  chunks.push(first.value!);
  for (let total = buffered + first.value!.length; total < expected.length;) {
    const { value, done } = await reader.read();
    if (done) break;
    chunks.push(value);
    total += value.length;
  }
  await writing;
  assertSameBytes(concat(chunks), expected);
  await writer.close();
  assert.equal((await reader.read()).done, true);
  await listener.close();
});

test("bunNet makes a write wait while the peer does not read, then delivers it whole", {
  skip,
}, async () => {
  const { client, server, listener } = await connectedPair();
  const expected = noise(16 * 1024 * 1024);
  const writer = client.writable.getWriter();
  let written = false;
  const writing = writer.write(expected).then(() => written = true);
  await sleep(200);
  // The kernel buffers hold a few MiB: the rest waits in the transport.
  assert.equal(written, false, "the write resolved before the peer read");
  assert.ok((writer.desiredSize ?? 0) <= 0, "writer.ready should wait");

  const reading = readAll(server.readable);
  await writing;
  await writer.close();
  assertSameBytes(await reading, expected);
  await listener.close();
});

test("bunNet cancelling readable closes the socket", { skip }, async () => {
  const { client, server, listener } = await connectedPair();
  await client.readable.cancel();
  assert.deepEqual(await readAll(server.readable), new Uint8Array());
  await assert.rejects(client.writable.getWriter().write(encoder.encode("late")));
  await listener.close();
});

test("bunNet aborting writable closes the socket, even while a write waits", {
  skip,
}, async () => {
  const { client, server, listener } = await connectedPair();
  const writer = client.writable.getWriter();
  const writing = writer.write(new Uint8Array(16 * 1024 * 1024));
  await sleep(50);
  await writer.abort(new Error("give up"));
  await assert.rejects(writing);
  // The peer gets what was sent before the abort, then the end.
  const received = await readAll(server.readable).catch(() => undefined);
  assert.ok(received === undefined || received.length < 16 * 1024 * 1024);
  await listener.close();
});

test("bunNet listener close stops accepting and keeps accepted sockets open", {
  skip,
}, async () => {
  const { client, server, listener, port } = await connectedPair();
  await listener.close();
  await assert.rejects(bunNet.connect({ hostname: "127.0.0.1", port }));
  const writer = server.writable.getWriter();
  await writer.write(encoder.encode("still here"));
  await writer.close();
  assert.equal(decoder.decode(await readAll(client.readable)), "still here");
  await client.writable.close();
});

test("bunNet rejects a connection to a closed port", { skip }, async () => {
  const { listener, port } = await listenOnce();
  await listener.close();
  await assert.rejects(
    bunNet.connect({ hostname: "127.0.0.1", port }),
    (error) =>
      error instanceof Error &&
      error.message.startsWith(`Cannot connect to 127.0.0.1:${port}: `) &&
      error.message.includes("ECONNREFUSED"),
  );
});

test("bunNet rejects a connection attempt aborted by its signal", { skip }, async () => {
  const { listener, port } = await listenOnce();
  const aborted = new AbortController();
  aborted.abort(new Error("stop"));
  await assert.rejects(
    bunNet.connect({ hostname: "127.0.0.1", port, signal: aborted.signal }),
    /stop/,
  );
  const aborting = new AbortController();
  const connecting = bunNet.connect({ hostname: "127.0.0.1", port, signal: aborting.signal });
  aborting.abort(new Error("stop later"));
  await assert.rejects(connecting, /stop later/);
  await listener.close();
});

test("bunNet rejects listening on a port already in use", { skip }, async () => {
  const { listener, port } = await listenOnce();
  await assert.rejects(
    bunNet.listen({ hostname: "127.0.0.1", port }, () => {}),
    /^Error: Cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/,
  );
  await listener.close();
});

test("bunNet carries bytes over a Unix domain socket", { skip }, async () => {
  const path = join(tmpdir(), `seed-websocket-bun-${crypto.randomUUID()}.sock`);
  const { listener, accepted } = await listenOnce({ path });
  try {
    assert.deepEqual(listener.address, { transport: "unix", path });
    const client = await bunNet.connect({ hostname: "", port: 0, path });
    const server = await accepted;
    assert.deepEqual(client.remoteAddress, { transport: "unix", path });
    assert.deepEqual(server.localAddress, { transport: "unix", path });
    const writer = client.writable.getWriter();
    await writer.write(encoder.encode("over unix"));
    await writer.close();
    assert.equal(decoder.decode(await readAll(server.readable)), "over unix");
    const reply = server.writable.getWriter();
    await reply.write(encoder.encode("and back"));
    await reply.close();
    assert.equal(decoder.decode(await readAll(client.readable)), "and back");
  } finally {
    await listener.close();
    rmSync(path, { force: true });
  }
});

function fixture(name: string): string {
  return readFileSync(new URL(`../fixtures/${name}`, import.meta.url), "utf8");
}

test("bunNet carries bytes over TLS with a trusted self-signed certificate", {
  skip,
}, async () => {
  const cert = fixture("tls_cert.pem");
  const { listener, accepted, port } = await listenOnce({
    tls: { cert, key: fixture("tls_key.pem") },
  });
  const client = await bunNet.connect({
    hostname: "127.0.0.1",
    port,
    tls: { caCerts: [cert], serverName: "localhost" },
  });
  const server = await accepted;
  assert.equal(client.secure, true);
  assert.equal(server.secure, true);
  assert.deepEqual(client.remoteAddress, { transport: "tcp", hostname: "127.0.0.1", port });

  const expected = noise(1024 * 1024);
  const writer = client.writable.getWriter();
  const writing = writer.write(expected).then(() => writer.close());
  assertSameBytes(await readAll(server.readable), expected);
  await writing;
  const reply = server.writable.getWriter();
  await reply.write(encoder.encode("secure answer"));
  await reply.close();
  assert.equal(decoder.decode(await readAll(client.readable)), "secure answer");
  await listener.close();
});

test("bunNet refuses a TLS server whose certificate it does not trust", { skip }, async () => {
  const { listener, port } = await listenOnce({
    tls: { cert: fixture("tls_cert.pem"), key: fixture("tls_key.pem") },
  });
  await assert.rejects(
    bunNet.connect({ hostname: "127.0.0.1", port, tls: true }),
    /^Error: Cannot connect to 127\.0\.0\.1:\d+: TLS handshake failed: /,
  );
  await assert.rejects(
    bunNet.connect({
      hostname: "127.0.0.1",
      port,
      tls: { caCerts: [fixture("tls_cert.pem")], serverName: "example.com" },
    }),
    /TLS handshake failed/,
  );
  await listener.close();
});

test("bunNet connect and listen reject when Bun is not the runtime", {
  skip: "Bun" in globalThis ? "needs a runtime other than Bun" : false,
}, async () => {
  await assert.rejects(
    bunNet.connect({ hostname: "127.0.0.1", port: 1 }),
    /^Error: Cannot connect: the Bun runtime is not available/,
  );
  await assert.rejects(
    bunNet.listen({ hostname: "127.0.0.1", port: 0 }, () => {}),
    /^Error: Cannot listen: the Bun runtime is not available/,
  );
});
