/**
 * Echo round trips through real servers on loopback, ours against the peers
 * in one run: each server echoes binary messages from a load generator
 * (`bench/echo/load.ts` on Bun's raw TCP client, see there) that keeps a
 * window of messages in flight on every connection. With `taskset` present
 * the server is pinned to CPU 0 and the load generator to CPU 1.
 *
 *     deno task bench:echo [--servers a,b] [--conns 1,64,1000] [--sizes 32,1024,65536,1048576]
 *                          [--runs 3] [--seconds 2] [--idle 1000] [--no-pin]
 *
 * The servers (`--servers`, default all): our `examples/echo_server.ts` in
 * raw mode (our codec on the runtime's TCP) and native mode (`Deno.serve`,
 * `Bun.serve`, `node:http` + `handleUpgrade`) on each runtime, `ws` on Node
 * and on Bun, and the runtimes' own servers. Node runs the built example, so
 * `deno task build:npm` must have run. For every cell (connections x message
 * size) it prints the median of `--runs` runs of messages/s, MB/s (each
 * way), the round-trip p50/p99 of the median run and the server's peak
 * RSS, then the ratios the performance targets are stated in, and, with
 * `--idle N`, the server memory per idle connection with N connections open.
 *
 * @module
 */

import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = (name: string) => `${root}node_modules/.bin/${name}`;
const DENO = bin("deno");
const BUN = bin("bun");

/** A server of the benchmark: how to start it. */
interface Target {
  id: string;
  label: string;
  command: string;
  args: string[];
}

const ECHO = "examples/echo_server.ts";
const NODE_ECHO = "npm/examples/echo_server.js";
const TARGETS: Target[] = [
  {
    id: "ours-raw-deno",
    label: "ours raw, Deno",
    command: DENO,
    args: ["run", "-A", ECHO, "--mode", "raw"],
  },
  {
    id: "ours-native-deno",
    label: "ours on Deno.serve",
    command: DENO,
    args: ["run", "-A", ECHO, "--mode", "native"],
  },
  {
    id: "deno-native",
    label: "Deno.upgradeWebSocket",
    command: DENO,
    args: ["run", "-A", "bench/echo/native_server.ts"],
  },
  { id: "ours-raw-bun", label: "ours raw, Bun", command: BUN, args: [ECHO, "--mode", "raw"] },
  {
    id: "ours-native-bun",
    label: "ours on Bun.serve",
    command: BUN,
    args: [ECHO, "--mode", "native"],
  },
  { id: "bun-native", label: "Bun.serve", command: BUN, args: ["bench/echo/native_server.ts"] },
  { id: "ws-bun", label: "ws on Bun", command: BUN, args: ["bench/echo/ws_server.mjs"] },
  {
    id: "ours-raw-node",
    label: "ours raw, Node",
    command: "node",
    args: [NODE_ECHO, "--mode", "raw"],
  },
  {
    id: "ours-native-node",
    label: "ours handleUpgrade, Node",
    command: "node",
    args: [NODE_ECHO, "--mode", "native"],
  },
  { id: "ws-node", label: "ws on Node", command: "node", args: ["bench/echo/ws_server.mjs"] },
];

/** A load generator: the raw one, or a WebSocket client library keeping the same window. */
interface Client {
  id: string;
  label: string;
  command: string;
  args: string[];
}
const LOAD: Client = { id: "load", label: "raw load", command: BUN, args: ["bench/echo/load.ts"] };
const CLIENT = "bench/echo/client.ts";
const CLIENTS: Client[] = [
  { id: "ours-bun", label: "ours on Bun", command: BUN, args: [CLIENT, "--client", "ours"] },
  { id: "ws-bun", label: "ws on Bun", command: BUN, args: [CLIENT, "--client", "ws"] },
  {
    id: "ours-deno",
    label: "ours on Deno",
    command: DENO,
    args: ["run", "-A", CLIENT, "--client", "ours"],
  },
  {
    id: "ws-deno",
    label: "ws on Deno",
    command: DENO,
    args: ["run", "-A", CLIENT, "--client", "ws"],
  },
];

const { values } = parseArgs({
  options: {
    servers: { type: "string", default: TARGETS.map((target) => target.id).join(",") },
    conns: { type: "string", default: "1,64,1000" },
    sizes: { type: "string", default: "32,1024,65536,1048576" },
    runs: { type: "string", default: "3" },
    seconds: { type: "string", default: "2" },
    idle: { type: "string", default: "1000" },
    clients: { type: "string", default: "64x32,64x1024,64x65536" },
    "no-pin": { type: "boolean", default: false },
  },
});
const list = (text: string) => text.split(",").map((item) => Number(item));
const CONNS = list(values.conns);
const SIZES = list(values.sizes);
const RUNS = Number(values.runs);
const SECONDS = Number(values.seconds);
const IDLE = Number(values.idle);
const wanted = values.servers.split(",");
const unknown = wanted.filter((id) => !TARGETS.some((target) => target.id === id));
if (unknown.length > 0) {
  console.error(
    `bench/echo: unknown servers ${unknown.join(", ")}; known: ${
      TARGETS.map((t) => t.id).join(", ")
    }`,
  );
  process.exit(2);
}
const targets = TARGETS.filter((target) => wanted.includes(target.id));
if (targets.some((target) => target.command === "node") && !existsSync(`${root}${NODE_ECHO}`)) {
  console.error("bench/echo: the Node servers run the npm build: run `deno task build:npm` first");
  process.exit(2);
}
const PIN = !values["no-pin"] && existsSync("/usr/bin/taskset");

/** Messages in flight per connection: enough to keep the pipe full, bounded in bytes. */
function windowFor(size: number): number {
  return size <= 1024 ? 16 : size <= 65536 ? 4 : 1;
}

function pinned(cpu: number, command: string, args: string[]): [string, string[]] {
  return PIN ? ["taskset", ["-c", String(cpu), command, ...args]] : [command, args];
}

/** The resident set size of a process in bytes, from /proc, or NaN where there is none. */
function rss(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kib = /VmRSS:\s+(\d+)/.exec(status)?.[1];
    return kib === undefined ? NaN : Number(kib) * 1024;
  } catch {
    return NaN;
  }
}

interface Running {
  pid: number;
  port: number;
  stop(): Promise<void>;
}

/** Starts a server on CPU 0 and waits for its `listening on ws://HOST:PORT` line. */
function startServer(target: Target): Promise<Running> {
  const [command, args] = pinned(0, target.command, [...target.args, "--port", "0"]);
  const child = spawn(command, args, { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${target.id} did not start`)), 15_000);
    child.once("exit", (code) => reject(new Error(`${target.id} exited with ${code}`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const port = /^listening on ws:\/\/.*:(\d+)$/.exec(line)?.[1];
      if (port === undefined) return;
      clearTimeout(timer);
      resolve({
        pid: child.pid!,
        port: Number(port),
        stop: () => {
          child.kill("SIGKILL");
          return exited;
        },
      });
    });
  });
}

/** Runs the load generator on CPU 1 and returns its last line of output. */
function runLoad(args: string[], onLine?: (line: string) => void, client = LOAD): {
  done: Promise<string>;
  kill(): void;
} {
  const [command, commandArgs] = pinned(1, client.command, [...client.args, ...args]);
  const child = spawn(command, commandArgs, { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
  let last = "";
  createInterface({ input: child.stdout! }).on("line", (line) => {
    last = line;
    onLine?.(line);
  });
  const done = new Promise<string>((resolve, reject) => {
    child.once(
      "exit",
      (code) => code === 0 ? resolve(last) : reject(new Error(`load exited with ${code}`)),
    );
  });
  return { done, kill: () => child.kill("SIGKILL") };
}

interface Result {
  rate: number;
  mbps: number;
  p50: number;
  p99: number;
  rss: number;
}

/** One run of one cell: the load generator's figures and the server's peak RSS while it ran. */
async function runCell(
  server: Running,
  conns: number,
  size: number,
  client = LOAD,
): Promise<Result> {
  let peak = 0;
  const sampler = setInterval(() => peak = Math.max(peak, rss(server.pid) || 0), 100);
  try {
    const load = runLoad(
      [
        "--port",
        String(server.port),
        "--conns",
        String(conns),
        "--size",
        String(size),
        "--window",
        String(windowFor(size)),
        "--seconds",
        String(SECONDS),
      ],
      undefined,
      client,
    );
    const { messages, seconds, p50, p99 } = JSON.parse(await load.done);
    const rate = messages / seconds;
    return { rate, mbps: (rate * size) / 1e6, p50, p99, rss: peak };
  } finally {
    clearInterval(sampler);
  }
}

/** Server memory per idle connection: RSS with `count` connections open, less RSS before. */
async function idleMemory(target: Target, count: number): Promise<number> {
  const server = await startServer(target);
  try {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const before = rss(server.pid);
    let ready!: () => void;
    const opened = new Promise<void>((resolve) => ready = resolve);
    const load = runLoad(
      ["--port", String(server.port), "--conns", String(count), "--idle"],
      (line) => {
        if (line === "ready") ready();
      },
    );
    await Promise.race([opened, load.done]);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const after = rss(server.pid);
    load.kill();
    await load.done.catch(() => {});
    return (after - before) / count;
  } finally {
    await server.stop();
  }
}

function median(results: Result[]): Result {
  const sorted = results.toSorted((a, b) => a.rate - b.rate);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return "-";
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${Math.round(n / 1e3)}k`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return n >= 100 ? n.toFixed(0) : n.toFixed(1);
}

const sizeLabel = (size: number) =>
  size >= 1 << 20 ? `${size >> 20} MiB` : size >= 1024 ? `${size >> 10} KiB` : `${size} B`;
const cells = CONNS.flatMap((conns) =>
  SIZES.map((size) => ({ conns, size, name: `${conns} x ${sizeLabel(size)}` }))
);

const results = new Map<string, Map<string, Result>>();
const idle = new Map<string, number>();
for (const target of targets) {
  const row = new Map<string, Result>();
  results.set(target.id, row);
  const server = await startServer(target);
  try {
    for (const cell of cells) {
      const runs: Result[] = [];
      for (let run = 0; run < RUNS; run++) runs.push(await runCell(server, cell.conns, cell.size));
      row.set(cell.name, median(runs));
      console.error(`${target.id} ${cell.name}: ${fmt(median(runs).rate)} msg/s`);
    }
  } catch (error) {
    console.error(`${target.id}: ${error instanceof Error ? error.message : error}`);
  } finally {
    await server.stop();
  }
  if (IDLE > 0) idle.set(target.id, await idleMemory(target, IDLE));
}

/** The client side: each client library as the load generator against `Bun.serve`'s echo. */
const clientCells = values.clients === "" ? [] : values.clients.split(",").map((text) => {
  const [conns, size] = text.split("x").map(Number) as [number, number];
  return { conns, size, name: `${conns} x ${sizeLabel(size)}` };
});
const clientResults = new Map<string, Map<string, Result>>();
if (clientCells.length > 0) {
  const server = await startServer(TARGETS.find((target) => target.id === "bun-native")!);
  try {
    for (const client of CLIENTS) {
      const row = new Map<string, Result>();
      clientResults.set(client.id, row);
      for (const cell of clientCells) {
        const runs: Result[] = [];
        for (let run = 0; run < RUNS; run++) {
          runs.push(await runCell(server, cell.conns, cell.size, client));
        }
        row.set(cell.name, median(runs));
        console.error(`client ${client.id} ${cell.name}: ${fmt(median(runs).rate)} msg/s`);
      }
    }
  } finally {
    await server.stop();
  }
}

function table(header: string[], rows: string[][]): string {
  const lines = [header, header.map(() => "---"), ...rows];
  return lines.map((cells) => `| ${cells.join(" | ")} |`).join("\n");
}

/** The first line a program prints for `--version`. */
function version(command: string): string {
  const result = spawnSync(command, ["--version"], { encoding: "utf8" });
  return result.stdout?.split("\n")[0]?.trim() || "?";
}

/** Comparisons the performance targets are stated in: ours over a peer, and the least ratio wanted. */
const RATIOS: {
  ours: string;
  peer: string;
  target: number;
  cells: (cell: { conns: number; size: number }) => boolean;
}[] = [
  {
    ours: "ours-native-bun",
    peer: "bun-native",
    target: 0.6,
    cells: (c) => c.conns === 64 && c.size <= 1024,
  },
  { ours: "ours-raw-bun", peer: "ws-node", target: 2, cells: () => true },
  { ours: "ours-raw-deno", peer: "deno-native", target: 1, cells: (c) => c.conns >= 64 },
  { ours: "ours-raw-deno", peer: "ws-node", target: 1, cells: (c) => c.conns >= 64 },
  { ours: "ours-native-node", peer: "ws-node", target: 1, cells: () => true },
  { ours: "ours-raw-node", peer: "ws-node", target: 0, cells: () => false },
  { ours: "ours-native-deno", peer: "deno-native", target: 0, cells: () => false },
  { ours: "ours-raw-bun", peer: "ws-bun", target: 0, cells: () => false },
];

console.log(
  `\nEcho round trips, ${version(DENO)}, bun ${version(BUN)}, node ${version("node")}; ${
    PIN ? "server on CPU 0, load on CPU 1" : "not pinned"
  }; medians of ${RUNS} runs of ${SECONDS} s.\n`,
);
console.log("Messages per second (each one an echo round trip):\n");
console.log(table(
  ["server", ...cells.map((cell) => cell.name)],
  targets.map((
    target,
  ) => [
    target.label,
    ...cells.map((cell) => fmt(results.get(target.id)?.get(cell.name)?.rate ?? NaN)),
  ]),
));
console.log("\nRound trip p50 / p99 (ms), and server peak RSS (MiB):\n");
console.log(table(
  ["server", ...cells.map((cell) => cell.name)],
  targets.map((target) => [
    target.label,
    ...cells.map((cell) => {
      const result = results.get(target.id)?.get(cell.name);
      return result === undefined
        ? "-"
        : `${result.p50.toFixed(2)} / ${result.p99.toFixed(2)}, ${fmt(result.rss / 2 ** 20)}`;
    }),
  ]),
));

const label = (id: string) => TARGETS.find((target) => target.id === id)!.label;
const ratioRows = RATIOS.filter(({ ours, peer }) => results.has(ours) && results.has(peer)).map(
  ({ ours, peer, target, cells: inTarget }) => [
    `${label(ours)} / ${label(peer)}`,
    ...cells.map((cell) => {
      const ratio = results.get(ours)!.get(cell.name)!.rate /
        results.get(peer)!.get(cell.name)!.rate;
      if (!Number.isFinite(ratio)) return "-";
      const missed = inTarget(cell) && ratio < target ? ` (< ${target})` : "";
      return `${ratio.toFixed(2)}${missed}`;
    }),
  ],
);
if (ratioRows.length > 0) {
  console.log("\nRatios of messages per second; (< N) marks a cell below its target:\n");
  console.log(table(["ours / peer", ...cells.map((cell) => cell.name)], ratioRows));
}
if (idle.size > 0) {
  console.log(`\nServer memory per idle connection, ${IDLE} connections open (KiB):\n`);
  console.log(table(
    ["server", "KiB per connection"],
    targets.filter((target) => idle.has(target.id)).map((
      target,
    ) => [target.label, (idle.get(target.id)! / 1024).toFixed(1)]),
  ));
}
if (clientResults.size > 0) {
  console.log(
    "\nClients against Bun.serve's echo, messages per second (ratio ours / ws on the same runtime):\n",
  );
  console.log(table(
    ["client", ...clientCells.map((cell) => cell.name)],
    CLIENTS.map((client) => [
      client.label,
      ...clientCells.map((cell) => {
        const result = clientResults.get(client.id)!.get(cell.name)!.rate;
        const peer = client.id.startsWith("ours-")
          ? clientResults.get(client.id.replace("ours-", "ws-"))?.get(cell.name)?.rate
          : undefined;
        return peer === undefined ? fmt(result) : `${fmt(result)} (${(result / peer).toFixed(2)})`;
      }),
    ]),
  ));
}
