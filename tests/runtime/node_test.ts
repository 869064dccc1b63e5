import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { readFileSync, rmSync } from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import { join } from "node:path";
import { nodeNet, socketToTransport } from "../../src/runtime/node.ts";
import type {
  ListenOptions,
  NetAddress,
  TlsConnectOptions,
  Transport,
  TransportListener,
} from "../../src/runtime/_transport.ts";

const HOST = "127.0.0.1";
const KIB = 1024;
const MIB = 1024 * KIB;
const CERT = readFileSync(new URL("../fixtures/tls_cert.pem", import.meta.url), "utf8");
const KEY = readFileSync(new URL("../fixtures/tls_key.pem", import.meta.url), "utf8");
const UNIX_SKIP = os.platform() === "win32" ? "Unix domain sockets are not used on Windows" : false;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Deterministic bytes without a short period, so reordered chunks show. */
function noise(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    bytes[i] = state >>> 24;
  }
  return bytes;
}

/** The index of the first byte where `a` and `b` differ, or -1. */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : length;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

async function readAll(readable: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const reader = readable.getReader();
  const chunks: Uint8Array[] = [];
  for (let result = await reader.read(); !result.done; result = await reader.read()) {
    chunks.push(result.value);
  }
  return concat(chunks);
}

/** Reads exactly `length` bytes, however the socket splits them. */
async function readBytes(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  length: number,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let received = 0;
  while (received < length) {
    const { value, done } = await reader.read();
    if (done) break;
    chunks.push(value);
    received += value.byteLength;
  }
  return concat(chunks);
}

async function readText(reader: ReadableStreamDefaultReader<Uint8Array>, expected: string) {
  return decoder.decode(await readBytes(reader, encoder.encode(expected).byteLength));
}

function tcpPort(address: NetAddress): number {
  assert.equal(address.transport, "tcp");
  return address.transport === "tcp" ? address.port : 0;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Whether `promise` settles within `ms`; its outcome is left to the caller. */
function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    const settled = () => {
      clearTimeout(timer);
      resolve(true);
    };
    promise.then(settled, settled);
  });
}

/** A listener that hands out its first accepted transport. */
async function listenOnce(
  options: ListenOptions,
): Promise<{ listener: TransportListener; accepted: Promise<Transport> }> {
  let accept!: (transport: Transport) => void;
  const accepted = new Promise<Transport>((resolve) => accept = resolve);
  const listener = await nodeNet.listen(options, (transport) => accept(transport));
  return { listener, accepted };
}

/** A plain `node:net` server as the peer; `close()` destroys its sockets too. */
async function rawServer(
  onSocket: (socket: net.Socket) => void,
): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    onSocket(socket);
  });
  server.listen(0, HOST);
  await once(server, "listening");
  const address = server.address();
  assert.ok(address !== null && typeof address === "object");
  return {
    port: address.port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, "close");
    },
  };
}

async function connectRaw(port: number): Promise<net.Socket> {
  const socket = net.connect({ host: HOST, port, allowHalfOpen: true });
  await once(socket, "connect");
  return socket;
}

/** Sends a greeting each way, checks both arrive, then half-closes each side in turn. */
async function exchange(client: Transport, server: Transport): Promise<void> {
  const clientWriter = client.writable.getWriter();
  const serverWriter = server.writable.getWriter();
  const clientReader = client.readable.getReader();
  const serverReader = server.readable.getReader();
  await clientWriter.write(encoder.encode("hello server"));
  assert.equal(await readText(serverReader, "hello server"), "hello server");
  await serverWriter.write(encoder.encode("hello client"));
  const { value } = await clientReader.read();
  assert.ok(value !== undefined);
  // A plain Uint8Array, not a Buffer with its different `slice`.
  assert.equal(Object.getPrototypeOf(value), Uint8Array.prototype);
  assert.equal(
    decoder.decode(concat([value, await readBytes(clientReader, 12 - value.byteLength)])),
    "hello client",
  );
  await clientWriter.close();
  assert.deepEqual(await serverReader.read(), { value: undefined, done: true });
  await serverWriter.close();
  assert.deepEqual(await clientReader.read(), { value: undefined, done: true });
}

test("nodeNet.listen and nodeNet.connect carry bytes both ways over TCP", async () => {
  const { listener, accepted } = await listenOnce({ hostname: HOST, port: 0 });
  const port = tcpPort(listener.address);
  assert.ok(port > 0);
  assert.deepEqual(listener.address, { transport: "tcp", hostname: HOST, port });
  const client = await nodeNet.connect({ hostname: HOST, port });
  const server = await accepted;
  assert.deepEqual(client.remoteAddress, { transport: "tcp", hostname: HOST, port });
  assert.deepEqual(server.localAddress, { transport: "tcp", hostname: HOST, port });
  assert.deepEqual(server.remoteAddress, client.localAddress);
  assert.equal(client.secure, false);
  assert.equal(server.secure, false);
  await exchange(client, server);
  await listener.close();
});

test("socketToTransport delivers the head bytes before the socket's", async () => {
  const peer = await rawServer((socket) => socket.end("world"));
  const socket = await connectRaw(peer.port);
  const transport = socketToTransport(socket, false, encoder.encode("hello "));
  assert.equal(decoder.decode(await readAll(transport.readable)), "hello world");
  await transport.writable.close();
  await peer.close();
});

test("socketToTransport closing writable ends the peer's readable while ours still receives", async () => {
  const { listener, accepted } = await listenOnce({ hostname: HOST, port: 0 });
  const client = await nodeNet.connect({ hostname: HOST, port: tcpPort(listener.address) });
  const server = await accepted;
  const clientWriter = client.writable.getWriter();
  await clientWriter.write(encoder.encode("request"));
  await clientWriter.close();
  assert.equal(decoder.decode(await readAll(server.readable)), "request");
  // The server's side is still open after the client's FIN.
  const serverWriter = server.writable.getWriter();
  await serverWriter.write(encoder.encode("response after your FIN"));
  await serverWriter.close();
  assert.equal(decoder.decode(await readAll(client.readable)), "response after your FIN");
  await listener.close();
});

test("socketToTransport stops taking bytes from the socket while readable is not read", async () => {
  const total = 8 * MIB;
  const data = noise(total, 1);
  const peer = await rawServer((socket) => socket.end(data));
  const socket = await connectRaw(peer.port);
  const transport = socketToTransport(socket, false);
  let taken = 0;
  socket.on("data", (chunk: Uint8Array) => taken += chunk.byteLength);
  await delay(200);
  assert.ok(taken > 0, "the socket was read before readable filled up");
  assert.ok(taken < MIB, `the bridge took ${taken} bytes while not read`);
  assert.ok(socket.bytesRead < MIB, `the socket read ${socket.bytesRead} bytes while not read`);
  const received = await readAll(transport.readable);
  assert.equal(received.byteLength, total);
  assert.equal(firstDifference(received, data), -1);
  await transport.writable.close();
  await peer.close();
});

test("socketToTransport holds a write while the peer does not read, until it reads", async () => {
  let acceptPeer!: (socket: net.Socket) => void;
  const accepted = new Promise<net.Socket>((resolve) => acceptPeer = resolve);
  // Without a data listener the peer reads nothing more once its own buffer is full.
  const peerServer = await rawServer((socket) => acceptPeer(socket));
  const socket = await connectRaw(peerServer.port);
  const peer = await accepted;
  const transport = socketToTransport(socket, false);
  const listeners = () =>
    ["drain", "error", "close", "finish"].map((event) => socket.listenerCount(event));
  const baseline = listeners();
  const writer = transport.writable.getWriter();
  const chunk = noise(MIB, 2);
  let written = 0;
  let pending: Promise<void> | undefined;
  for (let i = 0; i < 64 && pending === undefined; i++) {
    const write = writer.write(chunk);
    if (await settlesWithin(write, 100)) {
      await write;
      written += chunk.byteLength;
    } else {
      pending = write;
    }
  }
  assert.ok(
    pending !== undefined,
    `all ${written} bytes were taken although the peer did not read`,
  );
  assert.ok(written < 64 * MIB);
  let received = 0;
  peer.on("data", (bytes: Uint8Array) => received += bytes.byteLength);
  await pending;
  written += chunk.byteLength;
  await writer.close();
  if (!peer.readableEnded) await once(peer, "end");
  assert.equal(received, written);
  // Each write's listeners were removed again.
  assert.deepEqual(listeners(), baseline);
  await transport.readable.cancel();
  await peerServer.close();
});

test("socketToTransport rejects a pending write when the socket is destroyed", async () => {
  const peerServer = await rawServer(() => {});
  const socket = await connectRaw(peerServer.port);
  const transport = socketToTransport(socket, false);
  const writer = transport.writable.getWriter();
  const chunk = noise(MIB, 3);
  let pending: Promise<void> | undefined;
  for (let i = 0; i < 64 && pending === undefined; i++) {
    const write = writer.write(chunk);
    if (!(await settlesWithin(write, 100))) pending = write;
  }
  assert.ok(pending !== undefined);
  socket.destroy();
  await assert.rejects(pending, Error);
  await peerServer.close();
});

test("socketToTransport errors readable and rejects writes once the socket is destroyed", async () => {
  const peerServer = await rawServer(() => {});
  const socket = await connectRaw(peerServer.port);
  const transport = socketToTransport(socket, false);
  socket.destroy();
  await assert.rejects(transport.readable.getReader().read(), Error);
  await assert.rejects(transport.writable.getWriter().write(new Uint8Array([1])), Error);
  await peerServer.close();
});

test("socketToTransport aborting writable errors readable, cancelling readable fails writes", async () => {
  const peerServer = await rawServer(() => {});
  const aborted = socketToTransport(await connectRaw(peerServer.port), false);
  const reader = aborted.readable.getReader();
  await aborted.writable.abort();
  await assert.rejects(reader.read(), Error);
  const cancelled = socketToTransport(await connectRaw(peerServer.port), false);
  await cancelled.readable.cancel();
  await assert.rejects(cancelled.writable.getWriter().write(new Uint8Array([1])), Error);
  await peerServer.close();
});

test("socketToTransport refuses a socket that is not connected", () => {
  const socket = new net.Socket();
  assert.throws(() => socketToTransport(socket, false), TypeError);
  socket.destroy();
});

test("nodeNet.connect rejects with ECONNREFUSED when nothing listens on the port", async () => {
  const peerServer = await rawServer(() => {});
  const { port } = peerServer;
  await peerServer.close();
  await assert.rejects(
    nodeNet.connect({ hostname: HOST, port }),
    (error) => (error as { code?: unknown }).code === "ECONNREFUSED",
  );
});

test("nodeNet.connect rejects with the signal's reason when aborted before it connected", async () => {
  const peerServer = await rawServer(() => {});
  const reason = new Error("aborted by the test");
  await assert.rejects(
    nodeNet.connect({ hostname: HOST, port: peerServer.port, signal: AbortSignal.abort(reason) }),
    (error) => error === reason,
  );
  const controller = new AbortController();
  const connecting = nodeNet.connect({
    hostname: HOST,
    port: peerServer.port,
    signal: controller.signal,
  });
  controller.abort(reason);
  await assert.rejects(connecting, (error) => error === reason);
  await peerServer.close();
});

test("nodeNet.connect rejects with the signal's reason when aborted during the TLS handshake", async () => {
  let acceptPeer!: (socket: net.Socket) => void;
  const accepted = new Promise<net.Socket>((resolve) => acceptPeer = resolve);
  // A peer that reads the client hello and never answers it.
  const peerServer = await rawServer((socket) => {
    socket.resume();
    acceptPeer(socket);
  });
  const controller = new AbortController();
  const connecting = nodeNet.connect({
    hostname: HOST,
    port: peerServer.port,
    tls: { caCerts: [CERT] },
    signal: controller.signal,
  });
  const peer = await accepted;
  const closed = once(peer, "close");
  await delay(20);
  const reason = new Error("aborted by the test");
  controller.abort(reason);
  await assert.rejects(connecting, (error) => error === reason);
  // The socket was destroyed, so the peer sees the connection end.
  await closed;
  await peerServer.close();
});

/** Closes a listener with a transport still open, which must go on working. */
async function closeWithOpenTransport(options: ListenOptions, connectTls?: TlsConnectOptions) {
  const { listener, accepted } = await listenOnce(options);
  const port = tcpPort(listener.address);
  const tls = connectTls === undefined ? {} : { tls: connectTls };
  const client = await nodeNet.connect({ hostname: HOST, port, ...tls });
  const server = await accepted;
  assert.ok(await settlesWithin(listener.close(), 500), "close() waited for the accepted socket");
  await assert.rejects(
    nodeNet.connect({ hostname: HOST, port, ...tls }),
    (error) => (error as { code?: unknown }).code === "ECONNREFUSED",
  );
  await exchange(client, server);
}

test("TransportListener.close stops accepting without waiting for accepted transports", async () => {
  await closeWithOpenTransport({ hostname: HOST, port: 0 });
});

test("TransportListener.close over TLS stops accepting without waiting for accepted transports", async () => {
  await closeWithOpenTransport(
    { hostname: HOST, port: 0, tls: { cert: CERT, key: KEY } },
    { caCerts: [CERT] },
  );
});

test("nodeNet.listen and nodeNet.connect carry bytes over a Unix domain socket", {
  skip: UNIX_SKIP,
}, async () => {
  const path = join(os.tmpdir(), `seed-websocket-${Math.random().toString(36).slice(2)}.sock`);
  try {
    const { listener, accepted } = await listenOnce({ hostname: HOST, port: 0, path });
    assert.deepEqual(listener.address, { transport: "unix", path });
    const client = await nodeNet.connect({ hostname: HOST, port: 0, path });
    const server = await accepted;
    assert.deepEqual(client.remoteAddress, { transport: "unix", path });
    assert.deepEqual(server.localAddress, { transport: "unix", path });
    await exchange(client, server);
    await listener.close();
  } finally {
    rmSync(path, { force: true });
  }
});

test("nodeNet.listen and nodeNet.connect carry bytes over TLS with a self-signed certificate", async () => {
  const { listener, accepted } = await listenOnce({
    hostname: HOST,
    port: 0,
    tls: { cert: CERT, key: KEY },
  });
  const port = tcpPort(listener.address);
  const client = await nodeNet.connect({
    hostname: HOST,
    port,
    tls: { caCerts: [CERT], serverName: "localhost" },
  });
  const server = await accepted;
  assert.equal(client.secure, true);
  assert.equal(server.secure, true);
  assert.deepEqual(client.remoteAddress, { transport: "tcp", hostname: HOST, port });
  await exchange(client, server);
  await listener.close();
});

test("nodeNet.connect over TLS checks the certificate against the IP address without serverName", async () => {
  const { listener, accepted } = await listenOnce({
    hostname: HOST,
    port: 0,
    tls: { cert: CERT, key: KEY },
  });
  const client = await nodeNet.connect({
    hostname: HOST,
    port: tcpPort(listener.address),
    tls: { caCerts: [CERT] },
  });
  await exchange(client, await accepted);
  await listener.close();
});

test("nodeNet.connect over TLS rejects an untrusted certificate and a wrong server name", async () => {
  const listener = await nodeNet.listen(
    { hostname: HOST, port: 0, tls: { cert: CERT, key: KEY } },
    (transport) => void transport.readable.cancel(),
  );
  const port = tcpPort(listener.address);
  await assert.rejects(nodeNet.connect({ hostname: HOST, port, tls: true }), Error);
  await assert.rejects(
    nodeNet.connect({ hostname: HOST, port, tls: { caCerts: [CERT], serverName: "example.com" } }),
    Error,
  );
  await listener.close();
});
