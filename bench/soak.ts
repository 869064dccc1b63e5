/**
 * A soak run: an echo server (`serve()`, native or raw) and many clients in
 * one process, exchanging numbered messages for a while, every echo checked
 * for order and content. Prints messages/s and the process's RSS every
 * `--every` seconds, with the JavaScript heap in use, then whether RSS
 * stayed within 10% of its value after warm-up (`--warmup` seconds, by
 * default half the run: the garbage collector grows its heap lazily for a
 * while). Exits 1 when a message is lost, duplicated, reordered or changed,
 * or RSS drifted more. With the garbage collector exposed, it collects
 * before each sample, so the heap in use shows what is really kept.
 *
 *     deno run -A bench/soak.ts [--seconds 60] [--connections 1000] [--mode native|raw]
 *     deno run -A --v8-flags=--expose-gc bench/soak.ts --seconds 600
 *     bun bench/soak.ts --seconds 600
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { serve, type ServeMode } from "../mod.ts";
import { soakClients } from "../tests/_soak.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "60" },
    connections: { type: "string", default: "1000" },
    messages: { type: "string", default: "10" },
    every: { type: "string", default: "5" },
    warmup: { type: "string" },
    mode: { type: "string", default: "native" },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const messages = Number(values.messages);
const every = Number(values.every) * 1000;
const warmup = values.warmup === undefined ? seconds / 2 : Number(values.warmup);
const mode = values.mode as ServeMode;
if (
  !(seconds > 0) || !(connections > 0) || !(messages > 0) || !(every > 0) || !(warmup >= 0) ||
  (mode !== "native" && mode !== "raw")
) {
  console.error(
    "usage: soak.ts [--seconds N] [--connections N] [--messages N] [--every S] [--warmup S] [--mode native|raw]",
  );
  process.exit(2);
}

const server = await serve({
  mode,
  hostname: "127.0.0.1",
  port: 0,
  onError: (error) => console.error(error),
  onConnection: (channel) => channel.readable.pipeTo(channel.writable).catch(() => {}),
});
const mib = (bytes: number) => (bytes / 1048576).toFixed(1);
const started = performance.now();
const samples: { at: number; rss: number }[] = [];
let echoed = 0;
let lastEchoed = 0;
let lastAt = started;
const timer = setInterval(() => {
  const now = performance.now();
  const rate = (echoed - lastEchoed) / ((now - lastAt) / 1000);
  (globalThis as { gc?: () => void }).gc?.();
  const { rss, heapUsed } = process.memoryUsage();
  samples.push({ at: now - started, rss });
  console.log(
    `${((now - started) / 1000).toFixed(0)} s: ${rate.toFixed(0)} messages/s, ` +
      `rss ${mib(rss)} MiB, heap used ${mib(heapUsed)} MiB`,
  );
  lastEchoed = echoed;
  lastAt = now;
}, every);

let failed = false;
try {
  await soakClients({
    url: `ws://127.0.0.1:${server.port}`,
    connections,
    messages,
    rounds: Number.MAX_SAFE_INTEGER,
    signal: AbortSignal.timeout(seconds * 1000),
    onRound: (count) => echoed = count,
  });
} catch (error) {
  console.error(error);
  failed = true;
} finally {
  clearInterval(timer);
  await server.shutdown(5000);
}

const took = (performance.now() - started) / 1000;
if (!failed) {
  console.log(`${echoed} messages echoed in ${took.toFixed(1)} s, all in order and intact`);
}
const warm = samples.filter((sample) => sample.at >= warmup * 1000);
if (warm.length >= 2) {
  const base = warm[0]!.rss;
  const drift = Math.max(...warm.map((sample) => Math.abs(sample.rss - base) / base));
  console.log(`rss after warm-up: ${mib(base)} MiB, largest drift ${(drift * 100).toFixed(1)}%`);
  if (drift > 0.1) failed = true;
}
process.exit(failed ? 1 : 0);
