import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { listen } from "../../../mod.ts";
import { ExampleProcess, run, TIMEOUT, within } from "../_process.ts";

const SERVER = "compat/accessors/server";
const CLIENT = "compat/accessors/client";

/** The lines of some output. */
function lines(text: string): string[] {
  return text === "" ? [] : text.replace(/\n$/, "").split("\n");
}

/** A port on 127.0.0.1 that was free a moment ago, and that nothing listens on now. */
async function freePort(): Promise<number> {
  const server = await listen({ hostname: "127.0.0.1", port: 0 }, () => {});
  await server.close();
  return server.port;
}

/** Starts the server example on a port and hands its port to `body`; stops it afterwards. */
async function withServer(
  port: number,
  body: (port: number, server: ExampleProcess) => Promise<void>,
): Promise<void> {
  const server = new ExampleProcess(SERVER, ["--host", "127.0.0.1", "--port", String(port)]);
  try {
    const url = await server.listening();
    assert.match(url, /^ws:\/\/127\.0\.0\.1:\d+$/);
    await body(Number(new URL(url).port), server);
  } finally {
    await server.stop();
  }
}

test("accessors client example gets the server example's reply to what it sent before open", {
  timeout: 3 * TIMEOUT,
}, async () => {
  await withServer(0, async (port, server) => {
    const { code, stdout, stderr } = await run(CLIENT, [
      "--host",
      "127.0.0.1",
      "--port",
      `${port}`,
    ]);
    assert.equal(stderr, "");
    assert.equal(stdout, "Received from web socket: Reply message\n");
    assert.equal(code, 0);
    await server.line(/^\{"foo":"bar"\}$/);
    assert.deepEqual(lines(server.stdout), [
      `listening on ws://127.0.0.1:${port}`,
      '{"foo":"bar"}',
    ]);
  });
});

test("accessors client example started before the server retries until it listens", {
  timeout: 3 * TIMEOUT,
}, async () => {
  const port = await freePort();
  const client = new ExampleProcess(CLIENT, ["--host", "127.0.0.1", "--port", `${port}`]);
  try {
    // Ten retries 500 ms apart leave five seconds to start the server.
    await new Promise((resolve) => setTimeout(resolve, 600));
    await withServer(port, async () => {
      assert.deepEqual(await client.exit(), { code: 0, signal: null }, client.stderr);
      assert.equal(client.stdout, "Received from web socket: Reply message\n");
      assert.equal(client.stderr, "");
    });
  } finally {
    await client.stop();
  }
});

test("accessors client example reports the attempts in one line and exits 1 when nothing listens", {
  timeout: 2 * TIMEOUT,
}, async () => {
  const port = await freePort();
  const { code, stdout, stderr } = await run(CLIENT, [
    "--host",
    "127.0.0.1",
    "--port",
    `${port}`,
    "--retries",
    "2",
  ]);
  assert.equal(code, 1);
  assert.equal(stdout, "");
  assert.equal(lines(stderr).length, 1, stderr);
  assert.match(
    stderr,
    new RegExp(
      `^client: Cannot open connection to ws://127\\.0\\.0\\.1:${port}/: 3 attempts failed, `,
    ),
  );
});

test("accessors server example answers each message and exits 0 on SIGTERM", {
  timeout: 3 * TIMEOUT,
}, async () => {
  await withServer(0, async (port, server) => {
    for (let i = 0; i < 2; i++) {
      const { stdout, code } = await run(CLIENT, ["--host", "127.0.0.1", "--port", `${port}`]);
      assert.equal(stdout, "Received from web socket: Reply message\n");
      assert.equal(code, 0);
    }
    await within(server.line(/^\{"foo":"bar"\}$/), "message line");
    // Not server.child.kill(): see tests/examples/echo_test.ts.
    process.kill(server.child.pid!, "SIGTERM");
    assert.deepEqual(await server.exit(), { code: 0, signal: null }, server.stderr);
    assert.deepEqual(lines(server.stdout), [
      `listening on ws://127.0.0.1:${port}`,
      '{"foo":"bar"}',
      '{"foo":"bar"}',
    ]);
    assert.equal(server.stderr, "");
  });
});

test("accessors examples exit 2 with one line on stderr for a bad flag", {
  timeout: 3 * TIMEOUT,
}, async () => {
  for (
    const [example, args] of [
      [SERVER, ["--port", "http"]],
      [SERVER, ["--no-such-flag"]],
      [CLIENT, ["--port", "0"]],
      [CLIENT, ["--retries", "many"]],
    ] as const
  ) {
    const { code, stdout, stderr } = await run(example, [...args]);
    assert.equal(code, 2, `${example} ${args.join(" ")}`);
    assert.equal(stdout, "");
    assert.equal(lines(stderr).length, 1, stderr);
  }
});

test("accessors server example reports a port it cannot listen on and exits 1", {
  timeout: 3 * TIMEOUT,
}, async () => {
  await withServer(0, async (port) => {
    const { code, stdout, stderr } = await run(SERVER, [
      "--host",
      "127.0.0.1",
      "--port",
      `${port}`,
    ]);
    assert.equal(code, 1);
    assert.equal(stdout, "");
    assert.equal(lines(stderr).length, 1, stderr);
    assert.match(stderr, new RegExp(`^server: Cannot start server on 127\\.0\\.0\\.1:${port}: `));
  });
});
