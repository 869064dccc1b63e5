import { test } from "node:test";
import assert from "node:assert/strict";
import { connect, LimitError, listen, type Message, type ServerChannel } from "../mod.ts";
import { type Frame, FrameParser, OPCODE } from "../src/codec/mod.ts";
import {
  binaryFrame,
  concat,
  continuationFrame,
  createHarness,
  pingFrame,
  textFrame,
} from "./conformance/_harness.ts";
import { within } from "./_servers.ts";

function parse(limit: number, chunks: Uint8Array[]): { frames: Frame[]; skipped: LimitError[] } {
  const frames: Frame[] = [];
  const skipped: LimitError[] = [];
  const parser = new FrameParser({
    role: "server",
    maxMessageSize: limit,
    onOversizedMessage: (error) => skipped.push(error),
  });
  for (const chunk of chunks) {
    parser.push(
      chunk.slice(),
      (frame) => frames.push({ ...frame, payload: frame.payload.slice() }),
    );
  }
  return { frames, skipped };
}

test("a parser with onOversizedMessage drops a message over the limit, reports it once, and reads on", () => {
  const bytes = concat(
    binaryFrame("server", new Uint8Array(100_000)),
    textFrame("server", "next"),
  );
  for (const size of [bytes.length, 7, 1]) {
    const chunks: Uint8Array[] = [];
    for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
    const { frames, skipped } = parse(1024, chunks);
    assert.equal(skipped.length, 1);
    assert.ok(skipped[0] instanceof LimitError);
    assert.equal(skipped[0].closeCode, 1009);
    assert.equal(skipped[0].limit, 1024);
    assert.deepEqual(frames.map((frame) => frame.opcode), [OPCODE.Text]);
    assert.equal(new TextDecoder().decode(frames[0]!.payload), "next");
  }
});

test("a parser skips the rest of a fragmented message once it goes over, and still hands out pings", () => {
  const bytes = concat(
    binaryFrame("server", new Uint8Array(600), false),
    continuationFrame("server", new Uint8Array(600), false),
    pingFrame("server", "p"),
    continuationFrame("server", new Uint8Array(600), true),
    textFrame("server", "after"),
  );
  const { frames, skipped } = parse(1000, [bytes]);
  assert.equal(skipped.length, 1);
  // The first fragment came out before the message was known to be too big.
  assert.deepEqual(frames.map((frame) => frame.opcode), [OPCODE.Binary, OPCODE.Ping, OPCODE.Text]);
});

test("a connection drops the fragments it held of a skipped message and delivers the next whole", () => {
  const skipped: LimitError[] = [];
  const h = createHarness("server", {
    echo: false,
    maxMessageSize: 1000,
    onOversizedMessage: (error) => skipped.push(error),
  });
  h.feed(concat(
    textFrame("server", "é".repeat(300), false),
    continuationFrame("server", "é".repeat(300), false),
    continuationFrame("server", "tail", true),
    binaryFrame("server", Uint8Array.of(1, 2), false),
    continuationFrame("server", Uint8Array.of(3), true),
    textFrame("server", "ab", false),
    continuationFrame("server", "cd", true),
  ));
  assert.equal(skipped.length, 1);
  assert.deepEqual(h.messages, [Uint8Array.of(1, 2, 3), "abcd"]);
  assert.equal(h.connection.state, "open");
  assert.deepEqual(h.ends, []);
});

test("without onOversizedMessage a message over the limit still fails with 1009", () => {
  const parser = new FrameParser({ role: "server", maxMessageSize: 1024 });
  assert.throws(
    () => parser.push(binaryFrame("server", new Uint8Array(2000)), () => {}),
    (error: unknown) => (error as { closeCode?: number }).closeCode === 1009,
  );
});

test("a server with onOversizedMessage reports an oversized message and keeps the connection open", async () => {
  const reported: LimitError[] = [];
  let resolveChannel!: (channel: ServerChannel) => void;
  const accepted = new Promise<ServerChannel>((resolve) => resolveChannel = resolve);
  const server = await listen({
    hostname: "127.0.0.1",
    port: 0,
    maxMessageSize: 1024,
    onOversizedMessage: (error) => reported.push(error),
  }, resolveChannel);
  try {
    const client = await connect(`ws://127.0.0.1:${server.port}`);
    const channel = await within(accepted, "server connection");
    const writer = client.writable.getWriter();
    await writer.write("a".repeat(5000));
    await writer.write(new Uint8Array(3000));
    await writer.write("small");
    const reader = channel.readable.getReader();
    const { value } = await within(reader.read(), "message");
    assert.equal(value as Message, "small");
    assert.equal(reported.length, 2);
    assert.ok(reported.every((error) => error instanceof LimitError));
    // Still open both ways.
    await channel.writable.getWriter().write("reply");
    assert.deepEqual(await within(client.readable.getReader().read(), "reply"), {
      value: "reply",
      done: false,
    });
    client.close(1000);
    assert.equal((await within(channel.closed, "close")).code, 1000);
  } finally {
    await server.shutdown(1000);
  }
});
