import { test } from "node:test";
import assert from "node:assert/strict";
import { connect as tcpConnect } from "node:net";
import process from "node:process";
import { connect, HandshakeError, listen } from "../../mod.ts";
import {
  configure,
  type ServerEvent,
  WebSocket,
  WebSocketServer,
} from "../../src/compat/hop/mod.ts";
import { within } from "../_servers.ts";
import { closeSocket, nextEvent, serveHop } from "./_hop.ts";

/** A port that was free a moment ago, and that nothing listens on now. */
async function freePort(): Promise<number> {
  const server = await listen({ hostname: "127.0.0.1", port: 0 }, () => {});
  await server.close();
  return server.port;
}

/** Whether a TCP connection to the port opens, through the core client. */
async function refused(url: string): Promise<boolean> {
  try {
    const channel = await connect(url, { handshakeTimeout: 2000 });
    channel.close(1000);
    await channel.closed;
    return false;
  } catch (error) {
    return !(error instanceof HandshakeError);
  }
}

/** Runs `body` with environment variables set (or unset, for `undefined`), then restores them. */
async function withEnv(
  vars: Record<string, string | undefined>,
  body: () => Promise<void>,
): Promise<void> {
  const saved = Object.keys(vars).map((name) => [name, process.env[name]] as const);
  for (const [name, value] of Object.entries(vars)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  try {
    await body();
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

test("WebSocketServer serves { path } at /hop/<path> and fires connection with the socket in event.value", async () => {
  const { server, port, url } = await serveHop({ path: "serv" });
  try {
    const events: ServerEvent<WebSocket>[] = [];
    const self: unknown[] = [];
    server.onconnection = function (event) {
      self.push(this);
      events.push(event);
    };
    const accepted = nextEvent<ServerEvent<WebSocket>>(server, "connection");
    const channel = await within(connect(url("serv")), "connection");
    const { value: socket } = await accepted;
    assert.equal(events.length, 1);
    assert.equal(events[0]!.type, "connection");
    assert.equal(events[0]!.target, server);
    assert.equal(events[0]!.value, socket);
    assert.deepEqual(self, [server]);
    assert.ok(socket instanceof WebSocket);
    assert.equal(socket.readyState, "open");
    assert.equal(socket.url, `ws://127.0.0.1:${port}/hop/serv`);
    assert.equal(socket.protocol, "");
    channel.close(1000);
    await within(channel.closed, "close");
  } finally {
    await server.close();
  }
});

test("WebSocketServer serves a string path, a leading slash or not, percent-encoded as requests are", async () => {
  for (const [option, path] of [["serv", "serv"], ["/a/b", "a/b"], ["caf\u00e9", "caf%C3%A9"]]) {
    const { server, url } = await serveHop(option!);
    try {
      const accepted = nextEvent<ServerEvent<WebSocket>>(server, "connection");
      const channel = await within(connect(url(path!)), `connection to ${path}`);
      const { value: socket } = await accepted;
      assert.equal(new URL(socket.url).pathname, `/hop/${path}`);
      channel.close(1000);
      await within(channel.closed, "close");
    } finally {
      await server.close();
    }
  }
});

test("WebSocketServer answers 404 to a path it does not serve", async () => {
  const { server, port, url } = await serveHop("serv");
  try {
    for (const target of [url("other"), `ws://127.0.0.1:${port}/serv`, url("serv/more")]) {
      await assert.rejects(
        connect(target),
        (error) => error instanceof HandshakeError && error.status === 404,
        target,
      );
    }
  } finally {
    await server.close();
  }
});

test("WebSocketServer accepts its protocol when the client offers it, and no protocol otherwise", async () => {
  const { server, url } = await serveHop({ path: "serv", protocol: "foo" });
  try {
    const offers: [string[], string][] = [[["bar", "foo"], "foo"], [["foo"], "foo"], [
      ["bar"],
      "",
    ], [[], ""]];
    for (const [offered, chosen] of offers) {
      const accepted = nextEvent<ServerEvent<WebSocket>>(server, "connection");
      const channel = await within(connect(url("serv"), { protocols: offered }), "connection");
      assert.equal(channel.protocol, chosen, `offered ${offered.join(", ")}`);
      assert.equal((await accepted).value.protocol, chosen);
      channel.close(1000);
      await within(channel.closed, "close");
    }
  } finally {
    await server.close();
  }
});

test("WebSocketServer with several protocols takes the client's first offer among them", async () => {
  const { server, url } = await serveHop({ path: "serv", protocol: ["a", "b"] });
  try {
    const channel = await within(connect(url("serv"), { protocols: ["c", "b", "a"] }), "connect");
    assert.equal(channel.protocol, "b");
    channel.close(1000);
    await within(channel.closed, "close");
  } finally {
    await server.close();
  }
});

test("WebSocketServer runs addEventListener listeners, then onconnection", async () => {
  const { server, url } = await serveHop("serv");
  try {
    const calls: string[] = [];
    server.onconnection = () => calls.push("onconnection");
    server.addEventListener("connection", (event) => {
      assert.ok(event.value instanceof WebSocket);
      calls.push("listener");
    });
    server.addEventListener("connection", {
      handleEvent: () => calls.push("handleEvent"),
    });
    const accepted = nextEvent(server, "connection");
    const channel = await within(connect(url("serv")), "connection");
    await accepted;
    assert.deepEqual(calls, ["listener", "handleEvent", "onconnection"]);
    channel.close(1000);
    await within(channel.closed, "close");
  } finally {
    await server.close();
  }
});

test("WebSocketServer's socket talks with a client: send, onmessage, onclose, socket", async () => {
  const { server, url } = await serveHop({ path: "serv", protocol: "foo" });
  try {
    const accepted = nextEvent<ServerEvent<WebSocket>>(server, "connection");
    const client = new WebSocket(url("serv"), ["bar", "foo"]);
    const opened = nextEvent(client, "open");
    const socket = (await accepted).value;
    await opened;

    assert.equal(socket.protocol, "foo");
    const remote = socket.socket!;
    assert.equal(remote.remoteAddress, "127.0.0.1");
    assert.ok(Number.isInteger(remote.remotePort) && remote.remotePort > 0);
    assert.equal(String(remote), `127.0.0.1:${remote.remotePort}`);
    assert.equal(client.socket, undefined);

    const toServer = nextEvent<{ data: unknown }>(socket, "message");
    client.send("from the client");
    assert.equal((await toServer).data, "from the client");
    const toClient = nextEvent<{ data: unknown }>(client, "message");
    socket.send("from the server");
    assert.equal((await toClient).data, "from the server");

    const serverClosed = nextEvent<{ code: number; wasClean: boolean }>(socket, "close");
    const clientClosed = nextEvent<{ code: number; reason: string }>(client, "close");
    socket.close(4001, "server says bye");
    assert.equal(socket.readyState, "closing");
    const seen = await clientClosed;
    assert.deepEqual([seen.code, seen.reason], [4001, "server says bye"]);
    const ended = await serverClosed;
    assert.deepEqual([ended.code, ended.wasClean], [4001, true]);
    assert.equal(socket.readyState, "closed");
  } finally {
    await server.close();
  }
});

test("WebSocketServer's socket fires onclose when the client closes", async () => {
  const { server, url } = await serveHop("serv");
  try {
    const accepted = nextEvent<ServerEvent<WebSocket>>(server, "connection");
    const channel = await within(connect(url("serv")), "connection");
    const socket = (await accepted).value;
    const closed = nextEvent<{ code: number; reason: string; wasClean: boolean }>(socket, "close");
    channel.close(1000, "done");
    const event = await closed;
    assert.deepEqual([event.code, event.reason, event.wasClean], [1000, "done", true]);
    await within(channel.closed, "close");
  } finally {
    await server.close();
  }
});

test("WebSocketServer's socket fires onerror then onclose with 1006 when the client drops", async () => {
  const { server, port } = await serveHop("serv");
  try {
    const accepted = nextEvent<ServerEvent<WebSocket>>(server, "connection");
    // A client that completes the handshake, then vanishes without a close frame.
    const raw = tcpConnect({ host: "127.0.0.1", port }, () => {
      raw.write(
        "GET /hop/serv HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n" +
          "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
          "Sec-WebSocket-Version: 13\r\n\r\n",
      );
    });
    raw.on("error", () => {});
    const socket = (await accepted).value;
    const order: string[] = [];
    socket.onerror = (event) => order.push(`error: ${event.data}`);
    const closed = nextEvent<{ code: number; wasClean: boolean }>(socket, "close");
    raw.destroy();
    const event = await closed;
    assert.deepEqual([event.code, event.wasClean], [1006, false]);
    assert.deepEqual(order, ["error: the connection ended without a closing handshake"]);
    assert.equal(socket.readyState, "closed");
  } finally {
    await server.close();
  }
});

test("WebSocketServer.close fires onclose and close listeners with the server in event.value", async () => {
  const { server } = await serveHop("serv");
  const events: ServerEvent<WebSocketServer>[] = [];
  const order: string[] = [];
  server.onclose = (event) => {
    order.push("onclose");
    events.push(event);
  };
  server.addEventListener("close", () => order.push("listener"));
  await server.close();
  assert.deepEqual(order, ["listener", "onclose"]);
  assert.equal(events.length, 1);
  assert.equal(events[0]!.type, "close");
  assert.equal(events[0]!.target, server);
  assert.equal(events[0]!.value, server);
  // A second close does nothing.
  await server.close();
  assert.equal(events.length, 1);
});

test("WebSocketServer.close stops the shared server once no WebSocketServer is left", async () => {
  const { server, port, url } = await serveHop("one");
  const two = new WebSocketServer("two");
  assert.deepEqual(await within(two.listening, "listening"), { hostname: "127.0.0.1", port });
  const accepted = nextEvent<ServerEvent<WebSocket>>(two, "connection");
  const open = await within(connect(url("two")), "connection");
  const socket = (await accepted).value;

  await server.close();
  // The path is no longer served; the other one is, and the server still listens.
  await assert.rejects(connect(url("one")), (error) => (error as HandshakeError).status === 404);
  const again = await within(connect(url("two")), "connection");
  again.close(1000);
  await within(again.closed, "close");

  await two.close();
  assert.equal(await refused(url("two")), true, "the shared server stopped listening");
  // The connection open when its server closed stays open.
  const received = nextEvent<{ data: unknown }>(socket, "message");
  const writer = open.writable.getWriter();
  await writer.write("still here");
  assert.equal((await received).data, "still here");
  writer.releaseLock();
  await closeSocket(socket);
  await within(open.closed, "close");
});

test("WebSocketServer frees its path on close, and a new one restarts the shared server", async () => {
  const first = await serveHop("serv");
  assert.throws(
    () => new WebSocketServer({ path: "/serv" }),
    (error) => error instanceof Error && /\/hop\/serv is served already/.test(error.message),
  );
  await first.server.close();
  const second = await serveHop("serv");
  try {
    const channel = await within(connect(second.url("serv")), "connection");
    channel.close(1000);
    await within(channel.closed, "close");
  } finally {
    await second.server.close();
  }
});

test("WebSocketServer refuses an argument that is not a path or { path, protocol }", () => {
  configure({ port: 0, hostname: "127.0.0.1" });
  const bad: unknown[] = [
    42,
    null,
    undefined,
    {},
    { path: "" },
    { path: "/" },
    { path: 7 },
    { path: "a?b" },
    { path: "a#b" },
    { path: "../x" },
    { path: "x", protocol: 5 },
    { path: "x", protocol: ["a", 5] },
  ];
  for (const option of bad) {
    assert.throws(
      () => new WebSocketServer(option as string),
      (error) =>
        error instanceof TypeError && /^Cannot create WebSocketServer: /.test(error.message),
      JSON.stringify(option),
    );
  }
  // Nothing was started: configure() still may be called.
  configure({ port: 0, hostname: "127.0.0.1" });
});

test("WebSocketServer.listening rejects and fires error when the port is taken", async () => {
  const taken = await listen({ hostname: "127.0.0.1", port: 0 }, () => {});
  try {
    configure({ port: taken.port, hostname: "127.0.0.1" });
    const server = new WebSocketServer("serv");
    const errors: ServerEvent<unknown>[] = [];
    server.addEventListener("error", (event) => errors.push(event));
    await assert.rejects(within(server.listening, "listening"));
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.type, "error");
    assert.equal(errors[0]!.target, server);
    assert.ok(errors[0]!.value instanceof Error);

    // Without an error listener, the reason is printed.
    const printed: unknown[] = [];
    const print = console.error;
    console.error = (...args: unknown[]) => printed.push(...args);
    try {
      const unheard = new WebSocketServer("other");
      await assert.rejects(within(unheard.listening, "listening"));
      await Promise.resolve();
    } finally {
      console.error = print;
    }
    assert.equal(printed.length, 1);
    assert.ok(printed[0] instanceof Error);
    // Both paths are free again, and the shared server can be configured.
    await server.close();
  } finally {
    await taken.close();
  }
  const again = await serveHop("serv");
  await again.server.close();
});

test("configure sets the port and hostname the shared server listens on", async () => {
  const port = await freePort();
  configure({ port, hostname: "127.0.0.1" });
  const server = new WebSocketServer("serv");
  try {
    assert.deepEqual(await within(server.listening, "listening"), { hostname: "127.0.0.1", port });
    assert.throws(
      () => configure({ port: 0 }),
      (error) => error instanceof Error && /it is running/.test(error.message),
    );
  } finally {
    await server.close();
  }
});

test("configure refuses a bad port or hostname", () => {
  for (const port of [-1, 65536, 1.5, NaN]) {
    assert.throws(() => configure({ port }), RangeError, String(port));
  }
  assert.throws(() => configure({ port: "80" as unknown as number }), TypeError);
  for (const hostname of ["", 7]) {
    assert.throws(() => configure({ hostname: hostname as string }), TypeError, String(hostname));
  }
});

test("configure leaves to HOP_PORT and HOP_HOSTNAME what it leaves out", async () => {
  const port = await freePort();
  await withEnv({ HOP_PORT: String(port), HOP_HOSTNAME: "127.0.0.1" }, async () => {
    configure({});
    const server = new WebSocketServer("serv");
    try {
      assert.deepEqual(await within(server.listening, "listening"), {
        hostname: "127.0.0.1",
        port,
      });
    } finally {
      await server.close();
    }
    // An option given wins over its variable.
    configure({ port: 0 });
    const other = new WebSocketServer("serv");
    try {
      const address = await within(other.listening, "listening");
      assert.equal(address.hostname, "127.0.0.1");
      assert.notEqual(address.port, port);
    } finally {
      await other.close();
    }
  });
});

test("configure's HOP_PORT must be a port number", async () => {
  await withEnv({ HOP_PORT: "http", HOP_HOSTNAME: "127.0.0.1" }, async () => {
    configure({});
    const server = new WebSocketServer("serv");
    server.addEventListener("error", () => {});
    await assert.rejects(
      within(server.listening, "listening"),
      (error) => error instanceof RangeError && /HOP_PORT .*"http"/.test(error.message),
    );
  });
});

test("configure's defaults are port 8080 on every interface", async (t) => {
  const probe = await listen({ hostname: "0.0.0.0", port: 8080 }, () => {}).catch(() => undefined);
  if (probe === undefined) {
    t.skip("port 8080 is in use on this machine");
    return;
  }
  await probe.close();
  await withEnv({ HOP_PORT: undefined, HOP_HOSTNAME: undefined }, async () => {
    configure();
    const server = new WebSocketServer("serv");
    try {
      assert.deepEqual(await within(server.listening, "listening"), {
        hostname: "0.0.0.0",
        port: 8080,
      });
    } finally {
      await server.close();
    }
  });
});
