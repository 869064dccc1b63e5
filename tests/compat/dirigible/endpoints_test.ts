import { test } from "node:test";
import assert from "node:assert/strict";
import { type Channel, connect, HandshakeError } from "../../../mod.ts";
import {
  createWebsocket,
  DescriptorError,
  ENDPOINT_PATH_PREFIX,
  type EndpointServer,
  loadEndpoints,
  serve,
} from "../../../src/compat/dirigible/mod.ts";
import { seen as contextSeen } from "../../fixtures/dirigible/handlers/context.ts";
import { within } from "../../_servers.ts";
import { fixturePath, FIXTURES, readMessages, recorder, until } from "./_helpers.ts";

/** The descriptors of the fixtures that load, and what they give. */
const LOADED = [
  {
    file: "bare-throws.websocket",
    endpoint: "bare-throws",
    path: "/websockets/v4/service/bare-throws",
    handler: "./handlers/throws_bare.ts",
    description: "Throws in onMessage, without onError",
  },
  {
    file: "echo.websocket",
    endpoint: "echo",
    path: "/websockets/v4/service/echo",
    handler: "./handlers/echo.ts",
    description: "Sends every message back",
  },
  {
    file: "nested/context.websocket",
    endpoint: "nested/context",
    path: "/websockets/v4/service/nested/context",
    handler: "handlers/context",
    description: "",
  },
  {
    file: "seed.websocket",
    endpoint: "seed",
    path: "/websockets/v4/service/seed",
    handler: "./handlers/seed.cjs",
    description: "The upstream handler, in CommonJS",
  },
  {
    file: "throws.websocket",
    endpoint: "throws",
    path: "/websockets/v4/service/throws",
    handler: "./handlers/throws.ts",
    description: "Throws in onMessage",
  },
];

/** The descriptors of the fixtures that are refused: file, field, and the message's detail. */
const REFUSED: [file: string, field: string | undefined, detail: RegExp][] = [
  ["refused/array.websocket", undefined, /^must hold a JSON object, got an array$/],
  [
    "refused/duplicate.websocket",
    "endpoint",
    /^field "endpoint" is "echo", which echo\.websocket serves already$/,
  ],
  [
    "refused/empty-handler.websocket",
    "handler",
    /^field "handler" must be a non-empty string, got ""$/,
  ],
  [
    "refused/escaping-endpoint.websocket",
    "endpoint",
    /^field "endpoint" must be segments of letters, digits, .* got "\.\.\/admin"$/,
  ],
  ["refused/missing-endpoint.websocket", "endpoint", /^field "endpoint" is missing$/],
  ["refused/missing-handler.websocket", "handler", /^field "handler" is missing$/],
  [
    "refused/no-callbacks.websocket",
    "handler",
    /^field "handler" cannot be loaded: it exports none of onOpen, onMessage, onError, onClose$/,
  ],
  ["refused/not-json.websocket", undefined, /^is not JSON: /],
  [
    "refused/number-description.websocket",
    "description",
    /^field "description" must be a string, got number$/,
  ],
  [
    "refused/number-endpoint.websocket",
    "endpoint",
    /^field "endpoint" must be a non-empty string, got number$/,
  ],
  [
    "refused/unloadable.websocket",
    "handler",
    /^field "handler" cannot be loaded: no module at .*no-such-handler\.ts$/,
  ],
  [
    "refused/wrong-callback.websocket",
    "handler",
    /^field "handler" cannot be loaded: onMessage must be a function, got string$/,
  ],
];

function assertRefused(errors: DescriptorError[]): void {
  assert.deepEqual(errors.map((error) => error.file), REFUSED.map(([file]) => file));
  for (const [i, [file, field, detail]] of REFUSED.entries()) {
    const error = errors[i]!;
    assert.ok(error instanceof DescriptorError);
    assert.equal(error.name, "DescriptorError");
    assert.equal(error.field, field, file);
    const prefix = `Cannot load websocket descriptor ${file}: `;
    assert.ok(error.message.startsWith(prefix), error.message);
    assert.match(error.message.slice(prefix.length), detail);
  }
}

test("loadEndpoints loads the descriptors under a directory and refuses the wrong ones by file and field", async () => {
  const { endpoints, errors } = await loadEndpoints(FIXTURES);
  assert.deepEqual(endpoints.map(({ callbacks: _, ...endpoint }) => endpoint), LOADED);
  const echo = endpoints[1]!;
  assert.deepEqual(Object.keys(echo.callbacks).filter((name) => name.startsWith("on")), [
    "onMessage",
  ]);
  assertRefused(errors);
});

test("loadEndpoints takes a path as well as a file: URL", async () => {
  const { endpoints, errors } = await loadEndpoints(fixturePath("."));
  assert.deepEqual(endpoints.map((endpoint) => endpoint.file), LOADED.map(({ file }) => file));
  assert.equal(errors.length, REFUSED.length);
});

test("loadEndpoints rejects when the directory cannot be read", async () => {
  await assert.rejects(loadEndpoints(fixturePath("no-such-directory")), {
    message: /^Cannot load endpoints: .*no-such-directory/,
  });
});

test("DescriptorError carries the file and the field", () => {
  const cause = new Error("inner");
  const error = new DescriptorError("Cannot load websocket descriptor a.websocket: x", {
    file: "a.websocket",
    field: "handler",
    cause,
  });
  assert.ok(error instanceof Error);
  assert.equal(error.name, "DescriptorError");
  assert.equal(error.file, "a.websocket");
  assert.equal(error.field, "handler");
  assert.equal(error.cause, cause);
  assert.equal(new DescriptorError("m", { file: "b.websocket" }).field, undefined);
});

test("ENDPOINT_PATH_PREFIX is the path endpoints are served under", () => {
  assert.equal(ENDPOINT_PATH_PREFIX, "/websockets/v4/service/");
});

/** Serves the fixtures on 127.0.0.1; `body` gets the server and its base URL. */
async function withServer(
  body: (server: EndpointServer, base: string) => Promise<void>,
  options: Partial<Parameters<typeof serve>[0]> = {},
): Promise<void> {
  const server = await serve({ directory: FIXTURES, hostname: "127.0.0.1", port: 0, ...options });
  try {
    await body(server, `ws://127.0.0.1:${server.port}${ENDPOINT_PATH_PREFIX}`);
  } finally {
    await within(server.close(), "server close");
  }
}

async function closeChannel(channel: Channel): Promise<number> {
  channel.close(1000);
  return (await within(channel.closed, "close")).code;
}

test("serve serves each endpoint at /websockets/v4/service/<endpoint>", async () => {
  await withServer(async (server, base) => {
    assert.deepEqual(server.address, {
      transport: "tcp",
      hostname: "127.0.0.1",
      port: server.port,
    });
    assert.ok(server.port > 0);
    assert.deepEqual(server.endpoints.map((endpoint) => endpoint.path), LOADED.map((e) => e.path));
    assertRefused(server.errors);
    const channel = await within(connect(`${base}echo`), "connection");
    const writer = channel.writable.getWriter();
    await writer.write("hello");
    await writer.write("h\u00e9llo \u2713");
    writer.releaseLock();
    assert.deepEqual(await readMessages(channel, 2), ["hello", "h\u00e9llo \u2713"]);
    assert.equal(await closeChannel(channel), 1000);
  });
});

test("serve refuses an upgrade to any other path with 404", async () => {
  await withServer(async (_, base) => {
    for (const path of ["nope", "", "echo/", "ECHO", "nested", "../service/echo2"]) {
      await assert.rejects(within(connect(`${base}${path}`), "refusal"), (error) => {
        assert.ok(error instanceof HandshakeError, String(error));
        assert.equal(error.status, 404, path);
        return true;
      });
    }
  });
});

test("serve calls a CommonJS handler shaped as the upstream one, per connection", async () => {
  const seen: string[] = (globalThis as { dirigibleSeedHandlerSeen?: string[] })
    .dirigibleSeedHandlerSeen ??= [];
  seen.length = 0;
  await withServer(async (_, base) => {
    const channel = await within(connect(`${base}seed`), "connection");
    const writer = channel.writable.getWriter();
    await writer.write("hello");
    await until(() => seen.length === 2, "onMessage");
    assert.equal(await closeChannel(channel), 1000);
    await until(() => seen.length === 3, "onClose");
    assert.deepEqual(seen, [
      "Connection openned.",
      "Message received: hello",
      "Connection closed.",
    ]);
  });
});

test("serve gives each connection's callbacks its own context and connection, also after an await", async () => {
  contextSeen.length = 0;
  await withServer(async (_, base) => {
    const url = `${base}nested/context`;
    const first = await within(connect(`${url}?room=1`), "connection");
    const second = await within(connect(url), "connection");
    const [firstOpen] = await readMessages(first, 1);
    const [secondOpen] = await readMessages(second, 1);
    const firstId = JSON.parse(firstOpen as string).before.connection.id;
    const secondId = JSON.parse(secondOpen as string).before.connection.id;
    assert.match(firstId, /^[0-9a-f-]{36}$/);
    assert.notEqual(firstId, secondId);
    const writer = first.writable.getWriter();
    await writer.write("hello");
    writer.releaseLock();
    const [report] = await readMessages(first, 1);
    const { before, after } = JSON.parse(report as string);
    const wanted = {
      method: "onmessage",
      message: "hello",
      error: null,
      flags: [false, true, false, false],
      connection: { id: firstId, uri: `${url}?room=1`, handler: "handlers/context" },
    };
    assert.deepEqual(before, wanted);
    assert.deepEqual(after, wanted);
    assert.equal(await closeChannel(first), 1000);
    assert.equal(await closeChannel(second), 1000);
    await until(() => contextSeen.length === 5, "onClose of both");
    const closes = contextSeen.filter(({ before }) => before.method === "onclose");
    assert.deepEqual(
      closes.map(({ after }) => after.connection!.id).sort(),
      [firstId, secondId].sort(),
    );
    assert.ok(closes.every(({ after }) => after.flags.join() === "false,false,false,true"));
  });
});

test("serve passes what an endpoint callback throws or rejects with to its onError", async () => {
  await withServer(async (_, base) => {
    const channel = await within(connect(`${base}throws`), "connection");
    const writer = channel.writable.getWriter();
    await writer.write("sync");
    await writer.write("async");
    writer.releaseLock();
    const reports = (await readMessages(channel, 2)).map((report) => JSON.parse(report as string));
    assert.deepEqual(reports, [
      { error: "boom: sync", getError: "boom: sync", getMethod: "onerror" },
      { error: "async boom", getError: "async boom", getMethod: "onerror" },
    ]);
    assert.equal(await closeChannel(channel), 1000);
  });
});

test("serve passes a known endpoint's upgrade to options.onUpgrade, which may refuse it", async () => {
  const asked: string[] = [];
  await withServer(async (_, base) => {
    await assert.rejects(within(connect(`${base}echo`), "refusal"), { status: 403 });
    await assert.rejects(within(connect(`${base}unknown`), "refusal"), { status: 404 });
    const channel = await within(
      connect(`${base}echo`, { headers: { authorization: "yes" } }),
      "connection",
    );
    assert.equal(await closeChannel(channel), 1000);
  }, {
    onUpgrade: (request) => {
      asked.push(new URL(request.url).pathname);
      if (request.headers.get("authorization") !== "yes") {
        return new Response("Forbidden", { status: 403 });
      }
    },
  });
  assert.deepEqual(asked, ["/websockets/v4/service/echo", "/websockets/v4/service/echo"]);
});

test("serve reports to options.onError what an endpoint callback throws without an onError", async () => {
  const reported: unknown[] = [];
  await withServer(async (_, base) => {
    const channel = await within(connect(`${base}bare-throws`), "connection");
    const writer = channel.writable.getWriter();
    await writer.write("hello");
    writer.releaseLock();
    await until(() => reported.length === 1, "report");
    assert.ok(reported[0] instanceof Error);
    assert.equal(reported[0].message, "unhandled: hello");
    // The connection stays open.
    assert.equal(await closeChannel(channel), 1000);
  }, { onError: (error) => reported.push(error) });
  assert.equal(reported.length, 1);
});

test("serve's close() closes the open connections with 1001 and waits for them", async () => {
  const server = await serve({ directory: FIXTURES, hostname: "127.0.0.1", port: 0 });
  const base = `ws://127.0.0.1:${server.port}${ENDPOINT_PATH_PREFIX}`;
  const channels = [
    await within(connect(`${base}echo`), "connection"),
    await within(connect(`${base}seed`), "connection"),
  ];
  await within(server.close(), "server close");
  for (const channel of channels) {
    const { code, reason } = await within(channel.closed, "close");
    assert.equal(code, 1001);
    assert.equal(reason, "Server shutting down");
  }
  await assert.rejects(connect(`${base}echo`, { handshakeTimeout: 2000 }));
});

test("createWebsocket talks to an endpoint that serve serves", async () => {
  await withServer(async (_, base) => {
    const { handler, calls, closed } = recorder();
    const client = createWebsocket(`${base}echo`, handler);
    client.send("hello");
    await until(() => calls.length === 2, "echo");
    client.close();
    await closed();
    assert.deepEqual(calls, ["onOpen", "onMessage hello", "onClose"]);
  });
});
