import { test } from "node:test";
import assert from "node:assert/strict";
import { relative } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { ConnectionClosedError, listen } from "../../../mod.ts";
import {
  createWebsocket,
  getClient,
  getClientByHandler,
  getClients,
  getConnection,
  getError,
  getMessage,
  getMethod,
  isOnClose,
  isOnError,
  isOnMessage,
  isOnOpen,
  type WebsocketClient,
  type WebsocketHandler,
} from "../../../src/compat/dirigible/mod.ts";
import { handshakeThen, serve, within } from "../../_servers.ts";
import {
  assertErrorMatches,
  capturingConsoleError,
  fixturePath,
  readMessages,
  recorder,
  type Snapshot,
  snapshot,
  until,
} from "./_helpers.ts";

/** A port nothing listens on: one that was free a moment ago. */
async function closedPort(): Promise<number> {
  const server = await listen({ hostname: "127.0.0.1", port: 0 }, () => {});
  await server.close();
  return server.port;
}

/** Closes a client and waits until its handler has seen `onClose`. */
async function closeAndWait(client: WebsocketClient): Promise<void> {
  client.close();
  await until(() => client.state === "closed", "closed state");
}

test("createWebsocket connects, calls onOpen, and calls onMessage with each text message", async () => {
  const server = await serve();
  try {
    const { handler, calls, closed } = recorder();
    const client = createWebsocket(server.url, handler);
    await until(() => calls.includes("onOpen"), "onOpen");
    for (const message of ["hello", "h\u00e9llo \u2713", ""]) client.send(message);
    await until(() => calls.length === 4, "three echoes");
    client.close();
    await closed();
    assert.deepEqual(calls, [
      "onOpen",
      "onMessage hello",
      "onMessage h\u00e9llo \u2713",
      "onMessage ",
      "onClose",
    ]);
    assert.deepEqual(await within(server.closes[0]!, "server close"), {
      code: 1000,
      reason: "",
      wasClean: true,
    });
  } finally {
    await server.close();
  }
});

test("createWebsocket sends the messages sent before opening after onOpen, in order", async () => {
  const server = await serve(() => {});
  try {
    const client = createWebsocket(server.url, {
      onOpen: () => getConnection()?.send("from onOpen"),
    });
    assert.equal(client.state, "connecting");
    client.send("first");
    client.send("second");
    const channel = await server.nextChannel();
    assert.deepEqual(await readMessages(channel, 3), ["from onOpen", "first", "second"]);
    await closeAndWait(client);
  } finally {
    await server.close();
  }
});

test("WebsocketClient.close called before opening lets it open, send, then close with 1000", async () => {
  const server = await serve(() => {});
  try {
    const { handler, calls, closed } = recorder();
    // The upstream example: create, send, and close at once.
    createWebsocket(server.url, handler).send("hello");
    getClientByHandler(handler)!.close();
    const channel = await server.nextChannel();
    assert.deepEqual(await readMessages(channel, 2), ["hello"]);
    assert.equal((await within(channel.closed, "server close")).code, 1000);
    await closed();
    assert.deepEqual(calls, ["onOpen", "onClose"]);
  } finally {
    await server.close();
  }
});

test("WebsocketClient.close called in onOpen sends what was sent before opening, then closes", async () => {
  const server = await serve(() => {});
  try {
    const client = createWebsocket(server.url, {
      onOpen: () => {
        getConnection()!.send("from onOpen");
        getConnection()!.close();
      },
    });
    client.send("queued");
    const channel = await server.nextChannel();
    assert.deepEqual(await readMessages(channel, 3), ["from onOpen", "queued"]);
    assert.equal((await within(channel.closed, "server close")).code, 1000);
    await until(() => client.state === "closed", "closed state");
  } finally {
    await server.close();
  }
});

test("WebsocketClient.close still passes onMessage what the peer sent before answering the close", async () => {
  // The server answers our close frame with a text message, then its own close frame (1000).
  const server = await handshakeThen((socket) => {
    socket.once("data", () => {
      socket.write(
        new Uint8Array([0x81, 0x04, ...new TextEncoder().encode("late"), 0x88, 0x02, 0x03, 0xe8]),
      );
      socket.end();
    });
  });
  try {
    const { handler, calls, closed } = recorder({ onOpen: () => getConnection()!.close() });
    createWebsocket(server.url, handler);
    await closed();
    assert.deepEqual(calls, ["onOpen", "onMessage late", "onClose"]);
  } finally {
    await server.close();
  }
});

test("WebsocketClient.state goes from connecting to open to closing to closed", async () => {
  const server = await serve(() => {});
  try {
    const states: string[] = [];
    const client: WebsocketClient = createWebsocket(server.url, {
      onOpen: () => states.push(getConnection()!.state),
      onClose: () => states.push(getConnection()!.state),
    });
    states.push(client.state);
    await until(() => states.length === 2, "onOpen");
    client.close();
    states.push(client.state);
    await until(() => states.length === 4, "onClose");
    assert.deepEqual(states, ["connecting", "open", "closing", "closed"]);
    client.close(); // Does nothing once closed.
    assert.equal(client.state, "closed");
  } finally {
    await server.close();
  }
});

test("WebsocketClient.send refuses a non-string, and sending after close()", async () => {
  const server = await serve();
  try {
    const { handler, closed } = recorder();
    const client = createWebsocket(server.url, handler);
    for (const message of [42, new Uint8Array(1), null]) {
      assert.throws(() => client.send(message as unknown as string), {
        name: "TypeError",
        message: /^Cannot send message: expected a string, got /,
      });
    }
    client.close();
    assert.throws(() => client.send("late"), (error) => {
      assert.ok(error instanceof ConnectionClosedError);
      assert.equal(error.closeCode, 1000);
      assert.match(error.message, /^Cannot send message: the websocket is closing/);
      return true;
    });
    await closed();
    assert.throws(() => client.send("later"), (error) => {
      assert.ok(error instanceof ConnectionClosedError);
      assert.equal(error.closeCode, 1000);
      assert.equal(error.wasClean, true);
      assert.match(error.message, /closed$/);
      return true;
    });
  } finally {
    await server.close();
  }
});

test("createWebsocket loads a .ts handler module by URL, or its compiled .js sibling", async () => {
  const server = await serve(() => {});
  try {
    const handler = pathToFileURL(fixturePath("handlers/context.ts")).href;
    const client = createWebsocket(server.url, handler);
    assert.equal(client.handler, handler);
    const channel = await server.nextChannel();
    const [report] = await readMessages(channel, 1);
    const { before, after } = JSON.parse(report as string);
    for (const seen of [before, after]) {
      assert.deepEqual(seen, {
        method: "onopen",
        message: null,
        error: null,
        flags: [true, false, false, false],
        connection: { id: client.id, uri: server.url, handler },
      });
    }
    await closeAndWait(client);
  } finally {
    await server.close();
  }
});

test("createWebsocket takes a URL as the handler module, which getClientByHandler finds it by", async () => {
  const server = await serve(() => {});
  try {
    const handler = pathToFileURL(fixturePath("handlers/context.ts"));
    const client = createWebsocket(server.url, handler);
    assert.equal(getClientByHandler(handler), client);
    assert.equal(getClientByHandler(handler.href), null);
    assert.equal(getClients()[0]!.handler, handler);
    const channel = await server.nextChannel();
    const [report] = await readMessages(channel, 1);
    assert.equal(JSON.parse(report as string).before.method, "onopen");
    await closeAndWait(client);
  } finally {
    await server.close();
  }
});

test("createWebsocket loads a handler by absolute path or path relative to the working directory, trying extensions", async () => {
  const server = await serve();
  try {
    // An upstream-shaped CommonJS module; no extension in the specifier.
    const seen: string[] = (globalThis as { dirigibleSeedHandlerSeen?: string[] })
      .dirigibleSeedHandlerSeen ??= [];
    const absolute = fixturePath("handlers/seed");
    const fromWorkingDirectory = relative(process.cwd(), absolute);
    for (const handler of [absolute, fromWorkingDirectory]) {
      seen.length = 0;
      const client = createWebsocket(server.url, handler);
      client.send("hello");
      await until(() => seen.length === 2, "onOpen and onMessage");
      await closeAndWait(client);
      assert.deepEqual(seen, [
        "Connection openned.",
        "Message received: hello",
        "Connection closed.",
      ]);
    }
  } finally {
    await server.close();
  }
});

test("createWebsocket reports a handler module that cannot be loaded to console.error and drops the client", async () => {
  const server = await serve();
  try {
    const calls = await capturingConsoleError(async (calls) => {
      const client = createWebsocket(server.url, "./no/such/handler.ts");
      assert.equal(getClient(client.id), client);
      await until(() => calls.length > 0, "console.error");
      assert.equal(client.state, "closed");
      assert.equal(getClient(client.id), null);
    });
    assert.equal(calls.length, 1);
    assertErrorMatches(
      calls[0]![0],
      /^Cannot create websocket: cannot load handler "\.\/no\/such\/handler\.ts": no module at /,
    );
    assert.equal(server.channels.length, 0);
  } finally {
    await server.close();
  }
});

test("createWebsocket reports a handler module without callbacks to console.error", async () => {
  const calls = await capturingConsoleError(async (calls) => {
    createWebsocket("ws://127.0.0.1:1", fixturePath("handlers/not_a_handler.ts"));
    await until(() => calls.length > 0, "console.error");
  });
  assertErrorMatches(
    calls[0]![0],
    /cannot load handler ".*not_a_handler\.ts": it exports none of onOpen, onMessage, onError, onClose$/,
  );
});

test("createWebsocket accepts the javascript engine, upstream's default, and refuses others", async () => {
  const server = await serve();
  try {
    const implicit = createWebsocket(server.url, {});
    const explicit = createWebsocket(server.url, {}, "javascript");
    assert.equal(implicit.engine, "javascript");
    assert.equal(explicit.engine, "javascript");
    assert.throws(() => createWebsocket(server.url, {}, "graaljs"), {
      name: "RangeError",
      message: 'Cannot create websocket: engine "graaljs" is not available, only "javascript" is',
    });
    assert.throws(() => createWebsocket(server.url, {}, 42 as unknown as string), {
      name: "TypeError",
      message: "Cannot create websocket: engine must be a string, got number",
    });
    assert.equal(getClients().length, 2);
    await closeAndWait(implicit);
    await closeAndWait(explicit);
  } finally {
    await server.close();
  }
});

test("createWebsocket refuses a bad URI with a SyntaxError and a bad handler with a TypeError", () => {
  for (const uri of ["http://[nope", "ftp://example.com/", "ws://example.com/#fragment"]) {
    assert.throws(
      () => createWebsocket(uri, {}),
      (error) => error instanceof DOMException && error.name === "SyntaxError",
      uri,
    );
  }
  assert.throws(() => createWebsocket(42 as unknown as string, {}), {
    name: "TypeError",
    message: "Cannot create websocket: expected a URI string, got number",
  });
  const handlers: [unknown, RegExp][] = [
    [null, /got null$/],
    [42, /got number$/],
    ["", /handler is an empty string$/],
    [{ onMessage: "hello" }, /onMessage must be a function, got string$/],
  ];
  for (const [handler, message] of handlers) {
    assert.throws(
      () => createWebsocket("ws://127.0.0.1:1", handler as WebsocketHandler),
      { name: "TypeError", message },
    );
  }
  assert.deepEqual(getClients(), []);
});

test("createWebsocket calls onError then onClose when the connection cannot be opened", async () => {
  const { handler, calls, contexts, closed } = recorder();
  const client = createWebsocket(`ws://127.0.0.1:${await closedPort()}/`, handler);
  await closed();
  assert.equal(calls.length, 2);
  assert.match(calls[0]!, /^onError \S/);
  assert.equal(calls[1], "onClose");
  assert.equal(contexts[0]!.error, calls[0]!.slice("onError ".length));
  assert.equal(client.state, "closed");
  assert.equal(getClient(client.id), null);
});

test("createWebsocket calls onError then onClose when the server refuses the handshake", async () => {
  const server = await serve(() => {}, { onUpgrade: () => new Response("no", { status: 403 }) });
  try {
    const { handler, calls, closed } = recorder();
    createWebsocket(server.url, handler);
    await closed();
    assert.equal(calls.length, 2);
    assert.match(calls[0]!, /^onError Cannot open connection: .*403/);
  } finally {
    await server.close();
  }
});

test("createWebsocket calls onError then onClose when the connection fails after opening", async () => {
  // A frame with the reserved opcode 3: RFC 6455 §5.2 fails the connection with 1002.
  const server = await handshakeThen((socket) => socket.write(new Uint8Array([0x83, 0x00])));
  try {
    const { handler, calls, closed } = recorder();
    createWebsocket(server.url, handler);
    await closed();
    assert.equal(calls.length, 3);
    assert.equal(calls[0], "onOpen");
    assert.match(calls[1]!, /^onError Connection failed: close code 1002, \S/);
    assert.equal(calls[2], "onClose");
  } finally {
    await server.close();
  }
});

test("createWebsocket closes with 1003 on a binary message, which onMessage never sees", async () => {
  const server = await serve((channel) => {
    const writer = channel.writable.getWriter();
    writer.write(new Uint8Array([1, 2, 3])).catch(() => {});
    writer.write("after").catch(() => {});
  });
  try {
    const { handler, calls, closed } = recorder();
    createWebsocket(server.url, handler);
    await closed();
    const { code, reason } = await within(server.closes[0]!, "server close");
    assert.equal(code, 1003);
    assert.equal(reason, "Binary messages are not accepted");
    assert.ok(!calls.some((call) => call.startsWith("onMessage \u0001")), calls.join());
    assert.equal(calls[0], "onOpen");
    assert.equal(calls.at(-1), "onClose");
  } finally {
    await server.close();
  }
});

test("createWebsocket passes what a callback throws or rejects with to onError, in its context", async () => {
  const server = await serve();
  try {
    const { handler, calls, contexts } = recorder({
      onMessage: (message) => {
        if (message === "async") return Promise.reject(new Error("async boom"));
        throw new Error(`boom: ${message}`);
      },
    });
    const client = createWebsocket(server.url, handler);
    client.send("sync");
    client.send("async");
    await until(() => calls.length === 5, "two messages and two errors");
    assert.deepEqual(calls, [
      "onOpen",
      "onMessage sync",
      "onError boom: sync",
      "onMessage async",
      "onError async boom",
    ]);
    assert.equal(contexts[2]!.method, "onerror");
    assert.equal(contexts[2]!.error, "boom: sync");
    assert.equal(contexts[2]!.message, null);
    await closeAndWait(client);
  } finally {
    await server.close();
  }
});

test("createWebsocket reports to console.error what onError throws, and what throws without onError", async () => {
  const server = await serve();
  try {
    const calls = await capturingConsoleError(async (calls) => {
      const throwing = createWebsocket(server.url, {
        onOpen: () => {
          throw new Error("open failed");
        },
        onError: (error) => {
          throw new Error(`onError failed too: ${error}`);
        },
      });
      const bare = createWebsocket(server.url, {
        onOpen: () => {
          throw new Error("bare open failed");
        },
      });
      await until(() => calls.length === 2, "two reports");
      await closeAndWait(throwing);
      await closeAndWait(bare);
    });
    const messages = calls.map(([error]) => (error as Error).message).sort();
    assert.deepEqual(messages, ["bare open failed", "onError failed too: open failed"]);
  } finally {
    await server.close();
  }
});

test("getClients lists each client's metadata from its creation until it closes", async () => {
  const server = await serve();
  try {
    const objectHandler = {};
    const first = createWebsocket(server.url, objectHandler);
    const second = createWebsocket(new URL(`${server.url}/path?query`), objectHandler);
    const listed = getClients();
    assert.deepEqual(listed, [
      {
        id: first.id,
        uri: server.url,
        handler: objectHandler,
        engine: "javascript",
        state: "connecting",
      },
      {
        id: second.id,
        uri: `${server.url}/path?query`,
        handler: objectHandler,
        engine: "javascript",
        state: "connecting",
      },
    ]);
    assert.notEqual(listed[0], first);
    assert.match(first.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.notEqual(first.id, second.id);
    await until(() => getClients().every((client) => client.state === "open"), "open states");
    // A snapshot: it does not change with the client.
    assert.equal(listed[0]!.state, "connecting");
    await closeAndWait(first);
    assert.deepEqual(getClients().map((client) => client.id), [second.id]);
    await closeAndWait(second);
    assert.deepEqual(getClients(), []);
  } finally {
    await server.close();
  }
});

test("getClient returns the client by its id until it closes, or null", async () => {
  const server = await serve();
  try {
    let duringClose: WebsocketClient | null | undefined;
    const client = createWebsocket(server.url, {
      onClose: () => duringClose = getClient(getConnection()!.id),
    });
    assert.equal(getClient(client.id), client);
    assert.equal(getClient("no-such-id"), null);
    assert.throws(() => getClient(42 as unknown as string), {
      name: "TypeError",
      message: "Cannot get client: expected a string id, got number",
    });
    await closeAndWait(client);
    assert.equal(duringClose, null);
    assert.equal(getClient(client.id), null);
  } finally {
    await server.close();
  }
});

test("getClientByHandler returns the oldest open client with that handler, or null", async () => {
  const server = await serve();
  try {
    const objectHandler = {};
    const reported = await capturingConsoleError(async () => {
      const byString = createWebsocket(server.url, "never-loaded/handler-a");
      const first = createWebsocket(server.url, objectHandler);
      const second = createWebsocket(server.url, objectHandler);
      assert.equal(getClientByHandler("never-loaded/handler-a"), byString);
      assert.equal(getClientByHandler(objectHandler), first);
      assert.equal(getClientByHandler({}), null);
      assert.equal(getClientByHandler("never-loaded/handler-b"), null);
      assert.throws(() => getClientByHandler(7 as unknown as string), {
        name: "TypeError",
        message: "Cannot get client: expected a handler string or object, got number",
      });
      await closeAndWait(first);
      assert.equal(getClientByHandler(objectHandler), second);
      await closeAndWait(second);
      assert.equal(getClientByHandler(objectHandler), null);
      // That handler cannot be loaded: the client is dropped.
      await until(() => byString.state === "closed", "dropped client");
      assert.equal(getClientByHandler("never-loaded/handler-a"), null);
    });
    assert.equal(reported.length, 1);
  } finally {
    await server.close();
  }
});

/** A handler recording the context at the start of each callback and after an await. */
function awaitingRecorder() {
  const seen: { before: Snapshot; after: Snapshot }[] = [];
  const record = async () => {
    const before = snapshot();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await Promise.resolve();
    seen.push({ before, after: snapshot() });
  };
  const handler: WebsocketHandler = {
    onOpen: record,
    onMessage: record,
    onError: record,
    onClose: record,
  };
  return { handler, seen };
}

function expected(
  method: string,
  connection: WebsocketClient,
  message: string | null = null,
  error: string | null = null,
): Snapshot {
  const flags = ["onopen", "onmessage", "onerror", "onclose"].map((name) => name === method);
  return { method, message, error, flags, connection };
}

test("getMessage, getMethod and isOnOpen/isOnMessage/isOnClose answer for the event handled, also after an await", async () => {
  const server = await serve();
  try {
    const { handler, seen } = awaitingRecorder();
    const client = createWebsocket(server.url, handler);
    await until(() => seen.length === 1, "onOpen");
    client.send("hello");
    await until(() => seen.length === 2, "onMessage");
    client.close();
    await until(() => seen.length === 3, "onClose");
    const wanted = [
      expected("onopen", client),
      expected("onmessage", client, "hello"),
      expected("onclose", client),
    ];
    assert.deepEqual(seen.map(({ before }) => before), wanted);
    assert.deepEqual(seen.map(({ after }) => after), wanted);
  } finally {
    await server.close();
  }
});

test("getError, getMethod and isOnError answer in onError, also after an await", async () => {
  const { handler, seen } = awaitingRecorder();
  const client = createWebsocket(`ws://127.0.0.1:${await closedPort()}/`, handler);
  await until(() => seen.length === 2, "onError and onClose");
  const error = seen[0]!.before.error;
  assert.equal(typeof error, "string");
  assert.deepEqual(seen.map(({ before }) => before), [
    expected("onerror", client, null, error),
    expected("onclose", client),
  ]);
  assert.deepEqual(seen.map(({ after }) => after), seen.map(({ before }) => before));
});

test("getMessage, getError, getMethod, getConnection and the isOn functions answer null or false outside a handler", async () => {
  const server = await serve();
  try {
    const { handler, closed } = recorder();
    const client = createWebsocket(server.url, handler);
    client.send("hello");
    await until(() => client.state === "open", "open");
    for (const _ of [0, 1]) {
      assert.equal(getMessage(), null);
      assert.equal(getError(), null);
      assert.equal(getMethod(), null);
      assert.equal(getConnection(), null);
      assert.deepEqual([isOnOpen(), isOnMessage(), isOnError(), isOnClose()], [
        false,
        false,
        false,
        false,
      ]);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    client.close();
    await closed();
  } finally {
    await server.close();
  }
});

test("getConnection returns the client of the event in each callback", async () => {
  const server = await serve();
  try {
    const a = recorder();
    const b = recorder();
    const clientA = createWebsocket(server.url, a.handler);
    const clientB = createWebsocket(server.url, b.handler);
    clientA.send("to a");
    clientB.send("to b");
    await until(() => a.calls.length === 2 && b.calls.length === 2, "open and echo");
    await closeAndWait(clientA);
    await closeAndWait(clientB);
    assert.ok(a.contexts.every((context) => context.connection === clientA));
    assert.ok(b.contexts.every((context) => context.connection === clientB));
    assert.equal(a.contexts.length, 3);
  } finally {
    await server.close();
  }
});
