/**
 * Frame codec throughput, ours against `ws` (its `Receiver` and `Sender`,
 * loaded by file path so that Bun's built-in `ws` is not measured instead)
 * and against a plain `Uint8Array.prototype.set` copy of the same bytes, in
 * one process. Prints MB/s, frames/s and the ratio to `ws`, medians of
 * `--runs` runs.
 *
 *     deno run --allow-read --allow-env bench/codec.ts [--runs 3] [--ms 400]
 *     bun bench/codec.ts
 *
 * @module
 */

import { createRequire } from "node:module";
import { parseArgs } from "node:util";
import { Connection } from "../mod.ts";
import { encodeFrame, encodeFrameChunks, FrameParser, OPCODE } from "../src/codec/mod.ts";

interface WsReceiver {
  on(event: "message", listener: () => void): void;
  write(chunk: Uint8Array): boolean;
}
interface WsSender {
  frame(data: Uint8Array, options: Record<string, unknown>): Uint8Array[];
}

const require = createRequire(import.meta.url);
const Receiver: new (options: Record<string, unknown>) => WsReceiver = require(
  "../node_modules/ws/lib/receiver.js",
);
const Sender: WsSender = require("../node_modules/ws/lib/sender.js");

const { values } = parseArgs({
  options: { runs: { type: "string", default: "3" }, ms: { type: "string", default: "400" } },
});
const RUNS = Number(values.runs);
const RUN_MS = Number(values.ms);
const SIZES = [32, 1024, 64 * 1024, 1024 * 1024];
const STREAM_BYTES = 4 * 1024 * 1024;
const CHUNK = 64 * 1024;

/** Runs `work` (which handles `bytes` bytes and `frames` frames) for RUN_MS; returns per-second rates. */
function rate(work: () => void, bytes: number, frames: number): { mbps: number; fps: number } {
  const deadline = performance.now() + RUN_MS / 4;
  while (performance.now() < deadline) work(); // warm-up
  let calls = 0;
  const start = performance.now();
  let now = start;
  while (now - start < RUN_MS) {
    work();
    calls++;
    now = performance.now();
  }
  const seconds = (now - start) / 1000;
  return { mbps: (bytes * calls) / seconds / 1e6, fps: (frames * calls) / seconds };
}

function median(values: number[]): number {
  const sorted = values.toSorted((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function measure(work: () => void, bytes: number, frames: number): { mbps: number; fps: number } {
  const runs = Array.from({ length: RUNS }, () => rate(work, bytes, frames));
  return { mbps: median(runs.map((r) => r.mbps)), fps: median(runs.map((r) => r.fps)) };
}

function fmt(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(1);
}

/** A stream of binary frames of `size` bytes, about STREAM_BYTES long, cut in CHUNK-byte chunks. */
function frameStream(size: number, masked: boolean): { chunks: Uint8Array[]; frames: number } {
  const frames = Math.max(1, Math.floor(STREAM_BYTES / size));
  const payload = new Uint8Array(size).map((_, i) => i * 7);
  const one = encodeFrame({ fin: true, opcode: OPCODE.Binary, payload }, {
    mask: masked,
  });
  const stream = new Uint8Array(one.length * frames);
  for (let i = 0; i < frames; i++) stream.set(one, i * one.length);
  const chunks = [];
  for (let at = 0; at < stream.length; at += CHUNK) chunks.push(stream.subarray(at, at + CHUNK));
  return { chunks, frames };
}

const rows: string[][] = [];
const ignore = () => {};
const runtime = "Deno" in globalThis
  ? `Deno ${(globalThis as { Deno?: { version: { deno: string } } }).Deno?.version.deno}`
  : "Bun" in globalThis
  ? `Bun ${(globalThis as { Bun?: { version: string } }).Bun?.version}`
  : `Node ${(globalThis as { process?: { version: string } }).process?.version}`;

for (const masked of [true, false]) {
  for (const size of SIZES) {
    const { chunks, frames } = frameStream(size, masked);
    const bytes = chunks.reduce((sum, c) => sum + c.length, 0);
    const role = masked ? "server" : "client";
    const parser = () => {
      const p = new FrameParser({ role });
      for (const chunk of chunks) p.push(chunk, ignore);
    };
    const connection = () => {
      const c = new Connection({ role }, { write() {}, message() {}, end() {} });
      for (const chunk of chunks) c.receive(chunk);
    };
    const ws = () => {
      const r = new Receiver({ isServer: masked, maxPayload: 0 });
      r.on("message", () => {});
      for (const chunk of chunks) r.write(chunk);
    };
    const scratch = new Uint8Array(CHUNK);
    const copy = () => {
      for (const chunk of chunks) scratch.set(chunk);
    };
    const ours = measure(parser, bytes, frames);
    const oursMessages = measure(connection, bytes, frames);
    const theirs = measure(ws, bytes, frames);
    const baseline = measure(copy, bytes, frames);
    rows.push([
      "parse",
      masked ? "masked" : "unmasked",
      fmt(size),
      fmt(ours.mbps),
      fmt(oursMessages.mbps),
      fmt(theirs.mbps),
      fmt(baseline.mbps),
      fmt(ours.fps),
      fmt(theirs.fps),
      (ours.mbps / theirs.mbps).toFixed(2),
      (oursMessages.mbps / theirs.mbps).toFixed(2),
    ]);
  }
}

for (const masked of [true, false]) {
  for (const size of SIZES) {
    const payload = new Uint8Array(size).map((_, i) => i * 7);
    const frames = Math.max(1, Math.floor(STREAM_BYTES / 8 / size));
    const frame = { fin: true, opcode: OPCODE.Binary, payload };
    const sink = (_chunk: Uint8Array) => {};
    const ours = () => {
      for (let i = 0; i < frames; i++) {
        encodeFrameChunks(frame, masked, sink);
      }
    };
    const options = { fin: true, opcode: 2, mask: masked, readOnly: true, rsv1: false };
    const ws = () => {
      for (let i = 0; i < frames; i++) Sender.frame(payload, options);
    };
    const scratch = new Uint8Array(size + 14);
    const copy = () => {
      for (let i = 0; i < frames; i++) scratch.set(payload);
    };
    const bytes = frames * size;
    const a = measure(ours, bytes, frames);
    const b = measure(ws, bytes, frames);
    const c = measure(copy, bytes, frames);
    rows.push([
      "build",
      masked ? "masked" : "unmasked",
      fmt(size),
      fmt(a.mbps),
      "-",
      fmt(b.mbps),
      fmt(c.mbps),
      fmt(a.fps),
      fmt(b.fps),
      (a.mbps / b.mbps).toFixed(2),
      "-",
    ]);
  }
}

const header = [
  "op",
  "mask",
  "size",
  "ours MB/s",
  "ours+msg MB/s",
  "ws MB/s",
  "copy MB/s",
  "ours frames/s",
  "ws frames/s",
  "ours/ws",
  "ours+msg/ws",
];
console.log(`# codec, ${runtime}, median of ${RUNS} runs of ${RUN_MS} ms`);
console.log(`| ${header.join(" | ")} |`);
console.log(`| ${header.map(() => "---").join(" | ")} |`);
for (const row of rows) console.log(`| ${row.join(" | ")} |`);
