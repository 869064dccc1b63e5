import { test } from "node:test";
import { connect as tcpConnect, type Socket as TcpSocket } from "node:net";
import assert from "node:assert/strict";
import { type ClientChannel, connect } from "../../../mod.ts";
import type { Server, Socket } from "../../../src/compat/accessors/mod.ts";
import { delay, within } from "../../_servers.ts";
import { nextEvent, record, startServer } from "./_helpers.ts";

/** Connects a client of the core and waits for the server's Socket. */
async function pair(server: Server): Promise<{ channel: ClientChannel; socket: Socket }> {
  const connection = nextEvent(server, "connection");
  const channel = await within(connect(`ws://127.0.0.1:${server.port}`), "connection");
  const [socket] = await connection;
  return { channel, socket: socket as Socket };
}

/** A TCP client that sends an upgrade request to the server, and nothing more. */
function rawClient(server: Server): TcpSocket {
  const raw = tcpConnect({ host: "127.0.0.1", port: server.port });
  raw.on("error", () => {});
  raw.write(
    "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  );
  return raw;
}

/** Reads the next `count` messages of a channel of the core. */
async function read(channel: ClientChannel, count: number): Promise<unknown[]> {
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

test("Socket.send converts by the server's sendType: JSON by default", async () => {
  const server = await startServer();
  try {
    const { channel, socket } = await pair(server);
    socket.send({ foo: "bar" });
    socket.send("Reply message");
    socket.send([1, null]);
    assert.deepEqual(await read(channel, 3), ['{"foo":"bar"}', '"Reply message"', "[1,null]"]);
    assert.throws(() => socket.send(undefined), TypeError);
    channel.close(1000);
    await within(channel.closed, "close");
  } finally {
    await server.stop();
  }
});

test("Socket applies text/* and binary types of its server both ways", async () => {
  const server = await startServer({ receiveType: "image/jpeg", sendType: "text/html" });
  try {
    const messages: unknown[] = [];
    server.on("connection", (socket: Socket) => {
      socket.on("message", (message: unknown) => messages.push(message));
    });
    const { channel, socket } = await pair(server);
    socket.send("<p>hi</p>");
    socket.send(12);
    assert.deepEqual(await read(channel, 2), ["<p>hi</p>", "12"]);
    assert.throws(() => socket.send(new Uint8Array(1)), /text\/html takes a string/);
    const writer = channel.writable.getWriter();
    await writer.write(new Uint8Array([0xff, 0xd8, 0xff]));
    await writer.write("ab");
    writer.releaseLock();
    await within(
      (async () => {
        while (messages.length < 2) await delay(5);
      })(),
      "messages",
    );
    assert.ok(messages.every((message) => message instanceof Uint8Array));
    assert.deepEqual(messages.map((bytes) => [...(bytes as Uint8Array)]), [
      [0xff, 0xd8, 0xff],
      [0x61, 0x62],
    ]);
    channel.close(1000);
    await within(channel.closed, "close");
  } finally {
    await server.stop();
  }
});

test("Socket.isOpen is true until close(), which closes with 1000 after what was sent", async () => {
  const server = await startServer();
  try {
    const { channel, socket } = await pair(server);
    const log = record(socket, ["close", "error"]);
    assert.equal(socket.isOpen(), true);
    socket.send("last words");
    socket.close();
    assert.equal(socket.isOpen(), false);
    assert.deepEqual(await read(channel, 2), ['"last words"']);
    assert.equal((await within(channel.closed, "close")).code, 1000);
    await within(
      (async () => {
        while (log.length < 1) await delay(5);
      })(),
      "close event",
    );
    assert.deepEqual(log, ["close"]);
    socket.close(); // does nothing once closed
  } finally {
    await server.stop();
  }
});

test("Socket emits close and turns isOpen false when the client closes", async () => {
  const server = await startServer();
  try {
    const { channel, socket } = await pair(server);
    const log = record(socket, ["close", "error"]);
    const closed = nextEvent(socket, "close");
    channel.close(1000, "bye");
    await closed;
    assert.equal(socket.isOpen(), false);
    assert.deepEqual(log, ["close"]);
  } finally {
    await server.stop();
  }
});

test("Socket emits an error before close when the client closes with an error code", async () => {
  const server = await startServer();
  try {
    const { channel, socket } = await pair(server);
    const log = record(socket, ["close", "error"]);
    const closed = nextEvent(socket, "close");
    channel.close(1011, "client failed");
    await closed;
    assert.deepEqual(log, ['error:"Connection closed with 1011 (client failed)"', "close"]);
  } finally {
    await server.stop();
  }
});

test("Socket emits an error before close when the client breaks the protocol", async () => {
  const server = await startServer();
  try {
    const connection = nextEvent(server, "connection");
    // A raw client: the upgrade request, then an unmasked frame, which a server must refuse.
    const raw = rawClient(server);
    const [socket] = await connection as [Socket];
    const log = record(socket, ["close", "error"]);
    const closed = nextEvent(socket, "close");
    raw.write(new Uint8Array([0x81, 0x02, 0x68, 0x69]));
    await closed;
    raw.destroy();
    assert.equal(log.length, 2, log.join(", "));
    assert.match(log[0]!, /^error:"Connection closed with 1002/);
    assert.equal(log[1], "close");
  } finally {
    await server.stop();
  }
});

test("Socket.send after close emits an error and sends nothing", async () => {
  const server = await startServer();
  try {
    const { channel, socket } = await pair(server);
    socket.close();
    const failed = nextEvent(socket, "error");
    socket.send("too late");
    const [message, error] = await failed;
    assert.equal(message, "Cannot send message: the socket is closed");
    assert.ok(error instanceof Error);
    assert.deepEqual(await read(channel, 1), []);
  } finally {
    await server.stop();
  }
});

test("Socket.send after the client closed emits an error", async () => {
  const server = await startServer();
  try {
    const { channel, socket } = await pair(server);
    const errors: string[] = [];
    socket.on("error", (message: string) => errors.push(message));
    const closed = nextEvent(socket, "close");
    channel.close(1000);
    await closed;
    assert.equal(socket.isOpen(), false);
    socket.send("after the end");
    assert.deepEqual(errors, ["Cannot send message: the socket is closed"]);
  } finally {
    await server.stop();
  }
});

test("Socket reports each message the connection could no longer take as an error", async () => {
  const server = await startServer({ sendType: "application/octet-stream" });
  try {
    const connection = nextEvent(server, "connection");
    // A client that never reads: the messages back up until it goes away.
    const raw = rawClient(server);
    const [socket] = await connection as [Socket];
    const errors: unknown[][] = [];
    socket.on("error", (...args: unknown[]) => errors.push(args));
    const closed = nextEvent(socket, "close");
    for (let i = 0; i < 64; i++) socket.send(new Uint8Array(1024 * 1024));
    await delay(50);
    raw.destroy();
    await closed;
    const lost = errors.filter(([message]) => /^Cannot send message: /.test(String(message)));
    assert.ok(lost.length > 0, `errors: ${errors.map(([message]) => message).join("; ")}`);
    for (const [, error] of lost) assert.ok(error instanceof Error);
  } finally {
    await server.stop();
  }
});

test("Socket hands a client's 1006 to its listeners as an error, then close", async () => {
  const server = await startServer();
  try {
    const connection = nextEvent(server, "connection");
    const raw = rawClient(server);
    const [socket] = await connection as [Socket];
    const errors: unknown[][] = [];
    socket.on("error", (...args: unknown[]) => errors.push(args));
    const closed = nextEvent(socket, "close");
    raw.destroy();
    await closed;
    assert.equal(errors.length, 1);
    assert.equal(errors[0]![0], "Connection closed with 1006, without a closing handshake");
    assert.equal((errors[0]![1] as { closeCode: number }).closeCode, 1006);
  } finally {
    await server.stop();
  }
});

test("Socket emits open for listeners added by connection listeners, and only then", async () => {
  const server = await startServer();
  try {
    const order: string[] = [];
    server.on("connection", (socket: Socket) => {
      order.push("connection");
      socket.on("open", () => order.push("open"));
    });
    server.on("connection", () => order.push("second connection listener"));
    const { channel } = await pair(server);
    await within(
      (async () => {
        while (order.length < 3) await delay(5);
      })(),
      "open",
    );
    assert.deepEqual(order, ["connection", "second connection listener", "open"]);
    channel.close(1000);
    await within(channel.closed, "close");
  } finally {
    await server.stop();
  }
});
