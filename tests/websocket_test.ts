import { test } from "node:test";
import assert from "node:assert/strict";
import { WebSocket } from "../mod.ts";
import type { CloseInfo, Message } from "../src/protocol/connection.ts";
import { delay, handshakeThen, serve, WAIT, within } from "./_servers.ts";

/** Waits until `condition` holds, checking every 10 ms. */
async function until(condition: () => boolean, what: string, ms = WAIT): Promise<void> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`no ${what} within ${ms} ms`);
    await delay(10);
  }
}

/** The next event of a type. */
function next<T extends Event = Event>(target: EventTarget, type: string): Promise<T> {
  return within(
    new Promise<T>((resolve) =>
      target.addEventListener(type, (e) => resolve(e as T), { once: true })
    ),
    `${type} event`,
  );
}

/** Records the events of a socket as short strings, in order. */
function record(socket: WebSocket): string[] {
  const log: string[] = [];
  socket.addEventListener("open", () => log.push("open"));
  socket.addEventListener("message", (event) => {
    log.push(`message:${typeof event.data === "string" ? event.data : "binary"}`);
  });
  socket.addEventListener("error", () => log.push("error"));
  socket.addEventListener("close", (event) => {
    log.push(`close:${event.code}:${event.reason}:${event.wasClean}`);
  });
  return log;
}

async function opened(socket: WebSocket): Promise<void> {
  if (socket.readyState === WebSocket.CONNECTING) await next(socket, "open");
  assert.equal(socket.readyState, WebSocket.OPEN);
}

async function closeAndWait(socket: WebSocket): Promise<CloseEvent> {
  const closing = next<CloseEvent>(socket, "close");
  socket.close();
  return await closing;
}

test("WebSocket has the state constants on the class and on every instance", () => {
  const names = ["CONNECTING", "OPEN", "CLOSING", "CLOSED"] as const;
  names.forEach((name, value) => {
    assert.equal(WebSocket[name], value);
    assert.equal(WebSocket.prototype[name], value);
    const descriptor = Object.getOwnPropertyDescriptor(WebSocket.prototype, name);
    assert.equal(descriptor?.writable, false);
    assert.equal(descriptor?.enumerable, true);
  });
});

test("WebSocket constructor throws SyntaxError for a bad URL or subprotocol at once", () => {
  const syntaxError = (error: unknown) =>
    error instanceof DOMException && error.name === "SyntaxError";
  assert.throws(() => new WebSocket("not a url"), syntaxError);
  assert.throws(() => new WebSocket("ftp://127.0.0.1/"), syntaxError);
  assert.throws(() => new WebSocket("ws://127.0.0.1/#fragment"), syntaxError);
  assert.throws(() => new WebSocket("ws://127.0.0.1/", "no spaces"), syntaxError);
  assert.throws(() => new WebSocket("ws://127.0.0.1/", ["chat", "chat"]), syntaxError);
  assert.throws(
    () => new WebSocket("ws://127.0.0.1/", [], { headers: { Upgrade: "h2c" } }),
    TypeError,
  );
});

test("WebSocket opens, echoes text and closes cleanly, with events and states in order", async () => {
  const server = await serve(undefined, { selectProtocol: (offered) => offered[1] });
  try {
    const socket = new WebSocket(server.url.replace("ws:", "http:"), ["one", "chat"]);
    const log = record(socket);
    assert.equal(socket.url, `${server.url}/`);
    assert.equal(socket.readyState, WebSocket.CONNECTING);
    assert.equal(socket.protocol, "");
    assert.equal(socket.bufferedAmount, 0);
    assert.equal(socket.binaryType, "blob");
    await opened(socket);
    assert.equal(socket.protocol, "chat");
    assert.equal(socket.extensions, "");

    const message = next<MessageEvent>(socket, "message");
    socket.send("hello");
    const event = await message;
    assert.ok(event instanceof MessageEvent);
    assert.equal(event.data, "hello");
    assert.equal(event.origin, server.url);

    const closing = next<CloseEvent>(socket, "close");
    socket.close(1000, "done");
    assert.equal(socket.readyState, WebSocket.CLOSING);
    const close = await closing;
    assert.equal(socket.readyState, WebSocket.CLOSED);
    assert.equal(close.code, 1000);
    assert.equal(close.wasClean, true);
    // The server echoes the code and the reason; the client reports the server's frame.
    assert.equal(close.reason, "done");
    assert.deepEqual(log, ["open", "message:hello", "close:1000:done:true"]);
    assert.deepEqual(await server.closes[0], { code: 1000, reason: "done", wasClean: true });
  } finally {
    await server.close();
  }
});

test("WebSocket send throws InvalidStateError while connecting", async () => {
  const server = await serve();
  try {
    const socket = new WebSocket(server.url);
    assert.throws(
      () => socket.send("too early"),
      (error) => error instanceof DOMException && error.name === "InvalidStateError",
    );
    assert.equal(socket.bufferedAmount, 0);
    await opened(socket);
    await closeAndWait(socket);
  } finally {
    await server.close();
  }
});

test("WebSocket delivers binary as a Blob by default and as an ArrayBuffer on request", async () => {
  const server = await serve();
  try {
    const socket = new WebSocket(server.url);
    await opened(socket);
    socket.binaryType = "other" as "blob";
    assert.equal(socket.binaryType, "blob");

    let message = next<MessageEvent>(socket, "message");
    socket.send(new Uint8Array([1, 2, 3]));
    const blob = (await message).data;
    assert.ok(blob instanceof Blob);
    assert.deepEqual(new Uint8Array(await blob.arrayBuffer()), new Uint8Array([1, 2, 3]));

    socket.binaryType = "arraybuffer";
    assert.equal(socket.binaryType, "arraybuffer");
    const received: ArrayBuffer[] = [];
    socket.onmessage = (event) => received.push(event.data);
    socket.send(new Uint8Array([4, 5]));
    socket.send(new Uint8Array([6, 7, 8]));
    await until(() => received.length === 2, "two messages");
    const [first, second] = received as [ArrayBuffer, ArrayBuffer];
    assert.ok(first instanceof ArrayBuffer);
    // Each event owns its buffer: exactly the message, shared with nothing.
    assert.deepEqual(new Uint8Array(first), new Uint8Array([4, 5]));
    assert.deepEqual(new Uint8Array(second), new Uint8Array([6, 7, 8]));
    assert.equal(first.byteLength, 2);
    assert.notEqual(first, second);

    // binaryType is read when each message is delivered.
    socket.binaryType = "blob";
    message = next<MessageEvent>(socket, "message");
    socket.send(new Uint8Array([9]));
    assert.ok((await message).data instanceof Blob);
    await closeAndWait(socket);
  } finally {
    await server.close();
  }
});

test("WebSocket sends a Blob, an ArrayBuffer, a view and text in the order given", async () => {
  const server = await serve();
  try {
    const socket = new WebSocket(server.url);
    socket.binaryType = "arraybuffer";
    await opened(socket);
    const received: unknown[] = [];
    socket.onmessage = (event) => {
      received.push(typeof event.data === "string" ? event.data : [...new Uint8Array(event.data)]);
    };
    const buffer = new Uint8Array([10, 11, 12, 13]);
    socket.send(new Blob([new Uint8Array([1, 2])]));
    socket.send("after the blob");
    socket.send(new DataView(buffer.buffer, 1, 2));
    socket.send(buffer.buffer);
    socket.send(new Blob(["text in a blob"]));
    // Sent data is copied at once: changing the buffer now changes nothing.
    buffer.fill(0);
    assert.equal(socket.bufferedAmount, 2 + 14 + 2 + 4 + 14);
    await until(() => received.length === 5, "five messages");
    assert.deepEqual(received, [
      [1, 2],
      "after the blob",
      [11, 12],
      [10, 11, 12, 13],
      [...new TextEncoder().encode("text in a blob")],
    ]);
    assert.equal(socket.bufferedAmount, 0);
    await closeAndWait(socket);
  } finally {
    await server.close();
  }
});

test("WebSocket close refuses codes other than 1000 and 3000-4999 and reasons over 123 bytes", async () => {
  const server = await serve();
  try {
    const socket = new WebSocket(server.url);
    await opened(socket);
    for (const code of [0, 999, 1001, 1005, 1006, 2999, 5000, 65535, Number.NaN]) {
      assert.throws(
        () => socket.close(code),
        (error) => error instanceof DOMException && error.name === "InvalidAccessError",
        `code ${code}`,
      );
    }
    assert.throws(
      () => socket.close(1000, "\u00e9".repeat(62)), // 124 bytes
      (error) => error instanceof DOMException && error.name === "SyntaxError",
    );
    // Nothing was started by the refused calls.
    assert.equal(socket.readyState, WebSocket.OPEN);
    await closeAndWait(socket);
  } finally {
    await server.close();
  }
});

test("WebSocket close accepts 1000, 3000, 4999, a 123-byte reason and a reason alone", async () => {
  const server = await serve();
  try {
    const cases: [code: number | undefined, reason: string | undefined, sent: CloseInfo][] = [
      [1000, undefined, { code: 1000, reason: "", wasClean: true }],
      [3000, "x".repeat(123), { code: 3000, reason: "x".repeat(123), wasClean: true }],
      [4999.4, "\u00e9", { code: 4999, reason: "\u00e9", wasClean: true }],
      [undefined, "only a reason", { code: 1000, reason: "only a reason", wasClean: true }],
      [undefined, undefined, { code: 1005, reason: "", wasClean: true }],
    ];
    for (const [index, [code, reason, sent]] of cases.entries()) {
      const socket = new WebSocket(server.url);
      await opened(socket);
      const closing = next<CloseEvent>(socket, "close");
      socket.close(code, reason);
      const event = await closing;
      assert.equal(event.wasClean, true);
      assert.deepEqual(await server.closes[index], sent);
    }
  } finally {
    await server.close();
  }
});

test("WebSocket close while connecting fires error then close with 1006", async () => {
  const server = await serve();
  try {
    const socket = new WebSocket(server.url);
    const log = record(socket);
    const closing = next<CloseEvent>(socket, "close");
    socket.close();
    assert.equal(socket.readyState, WebSocket.CLOSING);
    const event = await closing;
    assert.equal(socket.readyState, WebSocket.CLOSED);
    assert.equal(event.code, 1006);
    assert.deepEqual(log, ["error", "close:1006::false"]);
  } finally {
    await server.close();
  }
});

test("WebSocket sees a close the server starts (4000, bye) as clean, without error", async () => {
  const server = await serve((channel) => channel.close(4000, "bye"));
  try {
    const socket = new WebSocket(server.url);
    const log = record(socket);
    const event = await next<CloseEvent>(socket, "close");
    assert.ok(event instanceof Event);
    assert.equal(event.type, "close");
    assert.equal(event.code, 4000);
    assert.equal(event.reason, "bye");
    assert.equal(event.wasClean, true);
    assert.equal(socket.readyState, WebSocket.CLOSED);
    assert.deepEqual(log, ["open", "close:4000:bye:true"]);
  } finally {
    await server.close();
  }
});

test("WebSocket fires error then close (1006, not clean) when the connection is refused", async () => {
  const server = await serve();
  const { url } = server;
  await server.close();
  const socket = new WebSocket(url);
  const states: number[] = [];
  const log = record(socket);
  socket.onerror = () => states.push(socket.readyState);
  const event = await next<CloseEvent>(socket, "close");
  assert.equal(event.code, 1006);
  assert.equal(event.wasClean, false);
  assert.deepEqual(log, ["error", "close:1006::false"]);
  assert.deepEqual(states, [WebSocket.CLOSED]);
});

test("WebSocket fires error then close 1006 when the server refuses the handshake", async () => {
  const server = await serve(undefined, {
    onUpgrade: () => new Response("no", { status: 403 }),
  });
  try {
    const socket = new WebSocket(server.url);
    const log = record(socket);
    await next(socket, "close");
    assert.deepEqual(log, ["error", "close:1006::false"]);
  } finally {
    await server.close();
  }
});

test("WebSocket fires error then close 1006 when the server drops the connection", async () => {
  const server = await handshakeThen((socket) => setTimeout(() => socket.destroy(), 20));
  try {
    const socket = new WebSocket(server.url);
    const log = record(socket);
    await next(socket, "close");
    assert.deepEqual(log, ["open", "error", "close:1006::false"]);
  } finally {
    await server.close();
  }
});

test("WebSocket fires error then close 1006 when the server breaks the protocol", async () => {
  // A text frame "hi", then a frame with the reserved opcode 0x3.
  const server = await handshakeThen((socket) => {
    socket.write(new Uint8Array([0x81, 0x02, 0x68, 0x69, 0x83, 0x00]));
  });
  try {
    const socket = new WebSocket(server.url, [], { closeTimeout: 100 });
    const log = record(socket);
    await next(socket, "close");
    assert.deepEqual(log, ["open", "message:hi", "error", "close:1006::false"]);
  } finally {
    await server.close();
  }
});

test("WebSocket round-trips a 1 MiB binary message and a 1 MiB text message", async () => {
  const server = await serve();
  try {
    const socket = new WebSocket(server.url);
    socket.binaryType = "arraybuffer";
    await opened(socket);
    const bytes = new Uint8Array(1 << 20).map((_, i) => (i * 31 + (i >> 8)) & 0xff);
    const text = "\u00e9t\u00e9 ".repeat(1 << 18);
    let message = next<MessageEvent>(socket, "message");
    socket.send(bytes);
    assert.deepEqual(new Uint8Array((await message).data), bytes);
    message = next<MessageEvent>(socket, "message");
    socket.send(text);
    assert.equal(socket.bufferedAmount, new TextEncoder().encode(text).length);
    assert.equal((await message).data, text);
    await closeAndWait(socket);
  } finally {
    await server.close();
  }
});

test("WebSocket bufferedAmount rises while the server does not read and returns to 0", async () => {
  let resume!: () => void;
  const reading = new Promise<void>((resolve) => resume = resolve);
  let received = 0;
  const server = await serve(async (channel) => {
    await reading;
    for await (const message of channel.readable) received += (message as Uint8Array).length;
  }, { readableHighWaterMark: 1 });
  try {
    const socket = new WebSocket(server.url);
    await opened(socket);
    const chunk = new Uint8Array(1 << 20);
    const total = 32 << 20;
    let previous = 0;
    for (let sent = 0; sent < total; sent += chunk.length) {
      socket.send(chunk);
      assert.ok(socket.bufferedAmount > previous);
      previous = socket.bufferedAmount;
    }
    assert.equal(socket.bufferedAmount, total);
    // The socket takes what the operating system buffers, then nothing more.
    let stalled = socket.bufferedAmount;
    const deadline = performance.now() + WAIT;
    do {
      const before = stalled;
      await delay(200);
      stalled = socket.bufferedAmount;
      if (stalled === before) break;
    } while (performance.now() < deadline);
    assert.ok(stalled > 0, "some bytes wait while the server does not read");
    await delay(100);
    assert.equal(socket.bufferedAmount, stalled);

    resume();
    await until(() => socket.bufferedAmount === 0, "empty send buffer", 20_000);
    await until(() => received === total, "every byte at the server", 20_000);
    await closeAndWait(socket);
  } finally {
    resume();
    await server.close();
  }
});

test("WebSocket send after close counts in bufferedAmount and sends nothing", async () => {
  const seen: Message[] = [];
  const server = await serve((channel) => {
    (async () => {
      for await (const message of channel.readable) seen.push(message);
    })().catch(() => {});
  });
  try {
    const socket = new WebSocket(server.url);
    await opened(socket);
    socket.send("before");
    const closing = next<CloseEvent>(socket, "close");
    socket.close(1000);
    socket.send("after close");
    assert.ok(socket.bufferedAmount >= 11);
    await closing;
    const closedAmount = socket.bufferedAmount;
    socket.send(new Uint8Array(5));
    assert.equal(socket.bufferedAmount, closedAmount + 5);
    // The message sent before close() went out before the close frame.
    assert.deepEqual(seen, ["before"]);
    assert.equal(closedAmount, 11);
  } finally {
    await server.close();
  }
});

test("WebSocket drops messages that arrive after close() was called", async () => {
  const server = await serve((channel) => {
    const writer = channel.writable.getWriter();
    channel.readable.pipeTo(
      new WritableStream({
        write: async (message) => {
          // Answer a message with two: the second arrives after the client closes.
          await writer.write(message);
          await writer.write("late");
        },
      }),
    ).catch(() => {});
  });
  try {
    const socket = new WebSocket(server.url);
    const log = record(socket);
    await opened(socket);
    socket.onmessage = () => socket.close(1000);
    socket.send("ping");
    await next(socket, "close");
    assert.deepEqual(log, ["open", "message:ping", "close:1000::true"]);
  } finally {
    await server.close();
  }
});

test("WebSocket onxxx handlers keep their place, see the socket as this, and go with null", async () => {
  const server = await serve();
  try {
    const socket = new WebSocket(server.url);
    const calls: string[] = [];
    socket.onopen = () => calls.push("first handler");
    socket.addEventListener("open", () => calls.push("listener"));
    let self: unknown;
    socket.onopen = function () {
      self = this;
      calls.push("second handler");
    };
    socket.onerror = () => calls.push("error handler");
    socket.onerror = null;
    assert.equal(socket.onerror, null);
    assert.equal(typeof socket.onopen, "function");
    await next(socket, "open");
    assert.deepEqual(calls, ["second handler", "listener"]);
    assert.equal(self, socket);
    await closeAndWait(socket);
  } finally {
    await server.close();
  }
});
