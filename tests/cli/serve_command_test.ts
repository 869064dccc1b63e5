import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { type Channel, connect, type Message } from "../../mod.ts";
import type { ExampleProcess } from "../examples/_process.ts";
import { lines, runCli, startCli, stderrLine, TIMEOUT, within } from "./_cli.ts";

/** Runs `serve` with `args` on a free port, hands its URL to `body`, and kills it afterwards. */
async function withServe(
  args: string[],
  body: (url: string, server: ExampleProcess) => Promise<void>,
): Promise<void> {
  const server = startCli(["serve", "--port", "0", ...args]);
  try {
    await body(await server.listening(), server);
  } finally {
    await server.stop();
  }
}

/** Stops a server with SIGTERM and checks it exits 0. */
async function terminate(server: ExampleProcess): Promise<void> {
  // Not server.child.kill(): see the SIGTERM test of echo_server.
  process.kill(server.child.pid!, "SIGTERM");
  assert.deepEqual(await server.exit(), { code: 0, signal: null }, server.stderr);
}

async function read(channel: Channel): Promise<Message | undefined> {
  const reader = channel.readable.getReader();
  try {
    return (await within(reader.read(), "message")).value;
  } finally {
    reader.releaseLock();
  }
}

async function write(channel: Channel, message: Message): Promise<void> {
  const writer = channel.writable.getWriter();
  try {
    await within(writer.write(message), "write");
  } finally {
    writer.releaseLock();
  }
}

test("serve --echo sends each message back to its sender, and counts them on SIGTERM", {
  timeout: 3 * TIMEOUT,
}, async () => {
  await withServe(["--echo"], async (url, server) => {
    assert.match(url, /^ws:\/\/127\.0\.0\.1:\d+$/);
    const client = await within(connect(url), "connection");
    await write(client, "hello");
    assert.equal(await read(client), "hello");
    await write(client, new Uint8Array([1, 2, 255]));
    assert.deepEqual(Array.from((await read(client)) as Uint8Array), [1, 2, 255]);
    await terminate(server);
    assert.equal((await within(client.closed, "close")).code, 1001);
    assert.match(server.stderr, /^served 1 connection$/m);
    assert.match(server.stderr, /^sent 2 messages \(8 bytes\), received 2 messages \(8 bytes\)/m);
  });
});

test("serve --broadcast sends each message to every client, the sender included", {
  timeout: 3 * TIMEOUT,
}, async () => {
  await withServe(["--broadcast"], async (url, server) => {
    const alice = await within(connect(url), "connection");
    const bob = await within(connect(url), "connection");
    await stderrLine(server, /^client 2 connected/);
    await write(alice, "from alice");
    assert.equal(await read(alice), "from alice");
    assert.equal(await read(bob), "from alice");
    await write(bob, "from bob");
    assert.equal(await read(alice), "from bob");
    assert.equal(await read(bob), "from bob");
    alice.close(1000);
    bob.close(1000);
    await within(Promise.all([alice.closed, bob.closed]), "close");
  });
});

test("serve prints what clients send and sends them the lines of standard input", {
  timeout: 3 * TIMEOUT,
}, async () => {
  await withServe([], async (url, server) => {
    const client = await within(connect(url, { protocols: ["x"] }), "connection");
    assert.equal(client.protocol, "", "no --subprotocol, none agreed");
    await stderrLine(server, /^client 1 connected \(\/\)$/);
    await write(client, "from the client");
    await server.line(/^from the client$/);
    server.child.stdin!.write("from the server\n");
    assert.equal(await read(client), "from the server");
    client.close(1000);
    await stderrLine(server, /^client 1 closed with 1000$/);
  });
});

test("serve --subprotocol agrees on the client's first offer it lists", {
  timeout: 3 * TIMEOUT,
}, async () => {
  await withServe(["--echo", "-s", "v2,v1"], async (url) => {
    const client = await within(connect(url, { protocols: ["v1", "v2"] }), "connection");
    assert.equal(client.protocol, "v1");
    client.close(1000);
    await within(client.closed, "close");
  });
});

test("serve --static answers plain requests with the directory's files, and still upgrades", {
  timeout: 3 * TIMEOUT,
}, async () => {
  const parent = await mkdtemp(join(tmpdir(), "seed-websocket-static-"));
  try {
    const directory = join(parent, "site");
    await mkdir(join(directory, "sub"), { recursive: true });
    await writeFile(join(directory, "index.html"), "<h1>home</h1>");
    await writeFile(join(directory, "sub", "app.js"), "console.log(1);");
    await writeFile(join(parent, "secret.txt"), "secret");
    await withServe(["--echo", "--static", directory], async (url) => {
      const http = url.replace(/^ws/, "http");
      const home = await within(fetch(`${http}/`), "response");
      assert.equal(home.status, 200);
      assert.equal(home.headers.get("content-type"), "text/html; charset=utf-8");
      assert.equal(await home.text(), "<h1>home</h1>");
      const script = await within(fetch(`${http}/sub/app.js`), "response");
      assert.equal(script.headers.get("content-type"), "text/javascript; charset=utf-8");
      assert.equal(await script.text(), "console.log(1);");
      for (const path of ["/missing.html", "/%2e%2e/secret.txt", "/sub/..%2f..%2fsecret.txt"]) {
        const response = await within(fetch(`${http}${path}`), "response");
        assert.equal(response.status, 404, path);
        await response.body?.cancel();
      }
      const post = await within(fetch(`${http}/`, { method: "POST", body: "x" }), "response");
      assert.equal(post.status, 405);
      await post.body?.cancel();
      const client = await within(connect(url), "connection");
      await write(client, "still a WebSocket server");
      assert.equal(await read(client), "still a WebSocket server");
      client.close(1000);
      await within(client.closed, "close");
    });
  } finally {
    await rm(parent, { recursive: true, force: true });
  }
});

test("serve exits 1 with one line when the port is taken", { timeout: 3 * TIMEOUT }, async () => {
  await withServe(["--echo"], async (url) => {
    const port = new URL(url).port;
    const { code, stdout, stderr } = await runCli(["serve", "--port", port]);
    assert.equal(code, 1);
    assert.equal(stdout, "");
    assert.equal(lines(stderr).length, 1, stderr);
    assert.match(stderr, new RegExp(`^seed-websocket: Cannot listen on 127\\.0\\.0\\.1:${port}: `));
  });
});
