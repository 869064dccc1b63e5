import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { connect, HandshakeError } from "../../../mod.ts";
import { ExampleProcess, run, TIMEOUT, within } from "../_process.ts";

const SERVER = "compat/zjs/server";
const CLIENT = "compat/zjs/client";

/** The lines of some output. */
function lines(text: string): string[] {
  return text === "" ? [] : text.replace(/\n$/, "").split("\n");
}

/** Starts the sample server on a free port and hands its URL to `body`; stops it afterwards. */
async function withServer(
  body: (url: string, server: ExampleProcess) => Promise<void>,
): Promise<void> {
  const server = new ExampleProcess(SERVER, ["--port", "0"]);
  try {
    await body(await server.listening(), server);
  } finally {
    await server.stop();
  }
}

test(
  "examples/compat/zjs client and server exchange messages, a ping and a pong, and print each event",
  {
    timeout: 3 * TIMEOUT,
  },
  async () => {
    await withServer(async (url, server) => {
      const client = await run(CLIENT, [url, "--messages", "3"]);
      assert.equal(client.stderr, "");
      assert.deepEqual(lines(client.stdout), [
        "open: my_ws_protocol",
        "MESSAGE: A MESSAGE",
        "PING: PING",
        "MESSAGE: A MESSAGE",
        "MESSAGE: A MESSAGE",
        "close: 1000 done",
      ]);
      assert.equal(client.code, 0);
      await server.line(/^close event: /);
      // The client sends back the first answer, then answers the ping that came after it.
      assert.deepEqual(lines(server.stdout), [
        `listening on ${url}`,
        "CONNECTION",
        "MESSAGE: first packet",
        "MESSAGE: A MESSAGE",
        "PONG: PING",
        "MESSAGE: A MESSAGE",
        "close event: 1000 done",
      ]);
      assert.equal(server.stderr, "");
    });
  },
);

test("examples/compat/zjs server pings on its first answer and every tenth after", {
  timeout: 3 * TIMEOUT,
}, async () => {
  await withServer(async (url, server) => {
    const client = await run(CLIENT, [url, "--messages", "12"]);
    assert.equal(client.code, 0, client.stderr);
    const clientLines = lines(client.stdout);
    assert.equal(clientLines.filter((line) => line === "MESSAGE: A MESSAGE").length, 12);
    // Lines 1 and 12 are the first and the eleventh answer; the ping follows each.
    assert.deepEqual(
      clientLines.flatMap((line, i) => line === "PING: PING" ? [i] : []),
      [2, 13],
    );
    await server.line(/^close event: /);
    assert.equal(lines(server.stdout).filter((line) => line === "PONG: PING").length, 2);
  });
});

test("examples/compat/zjs server refuses a client without my_ws_protocol with 403", {
  timeout: 2 * TIMEOUT,
}, async () => {
  await withServer(async (url, server) => {
    for (const protocols of [[], ["first", "last"]]) {
      await assert.rejects(
        within(connect(url, { protocols }), "refusal"),
        (error) => error instanceof HandshakeError && error.status === 403,
      );
    }
    assert.deepEqual(lines(server.stdout), [`listening on ${url}`]);
  });
});

test("examples/compat/zjs server closes its connections with 1001 on SIGTERM and exits 0", {
  timeout: 2 * TIMEOUT,
}, async () => {
  await withServer(async (url, server) => {
    const channel = await within(connect(url, { protocols: ["my_ws_protocol"] }), "connection");
    await server.line(/^CONNECTION$/);
    // Not server.child.kill(): under Deno the exit would then be reported as
    // the signal's even though the server handles it and exits 0.
    process.kill(server.child.pid!, "SIGTERM");
    const reading = channel.readable.pipeTo(new WritableStream()).catch(() => {});
    const info = await within(channel.closed, "close");
    await reading;
    assert.deepEqual(info, { code: 1001, reason: "server shutting down", wasClean: true });
    assert.deepEqual(await server.exit(), { code: 0, signal: null });
    assert.equal(lines(server.stdout).at(-1), "close event: 1001 server shutting down");
  });
});

test("examples/compat/zjs client exits 1 with an error line when it cannot connect", {
  timeout: 2 * TIMEOUT,
}, async () => {
  let url = "";
  // A port that was free a moment ago, now closed.
  await withServer((serverUrl) => {
    url = serverUrl;
    return Promise.resolve();
  });
  const client = await run(CLIENT, [url]);
  assert.equal(client.code, 1);
  assert.equal(client.stdout, "");
  assert.match(client.stderr, /^error: .+\n$/);
});

test("examples/compat/zjs client and server print help, and exit 2 on bad flags", {
  timeout: 4 * TIMEOUT,
}, async () => {
  for (const example of [SERVER, CLIENT]) {
    const help = await run(example, ["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: /);
  }
  const cases: [string, string[], RegExp][] = [
    [SERVER, ["--port", "x"], /^server: --port must be .+ \(see --help\)\n$/],
    [SERVER, ["--nope"], /^server: .+ \(see --help\)\n$/],
    [CLIENT, [], /^client: expected one URL \(see --help\)\n$/],
    [CLIENT, ["http://x"], /^client: the URL must start with ws:\/\/ or wss:\/\/.+\n$/],
    [CLIENT, ["ws://x", "--messages", "0"], /^client: --messages must be .+\n$/],
  ];
  for (const [example, args, stderr] of cases) {
    const result = await run(example, args);
    assert.equal(result.code, 2, `${example} ${args.join(" ")}`);
    assert.match(result.stderr, stderr);
  }
});
