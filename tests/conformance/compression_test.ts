// Groups 12 and 13 in spirit: permessage-deflate messages of many sizes under
// every parameter combination, fragmented compressed messages, and the
// violations a compressing peer can commit (RFC 7692 §6, §7).

import { test } from "node:test";
import assert from "node:assert/strict";
import { OPCODE } from "../../src/codec/mod.ts";
import {
  compress,
  createEnd,
  createPair,
  DEFAULT_PARAMS,
  describeParams,
  paramCombinations,
} from "./_compression.ts";
import { concat, patternText, peerFrame, ROLES, utf8 } from "./_harness.ts";

const SIZES = [16, 64, 256, 1024, 4096, 16384, 65536, 262144];

/** Text that compresses (repeated words) and bytes that hardly do (a long-period pattern). */
function messageOf(size: number, kind: "text" | "binary"): string | Uint8Array {
  return kind === "text" ? patternText(size) : randomish(size);
}

function randomish(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  let state = size | 1;
  for (let i = 0; i < size; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    bytes[i] = state >>> 24;
  }
  return bytes;
}

for (const params of paramCombinations()) {
  test(`messages of 16 B to 256 KiB round-trip compressed both ways (${describeParams(params)})`, async () => {
    const { client, server } = createPair(params);
    const sent: (string | Uint8Array)[] = [];
    for (const size of SIZES) {
      for (const kind of ["text", "binary"] as const) sent.push(messageOf(size, kind));
    }
    for (const message of sent) client.connection.send(message);
    assert.deepEqual(await server.received(sent.length), sent, "what the server received");
    for (const message of server.messages) server.connection.send(message);
    assert.deepEqual(await client.received(sent.length), sent, "what the client received");
    for (const end of [client, server]) {
      const data = end.written.filter((frame) => frame.opcode !== OPCODE.Close);
      assert.equal(data.length, sent.length);
      assert.ok(data.every((frame) => frame.rsv1 && frame.fin), "every message compressed");
    }
    client.connection.close(1000);
    assert.equal((await server.ended()).code, 1000);
  });
}

for (const role of ROLES) {
  for (const noContextTakeover of [false, true]) {
    test(
      `a ${role} ${
        noContextTakeover ? "resets its context after each message" : "keeps its context"
      } as agreed`,
      async () => {
        const params = {
          ...DEFAULT_PARAMS,
          [role === "server" ? "serverNoContextTakeover" : "clientNoContextTakeover"]:
            noContextTakeover,
        };
        const end = createEnd(role, params);
        // Random letters: they compress, but not into a few back-references by themselves.
        const message = Array.from(randomish(2000), (byte) => String.fromCharCode(97 + byte % 26))
          .join("");
        end.connection.send(message);
        end.connection.send(message);
        await waitForFrames(end, 2);
        const [first, second] = end.written.map((frame) => frame.payload.length);
        if (noContextTakeover) assert.equal(second, first);
        // With its context the repeat is a back-reference of a few bytes.
        else assert.ok(second! < first! / 4, `first ${first} bytes, second ${second}`);
        end.connection.close();
      },
    );
  }
}

test("a compressor idle past compressorIdleTimeout is freed, and the next message starts afresh", async () => {
  const message = Array.from(randomish(2000), (byte) => String.fromCharCode(97 + byte % 26)).join(
    "",
  );
  const sizes: number[] = [];
  for (const compressorIdleTimeout of [1, 0]) {
    const end = createEnd("server", DEFAULT_PARAMS, { compressorIdleTimeout });
    end.connection.send(message);
    await waitForFrames(end, 1);
    // The sweep runs once a second.
    await new Promise((resolve) => setTimeout(resolve, 1300));
    end.connection.send(message);
    await waitForFrames(end, 2);
    sizes.push(end.written[1]!.payload.length / end.written[0]!.payload.length);
    end.connection.fail(new Error("done"));
  }
  const [freed, kept] = sizes;
  assert.equal(freed, 1, "a fresh compressor compresses the repeat as the first");
  assert.ok(kept! < 0.25, `a kept compressor refers back: ratio ${kept}`);
});

test("a compressed message is fragmented with RSV1 on its first frame only", async () => {
  const { client, server } = createPair(DEFAULT_PARAMS, { fragmentSize: 100 });
  const message = randomish(1000);
  client.connection.send(message);
  assert.deepEqual(await server.received(1), [message]);
  const frames = client.written;
  assert.ok(frames.length >= 10, `${frames.length} frames`);
  assert.deepEqual(
    frames.map((frame) => [frame.opcode, frame.rsv1, frame.fin]),
    frames.map((_, i) => [
      i === 0 ? OPCODE.Binary : OPCODE.Continuation,
      i === 0,
      i === frames.length - 1,
    ]),
  );
});

test("messages under the threshold, refused by shouldCompress or sent with compress false go uncompressed", async () => {
  const raw = new WeakSet<Uint8Array>();
  const { client, server } = createPair(DEFAULT_PARAMS, {
    threshold: 100,
    shouldCompress: (data) => typeof data === "string" || !raw.has(data),
  });
  const image = new Uint8Array(3000);
  raw.add(image);
  client.connection.send(patternText(99));
  client.connection.send(patternText(100));
  client.connection.send(patternText(5000), false);
  client.connection.send(image);
  client.connection.send(new Uint8Array(3000));
  await server.received(5);
  assert.deepEqual(client.written.map((frame) => frame.rsv1), [false, true, false, false, true]);
  assert.deepEqual(server.messages, [
    patternText(99),
    patternText(100),
    patternText(5000),
    new Uint8Array(3000),
    new Uint8Array(3000),
  ]);
});

test("a small message sent after a large compressed one does not overtake it, nor does close", async () => {
  const { client, server } = createPair(DEFAULT_PARAMS, { threshold: 1000 });
  const large = patternText(200_000);
  client.connection.send(large);
  client.connection.send("small");
  client.connection.close(1000, "after");
  assert.equal(client.written.length, 0, "nothing written before the compression finished");
  await server.ended();
  assert.deepEqual(server.messages, [large, "small"]);
  assert.deepEqual(client.written.map((frame) => frame.opcode), [
    OPCODE.Text,
    OPCODE.Text,
    OPCODE.Close,
  ]);
  assert.equal(server.end?.code, 1000);
});

for (const role of ROLES) {
  test(`a ${role} delivers a compressed message before the frames that followed it in one chunk`, async () => {
    const end = createEnd(role, DEFAULT_PARAMS);
    const large = patternText(100_000);
    end.connection.receive(concat(
      peerFrame(role, { opcode: OPCODE.Text, payload: compress(utf8(large)), rsv: 4 }),
      peerFrame(role, { opcode: OPCODE.Text, payload: "small" }),
      peerFrame(role, { opcode: OPCODE.Ping, payload: "p" }),
      peerFrame(role, { opcode: OPCODE.Close, payload: Uint8Array.of(0x03, 0xe8) }),
    ));
    assert.deepEqual(end.messages, [], "nothing delivered before inflating");
    assert.ok(end.connection.receiving instanceof Promise, "receiving while inflating");
    const info = await end.ended();
    assert.deepEqual(end.messages, [large, "small"]);
    assert.deepEqual(end.written.map((frame) => frame.opcode), [OPCODE.Pong, OPCODE.Close]);
    assert.deepEqual(info, { code: 1000, reason: "", wasClean: true });
  });

  test(`a ${role} reassembles a fragmented compressed message with a ping between fragments`, async () => {
    const end = createEnd(role, DEFAULT_PARAMS);
    const message = randomish(5000);
    const compressed = compress(message);
    const cut = [0, 10, 11, 2000, compressed.length];
    const frames = [];
    for (let i = 0; i + 1 < cut.length; i++) {
      frames.push(peerFrame(role, {
        opcode: i === 0 ? OPCODE.Binary : OPCODE.Continuation,
        payload: compressed.subarray(cut[i], cut[i + 1]),
        fin: i + 2 === cut.length,
        rsv: i === 0 ? 4 : 0,
      }));
      if (i === 1) frames.push(peerFrame(role, { opcode: OPCODE.Ping, payload: "mid" }));
    }
    for (const frame of frames) end.connection.receive(frame);
    assert.deepEqual(await end.received(1), [message]);
    assert.equal(end.written[0]?.opcode, OPCODE.Pong);
  });

  test(`a ${role} accepts an empty compressed message, as the single byte 0x00`, async () => {
    const end = createEnd(role, DEFAULT_PARAMS);
    end.connection.receive(
      peerFrame(role, { opcode: OPCODE.Text, payload: Uint8Array.of(0), rsv: 4 }),
    );
    end.connection.receive(
      peerFrame(role, { opcode: OPCODE.Binary, payload: compress(new Uint8Array(0)), rsv: 4 }),
    );
    assert.deepEqual(await end.received(2), ["", new Uint8Array(0)]);
  });

  const violations: [string, () => Uint8Array[], number][] = [
    [
      "RSV1 on a continuation frame",
      () => [
        peerFrame(role, { opcode: OPCODE.Text, payload: compress(utf8("ab")), fin: false, rsv: 4 }),
        peerFrame(role, { opcode: OPCODE.Continuation, payload: "", rsv: 4 }),
      ],
      1002,
    ],
    [
      "RSV1 on a ping",
      () => [peerFrame(role, { opcode: OPCODE.Ping, payload: "x", rsv: 4 })],
      1002,
    ],
    [
      "RSV1 on a close frame",
      () => [peerFrame(role, { opcode: OPCODE.Close, payload: Uint8Array.of(3, 0xe8), rsv: 4 })],
      1002,
    ],
    [
      "RSV2 on a text frame",
      () => [peerFrame(role, { opcode: OPCODE.Text, payload: "x", rsv: 2 })],
      1002,
    ],
    [
      "invalid UTF-8 once inflated",
      () => [
        peerFrame(role, {
          opcode: OPCODE.Text,
          payload: compress(Uint8Array.of(0x61, 0xff)),
          rsv: 4,
        }),
      ],
      1007,
    ],
    [
      "data that is not deflate",
      () => [
        peerFrame(role, {
          opcode: OPCODE.Binary,
          payload: Uint8Array.of(0xff, 0xff, 0xff),
          rsv: 4,
        }),
      ],
      1007,
    ],
    [
      "a message over maxMessageSize once inflated",
      () => [
        peerFrame(role, {
          opcode: OPCODE.Binary,
          payload: compress(new Uint8Array(70_000)),
          rsv: 4,
        }),
      ],
      1009,
    ],
  ];
  for (const [name, frames, code] of violations) {
    test(`a ${role} fails the connection with ${code} on ${name}`, async () => {
      const end = createEnd(role, DEFAULT_PARAMS, { maxMessageSize: 65536 });
      for (const frame of frames()) end.connection.receive(frame);
      const info = await end.ended();
      assert.equal(info.code, code);
      assert.equal(end.written.at(-1)?.opcode, OPCODE.Close);
      assert.deepEqual(end.messages, []);
    });
  }

  test(`a ${role} without the extension fails RSV1 with 1002`, async () => {
    const end = createEnd(role, undefined);
    end.connection.receive(
      peerFrame(role, { opcode: OPCODE.Text, payload: compress(utf8("hi")), rsv: 4 }),
    );
    assert.equal((await end.ended()).code, 1002);
  });
}

test("a deflate bomb stops at maxMessageSize with 1009, without inflating it all", async () => {
  const end = createEnd("server", DEFAULT_PARAMS, { maxMessageSize: 1024 * 1024 });
  // 64 MiB of zeros, about 64 KiB compressed.
  const bomb = compress(new Uint8Array(64 * 1024 * 1024));
  assert.ok(bomb.length < 100_000, `${bomb.length} bytes compressed`);
  const before = process.memoryUsage().rss;
  const started = performance.now();
  end.connection.receive(peerFrame("server", { opcode: OPCODE.Binary, payload: bomb, rsv: 4 }));
  const info = await end.ended();
  const grew = process.memoryUsage().rss - before;
  assert.equal(info.code, 1009);
  assert.deepEqual(end.messages, []);
  // Inflating all 64 MiB would hold it all; stopping early holds about the limit.
  assert.ok(grew < 32 * 1024 * 1024, `RSS grew by ${grew} bytes`);
  assert.ok(performance.now() - started < 5000);
});

test("a connection that ends while compressing rejects the messages waiting to be sent", async () => {
  const end = createEnd("client", DEFAULT_PARAMS);
  end.connection.send(patternText(100_000));
  const sending = end.connection.sending;
  assert.ok(sending instanceof Promise);
  end.connection.receiveEnd();
  await assert.rejects(sending, { name: "ConnectionClosedError" });
  assert.equal(end.end?.code, 1006);
});

async function waitForFrames(end: { written: unknown[] }, count: number): Promise<void> {
  const deadline = performance.now() + 5000;
  while (end.written.length < count) {
    if (performance.now() > deadline) throw new Error(`fewer than ${count} frames written`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

test("random bytes as compressed data end in a message or 1007, never a hang or a crash", async () => {
  let state = 99;
  const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) >>> 24;
  const outcomes = { message: 0, invalid: 0 };
  for (let round = 0; round < 200; round++) {
    const payload = Uint8Array.from({ length: 1 + (next() % 64) }, next);
    const end = createEnd("client", DEFAULT_PARAMS);
    end.connection.receive(peerFrame("client", { opcode: OPCODE.Binary, payload, rsv: 4 }));
    // A valid stream that has not ended yet leaves the message incomplete: close after it.
    end.connection.receive(peerFrame("client", { opcode: OPCODE.Close }));
    const info = await end.ended();
    if (info.code === 1007) outcomes.invalid++;
    else if (end.messages.length === 1 && info.code === 1005) outcomes.message++;
    else {assert.fail(
        `round ${round}: ended with ${info.code} after ${end.messages.length} messages`,
      );}
  }
  assert.ok(outcomes.invalid > 0, `outcomes ${JSON.stringify(outcomes)}`);
});
