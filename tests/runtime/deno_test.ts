import { test } from "node:test";
import assert from "node:assert/strict";
import { denoNet } from "../../src/runtime/deno.ts";
import type { Transport, TransportListener } from "../../src/runtime/_transport.ts";

const skip = "Deno" in globalThis ? false : "needs Deno";

/** Listens on a free loopback port; resolves the first accepted transport. */
async function listenOnce(): Promise<
  { listener: TransportListener; accepted: Promise<Transport>; port: number }
> {
  let accept!: (transport: Transport) => void;
  const accepted = new Promise<Transport>((resolve) => accept = resolve);
  const listener = await denoNet.listen({ hostname: "127.0.0.1", port: 0 }, accept);
  assert.equal(listener.address.transport, "tcp");
  const port = listener.address.transport === "tcp" ? listener.address.port : 0;
  return { listener, accepted, port };
}

async function readAll(readable: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of readable) chunks.push(chunk);
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  return all;
}

test("denoNet carries bytes both ways and reports addresses", { skip }, async () => {
  const { listener, accepted, port } = await listenOnce();
  const client = await denoNet.connect({ hostname: "127.0.0.1", port });
  const server = await accepted;
  assert.deepEqual(client.remoteAddress, { transport: "tcp", hostname: "127.0.0.1", port });
  assert.deepEqual(server.localAddress, { transport: "tcp", hostname: "127.0.0.1", port });
  assert.equal(client.secure, false);

  const writer = client.writable.getWriter();
  await writer.write(new Uint8Array([1, 2, 3]));
  await writer.close();
  assert.deepEqual(await readAll(server.readable), new Uint8Array([1, 2, 3]));
  await server.writable.close();
  assert.deepEqual(await readAll(client.readable), new Uint8Array());
  await listener.close();
});

test("denoNet closing writable half-closes: the peer's reply is still read", { skip }, async () => {
  const { listener, accepted, port } = await listenOnce();
  const client = await denoNet.connect({ hostname: "127.0.0.1", port });
  const server = await accepted;
  await client.writable.close();
  // The server sees the end of the client's bytes, then answers.
  assert.deepEqual(await readAll(server.readable), new Uint8Array());
  const reply = server.writable.getWriter();
  await reply.write(new TextEncoder().encode("after your FIN"));
  await reply.close();
  assert.equal(new TextDecoder().decode(await readAll(client.readable)), "after your FIN");
  await listener.close();
});

test("denoNet reads the socket only as fast as the consumer reads", { skip }, async () => {
  const { listener, accepted, port } = await listenOnce();
  const client = await denoNet.connect({ hostname: "127.0.0.1", port });
  const server = await accepted;
  const size = 32 * 1024 * 1024;
  const payload = new Uint8Array(size).map((_, i) => i & 0xff);
  let written = false;
  const serverWriter = server.writable.getWriter();
  const writing = serverWriter.write(payload).then(() => written = true);
  await new Promise((resolve) => setTimeout(resolve, 200));
  // Nothing reads the client: the kernel buffers fill and the server's write waits.
  assert.equal(written, false);
  const reader = client.readable.getReader();
  let received = 0;
  let intact = true;
  while (received < size) {
    const { value } = await reader.read();
    if (value === undefined) break;
    for (let i = 0; i < value.length; i += 4099) {
      if (value[i] !== ((received + i) & 0xff)) intact = false;
    }
    received += value.length;
  }
  await writing;
  assert.equal(received, size);
  assert.ok(intact);
  await serverWriter.close();
  assert.equal((await reader.read()).done, true);
  await listener.close();
});

test("denoNet rejects a connection to a closed port", { skip }, async () => {
  const { listener, port } = await listenOnce();
  await listener.close();
  await assert.rejects(denoNet.connect({ hostname: "127.0.0.1", port }));
});

test("denoNet rejects a connection attempt aborted by its signal", { skip }, async () => {
  const { listener, port } = await listenOnce();
  const controller = new AbortController();
  controller.abort(new Error("stop"));
  await assert.rejects(
    denoNet.connect({ hostname: "127.0.0.1", port, signal: controller.signal }),
    /stop/,
  );
  await listener.close();
});

test("denoNet carries bytes over a Unix domain socket", { skip }, async () => {
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const { rm } = await import("node:fs/promises");
  const path = join(tmpdir(), `seed-websocket-${crypto.randomUUID()}.sock`);
  let accept!: (transport: Transport) => void;
  const accepted = new Promise<Transport>((resolve) => accept = resolve);
  const listener = await denoNet.listen({ hostname: "", port: 0, path }, accept);
  try {
    const client = await denoNet.connect({ hostname: "", port: 0, path });
    const server = await accepted;
    assert.deepEqual(listener.address, { transport: "unix", path });
    const writer = client.writable.getWriter();
    await writer.write(new TextEncoder().encode("over unix"));
    await writer.close();
    assert.equal(new TextDecoder().decode(await readAll(server.readable)), "over unix");
    await server.writable.close();
  } finally {
    await listener.close();
    await rm(path, { force: true });
  }
});
