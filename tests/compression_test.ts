import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type Channel,
  type CompressionOptions,
  connect,
  Connection,
  type ConnectOptions,
  fromByteStreams,
  HandshakeError,
  listen,
  type ListenOptions,
  serve,
  type ServerChannel,
  WebSocket,
  WebSocketStream,
} from "../mod.ts";
import { OPCODE } from "../src/codec/mod.ts";
import { answeredExtensions, startTap, type Tap, type TappedFrame } from "./_tap.ts";
import { rawServer, switching, within } from "./_servers.ts";

const RUNTIME = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";
const LARGE = "compress me ".repeat(1000);

function echo(channel: ServerChannel): void {
  channel.readable.pipeTo(channel.writable).catch(() => {});
}

/** Connects through a tap to a `listen` echo server, runs `body`, and cleans up. */
async function throughTap(
  serverOptions: Partial<ListenOptions>,
  clientOptions: ConnectOptions,
  body: (client: Channel, server: ServerChannel, tap: Tap) => Promise<void>,
): Promise<void> {
  let accepted!: (channel: ServerChannel) => void;
  const serverChannel = new Promise<ServerChannel>((resolve) => accepted = resolve);
  const server = await listen(
    { hostname: "127.0.0.1", port: 0, onError: () => {}, ...serverOptions },
    (channel) => {
      accepted(channel);
      echo(channel);
    },
  );
  const tap = await startTap(server.port);
  try {
    const client = await connect(`ws://127.0.0.1:${tap.port}/`, clientOptions);
    await body(client, await within(serverChannel, "server connection"), tap);
    client.close(1000);
    await within(client.closed, "close");
  } finally {
    await tap.close();
    await server.close();
  }
}

async function echoOf(client: Channel, messages: (string | Uint8Array)[]): Promise<unknown[]> {
  const writer = client.writable.getWriter();
  for (const message of messages) await writer.write(message);
  writer.releaseLock();
  const reader = client.readable.getReader();
  const echoed = [];
  for (let i = 0; i < messages.length; i++) {
    echoed.push((await within(reader.read(), "echo")).value);
  }
  reader.releaseLock();
  return echoed;
}

const dataFrames = (frames: TappedFrame[]) =>
  frames.filter((frame) => frame.opcode === OPCODE.Text || frame.opcode === OPCODE.Binary);

test("connect and listen agree on permessage-deflate and set RSV1 on the wire both ways", async () => {
  await throughTap({ compression: true }, { compression: true }, async (client, server, tap) => {
    assert.equal(client.extensions, "permessage-deflate");
    assert.equal(server.extensions, "permessage-deflate");
    assert.match(
      tap.heads[0]!,
      /\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits/,
    );
    assert.equal(answeredExtensions(tap), "permessage-deflate");
    const binary = new Uint8Array(5000).fill(7);
    assert.deepEqual(await echoOf(client, [LARGE, "small", binary]), [LARGE, "small", binary]);
    // Over the threshold compressed, under it not.
    assert.deepEqual(dataFrames(tap.fromClient).map((frame) => frame.rsv1), [true, false, true]);
    assert.deepEqual(dataFrames(tap.fromServer).map((frame) => frame.rsv1), [true, false, true]);
    const [first] = dataFrames(tap.fromClient);
    assert.ok(first!.length < LARGE.length / 10, `${first!.length} bytes on the wire`);
  });
});

test("connect and listen negotiate the parameters each side asks for", async () => {
  await throughTap(
    { compression: { serverNoContextTakeover: true, clientMaxWindowBits: 10 } },
    { compression: { clientNoContextTakeover: true, serverMaxWindowBits: 12 } },
    async (client, server, tap) => {
      const answer =
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; " +
        "server_max_window_bits=12; client_max_window_bits=10";
      assert.equal(answeredExtensions(tap), answer);
      assert.equal(client.extensions, answer);
      assert.equal(server.extensions, answer);
      assert.deepEqual(await echoOf(client, [LARGE, LARGE]), [LARGE, LARGE]);
      // Without context takeover the repeat compresses to the same size.
      const [first, second] = dataFrames(tap.fromServer);
      assert.equal(first!.length, second!.length);
    },
  );
});

test("a server without compression declines the offer, and the client sends uncompressed", async () => {
  await throughTap({}, { compression: true }, async (client, server, tap) => {
    assert.equal(client.extensions, "");
    assert.equal(server.extensions, "");
    assert.deepEqual(await echoOf(client, [LARGE]), [LARGE]);
    assert.deepEqual(dataFrames(tap.fromClient).map((frame) => frame.rsv1), [false]);
  });
});

test("a client offers nothing by default, and a compressing server does not compress", async () => {
  await throughTap({ compression: true }, {}, async (client, _server, tap) => {
    assert.doesNotMatch(tap.heads[0]!, /sec-websocket-extensions/i);
    assert.equal(client.extensions, "");
    assert.deepEqual(await echoOf(client, [LARGE]), [LARGE]);
    assert.deepEqual(dataFrames(tap.fromServer).map((frame) => frame.rsv1), [false]);
  });
});

test("the inflated size counts against maxMessageSize, with 1009", async () => {
  await throughTap(
    { compression: true, maxMessageSize: 4096 },
    { compression: { threshold: 0 } },
    async (client) => {
      const writer = client.writable.getWriter();
      // 10 KB of one letter: a few bytes compressed, over the limit inflated.
      await writer.write("a".repeat(10_000)).catch(() => {});
      const closed = await within(client.closed, "close");
      assert.equal(closed.code, 1009);
    },
  );
});

const BAD_ANSWERS: [string, RegExp][] = [
  ["permessage-deflate; server_max_window_bits=7", /server_max_window_bits=7/],
  ["permessage-deflate; client_max_window_bits", /no value/],
  ["permessage-deflate; foo", /unknown parameter foo/],
  ["permessage-deflate; server_no_context_takeover; server_no_context_takeover", /repeated/],
  ["permessage-deflate, permessage-deflate", /twice/],
  ["x-webkit-deflate-frame", /x-webkit-deflate-frame, which was not offered/],
];

for (const [answer, message] of BAD_ANSWERS) {
  test(`connect fails the handshake when the server answers ${answer}`, async () => {
    const server = await rawServer(async (socket, request) => {
      socket.write(await switching(request, `Sec-WebSocket-Extensions: ${answer}\r\n`));
    });
    try {
      await assert.rejects(
        connect(server.url, { compression: true }),
        (error) =>
          error instanceof HandshakeError && error.status === 502 && message.test(error.message),
      );
    } finally {
      await server.close();
    }
  });
}

test("connect fails the handshake when a server accepts compression it was not offered", async () => {
  const server = await rawServer(async (socket, request) => {
    socket.write(await switching(request, "Sec-WebSocket-Extensions: permessage-deflate\r\n"));
  });
  try {
    await assert.rejects(
      connect(server.url),
      (error) =>
        error instanceof HandshakeError &&
        /permessage-deflate, which was not offered/.test(error.message),
    );
  } finally {
    await server.close();
  }
});

test("the compression option is checked before connecting", async () => {
  await assert.rejects(
    connect("ws://127.0.0.1:9/", { compression: { serverMaxWindowBits: 20 } }),
    (error) =>
      error instanceof RangeError && /compression\.serverMaxWindowBits/.test(error.message),
  );
});

for (const mode of ["raw", "native"] as const) {
  const refused = mode === "native" && RUNTIME === "deno";
  test(`serve (${mode}) on ${RUNTIME} ${refused ? "refuses" : "negotiates"} compression`, async () => {
    if (refused) {
      await assert.rejects(
        serve({ mode, compression: true, onConnection: echo }),
        (error) =>
          error instanceof TypeError &&
          /option compression is not supported by Deno\.serve \(mode native\): .*use mode raw/
            .test(error.message),
      );
      return;
    }
    const server = await serve({
      mode,
      hostname: "127.0.0.1",
      port: 0,
      compression: true,
      onConnection: echo,
      onError: () => {},
    });
    const tap = await startTap(server.port);
    try {
      const client = await connect(`ws://127.0.0.1:${tap.port}/`, { compression: true });
      assert.match(client.extensions, /^permessage-deflate/);
      assert.deepEqual(await echoOf(client, [LARGE]), [LARGE]);
      assert.deepEqual(dataFrames(tap.fromServer).map((frame) => frame.rsv1), [true]);
      assert.deepEqual(dataFrames(tap.fromClient).map((frame) => frame.rsv1), [true]);
      client.close(1000);
      await within(client.closed, "close");
    } finally {
      await tap.close();
      await server.close();
    }
  });
}

test("WebSocket and WebSocketStream take the compression option and report the extension", async () => {
  const server = await listen(
    { hostname: "127.0.0.1", port: 0, compression: true, onError: () => {} },
    echo,
  );
  try {
    const url = `ws://127.0.0.1:${server.port}/`;
    const socket = new WebSocket(url, [], { compression: true });
    const echoed = await within(
      new Promise<unknown>((resolve, reject) => {
        socket.onopen = () => socket.send(LARGE);
        socket.onmessage = (event) => resolve(event.data);
        socket.onerror = () => reject(new Error("WebSocket failed"));
      }),
      "echo",
    );
    assert.equal(socket.extensions, "permessage-deflate");
    assert.equal(echoed, LARGE);
    socket.close();
    const stream = new WebSocketStream(url, { compression: true });
    const opened = await within(stream.opened, "open");
    assert.equal(opened.extensions, "permessage-deflate");
    stream.close();
    await within(stream.closed, "close");
  } finally {
    await server.close();
  }
});

test("serve accepts compression: false on every server", async () => {
  const server = await serve({
    hostname: "127.0.0.1",
    port: 0,
    compression: false,
    onConnection: echo,
  });
  await server.close();
});

function randomBytes(size: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(size);
  let state = seed;
  for (let i = 0; i < size; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    bytes[i] = state >>> 24;
  }
  return bytes;
}

const AGREED = {
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
};

test("compressed writes wait for a transport that takes nothing, as plain ones do", async () => {
  const { createDeflateCompressor } = await import("../src/extensions/_deflate.ts");
  let handed = 0;
  const channel = fromByteStreams({
    readable: new ReadableStream<Uint8Array>(),
    // A transport whose writes never finish: a peer that stopped reading.
    writable: new WritableStream<Uint8Array>({
      write: () => {
        handed++;
        return new Promise(() => {});
      },
    }),
  }, { role: "client", compressor: createDeflateCompressor(AGREED, "client", { threshold: 0 }) });
  const writer = channel.writable.getWriter();
  let resolved = 0;
  for (let i = 0; i < 100; i++) {
    writer.write(randomBytes(16384, i)).then(() => resolved++, () => {});
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  // 64 KiB of batch is about four messages; without backpressure all 100 would resolve.
  assert.ok(resolved <= 8, `${resolved} writes resolved`);
  assert.ok(handed >= 1, "the first frame reached the transport");
  channel.close();
});

test("compressed messages are read only while readable has room", async () => {
  const { createDeflateCompressor } = await import("../src/extensions/_deflate.ts");
  // The frames a compressing server sends: 100 messages of 16 KiB.
  const frames: Uint8Array[] = [];
  const sender = new Connection({
    role: "server",
    compressor: createDeflateCompressor(AGREED, "server", { threshold: 0 }),
  }, { write: (bytes) => frames.push(bytes.slice()), message: () => {}, end: () => {} });
  const messages = Array.from({ length: 100 }, (_, i) => randomBytes(16384, i));
  for (const message of messages) sender.send(message);
  await within(
    (async () => {
      while (sender.sending !== undefined) await sender.sending;
    })(),
    "compression",
  );
  // A server writes a large frame as its header and its payload.
  assert.equal(frames.length, 200);
  let pulled = 0;
  const channel = fromByteStreams({
    readable: new ReadableStream<Uint8Array>({
      pull: (controller) => {
        const frame = frames[pulled++];
        if (frame === undefined) controller.close();
        else controller.enqueue(frame);
      },
    }, { highWaterMark: 0 }),
    writable: new WritableStream<Uint8Array>(),
  }, {
    role: "client",
    readableHighWaterMark: 65536,
    compressor: createDeflateCompressor(AGREED, "client", {}),
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  // 64 KiB is four messages: about eight chunks; all 200 without backpressure.
  assert.ok(pulled <= 16, `${pulled} chunks read with nobody reading messages`);
  const reader = channel.readable.getReader();
  for (const message of messages) {
    assert.deepEqual((await within(reader.read(), "message")).value, message);
  }
  channel.close();
});

test("connect and listen agree and exchange under every combination of offered and accepted parameters", async () => {
  const clientOffers: CompressionOptions[] = [
    {},
    { serverNoContextTakeover: true },
    { clientNoContextTakeover: true, clientMaxWindowBits: 9 },
    { serverMaxWindowBits: 8, clientMaxWindowBits: 8 },
  ];
  const serverOptions: CompressionOptions[] = [
    {},
    { serverNoContextTakeover: true, clientNoContextTakeover: true },
    { serverMaxWindowBits: 9, clientMaxWindowBits: 10 },
  ];
  const messages = [LARGE, new Uint8Array(70_000).fill(3), "x".repeat(2000)];
  for (const server of serverOptions) {
    for (const client of clientOffers) {
      const label = `client ${JSON.stringify(client)}, server ${JSON.stringify(server)}`;
      await throughTap(
        { compression: { ...server, threshold: 0 } },
        { compression: { ...client, threshold: 0 } },
        async (channel, serverChannel, tap) => {
          assert.equal(channel.extensions, answeredExtensions(tap), label);
          assert.equal(serverChannel.extensions, channel.extensions, label);
          assert.match(channel.extensions, /^permessage-deflate/, label);
          assert.deepEqual(await echoOf(channel, messages), messages, label);
          assert.ok(dataFrames(tap.fromClient).every((frame) => frame.rsv1), label);
          assert.ok(dataFrames(tap.fromServer).every((frame) => frame.rsv1), label);
        },
      );
    }
  }
});

test("serve (native) on Bun reports the extension Bun answered, whatever the offer", {
  skip: RUNTIME === "bun" ? false : "needs Bun",
}, async () => {
  const settings: (true | CompressionOptions)[] = [
    true,
    { serverNoContextTakeover: false, clientNoContextTakeover: false },
    { serverNoContextTakeover: true, clientNoContextTakeover: false },
    { serverNoContextTakeover: false, clientNoContextTakeover: true },
  ];
  const offers: CompressionOptions[] = [
    {},
    { serverNoContextTakeover: true },
    { clientMaxWindowBits: 10 },
    { serverMaxWindowBits: 10 },
    { serverMaxWindowBits: 11, clientMaxWindowBits: 12, clientNoContextTakeover: true },
  ];
  for (const compression of settings) {
    let accepted!: (channel: ServerChannel) => void;
    let serverChannel = new Promise<ServerChannel>((resolve) => accepted = resolve);
    const server = await serve({
      hostname: "127.0.0.1",
      port: 0,
      compression,
      onConnection: (channel) => {
        accepted(channel);
        echo(channel);
      },
    });
    const tap = await startTap(server.port);
    try {
      for (const offer of offers) {
        const label = `serve ${JSON.stringify(compression)}, offer ${JSON.stringify(offer)}`;
        tap.heads.length = 0;
        tap.fromServer.length = 0;
        const client = await connect(`ws://127.0.0.1:${tap.port}/`, {
          compression: { ...offer, threshold: 0 },
        });
        const channel = await within(serverChannel, "server connection");
        serverChannel = new Promise((resolve) => accepted = resolve);
        assert.equal(channel.extensions, answeredExtensions(tap), label);
        assert.equal(client.extensions, channel.extensions, label);
        assert.deepEqual(await echoOf(client, [LARGE]), [LARGE], label);
        const compressed = dataFrames(tap.fromServer).map((frame) => frame.rsv1);
        assert.deepEqual(compressed, [channel.extensions !== ""], label);
        client.close(1000);
        await within(client.closed, "close");
      }
    } finally {
      await tap.close();
      await server.close();
    }
  }
});
