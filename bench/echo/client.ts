/**
 * The client side of the echo benchmark: `--conns` connections of our
 * `connect()` client (`--client ours`) or of `ws`'s (`--client ws`, loaded by
 * file path so that Bun's built-in replacement is not measured instead), each
 * keeping `--window` binary messages of `--size` bytes in flight against an
 * echo server. Same output as `load.ts`: one line of JSON,
 * `{ messages, seconds, p50, p99 }`.
 *
 *     bun bench/echo/client.ts --client ours --port 8080 --conns 64 --size 32
 *     deno run -A bench/echo/client.ts --client ws --port 8080
 *
 * @module
 */

import { createRequire } from "node:module";
import process from "node:process";
import { parseArgs } from "node:util";
import { connect } from "../../mod.ts";

const { values } = parseArgs({
  options: {
    client: { type: "string", default: "ours" },
    port: { type: "string" },
    conns: { type: "string", default: "64" },
    size: { type: "string", default: "32" },
    window: { type: "string", default: "16" },
    seconds: { type: "string", default: "2" },
    warmup: { type: "string", default: "0.5" },
  },
});
const URL_ = `ws://127.0.0.1:${values.port}/`;
const CONNS = Number(values.conns);
const WINDOW = Number(values.window);
const payload = new Uint8Array(Number(values.size)).map((_, i) => i % 251);

let running = true;
let measuring = false;
let echoed = 0;
const samples: number[] = [];

/** Called once per echo with the time its message was sent; returns whether to send another. */
function echo(sentAt: number): boolean {
  if (measuring) {
    echoed++;
    samples.push(performance.now() - sentAt);
  }
  return running;
}

/** Opens one connection of our client and keeps its window full; resolves once it is open. */
async function ours(): Promise<void> {
  const channel = await connect(URL_);
  const writer = channel.writable.getWriter();
  const sent: number[] = [];
  const send = () => {
    sent.push(performance.now());
    writer.write(payload).catch(() => {});
  };
  (async () => {
    for await (const _ of channel.readable) if (echo(sent.shift()!)) send();
  })().catch(() => {});
  for (let i = 0; i < WINDOW; i++) send();
}

interface WsClient {
  binaryType: string;
  on(event: "open", listener: () => void): void;
  on(event: "message", listener: () => void): void;
  on(event: "error", listener: (error: Error) => void): void;
  send(data: Uint8Array): void;
}

/** Opens one connection of `ws`'s client and keeps its window full; resolves once it is open. */
function ws(): Promise<void> {
  const require = createRequire(import.meta.url);
  const WebSocket: new (url: string) => WsClient = require("../../node_modules/ws/index.js");
  const socket = new WebSocket(URL_);
  socket.binaryType = "nodebuffer";
  const sent: number[] = [];
  const send = () => {
    sent.push(performance.now());
    socket.send(payload);
  };
  socket.on("message", () => {
    if (echo(sent.shift()!)) send();
  });
  return new Promise((resolve, reject) => {
    socket.on("error", reject);
    socket.on("open", () => {
      for (let i = 0; i < WINDOW; i++) send();
      resolve();
    });
  });
}

const open = values.client === "ws" ? ws : ours;
for (let i = 0; i < CONNS; i += 100) {
  await Promise.all(Array.from({ length: Math.min(100, CONNS - i) }, open));
}
await new Promise((resolve) => setTimeout(resolve, Number(values.warmup) * 1000));
measuring = true;
const start = performance.now();
await new Promise((resolve) => setTimeout(resolve, Number(values.seconds) * 1000));
measuring = false;
running = false;
const seconds = (performance.now() - start) / 1000;
samples.sort((a, b) => a - b);
const at = (q: number) => samples[Math.floor((samples.length - 1) * q)] ?? NaN;
console.log(JSON.stringify({ messages: echoed, seconds, p50: at(0.5), p99: at(0.99) }));
process.exit(0);
