/**
 * permessage-deflate echo over loopback TCP: our `connect` and `listen`
 * against npm's `ws` client and server, compressed and uncompressed, for a
 * compressible payload (JSON-like text) and a random one. Each run keeps
 * `--window` messages in flight for `--ms` milliseconds; prints the echoes per
 * second and MB/s of payload, medians of `--runs` runs, and the bytes one
 * message takes compressed.
 *
 *     deno run -A bench/deflate.ts [--runs 3] [--ms 1000] [--size 16384] [--window 16]
 *     bun bench/deflate.ts
 *
 * @module
 */

import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import zlib from "node:zlib";
import type * as WsModule from "ws";
import { connect, listen } from "../mod.ts";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    ms: { type: "string", default: "1000" },
    size: { type: "string", default: "16384" },
    window: { type: "string", default: "16" },
  },
});
const RUNS = Number(values.runs);
const RUN_MS = Number(values.ms);
const SIZE = Number(values.size);
const WINDOW = Number(values.window);

const require = createRequire(import.meta.url);
// By file path, so that Bun's built-in ws is not measured instead.
const ws: typeof WsModule = require("../node_modules/ws/index.js");

/** JSON-like text: records with repeating keys and varying values. */
function compressiblePayload(size: number): Uint8Array {
  let text = "";
  for (let i = 0; text.length < size; i++) {
    text += JSON.stringify({
      id: i,
      name: `user${i % 97}`,
      active: i % 3 === 0,
      score: i * 7 % 1000,
    });
  }
  return new TextEncoder().encode(text.slice(0, size));
}

function randomPayload(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  let state = 12345;
  for (let i = 0; i < size; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    bytes[i] = state >>> 24;
  }
  return bytes;
}

/** A client able to send a message and be told of each echo. */
interface EchoClient {
  send(payload: Uint8Array): void;
  onEcho(listener: () => void): void;
  close(): Promise<void>;
}

/** Keeps WINDOW messages in flight for RUN_MS; returns echoes per second. */
async function measure(client: EchoClient, payload: Uint8Array): Promise<number> {
  let echoes = 0;
  let stopAt = Infinity;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => done = resolve);
  let inFlight = 0;
  client.onEcho(() => {
    echoes++;
    inFlight--;
    if (performance.now() < stopAt) {
      inFlight++;
      client.send(payload);
    } else if (inFlight === 0) {
      done();
    }
  });
  // Warm-up, then the measured run.
  for (let i = 0; i < WINDOW; i++) {
    inFlight++;
    client.send(payload);
  }
  const start = performance.now();
  stopAt = start + RUN_MS;
  const startEchoes = echoes;
  await finished;
  return (echoes - startEchoes) / ((performance.now() - start) / 1000);
}

type Side = "ours" | "ws";

async function startServer(side: Side, compress: boolean) {
  if (side === "ours") {
    const server = await listen(
      { hostname: "127.0.0.1", port: 0, compression: compress && { threshold: 0 } },
      (channel) => channel.readable.pipeTo(channel.writable).catch(() => {}),
    );
    return { port: server.port, close: () => server.close() };
  }
  const server = new ws.WebSocketServer({
    host: "127.0.0.1",
    port: 0,
    perMessageDeflate: compress && { threshold: 0 },
  });
  await new Promise<void>((resolve) => server.once("listening", resolve));
  server.on(
    "connection",
    (socket) => socket.on("message", (data, binary) => socket.send(data, { binary })),
  );
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}

async function startClient(side: Side, port: number, compress: boolean): Promise<EchoClient> {
  const url = `ws://127.0.0.1:${port}/`;
  if (side === "ours") {
    const channel = await connect(url, { compression: compress && { threshold: 0 } });
    if ((channel.extensions !== "") !== compress) throw new Error("compression not as asked");
    const writer = channel.writable.getWriter();
    let listener = () => {};
    (async () => {
      for await (const _ of channel.readable) listener();
    })().catch(() => {});
    return {
      send: (payload) => void writer.write(payload).catch(() => {}),
      onEcho: (next) => listener = next,
      close: async () => {
        channel.close(1000);
        await channel.closed;
      },
    };
  }
  const socket = new ws.WebSocket(url, { perMessageDeflate: compress && { threshold: 0 } });
  await new Promise((resolve, reject) => {
    socket.once("open", resolve);
    socket.once("error", reject);
  });
  let listener = () => {};
  socket.on("message", () => listener());
  return {
    send: (payload) => socket.send(payload),
    onEcho: (next) => listener = next,
    close: () =>
      new Promise<void>((resolve) => {
        socket.once("close", () => resolve());
        socket.close(1000);
      }),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const runtime = "Bun" in globalThis ? "Bun" : "Deno" in globalThis ? "Deno" : "Node";
const payloads = { compressible: compressiblePayload(SIZE), random: randomPayload(SIZE) };
const header = ["payload", "compressed", "client → server", "echoes/s", "MB/s"];
const rows: string[][] = [];
for (const [name, payload] of Object.entries(payloads)) {
  const wireSize = zlib.deflateRawSync(payload).length;
  for (const compress of [false, true]) {
    for (
      const [client, server] of [["ours", "ours"], ["ws", "ws"], ["ours", "ws"], [
        "ws",
        "ours",
      ]] as const
    ) {
      const results: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        const started = await startServer(server, compress);
        const echo = await startClient(client, started.port, compress);
        results.push(await measure(echo, payload));
        await echo.close();
        await started.close();
      }
      const perSecond = median(results);
      rows.push([
        `${name} ${SIZE} B`,
        compress ? `yes (${wireSize} B)` : "no",
        `${client} → ${server}`,
        perSecond.toFixed(0),
        (perSecond * SIZE * 2 / 1e6).toFixed(1),
      ]);
    }
  }
}
console.log(
  `# permessage-deflate echo, ${runtime}, ${WINDOW} in flight, median of ${RUNS} runs of ${RUN_MS} ms`,
);
console.log(`| ${header.join(" | ")} |`);
console.log(`| ${header.map(() => "---").join(" | ")} |`);
for (const row of rows) console.log(`| ${row.join(" | ")} |`);
