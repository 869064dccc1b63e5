import { test } from "node:test";
import assert from "node:assert/strict";
import { connect, EmbeddedBroker, serve, type ServeMode, type Server } from "../mod.ts";
import { delay, within } from "./_servers.ts";
import { Client, startServer } from "./_topics.ts";

const RUNTIME = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";
const MODES: ServeMode[] = ["native", "raw"];

for (const mode of MODES) {
  const where = `serve (${mode}) on ${RUNTIME}`;

  test(`${where}: a publish reaches every subscriber once, text and binary, and no one else`, async () => {
    const server = await startServer({ mode });
    try {
      const [a, b, outsider] = await Promise.all([1, 2, 3].map(() => Client.open(server)));
      await a!.subscribe("news");
      await b!.subscribe("news");
      assert.equal(server.subscriberCount("news"), 2);
      assert.equal(server.subscriberCount("sport"), 0);
      const large = new Uint8Array(70_000).map((_, i) => i % 251);
      assert.equal(await server.publish("news", "héllo"), 2);
      assert.equal(await server.publish("news", large), 2);
      assert.equal(await server.publish("news", new Uint8Array([1, 2, 3]).buffer), 2);
      assert.equal(await server.publish("sport", "nobody"), 0);
      for (const client of [a!, b!]) {
        const [, text, bytes, small] = await client.waitFor(4);
        assert.equal(text, "héllo");
        assert.ok(bytes instanceof Uint8Array);
        assert.deepEqual([...bytes], [...large]);
        assert.deepEqual(small, new Uint8Array([1, 2, 3]));
      }
      await delay(50);
      assert.equal(outsider!.received.length, 0);
      assert.equal(a!.received.length, 4);
      await Promise.all([a!.close(), b!.close(), outsider!.close()]);
    } finally {
      await within(server.close(), "server close");
    }
  });

  test(`${where}: a connection subscribed and published to as it opens gets the message first`, async () => {
    const started: { server?: Server } = {};
    started.server = await serve({
      mode,
      hostname: "127.0.0.1",
      port: 0,
      onError: () => {},
      onConnection: (channel) => {
        channel.subscribe("joined");
        started.server!.publish("joined", `welcome ${started.server!.subscriberCount("joined")}`);
      },
    });
    const server = started.server;
    try {
      const first = await Client.open(server);
      assert.deepEqual(await first.waitFor(1), ["welcome 1"]);
      const second = await Client.open(server);
      assert.deepEqual(await second.waitFor(1), ["welcome 2"]);
      assert.deepEqual(await first.waitFor(2), ["welcome 1", "welcome 2"]);
      await Promise.all([first.close(), second.close()]);
    } finally {
      await within(server.close(), "server close");
    }
  });

  test(`${where}: except leaves out the sender, and unsubscribe and close end subscriptions`, async () => {
    const server = await startServer({ mode });
    try {
      const [a, b] = await Promise.all([Client.open(server), Client.open(server)]);
      await a!.subscribe("room");
      await b!.subscribe("room");
      const [channelA, channelB] = [...server.connections];
      assert.deepEqual(channelA!.subscriptions, ["room"]);
      assert.equal(channelB!.isSubscribed("room"), true);
      assert.equal(channelB!.isSubscribed("news"), false);

      await a!.send("from a"); // published to room except a
      assert.equal((await b!.waitFor(2))[1], "from a");
      await delay(50);
      assert.deepEqual(a!.received, ["ok room"]);

      await b!.send("unsub room");
      await b!.waitFor(3);
      assert.equal(server.subscriberCount("room"), 1);
      assert.equal(await server.publish("room", "after unsubscribe"), 1);
      assert.equal((await a!.waitFor(2))[1], "after unsubscribe");

      await a!.close();
      for (let i = 0; i < 100 && server.subscriberCount("room") > 0; i++) await delay(10);
      assert.equal(server.subscriberCount("room"), 0);
      assert.equal(await server.publish("room", "to nobody"), 0);
      await b!.close();
    } finally {
      await within(server.close(), "server close");
    }
  });

  test(`${where}: a subscriber that stops reading is closed with 1008, the others get everything`, async () => {
    const server = await startServer({
      mode,
      maxSubscriberBacklog: 1024 * 1024,
      closeTimeout: 20_000,
    });
    try {
      const fast = await Client.open(server);
      await fast.subscribe("flood");
      // The slow client subscribes, then reads nothing until the flood is over.
      const slow = await within(
        connect(`ws://127.0.0.1:${server.port}/`, {
          readableHighWaterMark: 1,
        }),
        "connect",
      );
      const writer = slow.writable.getWriter();
      await writer.write("sub flood");
      const reader = slow.readable.getReader();
      assert.deepEqual(await within(reader.read(), "subscribe answer"), {
        value: "ok flood",
        done: false,
      });
      const chunk = new Uint8Array(64 * 1024).fill(7);
      const rounds = 400; // 25 MiB: more than socket buffers hold
      let queued = 0;
      for (let i = 0; i < rounds; i++) {
        queued += await server.publish("flood", chunk);
        // The fast client keeps up: it has read all but the last few.
        if (i % 8 === 7) await fast.waitFor(1 + i + 1, "the flood so far");
      }
      assert.ok(queued < 2 * rounds, `the slow subscriber was let go (${queued} sends)`);
      await fast.waitFor(1 + rounds, "the whole flood");
      // Reading now, the slow client gets what was queued before, then the close.
      let count = 0;
      for (let i = 0; i <= rounds; i++) {
        const { done } = await within(reader.read(), "slow read").catch(() => ({ done: true }));
        if (done) break;
        count++;
      }
      assert.ok(count < rounds, `the slow client got ${count} of ${rounds}`);
      const closed = await within(slow.closed, "slow close", 20_000);
      assert.equal(closed.code, 1008);
      assert.equal(server.subscriberCount("flood"), 1);
      await fast.close();
    } finally {
      await within(server.close(), "server close", 20_000);
    }
  });
}

test(`servers sharing an EmbeddedBroker reach each other's subscribers once on ${RUNTIME}`, async () => {
  const broker = new EmbeddedBroker();
  const native = await startServer({ mode: "native", broker });
  const raw = await startServer({ mode: "raw", broker });
  try {
    const [onNative, onRaw, alsoOnRaw] = await Promise.all([
      Client.open(native),
      Client.open(raw),
      Client.open(raw),
    ]);
    await onNative!.subscribe("room");
    await onRaw!.subscribe("room");
    await alsoOnRaw!.subscribe("room");
    await onNative!.send("from native"); // to room, except the sender
    await onRaw!.send(new Uint8Array([0, 255]));
    assert.deepEqual(await onRaw!.waitFor(2), ["ok room", "from native"]);
    assert.deepEqual(await alsoOnRaw!.waitFor(3), [
      "ok room",
      "from native",
      new Uint8Array([0, 255]),
    ]);
    assert.deepEqual(await onNative!.waitFor(2), ["ok room", new Uint8Array([0, 255])]);
    await delay(50);
    assert.equal(onNative!.received.length, 2);
    assert.equal(onRaw!.received.length, 2);
    assert.equal(alsoOnRaw!.received.length, 3);
    assert.equal(native.subscriberCount("room"), 1);
    assert.equal(raw.subscriberCount("room"), 2);
    await Promise.all([onNative!.close(), onRaw!.close(), alsoOnRaw!.close()]);
  } finally {
    await within(native.close(), "server close");
    await within(raw.close(), "server close");
  }
});

test("publish and subscribe refuse a topic that is not a string", async () => {
  const server = await startServer({});
  try {
    await assert.rejects(async () => await server.publish(1 as unknown as string, "x"), TypeError);
    await assert.rejects(
      async () => await server.publish("t", {} as unknown as string),
      /Cannot publish message: expected a string/,
    );
    const client = await Client.open(server);
    const [channel] = [...server.connections];
    assert.throws(() => channel!.subscribe(undefined as unknown as string), TypeError);
    await client.close();
  } finally {
    await within(server.close(), "server close");
  }
});
