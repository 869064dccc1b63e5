import { test } from "node:test";
import assert from "node:assert/strict";
import { connect as tcpConnect } from "node:net";
import { listen } from "../../../mod.ts";
import { ExampleProcess, run, TIMEOUT, within } from "../_process.ts";

/** A port that was free a moment ago, and that nothing listens on now. */
async function freePort(): Promise<number> {
  const server = await listen({ hostname: "127.0.0.1", port: 0 }, () => {});
  await server.close();
  return server.port;
}

/** Waits until a TCP connection to 127.0.0.1:port opens (the example prints nothing when ready). */
async function accepting(port: number, server: ExampleProcess): Promise<void> {
  const deadline = Date.now() + TIMEOUT;
  while (true) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = tcpConnect({ host: "127.0.0.1", port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) {
      throw new Error(`${server.name} is not listening on ${port} within ${TIMEOUT} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The lines of some output. */
function lines(text: string): string[] {
  return text === "" ? [] : text.replace(/\n$/, "").split("\n");
}

test("wsserver and wsclient of the Hop.js documentation talk, print their lines and exit", {
  timeout: 4 * TIMEOUT,
}, async () => {
  const port = await freePort();
  const server = new ExampleProcess("compat/hop/wsserver", [], {
    HOP_PORT: String(port),
    HOP_HOSTNAME: "127.0.0.1",
  });
  let client: ExampleProcess | undefined;
  try {
    await accepting(port, server);
    client = new ExampleProcess("compat/hop/wsclient", [String(port)]);
    const [clientExit, serverExit] = await within(
      Promise.all([client.exit(), server.exit()]),
      "both examples' exit",
    );
    assert.deepEqual(clientExit, { code: 0, signal: null }, client.stderr);
    assert.deepEqual(serverExit, { code: 0, signal: null }, server.stderr);
    assert.deepEqual(lines(client.stdout), ["client received [something]"]);
    assert.deepEqual(lines(client.stderr), [
      `ws= ws://localhost:${port}/hop/serv`,
      "client websocket closed.",
    ]);
    assert.deepEqual(lines(server.stdout), [
      "server received [toto n'est pas content]",
      "server received [tutu non plus]",
      "client socket closed.",
    ]);
    const established = lines(server.stderr);
    assert.equal(established.length, 1, server.stderr);
    assert.match(established[0]!, /^connection established: 127\.0\.0\.1:\d+$/);
  } finally {
    await client?.stop();
    await server.stop();
  }
});

test("wsclient prints its URL and closes when no server listens", {
  timeout: 2 * TIMEOUT,
}, async () => {
  const port = await freePort();
  const { code, stdout, stderr } = await run("compat/hop/wsclient", [String(port)]);
  assert.equal(code, 0, stderr);
  assert.equal(stdout, "");
  assert.deepEqual(lines(stderr), [
    `ws= ws://localhost:${port}/hop/serv`,
    "client websocket closed.",
  ]);
});
