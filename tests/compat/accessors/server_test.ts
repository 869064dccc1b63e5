import { test } from "node:test";
import { connect as tcpConnect } from "node:net";
import assert from "node:assert/strict";
import { type ClientChannel, connect } from "../../../mod.ts";
import { Client, Server, Socket } from "../../../src/compat/accessors/mod.ts";
import { delay, within } from "../../_servers.ts";
import { nextEvent, record, startServer } from "./_helpers.ts";

/** Connects a client of the core to an Accessors server. */
function connectTo(server: Server): Promise<ClientChannel> {
  return within(connect(`ws://127.0.0.1:${server.port}`), "connection");
}

/** Reads the next message of a channel of the core. */
async function readOne(channel: ClientChannel): Promise<unknown> {
  const reader = channel.readable.getReader();
  try {
    return (await within(reader.read(), "message")).value;
  } finally {
    reader.releaseLock();
  }
}

test("Server has the documented defaults", () => {
  const server = new Server();
  assert.equal(server.hostInterface, "localhost");
  assert.equal(server.port, 80);
  assert.equal(server.receiveType, "application/json");
  assert.equal(server.sendType, "application/json");
});

test("Server keeps the options it is given", () => {
  const server = new Server({
    hostInterface: "0.0.0.0",
    port: 8082,
    receiveType: "text/plain",
    sendType: "image/gif",
  });
  assert.deepEqual(
    [server.hostInterface, server.port, server.receiveType, server.sendType],
    ["0.0.0.0", 8082, "text/plain", "image/gif"],
  );
});

test("Server listens on localhost by default, where a default Client finds it", async () => {
  const server = new Server({ port: 0 });
  const listening = nextEvent(server, "listening");
  server.start();
  await listening;
  try {
    const client = new Client({ port: server.port, numberOfRetries: 0 });
    const connection = nextEvent(server, "connection");
    const opened = nextEvent(client, "open");
    client.open();
    await Promise.all([connection, opened]);
    const closed = nextEvent(client, "close");
    client.close();
    await closed;
  } finally {
    await server.stop();
  }
});

test("Server with port 0 listens on a free port, readable as port once listening", async () => {
  const server = new Server({ hostInterface: "127.0.0.1", port: 0 });
  assert.equal(server.port, 0);
  const log = record(server, ["listening"]);
  const started = server.start();
  assert.deepEqual(log, [], "listening is emitted once it listens");
  await within(started, "start");
  assert.deepEqual(log, ["listening"]);
  assert.ok(server.port > 0 && server.port <= 65535, String(server.port));
  const channel = await connectTo(server);
  channel.close(1000);
  await within(channel.closed, "close");
  await server.stop();
});

test("Server emits connection with a Socket, which emits open, then message", async () => {
  const server = await startServer();
  try {
    const log: string[] = [];
    server.on("connection", (socket: Socket) => {
      log.push(`connection ${socket instanceof Socket}`);
      socket.on("open", () => log.push(`open ${socket.isOpen()}`));
      socket.on("message", (message: unknown) => log.push(`message ${JSON.stringify(message)}`));
      socket.on("close", () => log.push(`close ${socket.isOpen()}`));
    });
    const channel = await connectTo(server);
    const writer = channel.writable.getWriter();
    await writer.write('{"foo":"bar"}');
    await writer.write("not json");
    writer.releaseLock();
    await within(
      (async () => {
        while (log.length < 4) await delay(5);
      })(),
      "events",
    );
    channel.close(1000);
    await within(channel.closed, "close");
    await within(
      (async () => {
        while (log.length < 5) await delay(5);
      })(),
      "close event",
    );
    assert.deepEqual(log, [
      "connection true",
      "open true",
      'message {"foo":"bar"}',
      'message "not json"',
      "close false",
    ]);
  } finally {
    await server.stop();
  }
});

test("Server runs the documentation's connection handler: print, then reply", async () => {
  const server = await startServer();
  try {
    const printed: unknown[] = [];
    server.on("connection", function (socket: Socket) {
      socket.on("message", function (message: unknown) {
        printed.push(message);
        socket.send("Reply message");
      });
    });
    const channel = await connectTo(server);
    const writer = channel.writable.getWriter();
    await writer.write(JSON.stringify({ foo: "bar" }));
    writer.releaseLock();
    assert.equal(await readOne(channel), '"Reply message"');
    assert.deepEqual(printed, [{ foo: "bar" }]);
    channel.close(1000);
    await within(channel.closed, "close");
  } finally {
    await server.stop();
  }
});

test("Server.stop closes every connection with 1001 and stops listening", async () => {
  const server = await startServer();
  const sockets: Socket[] = [];
  server.on("connection", (socket: Socket) => sockets.push(socket));
  const first = await connectTo(server);
  const second = await connectTo(server);
  const port = server.port;
  await within(server.stop(), "stop");
  assert.equal((await within(first.closed, "close")).code, 1001);
  assert.equal((await within(second.closed, "close")).code, 1001);
  assert.equal(sockets.length, 2);
  assert.ok(sockets.every((socket) => !socket.isOpen()));
  await assert.rejects(within(connect(`ws://127.0.0.1:${port}`), "refusal"));
});

test("Server.stop sends what sockets were sent before closing them", async () => {
  const server = await startServer();
  server.on("connection", (socket: Socket) => {
    for (let i = 0; i < 10; i++) socket.send({ i });
    server.stop();
  });
  const channel = await connectTo(server);
  const received: unknown[] = [];
  for await (const message of channel.readable) received.push(message);
  assert.deepEqual(received, Array.from({ length: 10 }, (_, i) => `{"i":${i}}`));
  assert.equal((await within(channel.closed, "close")).code, 1001);
});

test("Server.start twice listens once; stop() when not started does nothing", async () => {
  const idle = new Server({ hostInterface: "127.0.0.1", port: 0 });
  await within(idle.stop(), "stop of a server never started");
  const server = new Server({ hostInterface: "127.0.0.1", port: 0 });
  const log = record(server, ["listening"]);
  const first = server.start();
  const again = server.start();
  await within(Promise.all([first, again]), "start");
  assert.deepEqual(log, ["listening"]);
  await server.stop();
});

test("Server.start after stop listens again", async () => {
  const server = await startServer();
  await server.stop();
  const listening = nextEvent(server, "listening");
  server.start();
  await listening;
  const channel = await connectTo(server);
  channel.close(1000);
  await within(channel.closed, "close");
  await server.stop();
});

test("Server emits an error when it cannot listen, and start() still resolves", async () => {
  const taken = await startServer();
  try {
    const server = new Server({ hostInterface: "127.0.0.1", port: taken.port });
    const log = record(server, ["listening", "error"]);
    const errors: unknown[] = [];
    server.on("error", (_message: string, error: unknown) => errors.push(error));
    await within(server.start(), "start");
    assert.equal(log.length, 1, log.join(", "));
    assert.match(
      log[0]!,
      new RegExp(`^error:"Cannot start server on 127\\.0\\.0\\.1:${taken.port}: `),
    );
    assert.ok(errors[0] instanceof Error);
    assert.equal(server.port, taken.port);
    await within(server.stop(), "stop of a server that never listened");
  } finally {
    await taken.stop();
  }
});

test("Server refuses an unsupported type or a port out of range", () => {
  for (const option of ["receiveType", "sendType"] as const) {
    assert.throws(
      () => new Server({ [option]: "audio/ogg" }),
      (error) =>
        error instanceof RangeError &&
        error.message.startsWith(
          `Cannot create Server: ${option} "audio/ogg" is not supported, use one of application/json`,
        ),
    );
  }
  for (const port of [-1, 65536, 1.5]) {
    assert.throws(() => new Server({ port }), RangeError, String(port));
  }
  assert.throws(() => new Server({ hostInterface: 1 as unknown as string }), TypeError);
});

test("Server closes a connection whose handshake ends after stop() with 1001", async () => {
  const server = await startServer();
  const connections = record(server, ["connection"]);
  const socket = tcpConnect({ host: "127.0.0.1", port: server.port });
  let answer = new Uint8Array(0);
  socket.on("data", (chunk: Uint8Array) => answer = new Uint8Array([...answer, ...chunk]));
  const ended = new Promise((resolve) => socket.on("close", resolve));
  socket.on("error", () => {});
  await within(new Promise((resolve) => socket.on("connect", resolve)), "TCP connection");
  // Half the request head before stop(), the rest after.
  socket.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n");
  await delay(50);
  await within(server.stop(), "stop");
  socket.write(
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
      "Sec-WebSocket-Version: 13\r\n\r\n",
  );
  // The 101, then a close frame with 1001 and the reason.
  const frameAfterHead = () => {
    const text = new TextDecoder("latin1").decode(answer);
    const end = text.indexOf("\r\n\r\n");
    return end >= 0 && answer.length >= end + 8
      ? [text, answer.slice(end + 4)] as const
      : undefined;
  };
  await within(
    (async () => {
      while (frameAfterHead() === undefined) await delay(5);
    })(),
    "101 and close frame",
  );
  const [text, frame] = frameAfterHead()!;
  assert.match(text, /^HTTP\/1\.1 101 /);
  assert.deepEqual([...frame.slice(0, 4)], [0x88, 2 + "Server stopping".length, 0x03, 0xe9]);
  assert.deepEqual(connections, []);
  socket.destroy();
  await within(ended, "end of the connection");
});
