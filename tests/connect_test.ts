import { test } from "node:test";
import assert from "node:assert/strict";
import { connect, HandshakeError, TimeoutError } from "../mod.ts";
import { rawServer, switching } from "./_servers.ts";

test("connect delivers frames that arrive in the same packet as the 101", async () => {
  const server = await rawServer(async (socket, request) => {
    // The 101 and an unmasked text frame "hello" in one write.
    const head = Buffer.from(await switching(request), "latin1");
    socket.write(Buffer.concat([head, Buffer.from([0x81, 0x05, ...Buffer.from("hello")])]));
  });
  try {
    const channel = await connect(server.url, { closeTimeout: 100 });
    const { value } = await channel.readable.getReader().read();
    assert.equal(value, "hello");
    channel.close(1000);
    await channel.closed;
  } finally {
    await server.close();
  }
});

test("connect reports a refusal with its status and the start of its body", async () => {
  const server = await rawServer((socket) => {
    socket.end(
      "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 14\r\n\r\nno such socket",
    );
  });
  try {
    await assert.rejects(
      connect(`${server.url}/missing`),
      (error) =>
        error instanceof HandshakeError && error.status === 404 &&
        /404 Not Found: no such socket/.test(error.message),
    );
  } finally {
    await server.close();
  }
});

test("connect refuses a 101 whose Sec-WebSocket-Accept is wrong", async () => {
  const server = await rawServer((socket) => {
    socket.write(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n",
    );
  });
  try {
    await assert.rejects(
      connect(server.url),
      (error) => error instanceof HandshakeError && /Sec-WebSocket-Accept/.test(error.message),
    );
  } finally {
    await server.close();
  }
});

test("connect refuses a subprotocol the client did not offer", async () => {
  const server = await rawServer(async (socket, request) => {
    socket.write(await switching(request, "Sec-WebSocket-Protocol: other\r\n"));
  });
  try {
    await assert.rejects(
      connect(server.url, { protocols: ["chat"] }),
      (error) => error instanceof HandshakeError && /other/.test(error.message),
    );
  } finally {
    await server.close();
  }
});

test("connect fails with 502 when the server closes during the handshake", async () => {
  const server = await rawServer((socket) => {
    socket.end();
  });
  try {
    await assert.rejects(
      connect(server.url),
      (error) => error instanceof HandshakeError && error.status === 502,
    );
  } finally {
    await server.close();
  }
});

test("connect gives up after handshakeTimeout when the server never answers", async () => {
  const server = await rawServer(() => {});
  try {
    const started = performance.now();
    await assert.rejects(
      connect(server.url, { handshakeTimeout: 100 }),
      (error) => error instanceof TimeoutError && error.option === "handshakeTimeout",
    );
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 90 && elapsed < 2000, `${elapsed} ms`);
  } finally {
    await server.close();
  }
});

test("connect stops when its signal aborts", async () => {
  const server = await rawServer(() => {});
  try {
    const controller = new AbortController();
    const pending = connect(server.url, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error("changed my mind")), 20);
    await assert.rejects(pending, /changed my mind/);
  } finally {
    await server.close();
  }
});

test("connect rejects a URL with a fragment or another scheme as a SyntaxError", async () => {
  for (const url of ["ws://127.0.0.1:1/#top", "ftp://127.0.0.1/"]) {
    await assert.rejects(
      connect(url),
      (error) => error instanceof DOMException && error.name === "SyntaxError",
      url,
    );
  }
});

test("connect rejects when nothing listens on the port", async () => {
  const server = await rawServer(() => {});
  const { url } = server;
  await server.close();
  await assert.rejects(connect(url));
});
