import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import type { ServerChannel } from "../../../mod.ts";
import { Client } from "../../../src/compat/accessors/mod.ts";
import { delay, handshakeThen, rawServer, serve, within } from "../../_servers.ts";
import { gaps, nextEvent, record, refusingServer } from "./_helpers.ts";

/** Reads `count` messages a server channel receives. */
async function receive(channel: ServerChannel, count: number): Promise<unknown[]> {
  const reader = channel.readable.getReader();
  const messages: unknown[] = [];
  while (messages.length < count) {
    const { value, done } = await within(reader.read(), `message ${messages.length + 1}`);
    if (done) break;
    messages.push(value);
  }
  reader.releaseLock();
  return messages;
}

/** Writes messages from a server channel. */
async function sendFrom(channel: ServerChannel, ...messages: (string | Uint8Array)[]) {
  const writer = channel.writable.getWriter();
  for (const message of messages) await within(writer.write(message), "write");
  writer.releaseLock();
}

/** A client of a core server on 127.0.0.1, its listeners for errors silent. */
function clientOf(url: string, options: ConstructorParameters<typeof Client>[0] = {}): Client {
  const client = new Client({ host: "127.0.0.1", port: Number(new URL(url).port), ...options });
  client.on("error", () => {});
  return client;
}

/** Closes a client and waits for its close event. */
async function closeClient(client: Client): Promise<void> {
  const closed = nextEvent(client, "close");
  client.close();
  await closed;
}

test("Client has the documented defaults", () => {
  const client = new Client();
  assert.equal(client.host, "localhost");
  assert.equal(client.port, 80);
  assert.equal(client.receiveType, "application/json");
  assert.equal(client.sendType, "application/json");
  assert.equal(client.connectTimeout, 1000);
  assert.equal(client.numberOfRetries, 10);
  assert.equal(client.timeBetweenRetries, 500);
  assert.equal(client.discardMessagesBeforeOpen, false);
  assert.equal(client.throttleFactor, 0);
});

test("Client keeps the options it is given, 0 and false included", () => {
  const client = new Client({
    host: "example.com",
    port: 8080,
    receiveType: "text/plain",
    sendType: "image/png",
    connectTimeout: 250,
    numberOfRetries: 0,
    timeBetweenRetries: 0,
    discardMessagesBeforeOpen: true,
    throttleFactor: 3,
  });
  assert.deepEqual(
    [
      client.host,
      client.port,
      client.receiveType,
      client.sendType,
      client.connectTimeout,
      client.numberOfRetries,
      client.timeBetweenRetries,
      client.discardMessagesBeforeOpen,
      client.throttleFactor,
    ],
    ["example.com", 8080, "text/plain", "image/png", 250, 0, 0, true, 3],
  );
});

test("Client connects to localhost port 80 by default", async () => {
  // Through a proxy of the test's own, which is told the host and port in
  // its CONNECT request, so that nothing has to listen on port 80.
  let requested!: (line: string) => void;
  const line = new Promise<string>((resolve) => requested = resolve);
  const proxy = await rawServer((socket, request) => {
    requested(request.split("\r\n")[0]!);
    socket.end("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
  });
  const saved = ["http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY"].map((name) =>
    [name, process.env[name]] as const
  );
  try {
    for (const [name] of saved) delete process.env[name];
    process.env.http_proxy = proxy.url.replace("ws:", "http:");
    const client = new Client({ numberOfRetries: 0 });
    const failed = nextEvent(client, "error");
    client.open();
    assert.equal(await within(line, "CONNECT request"), "CONNECT localhost:80 HTTP/1.1");
    const [message] = await failed;
    assert.match(
      String(message),
      /^Cannot open connection to ws:\/\/localhost\/: 1 attempt failed/,
    );
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await proxy.close();
  }
});

test("Client sends the messages sent before open() in order once open, before emitting open", async () => {
  const server = await serve(() => {});
  try {
    const client = clientOf(server.url);
    const log = record(client, ["open", "close"]);
    await client.send({ n: 1 });
    await client.send({ n: 2 });
    await client.send("three");
    client.on("open", () => client.send({ n: 4 }));
    client.open();
    const channel = await server.nextChannel();
    assert.deepEqual(await receive(channel, 4), ['{"n":1}', '{"n":2}', '"three"', '{"n":4}']);
    assert.deepEqual(log, ["open"]);
    await closeClient(client);
    assert.deepEqual(log, ["open", "close"]);
  } finally {
    await server.close();
  }
});

test("Client drops the messages sent before open with discardMessagesBeforeOpen", async () => {
  const server = await serve(() => {});
  try {
    const client = clientOf(server.url, { discardMessagesBeforeOpen: true });
    client.send("dropped 1");
    client.send("dropped 2");
    const opened = nextEvent(client, "open");
    client.open();
    const channel = await server.nextChannel();
    await opened;
    client.send("after open");
    assert.deepEqual(await receive(channel, 1), ['"after open"']);
    // Nothing was lost at close: the dropped messages were never queued.
    assert.equal(client.close(), 0);
  } finally {
    await server.close();
  }
});

test("Client sends JSON.stringify(data) as text with application/json", async () => {
  const server = await serve(() => {});
  try {
    const client = clientOf(server.url);
    client.open();
    const channel = await server.nextChannel();
    client.send({ foo: "bar", list: [1, 2.5, null], nested: { ok: true } });
    client.send("a string");
    client.send(42);
    client.send(null);
    assert.deepEqual(await receive(channel, 4), [
      '{"foo":"bar","list":[1,2.5,null],"nested":{"ok":true}}',
      '"a string"',
      "42",
      "null",
    ]);
    await closeClient(client);
  } finally {
    await server.close();
  }
});

test("Client.send throws a TypeError for data with no JSON form", () => {
  const client = new Client();
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  for (const data of [undefined, () => {}, Symbol("s"), 1n, circular]) {
    assert.throws(
      () => client.send(data),
      (error) => error instanceof TypeError && /^Cannot send message: /.test(error.message),
      String(typeof data),
    );
  }
  // Nothing was queued.
  assert.equal(client.close(), 0);
});

test("Client parses received JSON and delivers what does not parse as the string", async () => {
  const server = await serve(() => {});
  try {
    const client = clientOf(server.url);
    const messages: unknown[] = [];
    client.on("message", (message: unknown) => messages.push(message));
    client.open();
    const channel = await server.nextChannel();
    await sendFrom(
      channel,
      '{"a":[1,{"b":null}]}',
      "not json {",
      "3.5",
      '"quoted"',
      "",
      new TextEncoder().encode('{"from":"binary"}'),
      new Uint8Array([0x68, 0xc3, 0xa9]),
    );
    await within(
      (async () => {
        while (messages.length < 7) await delay(5);
      })(),
      "7 messages",
    );
    assert.deepEqual(messages, [
      { a: [1, { b: null }] },
      "not json {",
      3.5,
      "quoted",
      "",
      { from: "binary" },
      "h\u00e9",
    ]);
    await closeClient(client);
  } finally {
    await server.close();
  }
});

test("Client converts text/* as strings both ways", async () => {
  const server = await serve(() => {});
  try {
    const client = clientOf(server.url, { sendType: "text/plain", receiveType: "text/csv" });
    const messages: unknown[] = [];
    client.on("message", (message: unknown) => messages.push(message));
    client.open();
    const channel = await server.nextChannel();
    client.send("plain {text}");
    client.send(7);
    client.send(false);
    assert.deepEqual(await receive(channel, 3), ["plain {text}", "7", "false"]);
    assert.throws(() => client.send({ no: "objects" }), /text\/plain takes a string/);
    await sendFrom(channel, '{"stays":"text"}', new TextEncoder().encode("a,b\n1,2"));
    await within(
      (async () => {
        while (messages.length < 2) await delay(5);
      })(),
      "2 messages",
    );
    assert.deepEqual(messages, ['{"stays":"text"}', "a,b\n1,2"]);
    await closeClient(client);
  } finally {
    await server.close();
  }
});

test("Client converts application/octet-stream and image/* as raw bytes both ways", async () => {
  const server = await serve(() => {});
  try {
    const client = clientOf(server.url, {
      sendType: "application/octet-stream",
      receiveType: "image/png",
    });
    const messages: unknown[] = [];
    client.on("message", (message: unknown) => messages.push(message));
    client.open();
    const channel = await server.nextChannel();
    client.send(new Uint8Array([0, 1, 255]));
    client.send(new Uint16Array([0x0102]).buffer);
    client.send(new DataView(new Uint8Array([9, 8, 7]).buffer, 1, 2));
    const received = await receive(channel, 3);
    assert.deepEqual(received.map((bytes) => [...(bytes as Uint8Array)]), [
      [0, 1, 255],
      [...new Uint8Array(new Uint16Array([0x0102]).buffer)],
      [8, 7],
    ]);
    assert.throws(() => client.send("text"), /application\/octet-stream takes bytes/);
    await sendFrom(channel, new Uint8Array([0x89, 0x50, 0x4e, 0x47]), "t\u00e9");
    await within(
      (async () => {
        while (messages.length < 2) await delay(5);
      })(),
      "2 messages",
    );
    assert.ok(messages.every((message) => message instanceof Uint8Array));
    assert.deepEqual(messages.map((bytes) => [...(bytes as Uint8Array)]), [
      [0x89, 0x50, 0x4e, 0x47],
      [0x74, 0xc3, 0xa9],
    ]);
    await closeClient(client);
  } finally {
    await server.close();
  }
});

test("Client refuses an unsupported receiveType or sendType, naming the supported ones", () => {
  for (const option of ["receiveType", "sendType"] as const) {
    for (const type of ["video/mp4", "application/xml", "text", "text/plain; charset=latin1"]) {
      assert.throws(
        () => new Client({ [option]: type }),
        (error) =>
          error instanceof RangeError &&
          error.message.startsWith(
            `Cannot create Client: ${option} ${
              JSON.stringify(type)
            } is not supported, use one of ` +
              "application/json, text/*, application/octet-stream, image/*",
          ),
        `${option} ${type}`,
      );
    }
    assert.throws(() => new Client({ [option]: 42 as unknown as string }), TypeError);
  }
});

test("Client refuses options out of range or of the wrong type", () => {
  const cases: [ConstructorParameters<typeof Client>[0], ErrorConstructor, RegExp][] = [
    [{ port: 0 }, RangeError, /port must be from 1 to 65535, got 0/],
    [{ port: 65536 }, RangeError, /port must be from 1 to 65535/],
    [{ port: 80.5 }, RangeError, /port must be/],
    [{ host: "a/b" }, TypeError, /host "a\/b" is not a host name/],
    [{ host: "user@host" }, TypeError, /is not a host name/],
    [{ host: "two words" }, TypeError, /is not a host name/],
    [{ host: 7 as unknown as string }, TypeError, /host must be a string/],
    [{ connectTimeout: 0 }, RangeError, /connectTimeout must be from 1 to 2147483647, got 0/],
    [{ connectTimeout: "1" as unknown as number }, TypeError, /connectTimeout must be a number/],
    [{ numberOfRetries: -1 }, RangeError, /numberOfRetries must be a whole number of at least 0/],
    [{ numberOfRetries: 1.5 }, RangeError, /numberOfRetries must be a whole number/],
    [{ timeBetweenRetries: -1 }, RangeError, /timeBetweenRetries must be from 0/],
    [{ throttleFactor: NaN }, RangeError, /throttleFactor must be from 0/],
    [
      { discardMessagesBeforeOpen: "yes" as unknown as boolean },
      TypeError,
      /discardMessagesBeforeOpen must be a boolean, got string/,
    ],
  ];
  for (const [options, type, message] of cases) {
    assert.throws(
      () => new Client(options),
      (error) =>
        error instanceof type && /^Cannot create Client: /.test(error.message) &&
        message.test(error.message),
      JSON.stringify(options),
    );
  }
  // Infinity retries, an IPv6 address and an IPv4 one are fine.
  assert.equal(new Client({ numberOfRetries: Infinity }).numberOfRetries, Infinity);
  assert.equal(new Client({ host: "::1" }).host, "::1");
  assert.equal(new Client({ host: "[::1]" }).host, "[::1]");
});

test("Client retries numberOfRetries times, timeBetweenRetries apart, then emits one error", async () => {
  const server = await refusingServer(() => true);
  try {
    const client = new Client({
      host: "127.0.0.1",
      port: server.port,
      numberOfRetries: 3,
      timeBetweenRetries: 60,
    });
    const log = record(client, ["open", "error", "close"]);
    const failed = nextEvent(client, "error");
    client.open();
    const [message, error] = await failed;
    assert.equal(
      message,
      `Cannot open connection to ws://127.0.0.1:${server.port}/: 4 attempts failed, the last with: ` +
        "Cannot open connection: the server answered 503 Service Unavailable: not now",
    );
    assert.ok(error instanceof Error && error.message === message);
    assert.equal(server.arrivals.length, 4);
    for (const gap of gaps(server.arrivals)) assert.ok(gap >= 58, `gap of ${gap} ms`);
    await delay(150);
    assert.equal(server.arrivals.length, 4, "no attempt after the error");
    assert.equal(log.length, 1, log.join(", "));
  } finally {
    await server.close();
  }
});

test("Client retries 10 times, 500 ms apart, by default", { timeout: 20_000 }, async () => {
  const server = await refusingServer(() => true);
  try {
    const client = new Client({ host: "127.0.0.1", port: server.port });
    const failed = nextEvent(client, "error", 15_000);
    client.open();
    const [message] = await failed;
    assert.match(String(message), /: 11 attempts failed, /);
    assert.equal(server.arrivals.length, 11);
    for (const gap of gaps(server.arrivals)) {
      assert.ok(gap >= 495 && gap < 1500, `gap of ${gap} ms`);
    }
  } finally {
    await server.close();
  }
});

test("Client opens on a later attempt and then sends what was queued", async () => {
  const server = await refusingServer((request) => request <= 2);
  try {
    const client = clientOf(server.url, { timeBetweenRetries: 20 });
    const log = record(client, ["open", "error"]);
    client.send("queued");
    client.open();
    const channel = await server.nextChannel();
    assert.deepEqual(await receive(channel, 1), ['"queued"']);
    assert.equal(server.arrivals.length, 3);
    assert.deepEqual(log, ["open"]);
    await closeClient(client);
  } finally {
    await server.close();
  }
});

test("Client gives up an attempt after connectTimeout", async () => {
  // A server that reads the upgrade request and never answers.
  const server = await rawServer(() => {});
  try {
    const client = new Client({
      host: "127.0.0.1",
      port: Number(new URL(server.url).port),
      connectTimeout: 150,
      numberOfRetries: 1,
      timeBetweenRetries: 10,
    });
    const started = performance.now();
    const failed = nextEvent(client, "error");
    client.open();
    const [message] = await failed;
    const elapsed = performance.now() - started;
    assert.match(String(message), /: 2 attempts failed, the last with: .*(timed out|timeout)/i);
    assert.ok(elapsed >= 300 && elapsed < 3000, `${elapsed} ms`);
  } finally {
    await server.close();
  }
});

test("Client gives an attempt 1000 ms by default", async () => {
  const server = await rawServer(() => {});
  try {
    const client = new Client({
      host: "127.0.0.1",
      port: Number(new URL(server.url).port),
      numberOfRetries: 0,
    });
    const started = performance.now();
    const failed = nextEvent(client, "error");
    client.open();
    await failed;
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 990 && elapsed < 4000, `${elapsed} ms`);
  } finally {
    await server.close();
  }
});

test("Client.open() after every attempt failed tries again and keeps the queue", async () => {
  const server = await refusingServer((request) => request === 1);
  try {
    const client = clientOf(server.url, { numberOfRetries: 0 });
    client.send("kept");
    const failed = nextEvent(client, "error");
    client.open();
    await failed;
    client.open();
    const channel = await server.nextChannel();
    assert.deepEqual(await receive(channel, 1), ['"kept"']);
    await closeClient(client);
  } finally {
    await server.close();
  }
});

test("Client.close() before the socket opened loses the queue, returns its count and reports it", async () => {
  const server = await rawServer(() => {});
  try {
    const client = new Client({ host: "127.0.0.1", port: Number(new URL(server.url).port) });
    const log = record(client, ["open", "error", "close"]);
    client.send(1);
    client.send(2);
    client.send(3);
    client.open();
    await delay(50);
    assert.equal(client.close(), 3);
    assert.deepEqual(log, [
      'error:"Cannot send 3 messages: the client closed before the socket opened"',
      "close",
    ]);
    assert.equal(client.close(), 0, "a second close() does nothing");
    await delay(50);
    assert.equal(log.length, 2);
  } finally {
    await server.close();
  }
});

test("Client.close() while connecting stops the attempts", async () => {
  const server = await refusingServer(() => true);
  try {
    const client = clientOf(server.url, { timeBetweenRetries: 100 });
    const log = record(client, ["open", "close"]);
    client.open();
    await within(
      (async () => {
        while (server.arrivals.length < 1) await delay(5);
      })(),
      "first attempt",
    );
    assert.equal(client.close(), 0);
    await delay(300);
    assert.equal(server.arrivals.length, 1);
    assert.deepEqual(log, ["close"]);
  } finally {
    await server.close();
  }
});

test("Client.close() on an open socket sends what was sent first, then closes with 1000", async () => {
  const server = await serve(() => {});
  try {
    const client = clientOf(server.url);
    const opened = nextEvent(client, "open");
    client.open();
    const channel = await server.nextChannel();
    await opened;
    for (let i = 0; i < 20; i++) client.send({ i });
    assert.equal(client.close(), 0);
    const received = await receive(channel, 21);
    assert.deepEqual(received, Array.from({ length: 20 }, (_, i) => `{"i":${i}}`));
    assert.equal((await within(channel.closed, "server close")).code, 1000);
    await nextEvent(client, "close");
  } finally {
    await server.close();
  }
});

test("Client emits close when the server closes, and an error first when the close is an error", async () => {
  const server = await serve(() => {});
  try {
    for (
      const [code, expected] of [[1000, undefined], [1001, undefined], [4000, undefined], [
        1011,
        "Connection closed with 1011 (broken)",
      ]] as const
    ) {
      const client = new Client({ host: "127.0.0.1", port: Number(new URL(server.url).port) });
      const log = record(client, ["error", "close"]);
      client.open();
      const channel = await server.nextChannel();
      channel.close(code, "broken");
      await nextEvent(client, "close");
      assert.deepEqual(
        log,
        expected === undefined ? ["close"] : [`error:${JSON.stringify(expected)}`, "close"],
        `code ${code}`,
      );
    }
  } finally {
    await server.close();
  }
});

test("Client reports a connection cut without a closing handshake as an error, then close", async () => {
  const server = await handshakeThen((socket) => setTimeout(() => socket.destroy(), 20));
  try {
    const client = new Client({ host: "127.0.0.1", port: Number(new URL(server.url).port) });
    const errors: unknown[][] = [];
    client.on("error", (...args: unknown[]) => errors.push(args));
    const log = record(client, ["open", "close"]);
    client.open();
    await nextEvent(client, "close");
    assert.deepEqual(log, ["open", "close"]);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]![0], "Connection closed with 1006, without a closing handshake");
    const error = errors[0]![1] as { name: string; closeCode: number; wasClean: boolean };
    assert.equal(error.name, "ConnectionClosedError");
    assert.equal(error.closeCode, 1006);
    assert.equal(error.wasClean, false);
  } finally {
    await server.close();
  }
});

test("Client.send after close() emits an error and sends nothing; open() opens a new socket", async () => {
  const server = await serve(() => {});
  try {
    const client = clientOf(server.url);
    const opened = nextEvent(client, "open");
    client.open();
    const first = await server.nextChannel();
    await opened;
    await closeClient(client);
    assert.equal((await within(first.closed, "close")).code, 1000);
    const failed = nextEvent(client, "error");
    client.send("too late");
    assert.deepEqual((await failed)[0], "Cannot send message: the socket is closed");
    client.open();
    const second = await server.nextChannel();
    client.send("again");
    assert.deepEqual(await receive(second, 1), ['"again"']);
    await closeClient(client);
    assert.equal(server.channels.length, 2);
  } finally {
    await server.close();
  }
});

test("Client.open() while opening or open does nothing", async () => {
  const server = await serve(() => {});
  try {
    const client = clientOf(server.url);
    const opened = nextEvent(client, "open");
    client.open();
    client.open();
    await opened;
    client.open();
    await delay(50);
    assert.equal(server.channels.length, 1);
    await closeClient(client);
  } finally {
    await server.close();
  }
});

test("Client.send stalls its caller throttleFactor ms for each message queued ahead", async () => {
  const client = new Client({ throttleFactor: 40 });
  const settledAfter = async (promise: Promise<void>) => {
    const started = performance.now();
    await within(promise, "send");
    return performance.now() - started;
  };
  const first = client.send("a");
  const second = client.send("b");
  const third = client.send("c");
  const [a, b, c] = await Promise.all([
    settledAfter(first),
    settledAfter(second),
    settledAfter(third),
  ]);
  assert.ok(a < 30, `first ${a} ms`);
  assert.ok(b >= 38 && b < 1000, `second ${b} ms`);
  assert.ok(c >= 78 && c < 1000, `third ${c} ms`);
  client.on("error", () => {});
  assert.equal(client.close(), 3);
});

test("Client.send does not stall by default", async () => {
  const client = new Client();
  for (let i = 0; i < 5; i++) client.send(i);
  let settled = false;
  client.send(5).then(() => settled = true);
  await Promise.resolve();
  await Promise.resolve();
  assert.equal(settled, true);
  client.on("error", () => {});
  assert.equal(client.close(), 6);
});

test("Client dispatches to on<event> properties and addEventListener listeners", async () => {
  const server = await serve((channel) => {
    channel.writable.getWriter().write('{"hello":1}').catch(() => {});
  });
  try {
    const client = clientOf(server.url) as Client & { onmessage?: (message: unknown) => void };
    const heard: string[] = [];
    client.onmessage = (message) => heard.push(`property ${JSON.stringify(message)}`);
    client.addEventListener("message", (message: unknown) => {
      heard.push(`listener ${JSON.stringify(message)}`);
    });
    const received = nextEvent(client, "message");
    client.open();
    await received;
    assert.deepEqual(heard, ['listener {"hello":1}', 'property {"hello":1}']);
    await closeClient(client);
  } finally {
    await server.close();
  }
});

test("Client writes an error nobody listens to on console.error, and goes on", () => {
  const client = new Client();
  const written: unknown[][] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => written.push(args);
  try {
    client.send("lost");
    assert.equal(client.close(), 1);
  } finally {
    console.error = original;
  }
  assert.deepEqual(written, [[
    "webSocket: Cannot send 1 message: the client closed before the socket opened",
  ]]);
});

test("Client writes nothing on console.error when a once, onerror or other listener hears an error", () => {
  const written: unknown[][] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => written.push(args);
  const heard: unknown[] = [];
  try {
    const listen: ((client: Client) => void)[] = [
      (client) => client.once("error", (message: string) => heard.push(message)),
      (client) => client.on("error", (message: string) => heard.push(message)),
      (client) => client.addEventListener("error", (message: unknown) => heard.push(message)),
      (client) => Object.assign(client, { onerror: (message: string) => heard.push(message) }),
    ];
    for (const add of listen) {
      const client = new Client();
      add(client);
      client.send("lost");
      client.close();
    }
  } finally {
    console.error = original;
  }
  assert.deepEqual(written, []);
  assert.equal(heard.length, 4);
});
