import { test } from "node:test";
import assert from "node:assert/strict";
import { type Channel, connect, type Message } from "../../mod.ts";
import { RedisServer, redisSkip } from "../_redis.ts";
import { ExampleProcess, TIMEOUT, within } from "./_process.ts";

/** A client that records what it receives. */
async function client(url: string): Promise<{ channel: Channel; received: Message[] }> {
  const channel = await within(connect(url), "connection");
  const received: Message[] = [];
  channel.readable.pipeTo(new WritableStream({ write: (m) => void received.push(m) })).catch(
    () => {},
  );
  return { channel, received };
}

/** Waits until `check` holds, polling. */
async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + TIMEOUT;
  for (let i = 0; i < 10_000 && !check(); i++) {
    if (Date.now() > deadline) throw new Error(`no ${what} within ${TIMEOUT} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function send(channel: Channel, message: Message): Promise<void> {
  const writer = channel.writable.getWriter();
  await within(writer.write(message), "write");
  writer.releaseLock();
}

test("redis_chat: clients of two processes talk through Redis, and through its restart", {
  skip: redisSkip,
  timeout: 6 * TIMEOUT,
}, async () => {
  const redis = await RedisServer.start();
  const servers = ["native", "raw"].map((mode) =>
    new ExampleProcess("redis_chat", ["--port", "0", "--redis", redis.url, "--mode", mode])
  );
  try {
    const [first, second] = await Promise.all(servers.map((server) => server.listening()));
    const alice = await client(`${first}/lobby`);
    const bob = await client(`${second}/lobby`);
    const carol = await client(`${first}/lobby`);
    const elsewhere = await client(`${second}/other`);
    // A room subscribed to in both processes: wait until a message crosses.
    for (let i = 0; i < 100 && bob.received.length === 0; i++) {
      await send(alice.channel, `hello ${i}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await until("a message from alice at bob", () => bob.received.length > 0);
    await send(bob.channel, new Uint8Array([1, 2, 3]));
    await until("bob's bytes at alice", () => alice.received.some((m) => m instanceof Uint8Array));
    assert.deepEqual(
      alice.received.find((m) => m instanceof Uint8Array),
      new Uint8Array([1, 2, 3]),
    );
    await until("bob's bytes at carol", () => carol.received.some((m) => m instanceof Uint8Array));
    assert.ok(!alice.received.some((m) => typeof m === "string"), "alice never hears herself");
    assert.deepEqual(elsewhere.received, []);

    await redis.stop();
    // Carol, in alice's process, still hears her; alice is told bob's process did not.
    await send(alice.channel, "while Redis is down");
    await until(
      "the failure notice",
      () => alice.received.some((m) => typeof m === "string" && m.startsWith("! Cannot publish")),
    );
    await until("the local message", () => carol.received.includes("while Redis is down"));

    await redis.restart();
    const before = alice.received.length;
    for (let i = 0; i < 200 && !alice.received.slice(before).some((m) => m === "back"); i++) {
      await send(bob.channel, "back");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(
      alice.received.slice(before).some((m) => m === "back"),
      "bob is heard again after the restart",
    );
    assert.ok(!bob.received.includes("while Redis is down"), "nothing is delivered twice or late");
    for (const { channel } of [alice, bob, carol, elsewhere]) {
      channel.close(1000);
      await within(channel.closed, "close");
    }
  } finally {
    for (const server of servers) await server.stop();
    await redis.stop();
  }
});
