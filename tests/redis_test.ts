import { test } from "node:test";
import assert from "node:assert/strict";
import type { Server } from "../mod.ts";
import { PublishError, RedisBroker } from "../src/redis.ts";
import { delay, within } from "./_servers.ts";
import { Client, startServer } from "./_topics.ts";
import { RedisServer, redisSkip } from "./_redis.ts";

const RUNTIME = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";
/** Long enough for a redis-server to start and the brokers to reconnect on a busy machine. */
const TIMEOUT = 60_000;

/** Two servers, native and raw, each with its own broker, as two processes would have. */
async function withServers(
  redis: RedisServer,
  body: (servers: [Server, Server], brokers: [RedisBroker, RedisBroker]) => Promise<void>,
): Promise<void> {
  const options = { url: redis.url, maxReconnectDelay: 200 };
  const brokers = [await RedisBroker.connect(options), await RedisBroker.connect(options)];
  const servers = [
    await startServer({ mode: "native", broker: brokers[0]! }),
    await startServer({ mode: "raw", broker: brokers[1]! }),
  ];
  try {
    await body(servers as [Server, Server], brokers as [RedisBroker, RedisBroker]);
  } finally {
    for (const server of servers) await within(server.close(), "server close");
    for (const broker of brokers) await within(broker.close(), "broker close");
  }
}

/** Waits until `check` holds, polling; fails after `ms`. */
async function until(what: string, check: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (let i = 0; i < 10_000 && !check(); i++) {
    if (Date.now() > deadline) throw new Error(`no ${what} within ${ms} ms`);
    await delay(20);
  }
}

test(`servers with a RedisBroker each get the other's publishes, text and binary, on ${RUNTIME}`, {
  skip: redisSkip,
  timeout: TIMEOUT,
}, async () => {
  const redis = await RedisServer.start();
  try {
    await withServers(redis, async ([first, second]) => {
      const [a, b, c] = [
        await Client.open(first),
        await Client.open(second),
        await Client.open(second),
      ];
      for (const client of [a, b, c]) await client.subscribe("room");
      await a.send("from the first");
      assert.deepEqual(await b.waitFor(2), ["ok room", "from the first"]);
      // Sent once the first arrived: messages from two servers keep no order between them.
      await b.send(new Uint8Array([0, 1, 254, 255]));
      assert.deepEqual(await c.waitFor(3), [
        "ok room",
        "from the first",
        new Uint8Array([0, 1, 254, 255]),
      ]);
      assert.deepEqual(await a.waitFor(2), ["ok room", new Uint8Array([0, 1, 254, 255])]);
      // From the server's side too, with a text that is not ASCII.
      assert.equal(await second.publish("room", "héllo ✓"), 2);
      assert.equal((await a.waitFor(3))[2], "héllo ✓");
      await delay(100);
      // Each message once: the publishing server's own subscribers are not sent it again.
      assert.deepEqual([a.received.length, b.received.length, c.received.length], [3, 3, 4]);
      for (const client of [a, b, c]) await client.close();
    });
  } finally {
    await redis.stop();
  }
});

test(
  `a RedisBroker reports publishes as failed while Redis is down, and resubscribes after its restart, on ${RUNTIME}`,
  {
    skip: redisSkip,
    timeout: TIMEOUT,
  },
  async () => {
    const redis = await RedisServer.start();
    try {
      await withServers(redis, async ([first, second], brokers) => {
        const [a, b] = [await Client.open(first), await Client.open(second)];
        await a.subscribe("room");
        await b.subscribe("room");
        await first.publish("room", "before");
        assert.equal((await b.waitFor(2))[1], "before");

        await redis.stop();
        await until("disconnection", () => !brokers[0].connected && !brokers[1].connected);
        const failure = await first.publish("room", "during").then(() => undefined, (e) => e);
        assert.ok(failure instanceof PublishError, `expected a PublishError, got ${failure}`);
        assert.equal(failure.topic, "room");
        assert.match(failure.message, /^Cannot publish message to topic room: /);
        // The publishing server's own subscribers have it all the same.
        const [subscriber] = [...first.connections];
        assert.ok(subscriber);
        assert.equal(first.subscriberCount("room"), 1);

        await redis.restart();
        await until("reconnection", () => brokers[0].connected && brokers[1].connected);
        // The subscription comes back with the connection: publish until one gets through.
        let delivered = false;
        for (let i = 0; i < 100 && !delivered; i++) {
          await first.publish("room", `after ${i}`).catch(() => {});
          await delay(50);
          delivered = b.received.some((m) => typeof m === "string" && m.startsWith("after "));
        }
        assert.ok(delivered, "a publish after the restart reached the other server");
        assert.ok(!b.received.includes("during"), "the failed publish did not arrive later");
        await second.publish("room", "back");
        await until("the other way back", () => a.received.includes("back"));
        await a.close();
        await b.close();
      });
    } finally {
      await redis.stop();
    }
  },
);

test("RedisBroker.connect rejects when Redis cannot be reached in time", {
  skip: redisSkip,
  timeout: TIMEOUT,
}, async () => {
  const redis = await RedisServer.start();
  await redis.stop();
  await assert.rejects(
    RedisBroker.connect({ url: redis.url, connectTimeout: 500 }),
    /^Error: Cannot connect to Redis: /,
  );
});

test(`a server and its RedisBroker close while Redis is down, on ${RUNTIME}`, {
  skip: redisSkip,
  timeout: TIMEOUT,
}, async () => {
  const redis = await RedisServer.start();
  try {
    const broker = await RedisBroker.connect({ url: redis.url, maxReconnectDelay: 200 });
    const server = await startServer({ broker });
    const client = await Client.open(server);
    await client.subscribe("room");
    await redis.stop();
    await until("disconnection", () => !broker.connected);
    await within(server.close(), "server close");
    assert.equal((await within(client.channel.closed, "client close")).code, 1001);
    await within(broker.close(), "broker close");
    await assert.rejects(broker.publish("room", "after close"), PublishError);
  } finally {
    await redis.stop();
  }
});

test(`a publish Redis does not confirm in time is reported failed, on ${RUNTIME}`, {
  skip: redisSkip,
  timeout: TIMEOUT,
}, async () => {
  const redis = await RedisServer.start();
  const broker = await RedisBroker.connect({ url: redis.url, publishTimeout: 300 });
  try {
    await broker.publish("room", "answered");
    redis.pause();
    const failure = await within(broker.publish("room", "unanswered"), "publish failure").then(
      () => undefined,
      (error) => error,
    );
    assert.ok(failure instanceof PublishError, `expected a PublishError, got ${failure}`);
    assert.match(failure.message, /^Cannot publish message to topic room: Redis did not take it/);
    redis.resume();
    // Redis answers what waited, then the publishes after it.
    let answered = false;
    for (let i = 0; i < 100 && !answered; i++) {
      answered = await broker.publish("room", "answered again").then(() => true, () => false);
    }
    assert.ok(answered, "a publish succeeds once Redis runs again");
  } finally {
    redis.resume();
    await broker.close();
    await redis.stop();
  }
});
