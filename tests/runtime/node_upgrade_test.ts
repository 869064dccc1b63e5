import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { type AddressInfo, connect as tcpConnect } from "node:net";
import { connect, HandshakeError } from "../../mod.ts";
import { handleUpgrade, type UpgradeOptions } from "../../src/runtime/node_upgrade.ts";

/** An HTTP server answering plain requests itself and upgrades with handleUpgrade. */
async function httpServer(options: UpgradeOptions = {}): Promise<{ url: string; server: Server }> {
  const server = createServer((_request, response) => response.end("plain answer"));
  server.on("upgrade", async (request, socket, head) => {
    const channel = await handleUpgrade(request, socket, head, options);
    channel?.readable.pipeTo(channel.writable).catch(() => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `ws://127.0.0.1:${port}`, server };
}

function stop(server: Server): Promise<void> {
  server.closeAllConnections?.();
  return new Promise((resolve) => server.close(() => resolve()));
}

test("handleUpgrade serves WebSocket beside plain HTTP on one node:http server", async () => {
  const { url, server } = await httpServer({ selectProtocol: (offered) => offered.at(-1) });
  try {
    const plain = await fetch(url.replace("ws:", "http:"));
    assert.equal(await plain.text(), "plain answer");

    const channel = await connect(`${url}/echo`, { protocols: ["a", "echo"] });
    assert.equal(channel.protocol, "echo");
    const writer = channel.writable.getWriter();
    const reader = channel.readable.getReader();
    await writer.write("text");
    assert.equal((await reader.read()).value, "text");
    const big = new Uint8Array(1 << 20).map((_, i) => i & 0xff);
    await writer.write(big);
    assert.deepEqual((await reader.read()).value, big);
    channel.close(4000, "bye");
    assert.deepEqual(await channel.closed, { code: 4000, reason: "bye", wasClean: true });
  } finally {
    await stop(server);
  }
});

test("handleUpgrade refuses through onUpgrade with the response given", async () => {
  const { url, server } = await httpServer({
    onUpgrade: () => new Response("no entry", { status: 403 }),
  });
  try {
    await assert.rejects(
      connect(url),
      (error) =>
        error instanceof HandshakeError && error.status === 403 &&
        error.message.includes("no entry"),
    );
  } finally {
    await stop(server);
  }
});

test("handleUpgrade refuses a request with the wrong WebSocket version with 426", async () => {
  const { url, server } = await httpServer();
  try {
    const port = Number(new URL(url).port);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = tcpConnect({ host: "127.0.0.1", port }, () => {
        socket.write(
          "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
        );
      });
      let text = "";
      socket.on("data", (chunk) => text += chunk.toString("latin1"));
      socket.on("close", () => resolve(text));
      socket.on("error", reject);
    });
    assert.match(answer, /^HTTP\/1\.1 426 /);
    assert.match(answer, /\r\nSec-WebSocket-Version: 13\r\n/i);
  } finally {
    await stop(server);
  }
});
