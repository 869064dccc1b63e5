import { test } from "node:test";
import assert from "node:assert/strict";
import {
  Client,
  Emitter,
  Server,
  Socket,
  supportedReceiveTypes,
  supportedSendTypes,
} from "../../../src/compat/accessors/mod.ts";
import { within } from "../../_servers.ts";
import { nextEvent, startServer } from "./_helpers.ts";

const SUPPORTED = ["application/json", "text/*", "application/octet-stream", "image/*"];

test("supportedReceiveTypes lists JSON, any text type and the binary types", () => {
  assert.deepEqual(supportedReceiveTypes(), SUPPORTED);
});

test("supportedSendTypes lists JSON, any text type and the binary types", () => {
  assert.deepEqual(supportedSendTypes(), SUPPORTED);
});

test("supportedReceiveTypes and supportedSendTypes return a new array each call", () => {
  const types = supportedReceiveTypes();
  types.push("video/mp4");
  supportedSendTypes().length = 0;
  assert.deepEqual(supportedReceiveTypes(), SUPPORTED);
  assert.deepEqual(supportedSendTypes(), SUPPORTED);
});

test("Client and Server accept every listed type, and any subtype of text/* and image/*", () => {
  const accepted = [
    ...supportedReceiveTypes(),
    "text/plain",
    "text/html",
    "text/csv",
    "image/png",
    "image/svg+xml",
    "Application/JSON",
    "text/plain; charset=utf-8",
    'text/plain; charset="UTF-8"',
    "application/json;charset=utf-8",
    "image/png; name=x",
  ];
  for (const type of accepted) {
    assert.equal(new Client({ receiveType: type, sendType: type }).receiveType, type);
    assert.equal(new Server({ receiveType: type, sendType: type }).sendType, type);
  }
});

test("Client and Server refuse a type outside the list, or a charset other than UTF-8", () => {
  const refused = [
    "",
    "json",
    "text/",
    "text/ plain",
    "application/*",
    "application/xml",
    "audio/ogg",
    "*/*",
    "text/plain; charset=iso-8859-1",
  ];
  for (const type of refused) {
    assert.throws(() => new Client({ receiveType: type }), RangeError, `Client ${type}`);
    assert.throws(() => new Server({ sendType: type }), RangeError, `Server ${type}`);
  }
  assert.throws(
    () => new Client({ sendType: "text/plain; charset=latin1" }),
    /is not supported, use one of application\/json, text\/\*, application\/octet-stream, image\/\* in UTF-8$/,
  );
});

test("Client, Server and Socket are Emitters constructed with new", async () => {
  assert.ok(new Client() instanceof Emitter);
  assert.ok(new Server() instanceof Emitter);
  assert.throws(() => (Client as unknown as () => unknown)(), TypeError);
  assert.throws(() => (Server as unknown as () => unknown)(), TypeError);
  const server = await startServer();
  try {
    const connection = nextEvent(server, "connection");
    const client = new Client({ host: "127.0.0.1", port: server.port });
    const opened = nextEvent(client, "open");
    client.open();
    const [[socket]] = await Promise.all([connection, opened]);
    assert.ok(socket instanceof Socket && socket instanceof Emitter);
    const closed = nextEvent(client, "close");
    client.close();
    await closed;
  } finally {
    await within(server.stop(), "stop");
  }
});

test("Client and Server exchange every supported type with each other", async () => {
  const cases: [type: string, sent: unknown, received: unknown][] = [
    ["application/json", { foo: ["bar", 1, true, null] }, { foo: ["bar", 1, true, null] }],
    ["text/plain", "h\u00e9llo", "h\u00e9llo"],
    ["application/octet-stream", new Uint8Array([0, 127, 255]), new Uint8Array([0, 127, 255])],
    ["image/bmp", new Uint8Array([0x42, 0x4d]), new Uint8Array([0x42, 0x4d])],
  ];
  for (const [type, sent, received] of cases) {
    const server = await startServer({ receiveType: type, sendType: type });
    try {
      server.on("connection", (socket: Socket) => {
        socket.on("message", (message: unknown) => socket.send(message));
      });
      const client = new Client({
        host: "127.0.0.1",
        port: server.port,
        receiveType: type,
        sendType: type,
      });
      const reply = nextEvent(client, "message");
      client.send(sent);
      client.open();
      const [message] = await reply;
      assert.deepEqual(message, received, type);
      const closed = nextEvent(client, "close");
      client.close();
      await closed;
    } finally {
      await within(server.stop(), "stop");
    }
  }
});
