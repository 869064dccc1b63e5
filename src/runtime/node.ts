/**
 * The Node adapter for raw sockets, used by the npm build: {@linkcode nodeNet}
 * opens and accepts TCP, Unix domain and TLS sockets with `node:net`
 * (`net.connect`, `net.createServer`) and `node:tls` (`tls.connect`,
 * `tls.createServer`), and {@linkcode socketToTransport} turns a `net.Socket`
 * or `tls.TLSSocket` into a {@linkcode Transport} with exact backpressure both
 * ways. `tls.connect({ socket })` starts TLS on a transport already open, such
 * as a tunnel through a proxy. Deno and Bun implement both modules as well.
 *
 * @module
 */

import * as net from "node:net";
import process from "node:process";
import * as tls from "node:tls";
import type {
  ConnectOptions,
  ListenOptions,
  NetAddress,
  RuntimeNet,
  StartTlsOptions,
  Transport,
  TransportListener,
} from "./_transport.ts";

/**
 * How many received bytes may wait in `readable` before the socket is paused.
 * Small, because the channel above keeps its own, larger message queue.
 */
const READABLE_HIGH_WATER_MARK = 64 * 1024;

/** The addresses of a socket, when the caller knows them better than the socket does. */
interface SocketAddresses {
  remoteAddress: NetAddress;
  localAddress: NetAddress;
}

/**
 * Bridges a connected socket to WebStreams. `readable` pauses the socket
 * whenever its queue is full and resumes it on `pull`, so an unread
 * `readable` stops the socket from being read and TCP pushes back on the
 * peer; a write resolves once `socket.write` has taken the bytes, waiting for
 * `drain` when the socket's send buffer is over its high-water mark.
 */
class SocketTransport implements Transport {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly remoteAddress: NetAddress;
  readonly localAddress: NetAddress;
  readonly secure: boolean;

  readonly #socket: net.Socket;
  #readController!: ReadableStreamDefaultController<Uint8Array>;
  #reading = true;
  #error: unknown;
  /** Whether a write waits for `drain`. */
  #waiting = false;
  #corked = false;
  /** Whether `startTls` took the socket over: this transport must not touch it then. */
  #detached = false;
  /** Takes the listeners `#start` put on the socket off it. */
  #unlisten = (): void => {};

  constructor(
    socket: net.Socket,
    secure: boolean,
    head: Uint8Array | undefined,
    addresses: SocketAddresses = addressesOf(socket),
  ) {
    this.#socket = socket;
    this.secure = secure;
    this.remoteAddress = addresses.remoteAddress;
    this.localAddress = addresses.localAddress;
    this.readable = new ReadableStream<Uint8Array>({
      start: (controller) => this.#start(controller, head),
      pull: () => {
        if (this.#reading) socket.resume();
      },
      cancel: () => {
        this.#reading = false;
        if (!this.#detached) socket.destroy();
      },
    }, { highWaterMark: READABLE_HIGH_WATER_MARK, size: (chunk) => chunk.byteLength });
    this.writable = new WritableStream<Uint8Array>({
      write: (chunk) => this.#write(chunk),
      close: () => this.#end(),
      abort: () => {
        if (!this.#detached) socket.destroy();
      },
    });
  }

  /**
   * Hands the socket over to `startTls`: this transport stops listening to
   * it, and its streams leave it alone from now on.
   */
  detach(): net.Socket {
    const socket = this.#socket;
    if (
      this.#detached || !this.#reading || this.#waiting || socket.destroyed || socket.writableEnded
    ) {
      throw new TypeError("Cannot start TLS: the transport is closed, closing or busy");
    }
    this.#detached = true;
    this.#reading = false;
    // Paused, so that nothing flows before TLS listens; what the socket
    // holds unread, `tls.connect` reads first.
    socket.pause();
    this.#unlisten();
    return socket;
  }

  #start(controller: ReadableStreamDefaultController<Uint8Array>, head?: Uint8Array): void {
    const socket = this.#socket;
    this.#readController = controller;
    // Paused before the data listener goes on, which would otherwise start
    // the flow: only `pull` lets bytes in.
    socket.pause();
    if (head !== undefined && head.byteLength > 0) controller.enqueue(asUint8Array(head));
    const onData = (chunk: Uint8Array): void => {
      if (!this.#reading) return;
      controller.enqueue(asUint8Array(chunk));
      // The socket stops reading once its own small buffer fills, so the
      // kernel's receive window fills and TCP holds the peer back.
      if ((controller.desiredSize ?? 0) <= 0) socket.pause();
    };
    const onEnd = (): void => {
      // Bun emits `end` on `destroy()` too; after a FIN the socket is not destroyed.
      this.#stopReading(socket.destroyed ? this.#closedBeforeEnd() : undefined);
    };
    const onError = (error: unknown): void => {
      this.#error ??= error;
      this.#stopReading(error);
    };
    const onClose = (): void => this.#stopReading(this.#closedBeforeEnd());
    socket.on("data", onData);
    socket.on("end", onEnd);
    // Always listened to: an `error` event without a listener is thrown.
    socket.on("error", onError);
    socket.on("close", onClose);
    this.#unlisten = () => {
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("error", onError);
      socket.off("close", onClose);
    };
    // A socket whose peer had already ended it emits `end` no more.
    if (socket.readableEnded) this.#stopReading();
  }

  #stopReading(error?: unknown): void {
    if (!this.#reading) return;
    this.#reading = false;
    if (error === undefined) this.#readController.close();
    else this.#readController.error(error);
  }

  readonly #uncork = (): void => {
    this.#corked = false;
    this.#socket.uncork();
  };

  #write(chunk: Uint8Array): Promise<void> {
    const socket = this.#socket;
    if (this.#detached) {
      return Promise.reject(new TypeError("Cannot write to socket: TLS has taken it over"));
    }
    if (socket.destroyed || socket.writableEnded) {
      return Promise.reject(this.#closedError("write to"));
    }
    // Each write would be a system call of its own: the writes of one turn
    // of the event loop are corked and go out together once its promise
    // jobs have run.
    if (!this.#corked) {
      this.#corked = true;
      socket.cork();
      process.nextTick(this.#uncork);
    }
    if (socket.write(chunk)) return Promise.resolve();
    // The send buffer is over its high-water mark: the write is done when
    // it drains. The stream runs one write at a time, so at most one set of
    // these listeners exists, and each is removed when the write settles.
    this.#waiting = true;
    return this.#settleOn("drain").finally(() => {
      this.#waiting = false;
    });
  }

  #end(): Promise<void> {
    const socket = this.#socket;
    if (this.#detached) return Promise.resolve();
    if (socket.writableFinished) return Promise.resolve();
    if (socket.destroyed) return Promise.reject(this.#closedError("close"));
    const finished = this.#settleOn("finish");
    if (!socket.writableEnded) socket.end();
    return finished;
  }

  /** Resolves on `event`; rejects if the socket fails or closes first. */
  #settleOn(event: "drain" | "finish"): Promise<void> {
    const socket = this.#socket;
    return new Promise((resolve, reject) => {
      const settle = (error?: unknown): void => {
        socket.off(event, onEvent);
        socket.off("error", onError);
        socket.off("close", onClose);
        if (error === undefined) resolve();
        else reject(error);
      };
      const onEvent = (): void => settle();
      const onError = (error: unknown): void => settle(error);
      const onClose = (): void =>
        settle(this.#closedError(event === "drain" ? "write to" : "close"));
      socket.on(event, onEvent);
      socket.on("error", onError);
      socket.on("close", onClose);
    });
  }

  #closedBeforeEnd(): unknown {
    return this.#error ?? new Error("Cannot read from socket: the socket closed before its end");
  }

  #closedError(action: string): Error {
    return new Error(
      `Cannot ${action} socket: the socket is closed`,
      this.#error === undefined ? undefined : { cause: this.#error },
    );
  }
}

/**
 * Turns a connected `net.Socket` or `tls.TLSSocket` into a
 * {@linkcode Transport}, taking the socket over: nothing else should read
 * it or listen to its `data` events afterwards.
 *
 * `readable` yields the received bytes as `Uint8Array` views, without
 * copies, `head` first. It pauses the socket while 64 KiB wait unread, so
 * the peer is held back by TCP rather than buffered, and ends at the peer's
 * FIN; cancelling it destroys the socket. A write on `writable` resolves
 * once the socket has taken the bytes, waiting for `drain` while the
 * socket's send buffer is full; closing it half-closes the socket (FIN) and
 * resolves once everything was flushed; aborting it destroys the socket.
 * For the socket to stay writable after the peer's FIN, it must have been
 * created with `allowHalfOpen: true`.
 *
 * The addresses are read from the socket; a Unix domain socket, whose
 * path the socket does not tell, gets `{ transport: "unix", path: "" }`.
 *
 * @param socket A connected socket; for TLS, one whose handshake is done.
 * @param secure Whether the socket is TLS.
 * @param head Bytes already read from the socket, such as the `head` of an
 * HTTP `upgrade` event, delivered before anything else on `readable`.
 * @returns The transport over the socket.
 * @throws {TypeError} When the socket is still connecting or already destroyed.
 *
 * @example Taking over the socket of an HTTP upgrade
 * ```ts ignore
 * import { createServer } from "node:http";
 * import type { Socket } from "node:net";
 * import { socketToTransport } from "@seed/websocket/node";
 * import assert from "node:assert/strict";
 *
 * const server = createServer();
 * server.on("upgrade", (_request, socket: Socket, head: Uint8Array) => {
 *   const transport = socketToTransport(socket, false, head);
 *   assert.equal(transport.secure, false);
 *   // ...answer the handshake on transport.writable, then read frames
 *   // from transport.readable, starting with the head bytes.
 * });
 * ```
 */
export function socketToTransport(
  socket: net.Socket,
  secure: boolean,
  head?: Uint8Array,
): Transport {
  return new SocketTransport(socket, secure, head);
}

/**
 * The Node implementation of {@linkcode RuntimeNet}: raw TCP, Unix domain
 * and TLS sockets from `node:net` and `node:tls`, as
 * {@linkcode Transport}s (see {@linkcode socketToTransport} for how they
 * read and write).
 *
 * `connect()` resolves once the socket is connected, for TLS once the
 * handshake is done, and rejects with the socket's error (such as
 * `ECONNREFUSED`), or with the signal's reason when `signal` aborts first.
 * TLS verifies the server's certificate against Node's bundled root
 * certificates plus `caCerts`, and against `serverName` when given, else
 * the host. `startTls()` starts TLS on a plain transport `connect()` opened,
 * such as a tunnel through an HTTP proxy, with `tls.connect({ socket })`,
 * verifying the same way. `listen()` resolves once listening, with the port the system
 * picked for port 0; its `close()` stops accepting and resolves without
 * waiting for the sockets it accepted. TCP sockets are set to `noDelay`,
 * since WebSocket messages are small and latency-sensitive. Sockets are
 * half-open: after the peer's FIN, `writable` stays open until closed.
 *
 * @example An echo server and a client over TCP
 * ```ts ignore
 * import { nodeNet } from "@seed/websocket/node";
 * import assert from "node:assert/strict";
 *
 * const listener = await nodeNet.listen({ hostname: "127.0.0.1", port: 0 }, (transport) => {
 *   transport.readable.pipeTo(transport.writable);
 * });
 * assert.equal(listener.address.transport, "tcp");
 *
 * const { port } = listener.address as { port: number };
 * const client = await nodeNet.connect({ hostname: "127.0.0.1", port });
 * const writer = client.writable.getWriter();
 * await writer.write(new TextEncoder().encode("hello"));
 * await writer.close();
 *
 * const text = await new Response(client.readable).text();
 * assert.equal(text, "hello");
 * await listener.close();
 * ```
 */
export const nodeNet: RuntimeNet = {
  name: "node",
  connect,
  startTls,
  listen,
};

async function connect(options: ConnectOptions): Promise<Transport> {
  const { signal } = options;
  signal?.throwIfAborted();
  const { socket, readyEvent } = openSocket(options);
  const secure = readyEvent === "secureConnect";
  await whenReady(socket, readyEvent, signal);
  if (options.path !== undefined) {
    return new SocketTransport(socket, secure, undefined, {
      remoteAddress: { transport: "unix", path: options.path },
      localAddress: { transport: "unix", path: "" },
    });
  }
  socket.setNoDelay(true);
  return new SocketTransport(socket, secure, undefined);
}

/**
 * Starts TLS on an open plain transport with `tls.connect({ socket })`,
 * verifying the server against `serverName`, else `hostname`.
 */
async function startTls(transport: Transport, options: StartTlsOptions): Promise<Transport> {
  if (!(transport instanceof SocketTransport)) {
    throw new TypeError("Cannot start TLS: the transport was not opened by the Node adapter");
  }
  if (transport.secure) throw new TypeError("Cannot start TLS: the transport is TLS already");
  const { signal } = options;
  signal?.throwIfAborted();
  const plain = transport.detach();
  const name = options.serverName ?? options.hostname;
  const secureOptions: tls.ConnectionOptions = {
    socket: plain,
    host: name,
    // RFC 6066 §3: SNI carries host names only, never an IP address.
    ...(net.isIP(name) === 0 ? { servername: name } : {}),
  };
  if (options.caCerts !== undefined) {
    secureOptions.secureContext = trustingContext(options.caCerts);
  }
  const socket = tls.connect(secureOptions);
  await whenReady(socket, "secureConnect", signal);
  return new SocketTransport(socket, true, undefined, {
    remoteAddress: transport.remoteAddress,
    localAddress: transport.localAddress,
  });
}

/**
 * Resolves once `socket` emits `readyEvent`; rejects with its error, or the
 * signal's reason, destroying it then.
 */
async function whenReady(
  socket: net.Socket,
  readyEvent: "connect" | "secureConnect",
  signal: AbortSignal | undefined,
): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      const stopListening = (): void => {
        socket.off(readyEvent, onReady);
        socket.off("error", onError);
        signal?.removeEventListener("abort", onAbort);
      };
      const onReady = (): void => {
        stopListening();
        resolve();
      };
      const onError = (error: unknown): void => {
        stopListening();
        reject(error);
      };
      const onAbort = (): void => onError(signal?.reason);
      socket.on(readyEvent, onReady);
      socket.on("error", onError);
      signal?.addEventListener("abort", onAbort);
    });
  } catch (error) {
    // Whatever the socket still reports is of no interest, and must not be
    // thrown for lack of a listener.
    socket.on("error", () => {});
    socket.destroy();
    throw error;
  }
}

/** Starts connecting, and names the event that says the socket is ready. */
function openSocket(
  options: ConnectOptions,
): { socket: net.Socket; readyEvent: "connect" | "secureConnect" } {
  const { path } = options;
  const tlsOptions = options.tls === true ? {} : options.tls || undefined;
  if (tlsOptions === undefined) {
    const socket = path === undefined
      ? net.connect({ host: options.hostname, port: options.port, allowHalfOpen: true })
      : net.connect({ path, allowHalfOpen: true });
    return { socket, readyEvent: "connect" };
  }
  // Node's `tls.connect` passes `allowHalfOpen` on to the socket; its types omit it.
  const secureOptions: tls.ConnectionOptions & { allowHalfOpen: boolean } = path === undefined
    ? { host: options.hostname, port: options.port, allowHalfOpen: true }
    : { path, allowHalfOpen: true };
  if (tlsOptions.caCerts !== undefined) {
    secureOptions.secureContext = trustingContext(tlsOptions.caCerts);
  }
  if (tlsOptions.serverName !== undefined) secureOptions.servername = tlsOptions.serverName;
  return { socket: tls.connect(secureOptions), readyEvent: "secureConnect" };
}

async function listen(
  options: ListenOptions,
  onTransport: (transport: Transport) => void,
): Promise<TransportListener> {
  const { path, tls: tlsOptions } = options;
  const secure = tlsOptions !== undefined;
  const server: net.Server = secure
    ? tls.createServer({ cert: tlsOptions.cert, key: tlsOptions.key, allowHalfOpen: true })
    : net.createServer({ allowHalfOpen: true });
  // Counts every accepted connection, TLS handshakes still running included:
  // the server's own `close` waits for them all.
  let open = 0;
  server.on("connection", (socket: net.Socket) => {
    open++;
    socket.once("close", () => open--);
  });
  server.on(secure ? "secureConnection" : "connection", (socket: net.Socket) => {
    if (path === undefined) {
      socket.setNoDelay(true);
      onTransport(new SocketTransport(socket, secure, undefined));
    } else {
      onTransport(
        new SocketTransport(socket, secure, undefined, {
          remoteAddress: { transport: "unix", path: "" },
          localAddress: { transport: "unix", path },
        }),
      );
    }
  });
  const backlog = options.backlog === undefined ? {} : { backlog: options.backlog };
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    const onListening = (): void => {
      server.off("error", reject);
      resolve();
    };
    if (path === undefined) {
      server.listen({ host: options.hostname, port: options.port, ...backlog }, onListening);
    } else server.listen({ path, ...backlog }, onListening);
  });
  // Later errors are failed accepts (such as EMFILE), after which the server
  // keeps listening; unheard, Node would throw them.
  server.on("error", () => {});
  const bound = server.address();
  const address: NetAddress = bound !== null && typeof bound === "object"
    ? { transport: "tcp", hostname: bound.address, port: bound.port }
    : { transport: "unix", path: path ?? bound ?? "" };
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // The listening socket is closed by now; the callback would also
        // wait for the accepted sockets to close.
        if (open > 0) resolve();
      }),
  };
}

/** The secure context last made by {@linkcode trustingContext}, and its certificates. */
let lastContext: { caCerts: string; context: tls.SecureContext } | undefined;

/** A secure context trusting the root certificates and `caCerts`. */
function trustingContext(caCerts: string[]): tls.SecureContext {
  const key = caCerts.join("\n");
  if (lastContext?.caCerts !== key) {
    // Node's `ca` replaces the trusted roots, while `caCerts` adds to them.
    // Loading the roots takes tens of milliseconds, hence the reuse.
    const ca = [...rootCertificates(), ...caCerts];
    lastContext = { caCerts: key, context: tls.createSecureContext({ ca }) };
  }
  return lastContext.context;
}

/** The root certificates `tls.connect` trusts unless given `ca`. */
function rootCertificates(): readonly string[] {
  try {
    // Copied here: Deno's list is lazy and fails when first read.
    return [...tls.rootCertificates];
  } catch {
    // Deno lists them only with the `sys` permission; its `ca` adds to its
    // roots instead of replacing them, so nothing is lost without them.
    return [];
  }
}

/** Views a Buffer, whose `slice` does not copy, as a plain `Uint8Array`. */
function asUint8Array(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function addressesOf(socket: net.Socket): SocketAddresses {
  if (socket.pending || socket.destroyed) {
    throw new TypeError("Cannot use socket as a transport: the socket is not connected");
  }
  const { remoteAddress, remotePort, localAddress, localPort } = socket;
  if (
    remoteAddress === undefined || remotePort === undefined || localAddress === undefined ||
    localPort === undefined
  ) {
    // A connected socket without ports is a Unix domain socket, which does
    // not report its path.
    return {
      remoteAddress: { transport: "unix", path: "" },
      localAddress: { transport: "unix", path: "" },
    };
  }
  return {
    remoteAddress: { transport: "tcp", hostname: remoteAddress, port: remotePort },
    localAddress: { transport: "tcp", hostname: localAddress, port: localPort },
  };
}
