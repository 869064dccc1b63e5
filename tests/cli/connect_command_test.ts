import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { fileURLToPath } from "node:url";
import {
  lines,
  recordMessages,
  runCli,
  startCli,
  stderrLine,
  TIMEOUT,
  withCuttingServer,
  within,
  withServer,
} from "./_cli.ts";

const decoder = new TextDecoder();

test("connect sends each line of standard input and prints each message received", {
  timeout: 3 * TIMEOUT,
}, async () => {
  await withServer(
    {},
    (channel, seen) => recordMessages(channel, seen, (message) => `echo: ${message}`),
    async (url, seen) => {
      const cli = startCli(["connect", url]);
      try {
        await stderrLine(cli, /^connected to ws:\/\/127\.0\.0\.1:\d+\/$/);
        cli.child.stdin!.write("hello\n");
        await cli.line(/^echo: hello$/);
        cli.child.stdin!.write("h\u00e9llo \u2713\n\n");
        await cli.line(/^echo: h\u00e9llo \u2713$/);
        cli.child.stdin!.end();
        assert.deepEqual(await cli.exit(), { code: 0, signal: null }, cli.stderr);
        assert.deepEqual(lines(cli.stdout), ["echo: hello", "echo: h\u00e9llo \u2713", "echo: "]);
        assert.deepEqual(seen[0]?.messages, ["hello", "h\u00e9llo \u2713", ""]);
        assert.equal(seen[0]?.closeCode, 1000);
        assert.match(cli.stderr, /^closed with 1000$/m);
        // "héllo ✓" is 10 bytes of UTF-8, its echo 16.
        assert.match(
          cli.stderr,
          /^sent 3 messages \(15 bytes\), received 3 messages \(33 bytes\) in \d+\.\d s$/m,
        );
      } finally {
        await cli.stop();
      }
    },
  );
});

test("connect --json sends compact JSON, refuses lines that are not JSON, prints JSON compactly", {
  timeout: 3 * TIMEOUT,
}, async () => {
  await withServer(
    {},
    (channel, seen) => recordMessages(channel, seen, () => '{ "b" : [ true, null ] }'),
    async (url, seen) => {
      const cli = startCli(["connect", "--json", url]);
      try {
        cli.child.stdin!.end('{ "a": [1, 2] }\nnot json\n');
        assert.equal((await cli.exit()).code, 0, cli.stderr);
        assert.deepEqual(seen[0]?.messages, ['{"a":[1,2]}']);
        assert.deepEqual(lines(cli.stdout), ['{"b":[true,null]}']);
        assert.match(cli.stderr, /^line 2 is not JSON, not sent: /m);
      } finally {
        await cli.stop();
      }
    },
  );
});

test("connect --binary sends lines as binary messages and prints binary messages raw", {
  timeout: 3 * TIMEOUT,
}, async () => {
  await withServer(
    {},
    (channel, seen) => recordMessages(channel, seen, () => new Uint8Array([0x68, 0x69])),
    async (url, seen) => {
      const cli = startCli(["connect", "--binary", url]);
      try {
        cli.child.stdin!.end("abc\n");
        assert.equal((await cli.exit()).code, 0, cli.stderr);
        const [message] = seen[0]?.messages ?? [];
        assert.ok(message instanceof Uint8Array, `expected binary, got ${typeof message}`);
        assert.equal(decoder.decode(message), "abc");
        assert.equal(cli.stdout, "hi\n");
      } finally {
        await cli.stop();
      }
    },
  );
});

test("connect prints a binary message in hexadecimal without --binary", {
  timeout: 3 * TIMEOUT,
}, async () => {
  await withServer(
    {},
    (channel, seen) => recordMessages(channel, seen, () => new Uint8Array([0, 0x7f, 0xff])),
    async (url) => {
      const cli = startCli(["connect", url]);
      try {
        cli.child.stdin!.end("x\n");
        assert.equal((await cli.exit()).code, 0, cli.stderr);
        assert.equal(cli.stdout, "007fff\n");
      } finally {
        await cli.stop();
      }
    },
  );
});

test("connect sends the headers, origin and subprotocols it is given", {
  timeout: 3 * TIMEOUT,
}, async () => {
  await withServer(
    { selectProtocol: (offered) => offered.includes("superchat") ? "superchat" : undefined },
    (channel, seen) => recordMessages(channel, seen),
    async (url, seen) => {
      const { code, stderr } = await runCli([
        "connect",
        "-H",
        "Authorization: Bearer abc",
        "--header",
        "X-Trace:  7 ",
        "-s",
        "chat,superchat",
        "--subprotocol",
        "v2",
        "--origin",
        "https://example.com",
        url,
      ]);
      assert.equal(code, 0, stderr);
      const headers = seen[0]?.request.headers;
      assert.equal(headers?.get("authorization"), "Bearer abc");
      assert.equal(headers?.get("x-trace"), "7");
      assert.equal(headers?.get("origin"), "https://example.com");
      assert.equal(headers?.get("sec-websocket-protocol"), "chat, superchat, v2");
      assert.equal(seen[0]?.protocol, "superchat");
      assert.match(stderr, /^connected to ws:\/\/\S+ \(subprotocol superchat\)$/m);
    },
  );
});

for (
  const [closeCode, exitCode] of [[1000, 0], [1001, 0], [1011, 4], [4000, 4]] as const
) {
  test(`connect exits ${exitCode} when the server closes with ${closeCode}`, {
    timeout: 3 * TIMEOUT,
  }, async () => {
    await withServer({}, async (channel) => {
      // Closes once the client has spoken, so the client is surely listening.
      const reader = channel.readable.getReader();
      await reader.read();
      channel.close(closeCode, "bye");
    }, async (url) => {
      const cli = startCli(["connect", url]);
      try {
        cli.child.stdin!.write("hi\n");
        assert.equal((await cli.exit()).code, exitCode, cli.stderr);
        assert.match(cli.stderr, new RegExp(`^closed with ${closeCode} \\(bye\\)$`, "m"));
      } finally {
        await cli.stop();
      }
    });
  });
}

test("connect exits 3 when the connection is cut off without a closing handshake", {
  timeout: 3 * TIMEOUT,
}, async () => {
  await withCuttingServer(async (url) => {
    const cli = startCli(["connect", url]);
    try {
      assert.equal((await cli.exit()).code, 3, cli.stderr);
      assert.match(cli.stderr, /^closed with 1006$/m);
    } finally {
      await cli.stop();
    }
  });
});

test("connect exits 1 with one line when the server refuses the handshake", {
  timeout: 3 * TIMEOUT,
}, async () => {
  await withServer(
    { onUpgrade: () => new Response("go away", { status: 403 }) },
    () => {},
    async (url) => {
      const { code, stdout, stderr } = await runCli(["connect", url]);
      assert.equal(code, 1);
      assert.equal(stdout, "");
      assert.equal(lines(stderr).length, 1, stderr);
      assert.match(stderr, /^seed-websocket: Cannot connect to ws:\/\/127\.0\.0\.1:\d+: .*403/);
    },
  );
});

test("connect exits 1 when nothing listens, and --verbose adds the stack trace", {
  timeout: 3 * TIMEOUT,
}, async () => {
  let url = "";
  await withServer({}, () => {}, (serverUrl) => Promise.resolve(void (url = serverUrl)));
  const quiet = await runCli(["connect", url]);
  assert.equal(quiet.code, 1);
  assert.equal(lines(quiet.stderr).length, 1, quiet.stderr);
  assert.match(quiet.stderr, /^seed-websocket: Cannot connect to /);
  const verbose = await runCli(["connect", "--verbose", url]);
  assert.equal(verbose.code, 1);
  assert.match(verbose.stderr, /^seed-websocket: Cannot connect to /);
  assert.match(verbose.stderr, /\n\s+at /, "a stack trace");
});

test("connect --ping reports each round trip and their spread on exit", {
  timeout: 3 * TIMEOUT,
}, async () => {
  await withServer({}, (channel, seen) => recordMessages(channel, seen), async (url) => {
    const cli = startCli(["connect", "--ping", "0.05", url]);
    try {
      await stderrLine(cli, /^pong after \d+\.\d\d ms$/);
      await within(
        cli.waitFor("a second pong", () => lines(cli.stderr).filter((l) => /^pong/.test(l))[1]),
        "second pong",
      );
      cli.child.stdin!.end();
      assert.equal((await cli.exit()).code, 0, cli.stderr);
      const pongs = lines(cli.stderr).filter((line) => line.startsWith("pong after")).length;
      assert.match(
        cli.stderr,
        new RegExp(
          `^round trip of ${pongs} pings: min [\\d.]+ ms, median [\\d.]+ ms, max [\\d.]+ ms$`,
          "m",
        ),
      );
    } finally {
      await cli.stop();
    }
  });
});

test("connect --quiet prints the messages only", { timeout: 3 * TIMEOUT }, async () => {
  await withServer(
    {},
    (channel, seen) => recordMessages(channel, seen, (message) => message),
    async (url) => {
      const cli = startCli(["connect", "-q", url]);
      try {
        cli.child.stdin!.end("one\ntwo\n");
        assert.equal((await cli.exit()).code, 0, cli.stderr);
        assert.equal(cli.stdout, "one\ntwo\n");
        assert.equal(cli.stderr, "");
      } finally {
        await cli.stop();
      }
    },
  );
});

test("connect closes with 1000 on SIGINT and exits 0", { timeout: 3 * TIMEOUT }, async () => {
  await withServer({}, (channel, seen) => recordMessages(channel, seen), async (url, seen) => {
    const cli = startCli(["connect", url]);
    try {
      await stderrLine(cli, /^connected to /);
      process.kill(cli.child.pid!, "SIGINT");
      assert.equal((await cli.exit()).code, 0, cli.stderr);
      assert.equal(seen[0]?.closeCode, 1000);
    } finally {
      await cli.stop();
    }
  });
});

test("connect ends quietly when what reads its output goes away", {
  timeout: 3 * TIMEOUT,
}, async () => {
  await withServer({}, async (channel) => {
    const writer = channel.writable.getWriter();
    // Bounded: the client ends, and the writes fail, well before this.
    for (let i = 0; i < 2000; i++) {
      await writer.write(`line ${i}`.padEnd(1000, ".")).catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }, async (url) => {
    const cli = startCli(["connect", url]);
    try {
      await cli.line(/^line 0/);
      cli.child.stdout!.destroy();
      const { code } = await cli.exit();
      assert.equal(code, 0, cli.stderr);
      assert.doesNotMatch(cli.stderr, /\n\s+at /, "no stack trace");
    } finally {
      await cli.stop();
    }
  });
});

test("connect --ca trusts a certificate for wss://, which serve --cert --key serves", {
  timeout: 3 * TIMEOUT,
}, async () => {
  const cert = fileURLToPath(new URL("../fixtures/tls_cert.pem", import.meta.url));
  const key = fileURLToPath(new URL("../fixtures/tls_key.pem", import.meta.url));
  const server = startCli(["serve", "--echo", "--port", "0", "--cert", cert, "--key", key]);
  try {
    const [, port] = await server.line(/^listening on wss:\/\/127\.0\.0\.1:(\d+)$/);
    const url = `wss://localhost:${port}`;
    const untrusted = await runCli(["connect", url]);
    assert.equal(untrusted.code, 1, "the certificate is self-signed");
    const cli = startCli(["connect", "--ca", cert, url]);
    try {
      cli.child.stdin!.write("over TLS\n");
      await cli.line(/^over TLS$/);
      cli.child.stdin!.end();
      assert.equal((await cli.exit()).code, 0, cli.stderr);
    } finally {
      await cli.stop();
    }
  } finally {
    await server.stop();
  }
});
