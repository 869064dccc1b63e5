import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { connect as tcpConnect } from "node:net";
import {
  type Channel,
  connect,
  HandshakeError,
  serve,
  type ServeMode,
  type ServeOptions,
  type Server,
  type ServerChannel,
} from "../mod.ts";
import { FrameParser, OPCODE } from "../src/codec/mod.ts";
import { concat } from "./_helpers.ts";
import { delay, within } from "./_servers.ts";

const RUNTIME = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";
const MODES: ServeMode[] = ["native", "raw"];
const fixture = (name: string) =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");

/** One handler, the same on every runtime and server: echoes every message. */
function echo(channel: ServerChannel): void {
  channel.readable.pipeTo(channel.writable).catch(() => {});
}

/** Runs `body` against a server started with `options` on 127.0.0.1, and stops it afterwards. */
async function withServer(
  options: Partial<ServeOptions>,
  body: (server: Server, url: string) => Promise<void>,
): Promise<void> {
  const server = await serve({
    hostname: "127.0.0.1",
    port: 0,
    onConnection: echo,
    onError: () => {},
    ...options,
  });
  try {
    await body(server, `ws://127.0.0.1:${server.port}/`);
  } finally {
    await within(server.close(), "server close");
  }
}

async function roundTrip(channel: Channel, message: string | Uint8Array): Promise<unknown> {
  const writer = channel.writable.getWriter();
  await writer.write(message);
  writer.releaseLock();
  const reader = channel.readable.getReader();
  const { value } = await within(reader.read(), "echo");
  reader.releaseLock();
  return value;
}

for (const mode of MODES) {
  test(`serve (${mode}) runs one handler unchanged: text and binary echo on ${RUNTIME}`, async () => {
    await withServer({ mode }, async (server, url) => {
      assert.equal(server.runtime, RUNTIME);
      assert.equal(server.mode, mode);
      assert.equal(server.hostname, "127.0.0.1");
      const client = await connect(url);
      assert.equal(await roundTrip(client, "hello"), "hello");
      const bytes = new Uint8Array(70_000).map((_, i) => i % 251);
      const echoed = await roundTrip(client, bytes);
      assert.ok(echoed instanceof Uint8Array);
      assert.deepEqual([...echoed], [...bytes]);
      assert.equal(server.connections.size, 1);
      client.close(1000, "done");
      assert.deepEqual(await within(client.closed, "close"), {
        code: 1000,
        reason: "done",
        wasClean: true,
      });
    });
  });

  test(`serve (${mode}) answers plain requests with fetch, and with 426 without it`, async () => {
    await withServer({
      mode,
      fetch: (request) => new Response(`plain ${new URL(request.url).pathname}`, { status: 202 }),
    }, async (server) => {
      const response = await fetch(`http://127.0.0.1:${server.port}/page`);
      assert.equal(response.status, 202);
      assert.equal(await response.text(), "plain /page");
    });
    await withServer({ mode }, async (server) => {
      const response = await fetch(`http://127.0.0.1:${server.port}/`);
      assert.equal(response.status, 426);
      await response.body?.cancel();
    });
  });

  test(`serve (${mode}) refuses with onUpgrade's response and picks with selectProtocol`, async () => {
    await withServer({
      mode,
      onUpgrade: (request) =>
        request.headers.get("origin") === "https://good.example"
          ? undefined
          : new Response("origin refused", { status: 403 }),
      selectProtocol: (offered) => offered.find((protocol) => protocol.startsWith("v2")),
    }, async (_server, url) => {
      await assert.rejects(
        connect(url, { origin: "https://bad.example" }),
        (error) =>
          error instanceof HandshakeError && error.status === 403 &&
          error.message.includes("origin refused"),
      );
      const client = await connect(url, {
        origin: "https://good.example",
        protocols: ["v1.chat", "v2.chat"],
      });
      assert.equal(client.protocol, "v2.chat");
      client.close(1000);
      await within(client.closed, "close");
    });
  });

  test(`serve (${mode}) closes a connection that sends more than maxMessageSize with 1009`, async () => {
    await withServer({ mode, maxMessageSize: 1000 }, async (_server, url) => {
      const client = await connect(url);
      assert.equal(await roundTrip(client, "x".repeat(1000)), "x".repeat(1000));
      const writer = client.writable.getWriter();
      await writer.write(new Uint8Array(2000));
      const info = await within(client.closed, "close");
      assert.equal(info.code, 1009);
    });
  });

  test(`serve (${mode}) close() closes open connections with 1001 and stops accepting`, async () => {
    const server = await serve({ hostname: "127.0.0.1", port: 0, mode, onConnection: echo });
    const url = `ws://127.0.0.1:${server.port}/`;
    const clients = await Promise.all([connect(url), connect(url)]);
    await delay(20); // both accepted on the server side too
    await within(server.close(), "server close");
    for (const client of clients) {
      const info = await within(client.closed, "close");
      assert.equal(info.code, 1001);
      assert.equal(info.reason, "Server shutting down");
    }
    assert.equal(server.connections.size, 0);
    await assert.rejects(connect(url, { handshakeTimeout: 2000 }));
  });

  test(`serve (${mode}) reports a failing onConnection to onError and closes with 1011`, async () => {
    const errors: unknown[] = [];
    const failure = new Error("handler bug");
    await withServer({
      mode,
      onError: (error) => errors.push(error),
      onConnection: () => Promise.reject(failure),
    }, async (_server, url) => {
      const client = await connect(url);
      assert.equal((await within(client.closed, "close")).code, 1011);
      assert.deepEqual(errors, [failure]);
    });
  });

  test(`serve (${mode}) speaks wss:// with tls`, async () => {
    const cert = fixture("tls_cert.pem");
    await withServer({ mode, tls: { cert, key: fixture("tls_key.pem") } }, async (server) => {
      const client = await connect(`wss://localhost:${server.port}/`, {
        tls: { caCerts: [cert] },
      });
      assert.equal(await roundTrip(client, "secure"), "secure");
      client.close(1000);
      assert.equal((await within(client.closed, "close")).wasClean, true);
    });
  });

  test(`serve (${mode}) pings a silent client after idleTimeout and then drops it`, {
    timeout: 15_000,
  }, async () => {
    await withServer({ mode, idleTimeout: 1, closeTimeout: 500 }, async (server) => {
      const { frames, ended } = silentClient(server.port);
      const started = performance.now();
      await within(ended, "the server ending a silent connection", 12_000);
      const elapsed = performance.now() - started;
      assert.ok(elapsed >= 900, `dropped after ${elapsed} ms`);
      assert.ok(frames.some((frame) => frame === OPCODE.Ping), `frames seen: ${frames}`);
    });
  });
}

/** The options each runtime's own server cannot honor, where it parses frames or heads itself. */
const UNSUPPORTED_NATIVE: Record<string, (keyof ServeOptions)[]> = {
  deno: [
    "maxFrameSize",
    "maxFragments",
    "fragmentSize",
    "onPing",
    "onPong",
    "maxHeadSize",
    "maxHeaders",
    "handshakeTimeout",
    "compression",
  ],
  bun: [
    "maxFrameSize",
    "maxFragments",
    "fragmentSize",
    "maxHeadSize",
    "maxHeaders",
    "handshakeTimeout",
  ],
  node: [],
};
const SERVER_NAME: Record<string, string> = {
  deno: "Deno.serve",
  bun: "Bun.serve",
  node: "node:http",
};
const VALUES: Partial<Record<keyof ServeOptions, unknown>> = {
  maxFrameSize: 1024,
  maxFragments: 4,
  fragmentSize: 512,
  compression: true,
  onPing: () => {},
  onPong: () => {},
  maxHeadSize: 4096,
  maxHeaders: 20,
  handshakeTimeout: 1000,
};

test(`serve (native) on ${RUNTIME} refuses each option its server cannot honor and accepts the rest`, async () => {
  const unsupported = UNSUPPORTED_NATIVE[RUNTIME]!;
  for (const [name, value] of Object.entries(VALUES)) {
    const options = { hostname: "127.0.0.1", port: 0, onConnection: echo, [name]: value };
    if (unsupported.includes(name as keyof ServeOptions)) {
      await assert.rejects(
        serve(options),
        (error) =>
          error instanceof TypeError &&
          error.message.startsWith(
            `Cannot serve: option ${name} is not supported by ${SERVER_NAME[RUNTIME]}`,
          ),
        name,
      );
    } else {
      // Honored: the server starts, and raw mode takes every option too.
      await (await serve(options)).close();
    }
    await (await serve({ ...options, mode: "raw" })).close();
  }
});

test("serve (raw) honors maxFrameSize and reports pings to onPing", async () => {
  const pings: number[][] = [];
  await withServer({
    mode: "raw",
    maxFrameSize: 100,
    onPing: (payload) => pings.push([...payload]),
  }, async (_server, url) => {
    const client = await connect(url);
    await client.ping(new Uint8Array([4, 2]));
    assert.deepEqual(pings, [[4, 2]]);
    await client.writable.getWriter().write(new Uint8Array(101));
    assert.equal((await within(client.closed, "close")).code, 1009);
  });
});

/**
 * Opens a WebSocket by hand and then never answers anything: no pong, no
 * close. Collects the opcodes of the frames the server sends.
 */
function silentClient(port: number): { frames: number[]; ended: Promise<void> } {
  const frames: number[] = [];
  const parser = new FrameParser({ role: "client" });
  const socket = tcpConnect(port, "127.0.0.1");
  let head: Uint8Array = new Uint8Array(0);
  let upgraded = false;
  socket.on("connect", () => {
    socket.write(
      "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
  });
  socket.on("data", (chunk: Uint8Array) => {
    if (!upgraded) {
      head = concat(head, chunk);
      const end = indexOfHeadEnd(head);
      if (end < 0) return;
      upgraded = true;
      chunk = head.subarray(end);
    }
    parser.push(new Uint8Array(chunk), (frame) => frames.push(frame.opcode));
  });
  const ended = new Promise<void>((resolve) => {
    socket.on("close", () => resolve());
    socket.on("error", () => {});
  });
  return { frames, ended };
}

/** Where the bytes after an HTTP head's blank line start, or -1. */
function indexOfHeadEnd(bytes: Uint8Array): number {
  for (let i = 3; i < bytes.length; i++) {
    if (bytes[i - 3] === 13 && bytes[i - 2] === 10 && bytes[i - 1] === 13 && bytes[i] === 10) {
      return i + 1;
    }
  }
  return -1;
}
