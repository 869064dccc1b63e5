/**
 * Memory per idle compressed connection: opens `--connections` connections
 * between our `connect` and `listen` in one process, sends one compressible
 * message each way on each (so that every zlib context a setting keeps is
 * created), lets them idle (past the compressor idle timeout where one is
 * set), and prints the growth of the resident set size
 * divided by the number of connections, for several compression settings.
 * Each setting runs in a process of its own, so that one does not inherit
 * another's heap.
 *
 *     deno run -A --v8-flags=--expose-gc bench/deflate_memory.ts [--connections 1000]
 *     bun bench/deflate_memory.ts
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type Channel, type CompressionOptions, connect, listen } from "../mod.ts";

const SETTINGS: Record<string, false | CompressionOptions> = {
  "uncompressed": false,
  "context takeover, compressors kept": { threshold: 0, compressorIdleTimeout: 0 },
  "context takeover, compressors freed after 1 s idle": {
    threshold: 0,
    compressorIdleTimeout: 1000,
  },
  "context takeover, memLevel 1, windows of 2^10": {
    threshold: 0,
    memLevel: 1,
    serverMaxWindowBits: 10,
    clientMaxWindowBits: 10,
  },
  "no context takeover either way": {
    threshold: 0,
    serverNoContextTakeover: true,
    clientNoContextTakeover: true,
  },
};

const { values } = parseArgs({
  options: {
    connections: { type: "string", default: "1000" },
    setting: { type: "string" },
  },
});
const CONNECTIONS = Number(values.connections);

function collect(): void {
  (globalThis as { gc?: () => void }).gc?.();
  (globalThis as { Bun?: { gc(force: boolean): void } }).Bun?.gc(true);
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Measures one setting in this process; prints the bytes per connection. */
async function measure(setting: false | CompressionOptions): Promise<void> {
  const servers: Channel[] = [];
  const server = await listen(
    { hostname: "127.0.0.1", port: 0, compression: setting, backlog: 1024 },
    (channel) => {
      servers.push(channel);
      channel.readable.pipeTo(channel.writable).catch(() => {});
    },
  );
  const url = `ws://127.0.0.1:${server.port}/`;
  const message = JSON.stringify(
    Array.from({ length: 100 }, (_, i) => ({ id: i, name: `user${i}` })),
  );
  // One connection first, so that what every process loads once is not counted.
  const clients = [await connect(url, { compression: setting })];
  await echo(clients[0]!, message);
  collect();
  await delay(200);
  const before = process.memoryUsage().rss;
  for (let i = 1; i <= CONNECTIONS; i++) {
    const client = await connect(url, { compression: setting });
    await echo(client, message);
    clients.push(client);
  }
  collect();
  // Past the idle timeout, and the sweep after it.
  await delay(setting && setting.compressorIdleTimeout ? 2500 : 500);
  collect();
  const after = process.memoryUsage().rss;
  console.log(JSON.stringify({ perConnection: (after - before) / CONNECTIONS }));
  for (const client of clients) client.close(1000);
  await Promise.all(clients.map((client) => client.closed));
  await server.close();
}

async function echo(client: Channel, message: string): Promise<void> {
  const writer = client.writable.getWriter();
  await writer.write(message);
  writer.releaseLock();
  const reader = client.readable.getReader();
  await reader.read();
  reader.releaseLock();
}

if (values.setting !== undefined) {
  await measure(SETTINGS[values.setting]!);
} else {
  const runtime = "Bun" in globalThis ? "Bun" : "Deno" in globalThis ? "Deno" : "Node";
  const script = fileURLToPath(import.meta.url);
  const command = runtime === "Deno"
    ? [
      (globalThis as unknown as { Deno: { execPath(): string } }).Deno.execPath(),
      "run",
      "-A",
      "--v8-flags=--expose-gc",
      script,
    ]
    : runtime === "Bun"
    ? [process.execPath, script]
    : [process.execPath, "--expose-gc", script];
  console.log(
    `# memory per idle connection (client and server end, one process), ${runtime}, ` +
      `${CONNECTIONS} connections`,
  );
  console.log("| setting | KiB per connection |");
  console.log("| --- | --- |");
  for (const name of Object.keys(SETTINGS)) {
    const result = spawnSync(command[0]!, [
      ...command.slice(1),
      "--connections",
      String(CONNECTIONS),
      "--setting",
      name,
    ], { encoding: "utf8" });
    const line = result.stdout.trim().split("\n").at(-1) ?? "";
    const perConnection = line.startsWith("{") ? JSON.parse(line).perConnection : NaN;
    console.log(`| ${name} | ${(perConnection / 1024).toFixed(1)} |`);
    if (!line.startsWith("{")) console.error(result.stderr);
  }
}
