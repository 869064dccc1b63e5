/**
 * permessage-deflate against peers no one here wrote, with a TCP tap in
 * between that reads RSV1 off the wire: npm's `ws` (client and server),
 * Chromium, Bun's `WebSocket` and `Bun.serve`, and Deno's, which do not
 * negotiate compression, so that the fallback to plain frames is checked.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { type Channel, connect, listen, type Message } from "../../mod.ts";
import { OPCODE } from "../../src/codec/mod.ts";
import { answeredExtensions, startTap, type Tap, type TappedFrame } from "../_tap.ts";
import { within } from "../_servers.ts";
import { chromiumSkip, withChromiumPage } from "../_chromium.ts";
import { loadWs, PeerScript, type SeenMessage } from "./_exchange.ts";

const RUNTIME = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";
const TIMEOUT = 15_000;

/**
 * The messages each end sends: compressible text and bytes, and bytes that
 * do not compress. The function refers to nothing outside itself, since a
 * browser page runs it too.
 */
function messages(): (string | Uint8Array)[] {
  const random = new Uint8Array(20_000);
  let state = 7;
  for (let i = 0; i < random.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    random[i] = state >>> 24;
  }
  const repeating = new Uint8Array(100_000);
  for (let i = 0; i < repeating.length; i++) repeating[i] = i % 251;
  return ["compress me ".repeat(1000), repeating, random];
}

const EXPECTED = messages().map((message) => PeerScript.summarize(message));

function dataFrames(frames: TappedFrame[]): TappedFrame[] {
  return frames.filter((frame) => frame.opcode === OPCODE.Text || frame.opcode === OPCODE.Binary);
}

/** Checks that every message went compressed (RSV1 set, fewer bytes for the compressible ones). */
function assertCompressed(frames: TappedFrame[], who: string): void {
  const data = dataFrames(frames);
  assert.equal(data.length, EXPECTED.length, `${who}: message frames`);
  assert.ok(data.every((frame) => frame.rsv1), `${who}: RSV1 on every message`);
  assert.ok(data[0]!.length < 1000 && data[1]!.length < 10_000, `${who}: compressed sizes`);
}

function assertUncompressed(frames: TappedFrame[], who: string): void {
  assert.ok(dataFrames(frames).every((frame) => !frame.rsv1), `${who}: no RSV1`);
}

/** Sends every message on our channel and reads the echoes. */
async function exchange(channel: Channel): Promise<SeenMessage[]> {
  const writer = channel.writable.getWriter();
  for (const message of messages()) await writer.write(message);
  writer.releaseLock();
  const reader = channel.readable.getReader();
  const seen: SeenMessage[] = [];
  for (let i = 0; i < EXPECTED.length; i++) {
    seen.push(PeerScript.summarize((await within(reader.read(), "echo")).value as Message));
  }
  reader.releaseLock();
  return seen;
}

/** A foreign server echoing every message, started on 127.0.0.1. */
interface EchoServer {
  port: number;
  stop(): Promise<void> | void;
}

/** Runs `connect({ compression: true })` through a tap against `server`. */
async function ourClientAgainst(
  server: EchoServer,
  check: (tap: Tap, channel: Channel) => void,
): Promise<void> {
  const tap = await startTap(server.port);
  try {
    const channel = await connect(`ws://127.0.0.1:${tap.port}/`, { compression: true });
    assert.deepEqual(await exchange(channel), EXPECTED);
    channel.close(1000);
    await within(channel.closed, "close");
    check(tap, channel);
  } finally {
    await tap.close();
    await server.stop();
  }
}

test("connect compresses both ways with the ws server", { timeout: TIMEOUT }, async () => {
  const { WebSocketServer } = loadWs();
  const server = new WebSocketServer({
    host: "127.0.0.1",
    port: 0,
    perMessageDeflate: { threshold: 0 },
  });
  await new Promise<void>((resolve) => server.once("listening", resolve));
  server.on(
    "connection",
    (socket) => socket.on("message", (data, binary) => socket.send(data, { binary })),
  );
  await ourClientAgainst({
    port: (server.address() as AddressInfo).port,
    stop: () =>
      new Promise((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  }, (tap, channel) => {
    assert.match(channel.extensions, /^permessage-deflate/);
    assertCompressed(tap.fromClient, "our client");
    assertCompressed(tap.fromServer, "the ws server");
  });
});

interface BunServeApi {
  serve(options: {
    hostname: string;
    port: number;
    fetch(request: Request, server: { upgrade(request: Request): boolean }): Response | undefined;
    websocket: {
      perMessageDeflate: boolean;
      message(
        ws: { send(data: string | Uint8Array, compress: boolean): number },
        data: string | Uint8Array,
      ): void;
    };
  }): { port: number; stop(closeActiveConnections?: boolean): Promise<void> };
}

test("connect compresses both ways with Bun.serve", {
  skip: "Bun" in globalThis ? false : "needs Bun",
  timeout: TIMEOUT,
}, async () => {
  const bun = (globalThis as unknown as { Bun: BunServeApi }).Bun;
  const server = bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (request, server) =>
      server.upgrade(request) ? undefined : new Response(null, { status: 426 }),
    websocket: { perMessageDeflate: true, message: (ws, data) => ws.send(data, true) },
  });
  await ourClientAgainst({ port: server.port, stop: () => server.stop(true) }, (tap, channel) => {
    // Bun's shared compressors have no context takeover either way.
    assert.equal(
      channel.extensions,
      "permessage-deflate; client_no_context_takeover; server_no_context_takeover",
    );
    assertCompressed(tap.fromClient, "our client");
    assertCompressed(tap.fromServer, "Bun.serve");
  });
});

interface DenoServeApi {
  serve(
    options: { hostname: string; port: number; onListen(): void },
    handler: (request: Request) => Response,
  ): { addr: { port: number }; shutdown(): Promise<void> };
  upgradeWebSocket(request: Request): {
    socket: {
      binaryType: string;
      onmessage: ((event: { data: unknown }) => void) | null;
      send(data: unknown): void;
    };
    response: Response;
  };
}

test("connect falls back to plain frames with Deno.serve, which declines compression", {
  skip: "Deno" in globalThis ? false : "needs Deno",
  timeout: TIMEOUT,
}, async () => {
  const deno = (globalThis as unknown as { Deno: DenoServeApi }).Deno;
  const server = deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const { socket, response } = deno.upgradeWebSocket(request);
    socket.binaryType = "arraybuffer";
    socket.onmessage = ({ data }) => socket.send(data);
    return response;
  });
  await ourClientAgainst(
    { port: server.addr.port, stop: () => server.shutdown() },
    (tap, channel) => {
      assert.equal(answeredExtensions(tap), "");
      assert.equal(channel.extensions, "");
      assertUncompressed(tap.fromClient, "our client");
      assertUncompressed(tap.fromServer, "Deno.serve");
    },
  );
});

/** A foreign client: connects to `url`, sends the messages, and returns the echoes it saw. */
type ForeignClient = (url: string) => Promise<SeenMessage[]>;

/** Runs `client` through a tap against `listen({ compression: true })`, echoing. */
async function ourServerAgainst(
  client: ForeignClient,
  check: (tap: Tap, extensions: string) => void,
): Promise<void> {
  let extensions = "";
  const server = await listen(
    { hostname: "127.0.0.1", port: 0, compression: { threshold: 0 }, onError: () => {} },
    (channel) => {
      extensions = channel.extensions;
      channel.readable.pipeTo(channel.writable).catch(() => {});
    },
  );
  const tap = await startTap(server.port);
  try {
    assert.deepEqual(await client(`ws://127.0.0.1:${tap.port}/`), EXPECTED);
    check(tap, extensions);
  } finally {
    await tap.close();
    await server.close();
  }
}

/** Drives a WHATWG WebSocket: sends the messages once open, resolves with the echoes. Runs in browsers too. */
function runWebSocket(
  socket: WebSocket,
  toSend: (string | Uint8Array)[],
): Promise<(string | Uint8Array)[]> {
  return new Promise((resolve, reject) => {
    const echoes: (string | Uint8Array)[] = [];
    socket.binaryType = "arraybuffer";
    socket.onopen = () => toSend.forEach((message) => socket.send(message));
    socket.onmessage = ({ data }) => {
      echoes.push(typeof data === "string" ? data : new Uint8Array(data));
      if (echoes.length === toSend.length) {
        socket.close(1000);
        resolve(echoes);
      }
    };
    socket.onerror = () => reject(new Error("WebSocket error"));
  });
}

test("listen compresses both ways with the ws client", { timeout: TIMEOUT }, async () => {
  const { WebSocket } = loadWs();
  await ourServerAgainst(async (url) => {
    const socket = new WebSocket(url, { perMessageDeflate: { threshold: 0 } });
    const echoes = await runWebSocket(socket as unknown as WebSocket, messages());
    return echoes.map((echo) => PeerScript.summarize(echo));
  }, (tap, extensions) => {
    assert.match(
      tap.heads[0]!,
      /\r\nsec-websocket-extensions: permessage-deflate; client_max_window_bits/i,
    );
    assert.equal(extensions, "permessage-deflate");
    assertCompressed(tap.fromClient, "the ws client");
    assertCompressed(tap.fromServer, "listen");
  });
});

test(`listen negotiates with ${RUNTIME}'s WebSocket, or falls back where it offers nothing`, {
  skip: typeof globalThis.WebSocket === "function" ? false : `needs a global WebSocket`,
  timeout: TIMEOUT,
}, async () => {
  await ourServerAgainst(async (url) => {
    const echoes = await runWebSocket(new WebSocket(url), messages());
    return echoes.map((echo) => PeerScript.summarize(echo));
  }, (tap, extensions) => {
    if (RUNTIME === "deno") {
      // Deno's client offers no extension.
      assert.doesNotMatch(tap.heads[0]!, /sec-websocket-extensions/i);
      assert.equal(extensions, "");
      assertUncompressed(tap.fromClient, "Deno's WebSocket");
      assertUncompressed(tap.fromServer, "listen");
    } else {
      assert.equal(extensions, "permessage-deflate");
      assertCompressed(tap.fromServer, "listen");
      // Whether the client compresses its own messages is its choice; they arrived intact.
    }
  });
});

test("listen compresses both ways with Chromium's WebSocket", {
  skip: chromiumSkip(),
  timeout: TIMEOUT + 10_000,
}, async () => {
  await ourServerAgainst(async (url) =>
    await withChromiumPage(async (page) => {
      await page.addScriptTag({
        content: `globalThis.messages = ${messages}; globalThis.runWebSocket = ${runWebSocket};` +
          `globalThis.PeerScript = ${PeerScript};`,
      });
      return await page.evaluate(async (url) => {
        const scope = globalThis as unknown as {
          messages: typeof messages;
          runWebSocket: typeof runWebSocket;
          PeerScript: typeof PeerScript;
        };
        const echoes = await scope.runWebSocket(new WebSocket(url), scope.messages());
        return echoes.map((echo) => scope.PeerScript.summarize(echo));
      }, url);
    }), (tap, extensions) => {
    assert.match(
      tap.heads[0]!,
      /\r\nsec-websocket-extensions: permessage-deflate; client_max_window_bits/i,
    );
    assert.equal(extensions, "permessage-deflate");
    assertCompressed(tap.fromClient, "Chromium");
    assertCompressed(tap.fromServer, "listen");
  });
});
