import { test } from "node:test";
import assert from "node:assert/strict";
import { WebSocketError, WebSocketStream } from "../mod.ts";
import { delay, handshakeThen, serve, within } from "./_servers.ts";

/** A validator for a WebSocketError with the given close code. */
function webSocketError(closeCode: number | null) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof WebSocketError, `expected a WebSocketError, got ${String(error)}`);
    assert.ok(error instanceof DOMException);
    assert.equal(error.name, "WebSocketError");
    assert.equal(error.closeCode, closeCode);
    return true;
  };
}

const domException = (name: string) => (error: unknown): boolean =>
  error instanceof DOMException && error.name === name;

test("WebSocketError carries a close code and a reason, checked as close() checks them", () => {
  const plain = new WebSocketError();
  assert.equal(plain.name, "WebSocketError");
  assert.equal(plain.message, "");
  assert.equal(plain.closeCode, null);
  assert.equal(plain.reason, "");
  assert.ok(plain instanceof DOMException);
  assert.ok(plain instanceof Error);

  const full = new WebSocketError("done", { closeCode: 4000, reason: "bye" });
  assert.equal(full.message, "done");
  assert.equal(full.closeCode, 4000);
  assert.equal(full.reason, "bye");
  // A reason without a code stands for a normal closure.
  assert.equal(new WebSocketError("", { reason: "bye" }).closeCode, 1000);

  const cause = new Error("underneath");
  assert.equal(new WebSocketError("x", { cause }).cause, cause);

  assert.throws(
    () => new WebSocketError("", { closeCode: 1001 }),
    domException("InvalidAccessError"),
  );
  assert.throws(() => new WebSocketError("", { closeCode: 70_000 }), TypeError);
  assert.throws(
    () => new WebSocketError("", { closeCode: 1000, reason: "x".repeat(124) }),
    domException("SyntaxError"),
  );
});

test("WebSocketStream constructor checks the URL and subprotocols at once", () => {
  assert.throws(() => new WebSocketStream("not a url"), domException("SyntaxError"));
  assert.throws(() => new WebSocketStream("ftp://127.0.0.1/"), domException("SyntaxError"));
  assert.throws(() => new WebSocketStream("ws://127.0.0.1/#top"), domException("SyntaxError"));
  assert.throws(
    () => new WebSocketStream("ws://127.0.0.1/", { protocols: ["a b"] }),
    domException("SyntaxError"),
  );
  assert.throws(
    () => new WebSocketStream("ws://127.0.0.1/", { protocols: ["chat", "chat"] }),
    domException("SyntaxError"),
  );
});

test("WebSocketStream opens, carries text and bytes both ways, and closes cleanly", async () => {
  const server = await serve(undefined, { selectProtocol: (offered) => offered.at(-1) });
  try {
    const wss = new WebSocketStream(server.url.replace("ws:", "http:"), {
      protocols: ["one", "chat"],
    });
    assert.equal(wss.url, `${server.url}/`);
    const { readable, writable, protocol, extensions } = await within(wss.opened, "open");
    assert.equal(protocol, "chat");
    assert.equal(extensions, "");
    const writer = writable.getWriter();
    const reader = readable.getReader();
    await writer.write("hello");
    const bytes = new Uint8Array([1, 2, 3, 4]);
    await writer.write(bytes.subarray(1, 3));
    await writer.write(new Uint16Array([0x0201]).buffer);
    assert.deepEqual(await reader.read(), { value: "hello", done: false });
    const { value } = await reader.read();
    assert.deepEqual(value, new Uint8Array([2, 3]));
    // A binary chunk owns its buffer.
    assert.ok(value instanceof Uint8Array);
    assert.equal(value.byteOffset, 0);
    assert.equal(value.buffer.byteLength, 2);
    assert.deepEqual((await reader.read()).value, new Uint8Array([1, 2]));

    wss.close({ closeCode: 1000, reason: "done" });
    // The server echoes the code without the reason; closed reports the server's frame.
    assert.deepEqual(await within(wss.closed, "close"), { closeCode: 1000, reason: "done" });
    assert.deepEqual(await server.closes[0], { code: 1000, reason: "done", wasClean: true });
    assert.deepEqual(await reader.read(), { value: undefined, done: true });
    await assert.rejects(writer.write("late"), domException("InvalidStateError"));
  } finally {
    await server.close();
  }
});

test("WebSocketStream close refuses codes other than 1000 and 3000-4999 and long reasons", async () => {
  const server = await serve();
  try {
    const wss = new WebSocketStream(server.url);
    await within(wss.opened, "open");
    for (const closeCode of [0, 999, 1001, 1005, 2999, 5000]) {
      assert.throws(
        () => wss.close({ closeCode }),
        domException("InvalidAccessError"),
        `${closeCode}`,
      );
    }
    for (const closeCode of [-1, 65536, Number.NaN, Infinity]) {
      assert.throws(() => wss.close({ closeCode }), TypeError, `${closeCode}`);
    }
    assert.throws(
      () => wss.close({ closeCode: 1000, reason: "\u20ac".repeat(41) + "a" }), // 124 bytes
      domException("SyntaxError"),
    );
    wss.close({ reason: "\u20ac".repeat(41) }); // 123 bytes, and code 1000 for a reason alone
    await within(wss.closed, "close");
    assert.deepEqual(await server.closes[0], {
      code: 1000,
      reason: "\u20ac".repeat(41),
      wasClean: true,
    });
  } finally {
    await server.close();
  }
});

test("WebSocketStream close before open abandons the handshake", async () => {
  const server = await serve();
  try {
    const wss = new WebSocketStream(server.url);
    wss.close({ closeCode: 1000 });
    await assert.rejects(within(wss.opened, "opened"), webSocketError(null));
    await assert.rejects(within(wss.closed, "closed"), webSocketError(1006));
  } finally {
    await server.close();
  }
});

test("WebSocketStream signal aborting before open rejects opened and closed with its reason", async () => {
  const server = await serve();
  try {
    const early = new AbortController();
    const reason = new Error("never mind");
    early.abort(reason);
    const never = new WebSocketStream(server.url, { signal: early.signal });
    await assert.rejects(never.opened, (error) => error === reason);
    await assert.rejects(never.closed, (error) => error === reason);

    const late = new AbortController();
    const aborted = new WebSocketStream(server.url, { signal: late.signal });
    late.abort(reason);
    await assert.rejects(within(aborted.opened, "opened"), (error) => error === reason);
    await assert.rejects(within(aborted.closed, "closed"), (error) => error === reason);

    // Once open, the signal has no effect.
    const after = new AbortController();
    const open = new WebSocketStream(server.url, { signal: after.signal });
    await within(open.opened, "open");
    after.abort(reason);
    await delay(20);
    open.close({ closeCode: 3001 });
    assert.deepEqual(await within(open.closed, "close"), { closeCode: 3001, reason: "" });
  } finally {
    await server.close();
  }
});

test("WebSocketStream sees a close the server starts (4000, bye)", async () => {
  const server = await serve((channel) => channel.close(4000, "bye"));
  try {
    const wss = new WebSocketStream(server.url);
    const { readable } = await within(wss.opened, "open");
    assert.deepEqual(await within(wss.closed, "close"), { closeCode: 4000, reason: "bye" });
    assert.deepEqual(await readable.getReader().read(), { value: undefined, done: true });
  } finally {
    await server.close();
  }
});

test("WebSocketStream rejects opened and closed with WebSocketError when the connection is refused", async () => {
  const server = await serve();
  const { url } = server;
  await server.close();
  const wss = new WebSocketStream(url);
  await assert.rejects(within(wss.opened, "opened"), webSocketError(null));
  await assert.rejects(within(wss.closed, "closed"), (error) => {
    webSocketError(1006)(error);
    // The cause is what connect() failed with.
    assert.ok((error as WebSocketError).cause instanceof Error);
    return true;
  });
});

test("WebSocketStream errors its streams and rejects closed with 1006 when the server drops", async () => {
  const server = await handshakeThen((socket) => {
    socket.write(new Uint8Array([0x81, 0x02, 0x68, 0x69])); // text "hi"
    setTimeout(() => socket.destroy(), 20);
  });
  try {
    const wss = new WebSocketStream(server.url);
    const { readable, writable } = await within(wss.opened, "open");
    let failure: unknown;
    await assert.rejects(within(wss.closed, "close"), (error) => {
      failure = error;
      return webSocketError(1006)(error);
    });
    // The readable was errored with the same error, queued messages dropped with it.
    await assert.rejects(readable.getReader().read(), (error) => error === failure);
    await assert.rejects(writable.getWriter().write("x"), (error) => error === failure);
  } finally {
    await server.close();
  }
});

test("WebSocketStream reports a protocol violation as an unclean close", async () => {
  const server = await handshakeThen((socket) => socket.write(new Uint8Array([0x83, 0x00])));
  try {
    const wss = new WebSocketStream(server.url, { closeTimeout: 100 });
    await within(wss.opened, "open");
    await assert.rejects(within(wss.closed, "close"), (error) => {
      webSocketError(1006)(error);
      assert.match((error as WebSocketError).message, /1002/);
      return true;
    });
  } finally {
    await server.close();
  }
});

test("WebSocketStream closes with the code of a WebSocketError given to abort or cancel", async () => {
  const server = await serve();
  try {
    const aborting = new WebSocketStream(server.url);
    const { writable } = await within(aborting.opened, "open");
    await writable.abort(new WebSocketError("", { closeCode: 4001, reason: "abort" }));
    await within(aborting.closed, "close");
    assert.deepEqual(await server.closes[0], { code: 4001, reason: "abort", wasClean: true });

    const cancelling = new WebSocketStream(server.url);
    const { readable } = await within(cancelling.opened, "open");
    await readable.cancel(new WebSocketError("", { closeCode: 4002, reason: "cancel" }));
    await within(cancelling.closed, "close");
    assert.deepEqual(await server.closes[1], { code: 4002, reason: "cancel", wasClean: true });

    // Any other reason, or closing the writable, sends a close frame without a code.
    const closing = new WebSocketStream(server.url);
    const opened = await within(closing.opened, "open");
    const writer = opened.writable.getWriter();
    await writer.write("last");
    await writer.close();
    assert.deepEqual(await within(closing.closed, "close"), { closeCode: 1005, reason: "" });
    assert.deepEqual(await server.closes[2], { code: 1005, reason: "", wasClean: true });

    const other = new WebSocketStream(server.url);
    await (await within(other.opened, "open")).writable.abort(new Error("whatever"));
    await within(other.closed, "close");
    assert.deepEqual(await server.closes[3], { code: 1005, reason: "", wasClean: true });
  } finally {
    await server.close();
  }
});

test("WebSocketStream copies what is written and refuses what is not text or bytes", async () => {
  const server = await serve();
  try {
    const wss = new WebSocketStream(server.url);
    const { readable, writable } = await within(wss.opened, "open");
    const writer = writable.getWriter();
    const bytes = new Uint8Array([1, 2, 3]);
    const written = writer.write(bytes);
    bytes.fill(9);
    await written;
    assert.deepEqual((await readable.getReader().read()).value, new Uint8Array([1, 2, 3]));
    await assert.rejects(writer.write(42 as unknown as string), TypeError);
    wss.close();
    await within(wss.closed, "close").catch(() => {});
  } finally {
    await server.close();
  }
});

test("WebSocketStream round-trips a 1 MiB binary message and a 1 MiB text message", async () => {
  const server = await serve();
  try {
    const wss = new WebSocketStream(server.url);
    const { readable, writable } = await within(wss.opened, "open");
    const writer = writable.getWriter();
    const reader = readable.getReader();
    const bytes = new Uint8Array(1 << 20).map((_, i) => (i * 31 + (i >> 8)) & 0xff);
    const text = "\u00e9t\u00e9 ".repeat(1 << 18);
    await writer.write(bytes);
    await writer.write(text);
    assert.deepEqual((await within(reader.read(), "binary echo")).value, bytes);
    assert.equal((await within(reader.read(), "text echo")).value, text);
    wss.close({ closeCode: 1000 });
    assert.deepEqual(await within(wss.closed, "close"), { closeCode: 1000, reason: "" });
  } finally {
    await server.close();
  }
});

test("WebSocketStream writer.ready waits while the server does not read", async () => {
  let resume!: () => void;
  const reading = new Promise<void>((resolve) => resume = resolve);
  let received = 0;
  const server = await serve(async (channel) => {
    await reading;
    for await (const message of channel.readable) received += (message as Uint8Array).length;
  }, { readableHighWaterMark: 1 });
  try {
    const wss = new WebSocketStream(server.url);
    const { writable } = await within(wss.opened, "open");
    const writer = writable.getWriter();
    const chunk = new Uint8Array(1 << 20);
    let sent = 0;
    let blocked = false;
    // Write while the writable says it has room, until it stops saying so.
    while (sent < 64 << 20) {
      const ready = await Promise.race([
        writer.ready.then(() => true),
        delay(300).then(() => false),
      ]);
      if (!ready) {
        blocked = true;
        break;
      }
      writer.write(chunk).catch(() => {});
      sent += chunk.length;
    }
    assert.ok(blocked, `writer.ready still resolved after ${sent} bytes`);
    assert.equal(writer.desiredSize, 0);

    resume();
    await within(writer.ready, "writer.ready once the server reads", 20_000);
    await writer.write(chunk);
    sent += chunk.length;
    const deadline = performance.now() + 20_000;
    while (received < sent && performance.now() < deadline) await delay(10);
    assert.equal(received, sent);
    wss.close({ closeCode: 1000 });
    await within(wss.closed, "close");
  } finally {
    resume();
    await server.close();
  }
});
