import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { connect as tcpConnect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { connect, HandshakeError, listen, type ListenOptions, type ServerChannel } from "../mod.ts";
import { isProxyBypassed } from "../src/_proxy.ts";

const CERT = readFileSync(new URL("./fixtures/tls_cert.pem", import.meta.url), "utf8");
const KEY = readFileSync(new URL("./fixtures/tls_key.pem", import.meta.url), "utf8");
/** Every connection attempt gives up after this, so a test never hangs. */
const TIMEOUT = 5000;
const runtime = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";

/** Our echo server, which remembers each upgrade request; closing it closes its connections. */
async function echoServer(options: Partial<ListenOptions> = {}) {
  const requests: Request[] = [];
  const channels = new Set<ServerChannel>();
  const server = await listen(
    { hostname: "127.0.0.1", port: 0, onError: () => {}, ...options },
    (channel) => {
      requests.push(channel.request);
      channels.add(channel);
      channel.readable.pipeTo(channel.writable).catch(() => {});
    },
  );
  return {
    port: server.port,
    url: `ws://127.0.0.1:${server.port}`,
    requests,
    async close() {
      for (const channel of channels) {
        try {
          channel.close(1001);
        } catch {
          // Closed already.
        }
      }
      await server.close();
    },
  };
}

/** Sends a message, expects it back, and closes the connection cleanly. */
async function roundTrip(channel: Awaited<ReturnType<typeof connect>>, message: string) {
  const writer = channel.writable.getWriter();
  const reader = channel.readable.getReader();
  await writer.write(message);
  assert.equal((await reader.read()).value, message);
  writer.releaseLock();
  reader.releaseLock();
  channel.close(1000);
  assert.equal((await channel.closed).wasClean, true);
}

/** A node:net server tracking its sockets, so that closing it closes them all. */
async function tcpServer(onSocket: (socket: Socket, track: (socket: Socket) => void) => void) {
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
  };
  const server: Server = createServer((socket) => {
    track(socket);
    onSocket(socket, track);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return {
    port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A request head as a test server received it. */
interface ReceivedHead {
  line: string;
  headers: Map<string, string>;
}

/** Calls `onHead` with the first request head on the socket and the bytes after it. */
function readRequestHead(socket: Socket, onHead: (head: ReceivedHead, rest: Buffer) => void) {
  let buffered = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    const end = buffered.indexOf("\r\n\r\n");
    if (end < 0) return;
    socket.off("data", onData);
    socket.pause();
    const [line = "", ...fields] = buffered.subarray(0, end).toString("latin1").split("\r\n");
    const headers = new Map<string, string>();
    for (const field of fields) {
      const colon = field.indexOf(":");
      headers.set(field.slice(0, colon).trim().toLowerCase(), field.slice(colon + 1).trim());
    }
    onHead({ line, headers }, buffered.subarray(end + 4));
  };
  socket.on("data", onData);
}

/** Connects `socket` to 127.0.0.1:`port`, sends `first` there, and pipes both ways. */
function pipeTo(
  socket: Socket,
  port: number,
  first: Buffer,
  track: (socket: Socket) => void,
  onOpen: () => void = () => {},
) {
  const upstream = tcpConnect({ host: "127.0.0.1", port });
  track(upstream);
  upstream.on("error", () => socket.destroy());
  upstream.on("connect", () => {
    onOpen();
    if (first.length > 0) upstream.write(first);
    socket.pipe(upstream);
    upstream.pipe(socket);
    socket.resume();
  });
}

/**
 * A CONNECT proxy: records each request head, then opens the tunnel (to
 * 127.0.0.1 whatever the host, so that names such as `localhost` never
 * resolve elsewhere) and pipes bytes both ways, or answers `refusal`
 * and leaves the connection open.
 */
async function proxyServer(refusal?: string) {
  const requests: ReceivedHead[] = [];
  const server = await tcpServer((socket, track) => {
    readRequestHead(socket, (head, rest) => {
      requests.push(head);
      if (refusal !== undefined) {
        socket.write(refusal);
        return;
      }
      const authority = head.line.split(" ")[1] ?? "";
      const port = Number(authority.slice(authority.lastIndexOf(":") + 1));
      pipeTo(socket, port, rest, track, () => {
        socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      });
    });
  });
  return { ...server, url: `http://127.0.0.1:${server.port}`, requests };
}

/**
 * An HTTP server answering each request head with `answer`'s string, or,
 * when it returns a port, piping the connection to 127.0.0.1 there.
 */
async function routingServer(answer: (head: ReceivedHead) => string | number) {
  const requests: ReceivedHead[] = [];
  const server = await tcpServer((socket, track) => {
    readRequestHead(socket, (head, rest) => {
      requests.push(head);
      const route = answer(head);
      if (typeof route === "number") {
        const request = `${head.line}\r\n${
          [...head.headers].map(([name, value]) => `${name}: ${value}\r\n`).join("")
        }\r\n`;
        pipeTo(socket, route, Buffer.concat([Buffer.from(request, "latin1"), rest]), track);
      } else {
        socket.end(route);
      }
    });
  });
  return { ...server, url: `ws://127.0.0.1:${server.port}`, requests };
}

/** Runs `body` with environment variables set (`undefined` unsets one), then restores them. */
async function withEnv(vars: Record<string, string | undefined>, body: () => Promise<void>) {
  const saved = new Map<string, string | undefined>();
  for (const [name, value] of Object.entries(vars)) {
    saved.set(name, process.env[name]);
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  try {
    await body();
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/** The proxy variables all unset, then `vars`. */
const proxyEnv = (vars: Record<string, string>) => ({
  http_proxy: undefined,
  HTTP_PROXY: undefined,
  https_proxy: undefined,
  HTTPS_PROXY: undefined,
  no_proxy: undefined,
  NO_PROXY: undefined,
  ...vars,
});

const socketPath = () => join(tmpdir(), `seed-websocket-${crypto.randomUUID()}.sock`);

// Unix domain sockets.

test("connect reaches a listen({ path }) server through a ws+unix: URL", async () => {
  const path = socketPath();
  const server = await echoServer({ path });
  try {
    const url = `ws+unix:${path}:/chat?room=1`;
    const channel = await connect(url, { handshakeTimeout: TIMEOUT });
    assert.equal(channel.url, url);
    await roundTrip(channel, "over a unix socket");
    const request = server.requests[0]!;
    assert.equal(request.headers.get("host"), "localhost");
    const target = new URL(request.url);
    assert.equal(`${target.pathname}${target.search}`, "/chat?room=1");
  } finally {
    await server.close();
    rmSync(path, { force: true });
  }
});

test("connect sends / for a ws+unix: URL without a request path", async () => {
  const path = socketPath();
  const server = await echoServer({ path });
  try {
    await roundTrip(await connect(`ws+unix:${path}`, { handshakeTimeout: TIMEOUT }), "root");
    await roundTrip(await connect(`ws+unix:${path}:`, { handshakeTimeout: TIMEOUT }), "root");
    assert.deepEqual(server.requests.map((request) => new URL(request.url).pathname), ["/", "/"]);
  } finally {
    await server.close();
    rmSync(path, { force: true });
  }
});

test("connect rejects a ws+unix: URL with a host or without a socket path", async () => {
  for (const url of ["ws+unix://host/tmp/socket", "ws+unix:", "ws+unix:/tmp/socket#top"]) {
    await assert.rejects(
      connect(url),
      (error) => error instanceof DOMException && error.name === "SyntaxError",
      url,
    );
  }
});

test("connect speaks TLS over a Unix domain socket with wss+unix:", {
  skip: runtime === "deno" ? "Deno has no TLS over Unix domain sockets" : false,
}, async () => {
  const path = socketPath();
  const server = await echoServer({ path, tls: { cert: CERT, key: KEY } });
  try {
    const channel = await connect(`wss+unix:${path}:/secure`, {
      tls: { caCerts: [CERT] },
      handshakeTimeout: TIMEOUT,
    });
    await roundTrip(channel, "secure and local");
    assert.equal(new URL(server.requests[0]!.url).pathname, "/secure");
    // The certificate is verified against localhost, so without trusting it the handshake fails.
    await assert.rejects(connect(`wss+unix:${path}`, { handshakeTimeout: TIMEOUT }));
  } finally {
    await server.close();
    rmSync(path, { force: true });
  }
});

test("connect reports that Deno has no TLS over a Unix domain socket", {
  skip: runtime === "deno" ? false : "needs Deno",
}, async () => {
  await assert.rejects(
    connect(`wss+unix:${socketPath()}`, { tls: { caCerts: [CERT] } }),
    /Deno has no TLS over a Unix domain socket/,
  );
});

// HTTP proxies.

test("connect tunnels ws:// through an HTTP proxy with CONNECT", async () => {
  const server = await echoServer();
  const proxy = await proxyServer();
  try {
    const channel = await connect(`${server.url}/through`, {
      proxy: proxy.url,
      handshakeTimeout: TIMEOUT,
    });
    await roundTrip(channel, "tunnelled");
    assert.equal(proxy.requests.length, 1);
    const { line, headers } = proxy.requests[0]!;
    assert.equal(line, `CONNECT 127.0.0.1:${server.port} HTTP/1.1`);
    assert.equal(headers.get("host"), `127.0.0.1:${server.port}`);
    assert.equal(headers.has("proxy-authorization"), false);
    assert.equal(new URL(server.requests[0]!.url).pathname, "/through");
  } finally {
    await proxy.close();
    await server.close();
  }
});

test("connect tunnels wss:// through an HTTP proxy and verifies the server inside", async () => {
  const server = await echoServer({ tls: { cert: CERT, key: KEY } });
  const proxy = await proxyServer();
  try {
    // By name and by address: the certificate holds both.
    for (const host of ["localhost", "127.0.0.1"]) {
      const channel = await connect(`wss://${host}:${server.port}/secure`, {
        proxy: proxy.url,
        tls: { caCerts: [CERT] },
        handshakeTimeout: TIMEOUT,
      });
      assert.equal(channel.url, `wss://${host}:${server.port}/secure`);
      await roundTrip(channel, `secure via ${host}`);
    }
    assert.deepEqual(proxy.requests.map((request) => request.line), [
      `CONNECT localhost:${server.port} HTTP/1.1`,
      `CONNECT 127.0.0.1:${server.port} HTTP/1.1`,
    ]);
    assert.equal(proxy.requests[0]!.headers.get("host"), `localhost:${server.port}`);
    // TLS runs end to end: a certificate not trusted fails, however trusted the proxy.
    await assert.rejects(
      connect(`wss://localhost:${server.port}`, { proxy: proxy.url, handshakeTimeout: TIMEOUT }),
    );
    await assert.rejects(
      connect(`wss://localhost:${server.port}`, {
        proxy: proxy.url,
        tls: { caCerts: [CERT], serverName: "example.com" },
        handshakeTimeout: TIMEOUT,
      }),
    );
  } finally {
    await proxy.close();
    await server.close();
  }
});

test("connect sends Proxy-Authorization from the proxy URL's credentials", async () => {
  const server = await echoServer();
  const proxy = await proxyServer();
  try {
    const channel = await connect(server.url, {
      proxy: `http://us%40er:p%3Ass@127.0.0.1:${proxy.port}`,
      handshakeTimeout: TIMEOUT,
    });
    await roundTrip(channel, "authorized");
    const authorization = proxy.requests[0]!.headers.get("proxy-authorization") ?? "";
    assert.equal(authorization, `Basic ${btoa("us@er:p:ss")}`);
    // The server behind the proxy never sees the proxy's credentials.
    assert.equal(server.requests[0]!.headers.has("proxy-authorization"), false);
  } finally {
    await proxy.close();
    await server.close();
  }
});

test("connect fails with a HandshakeError naming the proxy when it answers 407", async () => {
  // Keep-alive, as proxies answer: the body's length must be enough to stop reading.
  const proxy = await proxyServer(
    "HTTP/1.1 407 Proxy Authentication Required\r\n" +
      'Proxy-Authenticate: Basic realm="proxy"\r\nContent-Length: 12\r\n\r\nlog in first',
  );
  try {
    const started = performance.now();
    await assert.rejects(
      connect("ws://127.0.0.1:9/", { proxy: proxy.url, handshakeTimeout: TIMEOUT }),
      (error) => {
        assert.ok(error instanceof HandshakeError);
        assert.equal(error.status, 407);
        assert.match(
          error.message,
          /^Cannot open connection: the proxy 127\.0\.0\.1:\d+ \(from the proxy option\) answered 407 Proxy Authentication Required to CONNECT 127\.0\.0\.1:9: log in first$/,
        );
        assert.equal(error.headers.get("proxy-authenticate"), 'Basic realm="proxy"');
        return true;
      },
    );
    assert.ok(performance.now() - started < TIMEOUT / 2, "waited for the connection to end");
  } finally {
    await proxy.close();
  }
});

test("connect takes the proxy from HTTP_PROXY for ws:// and HTTPS_PROXY for wss://", async () => {
  const server = await echoServer();
  const secureServer = await echoServer({ tls: { cert: CERT, key: KEY } });
  const proxy = await proxyServer();
  const secureProxy = await proxyServer();
  try {
    await withEnv(proxyEnv({ HTTP_PROXY: proxy.url, HTTPS_PROXY: secureProxy.url }), async () => {
      await roundTrip(await connect(server.url, { handshakeTimeout: TIMEOUT }), "from env");
      const channel = await connect(`wss://localhost:${secureServer.port}`, {
        tls: { caCerts: [CERT] },
        handshakeTimeout: TIMEOUT,
      });
      await roundTrip(channel, "from env, secure");
    });
    assert.deepEqual(proxy.requests.map((request) => request.line), [
      `CONNECT 127.0.0.1:${server.port} HTTP/1.1`,
    ]);
    assert.deepEqual(secureProxy.requests.map((request) => request.line), [
      `CONNECT localhost:${secureServer.port} HTTP/1.1`,
    ]);
    // The lowercase name wins, as curl reads it.
    await withEnv(
      proxyEnv({ http_proxy: proxy.url, HTTP_PROXY: "http://127.0.0.1:9" }),
      async () => {
        await roundTrip(await connect(server.url, { handshakeTimeout: TIMEOUT }), "lowercase");
      },
    );
    assert.equal(proxy.requests.length, 2);
  } finally {
    await proxy.close();
    await secureProxy.close();
    await server.close();
    await secureServer.close();
  }
});

test("connect goes direct when NO_PROXY lists the host, or with proxy: false", async () => {
  const server = await echoServer();
  const proxy = await proxyServer();
  try {
    for (const noProxy of ["127.0.0.1", `example.com, 127.0.0.1:${server.port}`, "*"]) {
      await withEnv(proxyEnv({ HTTP_PROXY: proxy.url, NO_PROXY: noProxy }), async () => {
        await roundTrip(await connect(server.url, { handshakeTimeout: TIMEOUT }), noProxy);
      });
    }
    await withEnv(proxyEnv({ HTTP_PROXY: proxy.url }), async () => {
      await roundTrip(
        await connect(server.url, { proxy: false, handshakeTimeout: TIMEOUT }),
        "off",
      );
    });
    // Another port of the host does not exempt it.
    await withEnv(proxyEnv({ HTTP_PROXY: proxy.url, no_proxy: "127.0.0.1:1" }), async () => {
      await roundTrip(await connect(server.url, { handshakeTimeout: TIMEOUT }), "proxied");
    });
    assert.equal(proxy.requests.length, 1);
  } finally {
    await proxy.close();
    await server.close();
  }
});

test("isProxyBypassed reads NO_PROXY entries as curl does", () => {
  const cases: [string, string, number, boolean][] = [
    ["*", "example.com", 80, true],
    ["example.com", "example.com", 80, true],
    ["example.com", "www.example.com", 443, true],
    [".example.com", "example.com", 80, true],
    [".example.com", "a.b.example.com", 80, true],
    ["*.example.com", "a.example.com", 80, true],
    ["example.com", "badexample.com", 80, false],
    ["example.com:8080", "example.com", 8080, true],
    ["example.com:8080", "example.com", 80, false],
    ["EXAMPLE.com", "example.com", 80, true],
    ["0.0.1", "127.0.0.1", 80, false],
    ["127.0.0.1", "127.0.0.1", 80, true],
    ["::1", "[::1]", 80, true],
    ["[::1]:8080", "[::1]", 8080, true],
    ["[::1]:8080", "[::1]", 80, false],
    [" a.test ,b.test", "b.test", 80, true],
    ["", "example.com", 80, false],
  ];
  for (const [noProxy, host, port, expected] of cases) {
    assert.equal(isProxyBypassed(noProxy, host, port), expected, `${noProxy} / ${host}:${port}`);
  }
});

test("connect refuses a proxy URL that is not http:", async () => {
  await assert.rejects(
    connect("ws://127.0.0.1:9/", { proxy: "socks5://127.0.0.1:1080" }),
    (error) => error instanceof TypeError && /scheme socks5: is not supported/.test(error.message),
  );
});

// Redirects.

/** A server that redirects /old to /echo, and pipes /echo to our echo server. */
async function redirectingServer(echoPort: number) {
  return await routingServer((head) =>
    head.line.startsWith("GET /echo ")
      ? echoPort
      : "HTTP/1.1 302 Found\r\nLocation: /echo\r\nContent-Length: 0\r\n\r\n"
  );
}

test("connect fails on a 302 with its status and Location when followRedirects is 0", async () => {
  const echo = await echoServer();
  const server = await redirectingServer(echo.port);
  try {
    await assert.rejects(
      connect(`${server.url}/old`, { handshakeTimeout: TIMEOUT }),
      (error) =>
        error instanceof HandshakeError && error.status === 302 &&
        error.message ===
          "Cannot open connection: the server answered 302 Found, redirecting to /echo",
    );
  } finally {
    await server.close();
    await echo.close();
  }
});

test("connect follows a relative 302 with followRedirects 1", async () => {
  const echo = await echoServer();
  const server = await redirectingServer(echo.port);
  try {
    const channel = await connect(`${server.url}/old?x=1`, {
      followRedirects: 1,
      headers: { Authorization: "Bearer same-origin" },
      handshakeTimeout: TIMEOUT,
    });
    assert.equal(channel.url, `${server.url}/echo`);
    await roundTrip(channel, "redirected");
    assert.deepEqual(server.requests.map((request) => request.line), [
      "GET /old?x=1 HTTP/1.1",
      "GET /echo HTTP/1.1",
    ]);
    // The same origin keeps its credentials.
    assert.equal(server.requests[1]!.headers.get("authorization"), "Bearer same-origin");
  } finally {
    await server.close();
    await echo.close();
  }
});

test("connect drops Authorization and Cookie on a redirect to another origin", async () => {
  const echo = await echoServer();
  const target = await redirectingServer(echo.port);
  const origin = await routingServer(() =>
    `HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:${target.port}/echo\r\n\r\n`
  );
  try {
    const channel = await connect(origin.url, {
      followRedirects: 1,
      headers: { Authorization: "Bearer secret", Cookie: "session=1", "X-Trace": "kept" },
      handshakeTimeout: TIMEOUT,
    });
    assert.equal(channel.url, `ws://127.0.0.1:${target.port}/echo`);
    await roundTrip(channel, "elsewhere");
    assert.equal(origin.requests[0]!.headers.get("authorization"), "Bearer secret");
    const { headers } = target.requests[0]!;
    assert.equal(headers.has("authorization"), false);
    assert.equal(headers.has("cookie"), false);
    assert.equal(headers.get("x-trace"), "kept");
  } finally {
    await origin.close();
    await target.close();
    await echo.close();
  }
});

test("connect gives up on a redirect loop after followRedirects hops", async () => {
  const server = await routingServer(() =>
    "HTTP/1.1 301 Moved Permanently\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n"
  );
  try {
    await assert.rejects(
      connect(`${server.url}/loop`, { followRedirects: 3, handshakeTimeout: TIMEOUT }),
      (error) =>
        error instanceof HandshakeError && error.status === 301 &&
        /^Cannot open connection: too many redirects, .*redirecting to \/loop after 3$/.test(
          error.message,
        ),
    );
    assert.equal(server.requests.length, 4);
  } finally {
    await server.close();
  }
});

test("connect refuses a redirect to another scheme", async () => {
  for (const location of ["ftp://127.0.0.1/file", `ws+unix:${socketPath()}`]) {
    const server = await routingServer(() => `HTTP/1.1 302 Found\r\nLocation: ${location}\r\n\r\n`);
    try {
      await assert.rejects(
        connect(server.url, { followRedirects: 5, handshakeTimeout: TIMEOUT }),
        (error) =>
          error instanceof HandshakeError && error.status === 302 &&
          /^Cannot follow redirect: Location .* has scheme /.test(error.message),
        location,
      );
      assert.equal(server.requests.length, 1);
    } finally {
      await server.close();
    }
  }
});

test("connect refuses a followRedirects that is not a whole number", async () => {
  for (const followRedirects of [-1, 1.5, Number.NaN]) {
    await assert.rejects(connect("ws://127.0.0.1:9/", { followRedirects }), RangeError);
  }
});
