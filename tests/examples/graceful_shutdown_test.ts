import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { connect } from "../../mod.ts";
import { rawPeer } from "../_raw_peer.ts";
import { ExampleProcess, within } from "./_process.ts";

test("graceful_shutdown closes its connections with 1001 on SIGTERM, cuts off a silent one, and exits 0", async () => {
  const server = new ExampleProcess("graceful_shutdown", [
    "--port",
    "0",
    "--timeout",
    "500",
    "--mode",
    "raw",
  ]);
  try {
    const url = await server.listening();
    const client = await connect(url, { handshakeTimeout: 10_000 });
    const writer = client.writable.getWriter();
    await writer.write("before");
    assert.deepEqual(await within(client.readable.getReader().read(), "echo"), {
      value: "before",
      done: false,
    });
    // A peer that will never answer the close frame.
    const silent = await rawPeer(Number(new URL(url).port));
    await server.line(/^listening on/);
    // process.kill, not child.kill: Deno reports a child it signalled as killed by the signal.
    process.kill(server.child.pid!, "SIGTERM");
    await server.line(/^shutting down 2 connections$/);
    assert.deepEqual(await within(client.closed, "close"), {
      code: 1001,
      reason: "Server shutting down",
      wasClean: true,
    });
    await within(silent.ended, "end of the silent connection");
    const closed = await server.line(/^closed in (\d+) ms$/);
    assert.ok(Number(closed[1]) >= 450, `closed in ${closed[1]} ms, before the timeout`);
    assert.deepEqual(await server.exit(), { code: 0, signal: null });
  } finally {
    await server.stop();
  }
});

test("graceful_shutdown on the runtime's own server closes with 1001 on SIGINT and exits 0", async () => {
  const server = new ExampleProcess("graceful_shutdown", ["--port", "0"]);
  try {
    const client = await connect(await server.listening(), { handshakeTimeout: 10_000 });
    process.kill(server.child.pid!, "SIGINT");
    await server.line(/^shutting down 1 connections$/);
    assert.equal((await within(client.closed, "close")).code, 1001);
    await server.line(/^closed in \d+ ms$/);
    assert.deepEqual(await server.exit(), { code: 0, signal: null });
  } finally {
    await server.stop();
  }
});
