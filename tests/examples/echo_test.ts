import { test } from "node:test";
import assert from "node:assert/strict";
import { connect as tcpConnect, createServer, type Socket } from "node:net";
import { type Channel, connect, listen, type Message, type ServerChannel } from "../../mod.ts";
import { patternBytes } from "../_helpers.ts";
import { ExampleProcess, run, TIMEOUT, within } from "./_process.ts";

/** Starts echo_server on a free port and hands its URL to `body`; stops it afterwards. */
async function withEchoServer(
  args: string[],
  body: (url: string, server: ExampleProcess) => Promise<void>,
): Promise<void> {
  const server = new ExampleProcess("echo_server", ["--port", "0", ...args]);
  try {
    await body(await server.listening(), server);
  } finally {
    await server.stop();
  }
}

/** Sends a message and reads the next one. */
async function roundTrip(
  writer: WritableStreamDefaultWriter<Message>,
  reader: ReadableStreamDefaultReader<Message>,
  message: Message,
): Promise<Message | undefined> {
  await within(writer.write(message), "write");
  const { value } = await within(reader.read(), "echo");
  return value;
}

/** Asserts a binary message holds `expected`; the runtime may hand a subclass such as Buffer. */
function assertBytes(message: Message | undefined, expected: Uint8Array): void {
  assert.ok(message instanceof Uint8Array, `expected binary, got ${typeof message}`);
  assert.equal(message.byteLength, expected.byteLength);
  assert.ok(
    message.every((byte, i) => byte === expected[i]),
    `the ${expected.byteLength} bytes differ`,
  );
}

/** Closes a channel of ours and waits until it has closed. */
async function closeChannel(channel: Channel): Promise<void> {
  channel.close(1000);
  await within(channel.closed, "close");
}

/** The lines of some output. */
function lines(text: string): string[] {
  return text === "" ? [] : text.replace(/\n$/, "").split("\n");
}

for (const mode of ["native", "raw"]) {
  test(`echo_server --mode ${mode} echoes text as text and binary as binary`, {
    timeout: 3 * TIMEOUT,
  }, async () => {
    await withEchoServer(["--mode", mode], async (url, server) => {
      assert.match(url, /^ws:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(server.stdout, `listening on ${url}\n`);
      const channel = await within(connect(url, { protocols: ["echo"] }), "connection");
      try {
        assert.equal(channel.protocol, "echo");
        const writer = channel.writable.getWriter();
        const reader = channel.readable.getReader();
        assert.equal(await roundTrip(writer, reader, "hello"), "hello");
        assert.equal(await roundTrip(writer, reader, "h\u00e9llo \u2713"), "h\u00e9llo \u2713");
        assert.equal(await roundTrip(writer, reader, ""), "");
        const bytes = new Uint8Array([0, 1, 2, 0x80, 0xff]);
        assertBytes(await roundTrip(writer, reader, bytes), bytes);
        assertBytes(await roundTrip(writer, reader, new Uint8Array(0)), new Uint8Array(0));
        writer.releaseLock();
        reader.releaseLock();
      } finally {
        await closeChannel(channel);
      }
      assert.equal((await channel.closed).code, 1000);
    });
  });

  test(`echo_server --mode ${mode} echoes a 1 MiB message`, { timeout: 3 * TIMEOUT }, async () => {
    await withEchoServer(["--mode", mode], async (url) => {
      const channel = await within(connect(url), "connection");
      try {
        const writer = channel.writable.getWriter();
        const reader = channel.readable.getReader();
        const big = patternBytes(1024 * 1024);
        assertBytes(await roundTrip(writer, reader, big), big);
        const text = "\u00e9".repeat(512 * 1024); // 1 MiB of UTF-8
        assert.equal(await roundTrip(writer, reader, text), text);
        writer.releaseLock();
        reader.releaseLock();
      } finally {
        await closeChannel(channel);
      }
    });
  });

  test(`echo_server --mode ${mode} --max-message 1000 closes with 1009 on a 2000-byte message`, {
    timeout: 3 * TIMEOUT,
  }, async () => {
    await withEchoServer(["--mode", mode, "--max-message", "1000"], async (url) => {
      const channel = await within(connect(url), "connection");
      try {
        const writer = channel.writable.getWriter();
        const reader = channel.readable.getReader();
        const limit = patternBytes(1000);
        assertBytes(await roundTrip(writer, reader, limit), limit);
        await within(writer.write(patternBytes(2000)), "write");
        await within(reader.read(), "end of messages").catch(() => {});
        const { code } = await within(channel.closed, "close");
        assert.equal(code, 1009);
      } finally {
        await closeChannel(channel);
      }
    });
  });

  test(
    `echo_server --mode ${mode} --protocols a,b picks the client's first offer that it accepts`,
    {
      timeout: 3 * TIMEOUT,
    },
    async () => {
      await withEchoServer(["--mode", mode, "--protocols", "a,b"], async (url) => {
        const offers: [offered: string[], chosen: string][] = [
          [["c", "b", "a"], "b"],
          [["a", "b"], "a"],
          [["b"], "b"],
          // No subprotocol in common: the connection opens without one.
          [["c", "echo"], ""],
          [[], ""],
        ];
        for (const [offered, chosen] of offers) {
          const channel = await within(connect(url, { protocols: offered }), "connection");
          try {
            assert.equal(channel.protocol, chosen, `offered ${offered.join(", ")}`);
            const writer = channel.writable.getWriter();
            const reader = channel.readable.getReader();
            assert.equal(await roundTrip(writer, reader, "hi"), "hi");
            writer.releaseLock();
            reader.releaseLock();
          } finally {
            await closeChannel(channel);
          }
        }
      });
    },
  );

  test(`echo_server --mode ${mode} closes connections with 1001 and exits 0 on SIGTERM`, {
    timeout: 3 * TIMEOUT,
  }, async () => {
    await withEchoServer(["--mode", mode], async (url, server) => {
      const channel = await within(connect(url), "connection");
      try {
        // Not server.child.kill(): Deno's ChildProcess then reports the signal
        // as the cause of the exit even when the process handled it and exited 0.
        process.kill(server.child.pid!, "SIGTERM");
        assert.equal((await within(channel.closed, "close")).code, 1001);
        assert.deepEqual(await server.exit(), { code: 0, signal: null }, server.stderr);
        assert.deepEqual(lines(server.stdout), [`listening on ${url}`]);
        assert.equal(server.stderr, "");
      } finally {
        await closeChannel(channel);
      }
    });
  });
}

test("echo_server --help prints its usage and exits 0", { timeout: 2 * TIMEOUT }, async () => {
  const { code, stdout, stderr } = await run("echo_server", ["--help"]);
  assert.equal(code, 0);
  assert.match(stdout, /^Usage: echo_server /);
  for (const flag of ["--port", "--hostname", "--max-message", "--protocols", "--mode", "--help"]) {
    assert.ok(stdout.includes(flag), `the usage names ${flag}`);
  }
  assert.equal(stderr, "");
});

test("echo_server exits 2 with one line on stderr for a bad flag", {
  timeout: 3 * TIMEOUT,
}, async () => {
  for (
    const args of [["--no-such-flag"], ["--port", "http"], ["--max-message", "0"], [
      "--mode",
      "fast",
    ]]
  ) {
    const { code, stdout, stderr } = await run("echo_server", args);
    assert.equal(code, 2, args.join(" "));
    assert.equal(stdout, "");
    assert.equal(lines(stderr).length, 1, stderr);
    assert.match(stderr, /^echo_server: /);
  }
});

/**
 * Listens like a server of the test's own; `accepted` resolves the first
 * connection. The caller closes the server.
 */
async function ownServer() {
  let accept!: (channel: ServerChannel) => void;
  const accepted = new Promise<ServerChannel>((resolve) => accept = resolve);
  const server = await listen({
    hostname: "127.0.0.1",
    port: 0,
    selectProtocol: (offered) => offered[0],
  }, accept);
  return { server, accepted, url: `ws://127.0.0.1:${server.port}` };
}

test("echo_client sends back what a server sends and exits 0 after a 1000 close", {
  timeout: 3 * TIMEOUT,
}, async () => {
  const { server, accepted, url } = await ownServer();
  const client = new ExampleProcess("echo_client", ["--protocols", "chat,superchat", url]);
  try {
    const channel = await within(accepted, "connection");
    try {
      assert.equal(channel.request.headers.get("sec-websocket-protocol"), "chat, superchat");
      assert.equal(channel.protocol, "chat");
      const writer = channel.writable.getWriter();
      const reader = channel.readable.getReader();
      assert.equal(await roundTrip(writer, reader, "hello"), "hello");
      assert.equal(await roundTrip(writer, reader, ""), "");
      const bytes = new Uint8Array([0, 0xff, 7]);
      assertBytes(await roundTrip(writer, reader, bytes), bytes);
      const big = patternBytes(256 * 1024);
      assertBytes(await roundTrip(writer, reader, big), big);
      writer.releaseLock();
      reader.releaseLock();
    } finally {
      await closeChannel(channel);
    }
    assert.equal((await channel.closed).code, 1000);
    const { code } = await client.exit();
    assert.equal(code, 0, client.stderr);
    assert.equal(client.stdout, "");
    assert.equal(client.stderr, "");
  } finally {
    await client.stop();
    await server.close();
  }
});

test("echo_client exits 1 with one line on stderr when the server closes with 1011", {
  timeout: 3 * TIMEOUT,
}, async () => {
  const { server, accepted, url } = await ownServer();
  const client = new ExampleProcess("echo_client", [url]);
  try {
    const channel = await within(accepted, "connection");
    channel.close(1011, "out of order");
    await within(channel.closed, "close");
    const { code } = await client.exit();
    assert.equal(code, 1);
    assert.equal(lines(client.stderr).length, 1, client.stderr);
    assert.match(client.stderr, /^echo_client: .*1011.*out of order/);
  } finally {
    await client.stop();
    await server.close();
  }
});

test("echo_client exits non-zero with one line on stderr when nothing listens", {
  timeout: 2 * TIMEOUT,
}, async () => {
  // A port that was free a moment ago, and that nothing listens on now.
  const closed = await listen({ hostname: "127.0.0.1", port: 0 }, () => {});
  await closed.close();
  const { code, stdout, stderr } = await run("echo_client", [`ws://127.0.0.1:${closed.port}`]);
  assert.notEqual(code, 0);
  assert.equal(stdout, "");
  assert.equal(lines(stderr).length, 1, stderr);
  assert.match(stderr, /^echo_client: cannot connect to ws:\/\/127\.0\.0\.1:\d+: \S/);
});

test("echo_client --help prints its usage and exits 0", { timeout: 2 * TIMEOUT }, async () => {
  const { code, stdout, stderr } = await run("echo_client", ["--help"]);
  assert.equal(code, 0);
  assert.match(stdout, /^Usage: echo_client /);
  assert.ok(stdout.includes("--protocols"));
  assert.equal(stderr, "");
});

test("echo_client exits 2 with one line on stderr for a bad flag or no URL", {
  timeout: 3 * TIMEOUT,
}, async () => {
  for (
    const args of [["--no-such-flag", "ws://127.0.0.1:1"], [], ["--protocols", "a b", "ws://x"]]
  ) {
    const { code, stdout, stderr } = await run("echo_client", args);
    assert.equal(code, 2, args.join(" "));
    assert.equal(stdout, "");
    assert.equal(lines(stderr).length, 1, stderr);
    assert.match(stderr, /^echo_client: /);
  }
});

/**
 * Forwards TCP connections to `port` unchanged; `answered` resolves once the
 * server behind it has sent its first bytes (the 101 of the handshake), so a
 * test knows when a client it does not control has connected.
 */
async function relay(port: number) {
  let answer!: () => void;
  const answered = new Promise<void>((resolve) => answer = resolve);
  const sockets = new Set<Socket>();
  const proxy = createServer((client) => {
    const upstream = tcpConnect({ host: "127.0.0.1", port });
    for (const [from, to] of [[client, upstream], [upstream, client]] as const) {
      sockets.add(from);
      from.on("error", () => {});
      from.on("close", () => to.destroy());
      from.pipe(to);
    }
    upstream.once("data", () => answer());
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const address = proxy.address();
  assert.ok(address !== null && typeof address === "object");
  return {
    url: `ws://127.0.0.1:${address.port}`,
    answered,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}

test("echo_client connected to echo_server exits 0 when the server shuts down", {
  timeout: 3 * TIMEOUT,
}, async () => {
  await withEchoServer([], async (serverUrl, server) => {
    const proxy = await relay(Number(new URL(serverUrl).port));
    const client = new ExampleProcess("echo_client", ["--protocols", "echo", proxy.url]);
    try {
      await within(proxy.answered, "handshake through the relay");
      process.kill(server.child.pid!, "SIGTERM"); // not child.kill(): see the SIGTERM test above
      assert.deepEqual(await client.exit(), { code: 0, signal: null }, client.stderr);
      assert.deepEqual(await server.exit(), { code: 0, signal: null }, server.stderr);
      assert.equal(client.stdout + client.stderr, "");
    } finally {
      await client.stop();
      await proxy.close();
    }
  });
});
