import { test } from "node:test";
import assert from "node:assert/strict";
import { listen, type Message, type ServerChannel } from "../../mod.ts";
import {
  type ServerEvent,
  WebSocket,
  type WebSocketCloseEvent,
  type WebSocketEvent,
} from "../../src/compat/hop/mod.ts";
import { handshakeThen, serve, within } from "../_servers.ts";
import { closeSocket, nextEvent, serveHop } from "./_hop.ts";

/** Reads the next message a server channel receives. */
async function nextMessage(channel: ServerChannel): Promise<Message | undefined> {
  const reader = channel.readable.getReader();
  try {
    return (await within(reader.read(), "message")).value;
  } finally {
    reader.releaseLock();
  }
}

/** Writes one message from a server channel. */
async function write(channel: ServerChannel, message: Message): Promise<void> {
  const writer = channel.writable.getWriter();
  try {
    await within(writer.write(message), "write");
  } finally {
    writer.releaseLock();
  }
}

test("WebSocket connects to any server: readyState, url, onopen, send, onmessage with event.data", async () => {
  const server = await serve(); // the core's echo server, not a Hop one
  try {
    const ws = new WebSocket(`${server.url}/some/path?q=1`);
    assert.equal(ws.readyState, "connecting");
    assert.equal(ws.url, `${server.url}/some/path?q=1`);
    const opened = new Promise<[unknown, WebSocketEvent]>((resolve) => {
      ws.onopen = function (event) {
        resolve([this, event]);
      };
    });
    const [self, open] = await within(opened, "open");
    assert.equal(self, ws);
    assert.deepEqual(open, { type: "open", target: ws, data: undefined, value: undefined });
    assert.equal(ws.readyState, "open");

    const received = new Promise<[unknown, WebSocketEvent<string | Uint8Array>]>((resolve) => {
      ws.onmessage = function (event) {
        resolve([this, event]);
      };
    });
    ws.send("h\u00e9llo");
    const [target, message] = await within(received, "message");
    assert.equal(target, ws);
    assert.deepEqual(message, {
      type: "message",
      target: ws,
      data: "h\u00e9llo",
      value: "h\u00e9llo",
    });
    await closeSocket(ws);
  } finally {
    await server.close();
  }
});

test("WebSocket takes its subprotocols as a string, a list, or { protocol }", async () => {
  const offered: string[][] = [];
  const server = await serve(undefined, {
    selectProtocol: (protocols) => {
      offered.push(protocols);
      return protocols.at(-1);
    },
  });
  try {
    const options: [unknown, string[]][] = [
      [undefined, []],
      ["foo", ["foo"]],
      ["bar, foo", ["bar", "foo"]],
      [["bar", "foo"], ["bar", "foo"]],
      [{ protocol: "bar,foo" }, ["bar", "foo"]],
      [{ protocol: ["x"] }, ["x"]],
      [{}, []],
    ];
    for (const [option, expected] of options) {
      offered.length = 0;
      const ws = new WebSocket(server.url, option as string);
      await nextEvent(ws, "open");
      // selectProtocol is asked when something is offered.
      assert.deepEqual(offered, expected.length === 0 ? [] : [expected], JSON.stringify(option));
      assert.equal(ws.protocol, expected.at(-1) ?? "");
      await closeSocket(ws);
    }
  } finally {
    await server.close();
  }
});

test("WebSocket refuses a bad URL, subprotocol or option at once", () => {
  for (const url of ["ftp://localhost/hop/serv", "not a url", "ws://localhost/#top"]) {
    assert.throws(
      () => new WebSocket(url),
      (error) => error instanceof DOMException && error.name === "SyntaxError",
      url,
    );
  }
  for (const option of ["a b", ["a", "a"], { protocol: "x y" }]) {
    assert.throws(
      () => new WebSocket("ws://localhost/", option),
      (error) => error instanceof DOMException && error.name === "SyntaxError",
      JSON.stringify(option),
    );
  }
  assert.throws(
    () => new WebSocket("ws://localhost/", 42 as unknown as string),
    (error) => error instanceof TypeError && /option must be/.test(error.message),
  );
});

test("WebSocket.send sends text, binary, and other values as their string", async () => {
  const server = await serve(() => {});
  try {
    const ws = new WebSocket(server.url);
    assert.throws(
      () => ws.send("too early"),
      (error) => error instanceof DOMException && error.name === "InvalidStateError",
    );
    const channel = await server.nextChannel();
    await nextEvent(ws, "open");
    const bytes = new Uint8Array([0, 1, 2, 255]);
    ws.send("text");
    ws.send(bytes);
    bytes[0] = 9; // sent as it was when send() was called
    ws.send(new Uint16Array([0x0201]).buffer);
    ws.send(new DataView(new Uint8Array([7, 8, 9]).buffer, 1, 2));
    ws.send(42 as unknown as string);
    assert.equal(await nextMessage(channel), "text");
    assert.deepEqual(await nextMessage(channel), new Uint8Array([0, 1, 2, 255]));
    assert.deepEqual(await nextMessage(channel), new Uint8Array([1, 2]));
    assert.deepEqual(await nextMessage(channel), new Uint8Array([8, 9]));
    assert.equal(await nextMessage(channel), "42");
    await closeSocket(ws);
    // After closing, a message is dropped.
    ws.send("too late");
    assert.equal(await nextMessage(channel), undefined);
  } finally {
    await server.close();
  }
});

test("WebSocket delivers a binary message as a Uint8Array in event.data", async () => {
  const server = await serve(() => {});
  try {
    const ws = new WebSocket(server.url);
    const channel = await server.nextChannel();
    const received = nextEvent<WebSocketEvent<string | Uint8Array>>(ws, "message");
    await write(channel, new Uint8Array([1, 2, 3]));
    const { data, value } = await received;
    assert.ok(data instanceof Uint8Array && data.constructor === Uint8Array);
    assert.deepEqual(data, new Uint8Array([1, 2, 3]));
    assert.equal(value, data);
    await closeSocket(ws);
  } finally {
    await server.close();
  }
});

test("WebSocket.close runs the closing handshake and fires onclose with the code", async () => {
  const server = await serve(() => {});
  try {
    const ws = new WebSocket(server.url);
    const channel = await server.nextChannel();
    await nextEvent(ws, "open");
    const events: string[] = [];
    ws.onerror = () => events.push("error");
    const closed = new Promise<WebSocketCloseEvent>((resolve) => {
      ws.onclose = (event) => resolve(event);
    });
    ws.send("last words");
    ws.close();
    assert.equal(ws.readyState, "closing");
    ws.close(4000); // once closing, nothing more
    assert.equal(await nextMessage(channel), "last words");
    const event = await within(closed, "close");
    assert.deepEqual(event, {
      type: "close",
      target: ws,
      data: undefined,
      value: undefined,
      code: 1000,
      reason: "",
      wasClean: true,
    });
    assert.equal(ws.readyState, "closed");
    assert.deepEqual(events, []);
    assert.deepEqual(await within(channel.closed, "close"), {
      code: 1000,
      reason: "",
      wasClean: true,
    });
  } finally {
    await server.close();
  }
});

test("WebSocket.close sends the code and reason it is given", async () => {
  const server = await serve(() => {});
  try {
    const ws = new WebSocket(server.url);
    const channel = await server.nextChannel();
    await nextEvent(ws, "open");
    assert.throws(() => ws.close(1005), RangeError);
    assert.throws(() => ws.close(2000), RangeError);
    assert.throws(() => ws.close(1000, "x".repeat(124)), RangeError);
    assert.throws(() => ws.close(1000, 7 as unknown as string), TypeError);
    assert.equal(ws.readyState, "open");
    const closed = nextEvent<WebSocketCloseEvent>(ws, "close");
    ws.close(4321, "r\u00e9son");
    assert.deepEqual(await within(channel.closed, "close"), {
      code: 4321,
      reason: "r\u00e9son",
      wasClean: true,
    });
    const event = await closed;
    assert.deepEqual([event.code, event.reason, event.wasClean], [4321, "r\u00e9son", true]);
  } finally {
    await server.close();
  }
});

test("WebSocket fires onerror then onclose with 1006 when it cannot connect", async () => {
  const closedPort = await listen({ hostname: "127.0.0.1", port: 0 }, () => {});
  await closedPort.close();
  const hop = await serveHop("serv");
  try {
    for (const url of [`ws://127.0.0.1:${closedPort.port}/`, hop.url("missing")]) {
      const ws = new WebSocket(url);
      const order: string[] = [];
      const errored = new Promise<WebSocketEvent<string>>((resolve) => {
        ws.onerror = (event) => {
          order.push(`error ${ws.readyState}`);
          resolve(event);
        };
      });
      const closed = new Promise<WebSocketCloseEvent>((resolve) => {
        ws.onclose = (event) => {
          order.push("close");
          resolve(event);
        };
      });
      const error = await within(errored, "error");
      assert.equal(error.type, "error");
      assert.equal(typeof error.data, "string");
      assert.equal(error.value, error.data);
      const close = await within(closed, "close");
      assert.deepEqual([close.code, close.wasClean], [1006, false]);
      assert.deepEqual(order, ["error closed", "close"]);
      if (url === hop.url("missing")) assert.match(error.data, /404/);
    }
  } finally {
    await hop.server.close();
  }
});

test("WebSocket fires only close, no uncaught error, when nothing listens to error", async () => {
  const closedPort = await listen({ hostname: "127.0.0.1", port: 0 }, () => {});
  await closedPort.close();
  const ws = new WebSocket(`ws://127.0.0.1:${closedPort.port}/`);
  const event = await nextEvent<WebSocketCloseEvent>(ws, "close");
  assert.equal(event.code, 1006);
});

test("WebSocket.close while connecting abandons the connection: error, then close with 1006", async () => {
  const server = await serve(() => {});
  try {
    const ws = new WebSocket(server.url);
    const order: string[] = [];
    ws.addEventListener("error", () => order.push("error"));
    const closed = nextEvent<WebSocketCloseEvent>(ws, "close");
    ws.close();
    assert.equal(ws.readyState, "closing");
    const event = await closed;
    assert.deepEqual([event.code, event.wasClean, order], [1006, false, ["error"]]);
    assert.equal(ws.readyState, "closed");
  } finally {
    await server.close();
  }
});

test("WebSocket fires onerror then onclose with 1006 when the connection drops", async () => {
  const server = await handshakeThen((socket) => setTimeout(() => socket.destroy(), 50));
  try {
    const ws = new WebSocket(server.url);
    await nextEvent(ws, "open");
    const order: string[] = [];
    ws.onerror = (event) => order.push(`error: ${event.data}`);
    const event = await nextEvent<WebSocketCloseEvent>(ws, "close");
    assert.deepEqual([event.code, event.reason, event.wasClean], [1006, "", false]);
    assert.deepEqual(order, ["error: the connection ended without a closing handshake"]);
  } finally {
    await server.close();
  }
});

test("WebSocket.addEventListener listeners run before the on* property, once when asked", async () => {
  const server = await serve();
  try {
    const ws = new WebSocket(server.url);
    const calls: string[] = [];
    ws.onmessage = (event) => calls.push(`onmessage ${event.data}`);
    ws.addEventListener("message", function (event) {
      assert.equal(this, ws);
      calls.push(`listener ${event.data}`);
    });
    ws.addEventListener("message", (event) => calls.push(`once ${event.data}`), { once: true });
    ws.addEventListener("open", () => {
      ws.send("a");
      ws.send("b");
    });
    const done = new Promise<void>((resolve) => {
      ws.addEventListener("message", (event) => event.data === "b" && resolve());
    });
    await within(done, "two messages");
    assert.deepEqual(calls, [
      "listener a",
      "once a",
      "onmessage a",
      "listener b",
      "onmessage b",
    ]);
    await closeSocket(ws);
  } finally {
    await server.close();
  }
});

test("WebSocket and WebSocketServer replay the Hop.js documentation's example", async () => {
  // wsserver.js and wsclient.js, with their console output collected.
  const lines: string[] = [];
  const { server: serv, port } = await serveHop({ path: "serv", protocol: "foo" });
  const serverClosed = new Promise<void>((resolve) => {
    serv.onconnection = function (event: ServerEvent<WebSocket>) {
      const ws = event.value;
      lines.push(`connection established: ${ws.socket}`);
      ws.onmessage = function (event) {
        lines.push(`server received [${event.data}]`);
      };
      ws.onclose = function () {
        lines.push("client socket closed.");
        resolve();
      };
      ws.send("something");
    };
  });
  const ws = new WebSocket("ws://localhost:" + port + "/hop/serv", ["bar", "foo"]);
  const clientClosed = new Promise<void>((resolve) => {
    ws.onopen = function () {
      this.send("toto n'est pas content");
      this.send("tutu non plus");
    };
    ws.onmessage = function (event) {
      lines.push(`client received [${event.data}]`);
      this.close();
    };
    ws.onclose = function () {
      lines.push("client websocket closed.");
      resolve();
    };
  });
  try {
    await within(Promise.all([serverClosed, clientClosed]), "both ends closed");
    assert.equal(ws.protocol, "foo");
    assert.match(lines[0]!, /^connection established: 127\.0\.0\.1:\d+$/);
    const server = lines.filter((line) => line.startsWith("server") || line.startsWith("client s"));
    assert.deepEqual(server, [
      "server received [toto n'est pas content]",
      "server received [tutu non plus]",
      "client socket closed.",
    ]);
    const client = lines.filter((line) =>
      line.startsWith("client r") || line.startsWith("client w")
    );
    assert.deepEqual(client, ["client received [something]", "client websocket closed."]);
  } finally {
    await serv.close();
  }
});
