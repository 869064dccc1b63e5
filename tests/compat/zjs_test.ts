import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { connect as tcpConnect } from "node:net";
import {
  Server,
  type ServerOptions,
  WebSocketConnection,
  WebSocketServer,
  ws,
} from "../../src/compat/zjs/mod.ts";
import { ConnectionClosedError } from "../../src/errors.ts";
import { encodeFrame, type Frame, FrameParser, OPCODE } from "../../src/codec/mod.ts";
import { loadWs } from "../interop/_exchange.ts";
import { delay, within } from "../_servers.ts";

const { WebSocket: WsClient } = loadWs();
type Client = InstanceType<typeof WsClient>;

/** Anything with `once`, as our `Emitter` and Node's `EventEmitter` both have. */
interface Once {
  once(name: string, listener: (...args: never[]) => unknown): unknown;
}

/** The arguments of the next `name` event, within the tests' time limit. */
function event(target: Once, name: string): Promise<unknown[]> {
  return within(
    new Promise((resolve) => target.once(name, (...args: unknown[]) => resolve(args))),
    `${name} event`,
  );
}

/** A listening server on 127.0.0.1, the connections it hands out, and what it reported. */
async function start(options: ServerOptions = {}) {
  const server = new Server({ host: "127.0.0.1", port: 0, ...options });
  const connections: WebSocketConnection[] = [];
  const errors: unknown[] = [];
  server.on("connection", (connection: WebSocketConnection) => connections.push(connection));
  server.on("error", (error: unknown) => errors.push(error));
  await event(server, "listening");
  const url = `ws://127.0.0.1:${server.address()!.port}`;
  return { server, url, connections, errors };
}

/** A client of npm's `ws`, once open. */
async function open(url: string, protocols: string[] = []): Promise<Client> {
  const client = new WsClient(url, protocols);
  await within(
    new Promise((resolve, reject) => {
      client.once("open", resolve);
      client.once("error", reject);
    }),
    "open",
  );
  return client;
}

/** A client and the server side of its connection. */
async function pair(url: string, server: WebSocketServer, protocols: string[] = []) {
  const connected = event(server, "connection");
  const client = await open(url, protocols);
  const [connection] = await connected as [WebSocketConnection];
  return { client, connection };
}

/** The HTTP status a refused client got. */
async function refusal(url: string, protocols: string[] = []): Promise<number> {
  const client = new WsClient(url, protocols);
  const [error] = await event(client, "error");
  const status = /Unexpected server response: (\d+)/.exec(String(error))?.[1];
  assert.ok(status !== undefined, `not refused with a status: ${error}`);
  return Number(status);
}

/** Closes a client and waits until it has closed. */
async function closeClient(client: Client): Promise<void> {
  if (client.readyState === client.CLOSED) return;
  const closed = event(client, "close");
  client.close(1000);
  await closed;
}

const text = (data: unknown) => (data as Buffer).toString("utf8");

test("ws is the module object, whose Server creates a WebSocketServer with or without new", async () => {
  assert.ok(Object.isFrozen(ws));
  assert.equal(ws.Server, Server);
  for (
    const create of [
      () => ws.Server({ host: "127.0.0.1" }),
      () => new ws.Server({ host: "127.0.0.1" }),
    ]
  ) {
    const server = create();
    assert.ok(server instanceof WebSocketServer);
    assert.ok(server instanceof Server);
    await event(server, "listening");
    await server.close();
  }
});

test("Server port 0 picks a free port, which address() reports once listening is emitted", async () => {
  const server = new Server({ host: "127.0.0.1" });
  assert.equal(server.address(), null);
  await event(server, "listening");
  const address = server.address()!;
  assert.equal(address.address, "127.0.0.1");
  assert.ok(address.port > 0);
  const client = await open(`ws://127.0.0.1:${address.port}`);
  await closeClient(client);
  await server.close();
});

test("Server port binds the port given, and close stops accepting connections", async () => {
  const { server: probe } = await start();
  const port = probe.address()!.port;
  await probe.close();
  const server = new Server({ host: "127.0.0.1", port });
  await event(server, "listening");
  assert.equal(server.address()!.port, port);
  await server.close();
  const [error] = await event(new WsClient(`ws://127.0.0.1:${port}`), "error");
  assert.match(String(error), /ECONNREFUSED|refused|failed/i);
});

test("Server emits error when it cannot listen", async () => {
  const { server: first } = await start();
  const port = first.address()!.port;
  const second = new Server({ host: "127.0.0.1", port });
  try {
    const [error] = await event(second, "error");
    assert.ok(error instanceof Error);
    assert.equal(second.address(), null);
  } finally {
    await second.close();
    await first.close();
  }
});

test("Server refuses a bad port, backlog, maxPayload or acceptHandler", () => {
  for (const port of [-1, 65536, 1.5, NaN]) {
    assert.throws(() => new Server({ port }), RangeError, `port ${port}`);
  }
  for (const backlog of [-1, 0.5, NaN]) {
    assert.throws(() => new Server({ backlog }), RangeError, `backlog ${backlog}`);
  }
  for (const maxPayload of [-1, NaN]) {
    assert.throws(() => new Server({ maxPayload }), RangeError, `maxPayload ${maxPayload}`);
  }
  assert.throws(
    () =>
      new Server({
        acceptHandler: "chat" as unknown as NonNullable<ServerOptions["acceptHandler"]>,
      }),
    TypeError,
  );
});

test("Server backlog is accepted, and every client is served", async () => {
  const { server, url, connections } = await start({ backlog: 1 });
  const clients = await Promise.all([open(url), open(url), open(url)]);
  await within(
    (async () => {
      while (connections.length < 3) await delay(5);
    })(),
    "three connections",
  );
  await Promise.all(clients.map(closeClient));
  await server.close();
});

test("Server clientTracking keeps the open connections in clients, each removed as it closes", async () => {
  const { server, url } = await start({ clientTracking: true });
  const first = await pair(url, server);
  const second = await pair(url, server);
  assert.deepEqual([...server.clients!], [first.connection, second.connection]);
  let sizeAtClose = -1;
  first.connection.on("close", () => sizeAtClose = server.clients!.size);
  const firstClosed = event(first.connection, "close");
  await closeClient(first.client);
  await firstClosed;
  assert.equal(sizeAtClose, 1);
  assert.deepEqual([...server.clients!], [second.connection]);
  await closeClient(second.client);
  await server.close();
});

test("Server clientTracking is off by default: clients is undefined", async () => {
  const { server, url } = await start();
  const { client } = await pair(url, server);
  assert.equal(server.clients, undefined);
  await closeClient(client);
  await server.close();
});

test("Server maxPayload closes a connection whose message is larger with 1009, error then close", async () => {
  const { server, url } = await start({ maxPayload: 16 });
  const { client, connection } = await pair(url, server);
  const events: unknown[][] = [];
  for (const name of ["message", "error", "close"]) {
    connection.on(name, (...args: unknown[]) => events.push([name, ...args]));
  }
  const clientClosed = event(client, "close");
  client.send(Buffer.alloc(16, 1));
  client.send(Buffer.alloc(17, 2));
  const [code] = await clientClosed;
  assert.equal(code, 1009);
  await within(
    (async () => {
      while (events.length < 3) await delay(5);
    })(),
    "close event",
  );
  assert.equal(events[0]![0], "message");
  assert.deepEqual(events[0]![1], Buffer.alloc(16, 1));
  const [name, error] = events[1]!;
  assert.equal(name, "error");
  assert.ok(error instanceof ConnectionClosedError);
  assert.equal(error.closeCode, 1009);
  assert.match(error.message, /^Cannot receive messages: connection failed with 1009 \(.+\)$/);
  assert.equal(events[2]![0], "close");
  assert.equal(events[2]![1], 1009);
  await server.close();
});

test("Server maxPayload 0 keeps the library's default limit rather than a limit of 0", async () => {
  const { server, url } = await start({ maxPayload: 0 });
  const { client, connection } = await pair(url, server);
  const received = event(connection, "message");
  client.send(Buffer.alloc(100_000, 7));
  const [data] = await received;
  assert.equal((data as Buffer).length, 100_000);
  await closeClient(client);
  await server.close();
});

test("Server acceptHandler gets the offered subprotocols and accepts the one it returns", async () => {
  const calls: [unknown, string[]][] = [];
  const { server, url } = await start({
    acceptHandler(protocols) {
      calls.push([this, protocols]);
      return protocols.find((protocol) => protocol === "my_ws_protocol") ?? false;
    },
  });
  const { client } = await pair(url, server, ["first", "my_ws_protocol", "last"]);
  assert.equal(client.protocol, "my_ws_protocol");
  assert.deepEqual(calls, [[server, ["first", "my_ws_protocol", "last"]]]);
  await closeClient(client);
  await server.close();
});

test("Server acceptHandler refuses with 403 when it returns a falsy value, before any connection", async () => {
  for (const verdict of [false, null, undefined, ""] as const) {
    const { server, url, connections } = await start({ acceptHandler: () => verdict });
    assert.equal(await refusal(url, ["chat"]), 403, `verdict ${JSON.stringify(verdict)}`);
    assert.equal(connections.length, 0);
    await server.close();
  }
});

test("Server acceptHandler gets an empty array when the client offers none, and a string accepts it", async () => {
  const calls: string[][] = [];
  const { server, url } = await start({
    acceptHandler: (protocols) => {
      calls.push(protocols);
      return "anything";
    },
  });
  const { client } = await pair(url, server);
  assert.equal(client.protocol, "");
  assert.deepEqual(calls, [[]]);
  await closeClient(client);
  await server.close();
});

test("Server acceptHandler returning a subprotocol not offered fails the request with 500 and an error", async () => {
  const { server, url, errors } = await start({ acceptHandler: () => "other" });
  assert.equal(await refusal(url, ["chat"]), 500);
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof TypeError);
  assert.match(String(errors[0]), /"other"/);
  await server.close();
});

test("Server acceptHandler that throws fails the request with 500 and an error", async () => {
  const { server, url, errors } = await start({
    acceptHandler: () => {
      throw new Error("handler broke");
    },
  });
  assert.equal(await refusal(url), 500);
  assert.match(String(errors[0]), /handler broke/);
  await server.close();
});

test("WebSocketServer emits connection with a WebSocketConnection for each client", async () => {
  const { server, url, connections } = await start();
  const first = await pair(url, server);
  const second = await pair(url, server);
  assert.ok(first.connection instanceof WebSocketConnection);
  assert.notEqual(first.connection, second.connection);
  assert.deepEqual(connections, [first.connection, second.connection]);
  await Promise.all([closeClient(first.client), closeClient(second.client)]);
  await server.close();
});

test("WebSocketConnection message gives a Buffer of a binary message and of a text message's UTF-8", async () => {
  const { server, url } = await start();
  const { client, connection } = await pair(url, server);
  const messages: unknown[] = [];
  connection.on("message", (data: unknown) => messages.push(data));
  client.send(new Uint8Array([0, 1, 255]));
  client.send("héllo");
  await within(
    (async () => {
      while (messages.length < 2) await delay(5);
    })(),
    "two messages",
  );
  for (const data of messages) assert.ok(Buffer.isBuffer(data));
  assert.deepEqual([...(messages[0] as Buffer)], [0, 1, 255]);
  assert.equal(text(messages[1]), "héllo");
  assert.equal((messages[1] as Buffer).toString("ascii").length, 6);
  await closeClient(client);
  await server.close();
});

test("WebSocketConnection send sends bytes as a binary message and a string as a text message", async () => {
  const { server, url } = await start();
  const { client, connection } = await pair(url, server);
  const received: [string, boolean][] = [];
  client.on("message", (data, isBinary) => received.push([data.toString(), isBinary]));
  const source = Buffer.from("A MESSAGE");
  connection.send(source);
  source.fill(0); // send took a copy
  connection.send(new Uint16Array([0x4948]).buffer);
  connection.send(new DataView(new Uint8Array([79, 75]).buffer));
  connection.send("text");
  await within(
    (async () => {
      while (received.length < 4) await delay(5);
    })(),
    "four messages",
  );
  assert.deepEqual(received, [["A MESSAGE", true], ["HI", true], ["OK", true], ["text", false]]);
  await closeClient(client);
  await server.close();
});

test("WebSocketConnection send, ping and pong with mask true send unmasked frames", async () => {
  const { server, url } = await start();
  const connected = event(server, "connection");
  const { host, hostname, port } = new URL(url);
  const socket = tcpConnect({ host: hostname, port: Number(port) });
  socket.write(
    [
      "GET / HTTP/1.1",
      `Host: ${host}`,
      "Upgrade: websocket",
      "Connection: Upgrade",
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
      "Sec-WebSocket-Version: 13",
      "",
      "",
    ].join("\r\n"),
  );
  const [connection] = await connected as [WebSocketConnection];
  // A client-role parser fails on a masked frame from the server.
  const parser = new FrameParser({ role: "client" });
  const frames: Frame[] = [];
  const failures: unknown[] = [];
  let received = Buffer.alloc(0);
  let head = "";
  socket.on("data", (chunk: Buffer) => {
    let bytes: Uint8Array = chunk;
    if (head === "") {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf("\r\n\r\n");
      if (end < 0) return;
      head = received.subarray(0, end + 4).toString("latin1");
      bytes = received.subarray(end + 4);
    }
    try {
      parser.push(bytes, (frame) => frames.push(frame));
    } catch (error) {
      failures.push(error);
    }
  });
  connection.send(Buffer.from("A MESSAGE"), true);
  connection.ping(Buffer.from("PING"), true);
  connection.pong(Buffer.from("PONG"), true);
  connection.send(Buffer.from("unmasked"), false);
  await within(
    (async () => {
      while (frames.length < 4 && failures.length === 0) await delay(5);
    })(),
    "four frames",
  );
  assert.deepEqual(failures, []);
  assert.match(head, /^HTTP\/1\.1 101 /);
  assert.deepEqual(
    frames.map((frame) => [frame.opcode, Buffer.from(frame.payload).toString()]),
    [
      [OPCODE.Binary, "A MESSAGE"],
      [OPCODE.Ping, "PING"],
      [OPCODE.Pong, "PONG"],
      [OPCODE.Binary, "unmasked"],
    ],
  );
  socket.destroy();
  await event(connection, "close");
  await server.close();
});

test("WebSocketConnection send with mask true is accepted by npm's ws client, which fails masked frames", async () => {
  const { server, url } = await start();
  const { client, connection } = await pair(url, server);
  const received = event(client, "message");
  connection.send(Buffer.from("A MESSAGE"), true);
  const [data] = await received;
  assert.equal(String(data), "A MESSAGE");
  assert.equal(client.readyState, client.OPEN);
  await closeClient(client);
  await server.close();
});

test("WebSocketConnection send, ping and pong refuse data that is not bytes or a string, and a mask that is not a boolean", async () => {
  const { server, url } = await start();
  const { client, connection } = await pair(url, server);
  for (const method of ["send", "ping", "pong"] as const) {
    for (const data of [42, null, {}, [1, 2]]) {
      assert.throws(
        () => connection[method](data as unknown as Uint8Array),
        (error) => error instanceof TypeError && /^Cannot send /.test(error.message),
        `${method}(${JSON.stringify(data)})`,
      );
    }
    assert.throws(
      () => connection[method](Buffer.from("x"), 1 as unknown as boolean),
      (error) => error instanceof TypeError && /mask must be a boolean/.test(error.message),
    );
  }
  assert.throws(() => connection.send(undefined as unknown as Uint8Array), TypeError);
  await closeClient(client);
  await server.close();
});

test("WebSocketConnection ping sends a ping whose pong comes as a pong event", async () => {
  const { server, url } = await start();
  const { client, connection } = await pair(url, server);
  const clientPing = event(client, "ping");
  const pong = event(connection, "pong");
  connection.ping(Buffer.from("PING"));
  assert.equal(String((await clientPing)[0]), "PING");
  const [data] = await pong;
  assert.ok(Buffer.isBuffer(data));
  assert.equal(text(data), "PING");
  const emptyPong = event(connection, "pong");
  connection.ping();
  const [empty] = await emptyPong;
  assert.ok(Buffer.isBuffer(empty));
  assert.equal(empty.length, 0);
  await closeClient(client);
  await server.close();
});

test("WebSocketConnection emits ping and pong on the connection they came on, the ping answered", async () => {
  const { server, url } = await start();
  const first = await pair(url, server);
  const second = await pair(url, server);
  const seen: string[] = [];
  for (const [name, { connection }] of [["first", first], ["second", second]] as const) {
    connection.on("ping", (data: unknown) => {
      assert.ok(Buffer.isBuffer(data));
      seen.push(`${name} ping ${text(data)}`);
    });
    connection.on("pong", (data: unknown) => seen.push(`${name} pong ${text(data)}`));
  }
  const clientPong = event(second.client, "pong");
  second.client.ping(Buffer.from("PING"));
  assert.equal(String((await clientPong)[0]), "PING");
  const unsolicited = event(first.connection, "pong");
  first.client.pong(Buffer.from("PONG"));
  await unsolicited;
  assert.deepEqual(seen, ["second ping PING", "first pong PONG"]);
  await Promise.all([closeClient(first.client), closeClient(second.client)]);
  await server.close();
});

test("WebSocketConnection emits messages, pings and pongs in the order they arrived in", async () => {
  const { server, url } = await start();
  const connected = event(server, "connection");
  const { hostname, host, port } = new URL(url);
  const socket = tcpConnect({ host: hostname, port: Number(port) });
  socket.on("error", () => {});
  socket.write(
    [
      "GET / HTTP/1.1",
      `Host: ${host}`,
      "Upgrade: websocket",
      "Connection: Upgrade",
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
      "Sec-WebSocket-Version: 13",
      "",
      "",
    ].join("\r\n"),
  );
  const [connection] = await connected as [WebSocketConnection];
  const seen: string[] = [];
  for (const name of ["message", "ping", "pong"]) {
    connection.on(name, (data: Buffer) => seen.push(`${name} ${text(data)}`));
  }
  const frame = (opcode: number, payload: string) =>
    encodeFrame({ fin: true, opcode, payload: Buffer.from(payload) }, { mask: true });
  // In one write, so that they are most likely read at once. (Two messages
  // or more right before a ping or pong in one read would overtake it.)
  socket.write(Buffer.concat([
    frame(OPCODE.Text, "a"),
    frame(OPCODE.Ping, "p"),
    frame(OPCODE.Pong, "q"),
    frame(OPCODE.Binary, "b"),
    frame(OPCODE.Text, "c"),
  ]));
  await within(
    (async () => {
      while (seen.length < 5) await delay(5);
    })(),
    "five events",
  );
  assert.deepEqual(seen, ["message a", "ping p", "pong q", "message b", "message c"]);
  socket.destroy();
  await event(connection, "close");
  await server.close();
});

test("WebSocketConnection pong sends a pong, unsolicited or answering a ping", async () => {
  const { server, url } = await start();
  const { client, connection } = await pair(url, server);
  const pongs: string[] = [];
  client.on("pong", (data) => pongs.push(String(data)));
  connection.pong(Buffer.from("heartbeat"));
  // Answering as ZJS's sample does adds a pong to the one sent by itself.
  connection.on("ping", (data: Buffer) => connection.pong(data));
  client.ping(Buffer.from("PING"));
  await within(
    (async () => {
      while (pongs.length < 3) await delay(5);
    })(),
    "three pongs",
  );
  assert.deepEqual(pongs, ["heartbeat", "PING", "PING"]);
  await closeClient(client);
  await server.close();
});

test("WebSocketConnection ping and pong refuse a payload over 125 bytes", async () => {
  const { server, url } = await start();
  const { client, connection } = await pair(url, server);
  assert.throws(() => connection.ping(Buffer.alloc(126)), RangeError);
  assert.throws(() => connection.pong(Buffer.alloc(126)), RangeError);
  const pong = event(connection, "pong");
  connection.ping(Buffer.alloc(125, 1));
  assert.equal(((await pong)[0] as Buffer).length, 125);
  await closeClient(client);
  await server.close();
});

test("WebSocketConnection emits close with the client's close code and reason", async () => {
  const { server, url } = await start();
  const { client, connection } = await pair(url, server);
  const closed = event(connection, "close");
  let errors = 0;
  connection.on("error", () => errors++);
  client.close(4000, "done");
  assert.deepEqual(await closed, [4000, "done"]);
  assert.equal(errors, 0);
  await server.close();
});

test("WebSocketConnection close closes with a code and reason, then emits close", async () => {
  const { server, url } = await start();
  const { client, connection } = await pair(url, server);
  const clientClosed = event(client, "close");
  const closed = event(connection, "close");
  connection.close(1000, "bye");
  const [code, reason] = await clientClosed;
  assert.equal(code, 1000);
  assert.equal(String(reason), "bye");
  assert.deepEqual(await closed, [1000, "bye"]);
  assert.throws(() => connection.close(999), RangeError);
  await server.close();
});

test("WebSocketConnection drops what is sent once closing, without throwing", async () => {
  const { server, url } = await start();
  const { client, connection } = await pair(url, server);
  const events: string[] = [];
  connection.on("error", () => events.push("error"));
  connection.on("close", () => events.push("close"));
  const messages: unknown[] = [];
  client.on("message", (data) => messages.push(data));
  connection.close(1000);
  connection.send("late");
  connection.ping(Buffer.from("late"));
  connection.pong(Buffer.from("late"));
  await event(connection, "close");
  connection.send("later");
  connection.ping();
  connection.pong();
  await delay(20);
  assert.deepEqual(events, ["close"]);
  assert.deepEqual(messages, []);
  await server.close();
});

test("WebSocketConnection emits error then close with 1006 when the client drops the connection", async () => {
  const { server, url } = await start();
  const { client, connection } = await pair(url, server);
  const events: unknown[][] = [];
  connection.on("error", (error: unknown) => events.push(["error", error]));
  connection.on("close", (...args: unknown[]) => events.push(["close", ...args]));
  const closed = event(connection, "close");
  client.terminate();
  await closed;
  assert.equal(events.length, 2);
  const [name, error] = events[0]!;
  assert.equal(name, "error");
  assert.ok(error instanceof ConnectionClosedError);
  assert.equal(error.closeCode, 1006);
  assert.equal(error.wasClean, false);
  assert.deepEqual(events[1], ["close", 1006, ""]);
  await server.close();
});

test("WebSocketConnection without an error listener survives a failed connection", async () => {
  const { server, url } = await start({ maxPayload: 1 });
  const { client, connection } = await pair(url, server);
  const closed = event(connection, "close");
  client.send("too long");
  assert.equal((await closed)[0], 1009);
  // The server still serves.
  const next = await pair(url, server);
  const echoed = event(next.client, "message");
  next.connection.on("message", (data: Buffer) => next.connection.send(data));
  next.client.send("x");
  assert.equal(String((await echoed)[0]), "x");
  await closeClient(next.client);
  await server.close();
});
