import { test } from "node:test";
import assert from "node:assert/strict";
import { type Channel, type ChannelOptions, EmbeddedBroker, fromByteStreams } from "../mod.ts";
import { encodeFrame, OPCODE } from "../src/codec/mod.ts";
import type { ServerChannel } from "../src/_accept.ts";
import type { Message } from "../src/protocol/connection.ts";
import {
  NATIVE_TOPICS,
  type PublishTarget,
  QUEUE_PUBLISHED,
  QUEUED_BYTES,
} from "../src/protocol/_publish_target.ts";
import { Topics } from "../src/_topics.ts";

const ADDRESS = { transport: "tcp", hostname: "127.0.0.1", port: 1 } as const;

function topics(): Topics {
  return new Topics({
    broker: new EmbeddedBroker(),
    maxSubscriberBacklog: 1024,
    onError: (error) => {
      throw error;
    },
  });
}

/** A server channel over memory whose every transport write is recorded, never finishing the first. */
function recordedChannel(options: Partial<ChannelOptions> = {}): {
  channel: ServerChannel;
  writes: Uint8Array[];
} {
  const writes: Uint8Array[] = [];
  const channel = fromByteStreams({
    readable: new ReadableStream(),
    writable: new WritableStream({
      write: (chunk) => {
        writes.push(chunk);
      },
    }),
  }, { role: "server", ...options });
  return {
    channel: Object.assign(channel, { request: new Request("http://x/"), remoteAddress: ADDRESS }),
    writes,
  };
}

/** Waits for the writes of the channels to reach their transports. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

test("a publish encodes its frame once and writes the same bytes to every subscriber", async () => {
  const registry = topics();
  const recorded = [recordedChannel(), recordedChannel(), recordedChannel()];
  for (const { channel } of recorded) registry.attach(channel).subscribe("t");
  assert.equal(await registry.publish("t", new Uint8Array([1, 2, 3])), 3);
  await settle();
  const frames = recorded.map(({ writes }) => writes[0]);
  assert.deepEqual(
    frames[0],
    encodeFrame({ fin: true, opcode: OPCODE.Binary, payload: new Uint8Array([1, 2, 3]) }),
  );
  // One buffer, shared: the frame was encoded once.
  assert.ok(frames[0] === frames[1] && frames[1] === frames[2]);
});

test("a subscriber with fragmentation or an extension gets the message encoded for it", async () => {
  const registry = topics();
  const plain = recordedChannel();
  const fragmented = recordedChannel({ fragmentSize: 2 });
  const extended = recordedChannel({ extensions: "permessage-deflate" });
  for (const { channel } of [plain, fragmented, extended]) registry.attach(channel).subscribe("t");
  await registry.publish("t", "abc");
  await settle();
  const written = (writes: Uint8Array[]) => writes.flatMap((chunk) => [...chunk]);
  assert.deepEqual(written(plain.writes), [0x81, 3, 97, 98, 99]);
  assert.deepEqual(written(fragmented.writes), [0x01, 2, 97, 98, 0x80, 1, 99]);
  assert.notEqual(extended.writes[0], plain.writes[0]);
});

/** A channel as Bun's is: its runtime has topics of its own. Records what is done to it. */
function nativeChannel(queued = 0) {
  const calls: string[] = [];
  let resolveClosed!: () => void;
  const channel = {
    closed: new Promise<void>((resolve) => resolveClosed = resolve),
    close: (code?: number) => {
      calls.push(`close ${code}`);
      resolveClosed();
    },
    [QUEUE_PUBLISHED]: () => calls.push("queued by us"),
    [QUEUED_BYTES]: queued,
    [NATIVE_TOPICS]: {
      subscribe: (topic: string) => calls.push(`subscribe ${topic}`),
      unsubscribe: (topic: string) => calls.push(`unsubscribe ${topic}`),
      publishToOthers: (topic: string, message: Message) =>
        calls.push(`others ${topic} ${message}`),
    },
  };
  return { channel: channel as unknown as PublishTarget & ServerChannel, calls };
}

test("on a runtime with its own topics, subscriptions are mirrored there and it sends once", async () => {
  const registry = topics();
  const published: string[] = [];
  registry.useNativePublish((topic, message) => published.push(`${topic} ${message}`));
  const a = nativeChannel();
  const b = nativeChannel();
  const slow = nativeChannel(4096);
  const [, attachedB] = [a, b, slow].map(({ channel }) => {
    const attached = registry.attach(channel);
    attached.subscribe("t");
    return attached;
  });
  assert.equal(await registry.publish("t", "hi"), 2);
  assert.deepEqual(published, ["t hi"]);
  // The slow one is closed before the runtime sends; nobody is sent to one by one.
  assert.deepEqual(slow.calls, ["subscribe t", "close 1008"]);
  assert.equal(await registry.publish("t", "not to a", { except: a.channel as Channel }), 1);
  assert.deepEqual(published, ["t hi"]);
  assert.deepEqual(a.calls, ["subscribe t", "others t not to a"]);
  attachedB!.unsubscribe("t");
  assert.deepEqual(b.calls, ["subscribe t", "unsubscribe t"]);
});
