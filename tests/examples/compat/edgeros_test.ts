import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { connect, listen, type Message } from "../../../mod.ts";
import { ExampleProcess, run, TIMEOUT, within } from "../_process.ts";

/** The lines an EdgerOS server example prints, per channel id. */
interface ServerLines {
  open(id: number): string;
  received(id: number): string;
  closed(id: number): string;
}

const SERVERS: Record<string, ServerLines> = {
  server: {
    open: (id) => `ws open channel: ${id}.`,
    received: () => "ws recv message, msg_type: string",
    closed: (id) => `ws close channel:${id}`,
  },
  server_from_http: {
    open: (id) => `ws open, server=ws_from_http, channel=${id}.`,
    received: (id) => `ws recv message, ${id}`,
    closed: (id) => `ws close channel:${id}`,
  },
  server_from_webapp: {
    open: (id) => `ws open, server=ws_from_web, channel=${id}.`,
    received: (id) => `ws recv message, ${id}`,
    closed: (id) => ` ws close channel:${id}`,
  },
};

function lines(text: string): string[] {
  return text.split("\n").slice(0, -1);
}

/**
 * Runs a server example and a client example against each other on
 * loopback: the client counts until a client of the test's own sends
 * `close`, which the server broadcasts, and the example client then closes.
 */
async function scenario(
  serverName: string,
  clientName: string,
  binary: boolean,
): Promise<void> {
  const expected = SERVERS[serverName]!;
  const server = new ExampleProcess(`compat/edgeros/${serverName}`, ["0", "127.0.0.1"]);
  let client: ExampleProcess | undefined;
  try {
    const url = (await server.line(/^listening on (ws:\/\/127\.0\.0\.1:\d+\/)$/))[1]!;
    if (serverName !== "server") {
      // Plain HTTP requests get the example's line of text.
      const response = await within(fetch(url.replace("ws:", "http:")), "HTTP response");
      assert.equal(await response.text(), "This is websocket server, rejust http request.");
    }
    client = new ExampleProcess(`compat/edgeros/${clientName}`, [url]);
    await client.line(/^ws recv message: client count: 0$/);

    const own = await within(connect(url), "connection");
    const reader = own.readable.getReader();
    const read = async (): Promise<Message | undefined> =>
      (await within(reader.read(), "message")).value;
    assert.equal(await read(), expected.open(2));
    const writer = own.writable.getWriter();
    await within(writer.write(binary ? Buffer.from("close") : "close"), "write");
    // The plain server turns binary into text before broadcasting it.
    assert.equal(await read(), "close");

    assert.deepEqual(await client.exit(), { code: 0, signal: null }, client.stderr);
    await server.line(new RegExp(`^${expected.closed(1)}$`));
    own.close(1000);
    await within(own.closed, "close");
    await server.line(new RegExp(`^${expected.closed(2)}$`));

    const clientLines = lines(client.stdout);
    const loops = clientLines.filter((line) => line === "client loop").length;
    assert.ok(loops >= 1);
    assert.deepEqual(clientLines, [
      "ws open channel",
      `ws recv message: ${expected.open(1)}`,
      ...Array.from({ length: loops }, (_, i) => [
        "client loop",
        `ws recv message: client count: ${i}`,
      ]).flat(),
      "ws recv message: close",
      "ws close channel",
    ]);
    assert.equal(client.stderr, "");

    const serverLines = lines(server.stdout);
    // The plain server's message line does not tell the clients apart.
    const fromExample = expected.received(1);
    const fromOwn = serverName !== "server"
      ? expected.received(2)
      : `ws recv message, msg_type: ${binary ? "object" : "string"}`;
    const shared = fromOwn === fromExample;
    assert.equal(
      serverLines.filter((line) => line === fromExample).length,
      loops + (shared ? 1 : 0),
    );
    assert.deepEqual(serverLines.filter((line) => line !== fromExample), [
      `listening on ${url}`,
      expected.open(1),
      expected.open(2),
      ...(shared ? [] : [fromOwn]),
      expected.closed(1),
      expected.closed(2),
    ]);
    assert.equal(server.stderr, "");
  } finally {
    await client?.stop();
    await server.stop();
  }
}

test(
  "compat/edgeros/server and client_sync: the server broadcasts, binary as text, and the client closes on close",
  {
    timeout: 4 * TIMEOUT,
  },
  async () => {
    await scenario("server", "client_sync", true);
  },
);

test(
  "compat/edgeros/server_from_http and client_async: a node:http server's upgrades, its plain requests answered",
  {
    timeout: 4 * TIMEOUT,
  },
  async () => {
    await scenario("server_from_http", "client_async", false);
  },
);

test(
  "compat/edgeros/server_from_webapp and client_sync: a web app's upgrades, its plain requests answered",
  {
    timeout: 4 * TIMEOUT,
  },
  async () => {
    await scenario("server_from_webapp", "client_sync", false);
  },
);

test("compat/edgeros/server and client_async: the client's listeners, added in then(), hear open", {
  timeout: 4 * TIMEOUT,
}, async () => {
  await scenario("server", "client_async", false);
});

/** A URL nothing listens on, a moment ago free. */
async function deadUrl(): Promise<string> {
  const closed = await listen({ hostname: "127.0.0.1", port: 0 }, () => {});
  await closed.close();
  return `ws://127.0.0.1:${closed.port}/`;
}

test(
  "compat/edgeros/client_sync reports a server it cannot reach with its close line and exits 0",
  {
    timeout: 2 * TIMEOUT,
  },
  async () => {
    const { code, stdout, stderr } = await run("compat/edgeros/client_sync", [await deadUrl()]);
    assert.equal(code, 0, stderr);
    assert.equal(stdout, "ws close channel\n");
    assert.equal(stderr, "");
  },
);

test("compat/edgeros/client_async prints the error of a server it cannot reach and exits 0", {
  timeout: 2 * TIMEOUT,
}, async () => {
  const { code, stdout, stderr } = await run("compat/edgeros/client_async", [await deadUrl()]);
  assert.equal(code, 0, stderr);
  assert.equal(stdout, "");
  assert.equal(lines(stderr).length, 1, stderr);
});
