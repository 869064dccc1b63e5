/**
 * Fan-out: one publish to many subscribers. Prints, for each server, how many
 * publishes per second reach every subscriber (and so deliveries per second)
 * when published back to back, and the median time from one publish to its
 * delivery at the last subscriber. The servers:
 *
 * - `serve()` native and raw with the embedded broker, publishing on the
 *   server the subscribers are on;
 * - `serve()` native with the Redis broker, publishing on a second server in
 *   the same process, so that every message goes through Redis (needs
 *   `redis-server` on the PATH, which the benchmark starts on a free port, or
 *   `--redis URL`);
 * - on Bun, `Bun.serve` with Bun's own `ws.subscribe` and `server.publish`.
 *
 * The subscribers are plain TCP sockets that do the opening handshake and
 * then only count bytes, so that what is measured is the server's side.
 *
 *     deno run -A bench/fanout.ts [--subscribers 1000] [--messages 200] [--size 64] [--rounds 5]
 *     bun bench/fanout.ts
 *
 * @module
 */

import { spawn, spawnSync } from "node:child_process";
import { connect as tcpConnect, createServer, type Socket } from "node:net";
import process from "node:process";
import { parseArgs } from "node:util";
import { serve, type ServeMode, type Server } from "../mod.ts";
import { RedisBroker } from "../src/redis.ts";

const { values } = parseArgs({
  options: {
    subscribers: { type: "string", default: "1000" },
    messages: { type: "string", default: "200" },
    size: { type: "string", default: "64" },
    rounds: { type: "string", default: "5" },
    redis: { type: "string" },
  },
});
const SUBSCRIBERS = Number(values.subscribers);
const MESSAGES = Number(values.messages);
const SIZE = Number(values.size);
const ROUNDS = Number(values.rounds);
const TOPIC = "bench";
/** A binary frame of SIZE bytes: 2 header bytes, 4 more past 125 bytes. */
const FRAME_BYTES = SIZE + (SIZE <= 125 ? 2 : SIZE <= 0xffff ? 4 : 10);
const WAIT_LIMIT = 60_000;
const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";

/** What the subscribers are awaited for: a byte count each must reach. */
const awaited = { bytes: 0, remaining: 0, resolve: () => {} };

/** A subscriber: a socket past its handshake, counting the bytes of frames received. */
class Subscriber {
  received = 0;
  readonly socket: Socket;
  constructor(socket: Socket) {
    this.socket = socket;
  }

  /** Counts received bytes, and tells the wait when this subscriber got what it awaits. */
  count(bytes: number): void {
    const before = this.received;
    this.received += bytes;
    if (before < awaited.bytes && this.received >= awaited.bytes && --awaited.remaining === 0) {
      awaited.resolve();
    }
  }
}

/** Opens `count` subscribers to `port`, a few at a time, each once its 101 arrived. */
async function openSubscribers(port: number, count: number): Promise<Subscriber[]> {
  const subscribers: Subscriber[] = [];
  for (let i = 0; i < count; i += 50) {
    const batch = Math.min(50, count - i);
    subscribers.push(...await Promise.all(Array.from({ length: batch }, () => subscribe(port))));
  }
  return subscribers;
}

function subscribe(port: number): Promise<Subscriber> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(port, "127.0.0.1");
    let head = "";
    let subscriber: Subscriber | undefined;
    socket.on("error", reject);
    socket.on("data", (chunk: Uint8Array) => {
      if (subscriber !== undefined) {
        subscriber.count(chunk.length);
        return;
      }
      head += new TextDecoder("latin1").decode(chunk);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      if (!head.startsWith("HTTP/1.1 101")) reject(new Error(`handshake refused: ${head}`));
      subscriber = new Subscriber(socket);
      subscriber.received = head.length - end - 4;
      resolve(subscriber);
    });
    socket.write(
      "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
  });
}

/** Waits until every subscriber has received `bytes` bytes in all. */
async function allReceived(subscribers: Subscriber[], bytes: number): Promise<void> {
  const remaining = subscribers.filter((subscriber) => subscriber.received < bytes).length;
  if (remaining === 0) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  await new Promise<void>((resolve, reject) => {
    Object.assign(awaited, { bytes, remaining, resolve });
    timer = setTimeout(
      () => reject(new Error("Cannot finish: delivery takes too long")),
      WAIT_LIMIT,
    );
  }).finally(() => clearTimeout(timer));
}

interface Result {
  name: string;
  publishesPerSecond: number;
  lastDeliveryMs: number;
}

/** Measures one server: `publish` sends the payload once to the topic. */
async function measure(
  name: string,
  subscribers: Subscriber[],
  publish: (payload: Uint8Array) => unknown,
): Promise<Result> {
  const payload = new Uint8Array(SIZE).fill(42);
  let expected = Math.max(...subscribers.map((subscriber) => subscriber.received));
  const latencies: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now();
    await publish(payload);
    expected += FRAME_BYTES;
    await allReceived(subscribers, expected);
    latencies.push(performance.now() - start);
  }
  const start = performance.now();
  for (let i = 0; i < MESSAGES; i++) await publish(payload);
  expected += FRAME_BYTES * MESSAGES;
  await allReceived(subscribers, expected);
  const seconds = (performance.now() - start) / 1000;
  return {
    name,
    publishesPerSecond: MESSAGES / seconds,
    lastDeliveryMs: latencies.toSorted((a, b) => a - b)[Math.floor(latencies.length / 2)]!,
  };
}

/** Waits until the server counts every subscriber. */
async function subscribed(count: () => number): Promise<void> {
  for (let i = 0; i < 5000 && count() < SUBSCRIBERS; i++) {
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  if (count() < SUBSCRIBERS) {
    throw new Error(`Cannot start: ${count()} subscribers of ${SUBSCRIBERS}`);
  }
}

function close(subscribers: Subscriber[]): void {
  for (const subscriber of subscribers) subscriber.socket.destroy();
}

async function embedded(mode: ServeMode): Promise<Result> {
  const server = await serve({
    mode,
    hostname: "127.0.0.1",
    port: 0,
    onConnection: (channel) => channel.subscribe(TOPIC),
  });
  const subscribers = await openSubscribers(server.port, SUBSCRIBERS);
  await subscribed(() => server.subscriberCount(TOPIC));
  const result = await measure(
    `serve ${mode}, embedded`,
    subscribers,
    (payload) => server.publish(TOPIC, payload),
  );
  close(subscribers);
  await server.close();
  return result;
}

async function redis(url: string): Promise<Result> {
  const brokers = [await RedisBroker.connect({ url }), await RedisBroker.connect({ url })];
  const servers: Server[] = [];
  for (const broker of brokers) {
    servers.push(
      await serve({
        hostname: "127.0.0.1",
        port: 0,
        broker,
        onConnection: (channel) => channel.subscribe(TOPIC),
      }),
    );
  }
  const [publisher, receiver] = servers as [Server, Server];
  const subscribers = await openSubscribers(receiver.port, SUBSCRIBERS);
  await subscribed(() => receiver.subscriberCount(TOPIC));
  // Redis confirms a subscription asynchronously: wait until a message gets through.
  for (let i = 0; i < 1000 && subscribers[0]!.received === 0; i++) {
    await publisher.publish(TOPIC, new Uint8Array(SIZE));
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
  const result = await measure(
    "serve native, Redis",
    subscribers,
    (payload) => publisher.publish(TOPIC, payload),
  );
  close(subscribers);
  for (const server of servers) await server.close();
  for (const broker of brokers) await broker.close();
  return result;
}

interface BunWebSocket {
  subscribe(topic: string): void;
}
interface BunServer {
  readonly port: number;
  upgrade(request: Request): boolean;
  publish(topic: string, data: Uint8Array): number;
  subscriberCount(topic: string): number;
  stop(force?: boolean): void;
}
interface BunNamespace {
  serve(options: {
    port: number;
    hostname: string;
    fetch(request: Request, server: BunServer): Response | undefined;
    websocket: { open(ws: BunWebSocket): void; message(): void };
  }): BunServer;
}

async function bunNative(): Promise<Result> {
  const Bun = (globalThis as unknown as { Bun: BunNamespace }).Bun;
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: (request, server) =>
      server.upgrade(request) ? undefined : new Response(null, { status: 400 }),
    websocket: { open: (ws) => ws.subscribe(TOPIC), message: () => {} },
  });
  const subscribers = await openSubscribers(server.port, SUBSCRIBERS);
  await subscribed(() => server.subscriberCount(TOPIC));
  const result = await measure(
    "Bun.serve, Bun's publish",
    subscribers,
    (payload) => server.publish(TOPIC, payload),
  );
  close(subscribers);
  server.stop(true);
  return result;
}

/** A redis-server of our own on a free port, or `undefined` when there is none to start. */
async function startRedis(): Promise<{ url: string; stop(): void } | undefined> {
  if (spawnSync("redis-server", ["--version"], { stdio: "ignore" }).error !== undefined) return;
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
  const child = spawn("redis-server", [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
  ], { stdio: "ignore" });
  await new Promise((resolve) => setTimeout(resolve, 300));
  return { url: `redis://127.0.0.1:${port}`, stop: () => child.kill() };
}

const results: Result[] = [await embedded("native"), await embedded("raw")];
const ownRedis = values.redis === undefined ? await startRedis() : undefined;
const redisUrl = values.redis ?? ownRedis?.url;
if (redisUrl === undefined) console.error("fanout: no redis-server to start: Redis skipped");
else results.push(await redis(redisUrl));
ownRedis?.stop();
if (runtime === "bun") results.push(await bunNative());

console.log(
  `fan-out on ${runtime}: ${SUBSCRIBERS} subscribers, ${SIZE}-byte binary messages, ` +
    `${MESSAGES} publishes back to back, time to the last delivery the median of ${ROUNDS}`,
);
console.log("| server | publishes/s | deliveries/s | time to last delivery |");
console.log("| --- | ---: | ---: | ---: |");
for (const result of results) {
  const perSecond = Math.round(result.publishesPerSecond);
  const deliveries = Math.round(result.publishesPerSecond * SUBSCRIBERS);
  console.log(
    `| ${result.name} | ${perSecond.toLocaleString("en")} | ${deliveries.toLocaleString("en")} | ${
      result.lastDeliveryMs.toFixed(2)
    } ms |`,
  );
}
process.exit(0);
