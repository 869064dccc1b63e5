/**
 * The Bun adapter for raw sockets: {@linkcode bunNet} opens TCP, TLS and Unix
 * domain sockets with `Bun.connect` and accepts them with `Bun.listen`, and
 * turns the socket handlers Bun calls (`open`, `handshake`, `data`, `drain`,
 * `end`, `close`, `error` and, for clients, `connectError`) into the byte
 * streams of a {@linkcode Transport}. A socket's `upgradeTLS` starts TLS on a
 * transport already open, such as a tunnel through a proxy.
 *
 * Bun's socket is callback-based: it hands over bytes as they arrive and takes
 * as many bytes per `write()` as its send buffer has room for. Backpressure is
 * kept both ways: the socket is paused (`socket.pause()`) while `readable`
 * holds 64 KiB or more and resumed (`socket.resume()`) when it is read, and a
 * write resolves only once Bun has taken every byte of the chunk, the rest
 * being written from the `drain` handler.
 *
 * Only the slice of Bun's API used here is declared, locally, so the module
 * type-checks without Bun's global types.
 *
 * @module
 */

import { WriteCork } from "./_cork.ts";
import type {
  ConnectOptions,
  ListenOptions,
  NetAddress,
  RuntimeNet,
  StartTlsOptions,
  Transport,
  TransportListener,
} from "./_transport.ts";

/** The socket Bun passes to every handler, reduced to what is used here. */
interface BunSocket {
  /** Per-socket data; this module keeps the socket's transport in it. */
  data: BunTransport | undefined;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  /** Returns the number of bytes taken, fewer when the send buffer is full, -1 once closed. */
  write(data: Uint8Array): number;
  pause(): void;
  resume(): void;
  /** With no argument, shuts down the write side (FIN); the socket can still receive. */
  shutdown(): void;
  /** Closes the socket. */
  end(): void;
  /**
   * Starts TLS on the socket: returns the socket Bun keeps reading the
   * ciphertext with, through the handlers it had, and the TLS socket, whose
   * handlers are `options.socket`.
   */
  upgradeTLS(
    options: { tls: BunTlsOptions; socket: BunSocketHandlers },
  ): [raw: BunSocket, tls: BunSocket];
}

interface BunSocketHandlers {
  binaryType: "uint8array";
  open(socket: BunSocket): void;
  handshake(socket: BunSocket, success: boolean, authorizationError: Error | null): void;
  data(socket: BunSocket, data: Uint8Array): void;
  drain(socket: BunSocket): void;
  end(socket: BunSocket): void;
  close(socket: BunSocket, error?: Error): void;
  error(socket: BunSocket, error: Error): void;
  connectError?(socket: BunSocket, error: Error): void;
}

interface BunTlsOptions {
  rejectUnauthorized?: boolean;
  ca?: string[];
  serverName?: string;
  cert?: string;
  key?: string;
}

type BunSocketOptions =
  & ({ hostname: string; port: number } | { unix: string })
  & { allowHalfOpen: boolean; tls?: BunTlsOptions; socket: BunSocketHandlers };

interface BunListener {
  readonly hostname: string | undefined;
  readonly port: number | undefined;
  /** Stops accepting; with `false` the sockets already accepted stay open. */
  stop(closeActiveConnections?: boolean): void;
}

interface BunNetApi {
  connect(options: BunSocketOptions): Promise<BunSocket>;
  listen(options: BunSocketOptions): BunListener;
}

/** The part of `node:tls` that gives the trust store in effect. */
interface NodeTlsRoots {
  getCACertificates?(type: "default"): string[];
  rootCertificates: readonly string[];
}

/**
 * Bytes that may wait in a transport's `readable` before the socket is
 * paused. Bun hands over up to 512 KiB per `data` call, so a transport that
 * is not read holds about this plus one such chunk.
 */
const READ_HIGH_WATER_MARK = 64 * 1024;

/**
 * The bridge from one Bun socket to a {@linkcode Transport}. Bun calls the
 * shared {@linkcode TRANSPORT_HANDLERS}, which find this object in
 * `socket.data`.
 */
class BunTransport implements Transport {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly remoteAddress: NetAddress;
  readonly localAddress: NetAddress;
  readonly secure: boolean;

  readonly #socket: BunSocket;
  #readController!: ReadableStreamDefaultController<Uint8Array>;
  #readableDone = false;
  #paused = false;
  #closed = false;
  /** Whether `startTls` took the socket over: this transport must not touch it then. */
  #detached = false;
  #closeError: Error | undefined;
  /** What Bun has not taken yet of the chunk being written: a view, not a copy. */
  #unwritten: Uint8Array | undefined;
  #resolveWrite: (() => void) | undefined;
  #rejectWrite: ((error: Error) => void) | undefined;
  /** Bun sends what is written outside its handlers at once: small writes wait here. */
  readonly #cork = new WriteCork((bytes) => this.#writeNow(bytes));

  constructor(socket: BunSocket, secure: boolean, fallback: NetAddress) {
    this.#socket = socket;
    this.secure = secure;
    // Bun clears the addresses once the socket closes, so they are read now.
    if (fallback.transport === "unix") {
      this.remoteAddress = fallback;
      this.localAddress = fallback;
    } else {
      this.remoteAddress = {
        transport: "tcp",
        hostname: socket.remoteAddress ?? fallback.hostname,
        port: socket.remotePort ?? fallback.port,
      };
      this.localAddress = {
        transport: "tcp",
        hostname: socket.localAddress ?? "",
        port: socket.localPort ?? 0,
      };
    }
    this.readable = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#readController = controller;
      },
      pull: () => {
        if (!this.#paused) return;
        this.#paused = false;
        this.#socket.resume();
      },
      cancel: () => {
        this.#readableDone = true;
        this.#end();
      },
    }, { highWaterMark: READ_HIGH_WATER_MARK, size: (chunk) => chunk.byteLength });
    this.writable = new WritableStream<Uint8Array>({
      start: (controller) => {
        // A sink's abort() waits for the write in flight, which waits for a
        // drain that a peer that does not read never causes; the signal fires
        // at once, and closing the socket settles that write.
        controller.signal.addEventListener("abort", () => this.#end(), { once: true });
      },
      write: (chunk) => this.#write(chunk),
      close: () => this.#shutdown(),
      abort: () => this.#end(),
    });
  }

  /**
   * Hands the socket over to `startTls`: from now on Bun's handlers and this
   * transport's streams leave it alone.
   */
  detach(): BunSocket {
    if (!this.#closed && !this.#detached) this.#cork.flush()?.catch(() => {});
    if (
      this.#detached || this.#closed || this.#readableDone || this.#unwritten !== undefined ||
      !this.#cork.idle
    ) {
      throw new TypeError("Cannot start TLS: the transport is closed, closing or busy");
    }
    this.#detached = true;
    this.#readableDone = true;
    this.#socket.data = undefined;
    if (this.#paused) {
      this.#paused = false;
      this.#socket.resume();
    }
    return this.#socket;
  }

  #end(): void {
    if (this.#detached) return;
    this.#cork.flush()?.catch(() => {});
    this.#socket.end();
  }

  /** Bun's `data` handler. */
  receive(bytes: Uint8Array): void {
    if (this.#readableDone) return;
    // With `binaryType: "uint8array"` Bun allocates a fresh array for each
    // call and never writes to it again, so it is queued without a copy.
    this.#readController.enqueue(bytes);
    if (!this.#paused && (this.#readController.desiredSize ?? 0) <= 0) {
      this.#paused = true;
      this.#socket.pause();
    }
  }

  /** Bun's `end` handler: the peer half-closed (FIN), and may still read. */
  receiveEnd(): void {
    if (this.#readableDone) return;
    this.#readableDone = true;
    this.#readController.close();
  }

  /** Bun's `drain` handler: the send buffer has room again. */
  drain(): void {
    const unwritten = this.#unwritten;
    if (unwritten === undefined) return;
    const written = this.#socket.write(unwritten);
    if (written < 0) {
      this.#settleWrite(closedError("Cannot write to socket", this.#closeError));
    } else if (written === unwritten.byteLength) {
      this.#settleWrite();
    } else {
      this.#unwritten = unwritten.subarray(written);
    }
  }

  /** Bun's `close` handler, and `error` handler: both directions are over. */
  closed(error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeError = error;
    this.#cork.clear();
    if (!this.#readableDone) {
      this.#readableDone = true;
      if (error === undefined) this.#readController.close();
      else this.#readController.error(error);
    }
    if (this.#unwritten !== undefined) {
      this.#settleWrite(closedError("Cannot write to socket", error));
    }
  }

  #write(chunk: Uint8Array): Promise<void> | undefined {
    if (this.#detached) throw new TypeError("Cannot write to socket: TLS has taken it over");
    if (this.#closed) throw closedError("Cannot write to socket", this.#closeError);
    return this.#cork.write(chunk);
  }

  #writeNow(chunk: Uint8Array): Promise<void> | undefined {
    const written = this.#socket.write(chunk);
    if (written === chunk.byteLength) return undefined;
    if (written < 0) throw closedError("Cannot write to socket", this.#closeError);
    this.#unwritten = chunk.subarray(written);
    return new Promise((resolve, reject) => {
      this.#resolveWrite = resolve;
      this.#rejectWrite = reject;
    });
  }

  #settleWrite(error?: Error): void {
    const resolve = this.#resolveWrite;
    const reject = this.#rejectWrite;
    this.#unwritten = undefined;
    this.#resolveWrite = undefined;
    this.#rejectWrite = undefined;
    if (error === undefined) resolve?.();
    else reject?.(error);
  }

  /** Sends FIN once every write has been taken; the stream calls this only then. */
  #shutdown(): Promise<void> | undefined {
    if (this.#detached) return;
    if (this.#closed) {
      if (this.#closeError !== undefined) {
        throw closedError("Cannot close socket", this.#closeError);
      }
      return;
    }
    const flushing = this.#cork.flush();
    if (flushing !== undefined) return flushing.then(() => this.#shutdown());
    this.#socket.shutdown();
  }
}

/** Handlers shared by every socket: each finds its transport in `socket.data`. */
const TRANSPORT_HANDLERS = {
  binaryType: "uint8array",
  data: (socket: BunSocket, data: Uint8Array): void => socket.data?.receive(data),
  drain: (socket: BunSocket): void => socket.data?.drain(),
  end: (socket: BunSocket): void => socket.data?.receiveEnd(),
  close: (socket: BunSocket, error?: Error): void => socket.data?.closed(error),
  // Bun calls `error` when a handler throws (such as an `onTransport`
  // callback) and when an established TLS session fails; either way the
  // socket is of no further use.
  error: (socket: BunSocket, error: Error): void => {
    socket.data?.closed(error);
    socket.end();
  },
} as const;

/**
 * Raw sockets on Bun, as the {@linkcode RuntimeNet} the WebSocket client and
 * server run over.
 *
 * `connect()` resolves once the socket is open, for TLS once the handshake
 * has verified the server's certificate; certificates are always verified.
 * `caCerts` are trusted in addition to the default roots. `startTls()`
 * starts TLS on a plain transport `connect()` opened, such as a tunnel
 * through an HTTP proxy, with the socket's `upgradeTLS`. `listen()` hands
 * each accepted socket to `onTransport`, for TLS once its handshake is done;
 * closing the listener stops accepting, leaves accepted sockets open, and
 * removes a Unix socket's file.
 *
 * Each transport keeps Bun's socket half-open when the peer half-closes, so
 * `readable` ends while `writable` still works. `readable` pauses the socket
 * while 64 KiB or more wait unread; a write resolves once Bun has taken every
 * byte; closing `writable` sends FIN; cancelling `readable` or aborting
 * `writable` closes the socket.
 *
 * @throws {Error} `connect()` and `listen()` reject with an `Error` when Bun
 * is not the runtime. `connect()` rejects when the connection cannot be made,
 * with the address and Bun's reason (such as `ECONNREFUSED`, or a TLS
 * handshake or certificate failure) and Bun's error as `cause`, or with the
 * signal's reason once it aborts. `listen()` rejects when the address cannot
 * be listened on (such as `EADDRINUSE`).
 *
 * @example Echo over TCP
 * ```ts ignore
 * import { bunNet } from "@seed/websocket/bun";
 * import assert from "node:assert/strict";
 *
 * const listener = await bunNet.listen(
 *   { hostname: "127.0.0.1", port: 0 },
 *   (transport) => transport.readable.pipeTo(transport.writable),
 * );
 * assert.equal(listener.address.transport, "tcp");
 * const { port } = listener.address as { port: number };
 *
 * const transport = await bunNet.connect({ hostname: "127.0.0.1", port });
 * const writer = transport.writable.getWriter();
 * await writer.write(new TextEncoder().encode("hello"));
 * await writer.close();
 * const echoed = await new Response(transport.readable).text();
 * assert.equal(echoed, "hello");
 * await listener.close();
 * ```
 *
 * @example Connect with TLS to a server with a private CA
 * ```ts ignore
 * import { bunNet } from "@seed/websocket/bun";
 * import { readFileSync } from "node:fs";
 *
 * const transport = await bunNet.connect({
 *   hostname: "127.0.0.1",
 *   port: 8443,
 *   tls: { caCerts: [readFileSync("ca.pem", "utf8")], serverName: "localhost" },
 *   signal: AbortSignal.timeout(5000),
 * });
 * console.log(transport.secure, transport.remoteAddress);
 * ```
 */
export const bunNet: RuntimeNet = {
  name: "bun",
  connect,
  startTls,
  listen,
};

/**
 * Opens a stream socket with `Bun.connect`.
 *
 * @param options Where to connect, TLS options and an abort signal.
 * @returns The socket as a transport, once it is open (for TLS, verified).
 * @throws {Error} When Bun is not available, when the connection cannot be
 * made (refused, unreachable, TLS handshake or verification failed), or with
 * the signal's reason when it aborts first.
 */
async function connect(options: ConnectOptions): Promise<Transport> {
  const bun = getBun("connect");
  options.signal?.throwIfAborted();
  const secure = options.tls !== undefined && options.tls !== false;
  const tls = secure ? await clientTlsOptions(options.tls) : undefined;
  const address: NetAddress = options.path === undefined
    ? { transport: "tcp", hostname: options.hostname, port: options.port }
    : { transport: "unix", path: options.path };
  const where = formatAddress(address);
  const signal = options.signal;
  signal?.throwIfAborted();

  const target = address.transport === "unix"
    ? { unix: address.path }
    : { hostname: address.hostname, port: address.port };
  return openTransport(address, where, secure, signal, (handlers) =>
    // `connectError` reports most failures; this covers the rest.
    bun.connect({ ...target, allowHalfOpen: true, ...(tls && { tls }), socket: handlers })
      .then(() => {}, (error: unknown) => {
        throw new Error(`Cannot connect to ${where}: ${describeError(error)}`, { cause: error });
      }));
}

/**
 * Starts TLS on an open plain transport with the socket's `upgradeTLS`.
 *
 * @param transport A plain transport {@linkcode connect} opened, with no read pending.
 * @param options The name to verify, the TLS options and an abort signal.
 * @returns The TLS transport, once the server's certificate is verified.
 * @throws {TypeError} When the transport is not one of this adapter's, is TLS
 * already, or is closed.
 * @throws {Error} When the TLS handshake or verification fails, or with the
 * signal's reason when it aborts first.
 */
async function startTls(transport: Transport, options: StartTlsOptions): Promise<Transport> {
  if (!(transport instanceof BunTransport)) {
    throw new TypeError("Cannot start TLS: the transport was not opened by the Bun adapter");
  }
  if (transport.secure) throw new TypeError("Cannot start TLS: the transport is TLS already");
  const { signal } = options;
  signal?.throwIfAborted();
  // The socket leads to the proxy: the name to verify must be given, or Bun
  // would check the proxy's.
  const tls = await clientTlsOptions({
    serverName: options.serverName ?? options.hostname,
    ...(options.caCerts === undefined ? {} : { caCerts: options.caCerts }),
  });
  signal?.throwIfAborted();
  const raw = transport.detach();
  const { remoteAddress } = transport;
  const where = `${options.hostname} through ${formatAddress(remoteAddress)}`;
  return openTransport(remoteAddress, where, true, signal, (handlers) => {
    try {
      raw.upgradeTLS({ tls, socket: handlers });
    } catch (error) {
      raw.end();
      throw error;
    }
  });
}

/**
 * Calls `start` with handlers for a client socket, and resolves with its
 * transport once the socket is open, for TLS once the handshake has verified
 * the server. `start` may throw, or return a promise that rejects. `where`
 * names the peer in messages.
 */
function openTransport(
  address: NetAddress,
  where: string,
  secure: boolean,
  signal: AbortSignal | undefined,
  start: (handlers: BunSocketHandlers) => void | Promise<void>,
): Promise<Transport> {
  return new Promise<Transport>((resolve, reject) => {
    let settled = false;
    let opened: BunSocket | undefined;
    const onAbort = (): void => fail(signal?.reason);
    const succeed = (transport: BunTransport): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      resolve(transport);
    };
    function fail(error: unknown): void {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      opened?.end();
      reject(error);
    }
    signal?.addEventListener("abort", onAbort, { once: true });

    const handlers: BunSocketHandlers = {
      ...TRANSPORT_HANDLERS,
      open(socket) {
        opened = socket;
        if (settled) {
          socket.end();
          return;
        }
        const transport = new BunTransport(socket, secure, address);
        socket.data = transport;
        // With a handshake handler, Bun calls `open` when TCP connects and
        // `handshake` once TLS is done (or failed); its `connect()` promise
        // also resolves before the handshake, so only `handshake` says that a
        // TLS socket is ready and its certificate was verified.
        if (!secure) succeed(transport);
      },
      handshake(socket, success, authorizationError) {
        const transport = socket.data;
        if (success && transport !== undefined) {
          succeed(transport);
          return;
        }
        const detail = authorizationError === null
          ? "TLS handshake failed"
          : `TLS handshake failed: ${describeError(authorizationError)}`;
        fail(new Error(`Cannot connect to ${where}: ${detail}`, { cause: authorizationError }));
      },
      connectError(_socket, error) {
        fail(new Error(`Cannot connect to ${where}: ${describeError(error)}`, { cause: error }));
      },
      close(socket, error) {
        TRANSPORT_HANDLERS.close(socket, error);
        fail(
          new Error(`Cannot connect to ${where}: connection closed before it was ready`, {
            cause: error,
          }),
        );
      },
    };
    try {
      start(handlers)?.catch(fail);
    } catch (error) {
      fail(error);
    }
  });
}

/**
 * Listens for stream sockets with `Bun.listen`.
 *
 * @param options Where to listen, and the certificate and key for TLS.
 * @param onTransport Called with each accepted socket, for TLS after its handshake.
 * @returns The listener, with the port the system picked when `port` is 0.
 * @throws {Error} When Bun is not available, or the address cannot be listened on.
 */
function listen(
  options: ListenOptions,
  onTransport: (transport: Transport) => void,
): Promise<TransportListener> {
  try {
    return Promise.resolve(listenNow(options, onTransport));
  } catch (error) {
    return Promise.reject(error);
  }
}

function listenNow(
  options: ListenOptions,
  onTransport: (transport: Transport) => void,
): TransportListener {
  const bun = getBun("listen");
  const tls = options.tls;
  const secure = tls !== undefined;
  const requested: NetAddress = options.path === undefined
    ? { transport: "tcp", hostname: options.hostname, port: options.port }
    : { transport: "unix", path: options.path };
  const handlers: BunSocketHandlers = {
    ...TRANSPORT_HANDLERS,
    open(socket) {
      const transport = new BunTransport(socket, secure, requested);
      socket.data = transport;
      if (!secure) onTransport(transport);
    },
    handshake(socket, success) {
      // A server does not ask for client certificates, so `success` is false
      // only when the handshake itself failed.
      if (success && socket.data !== undefined) onTransport(socket.data);
      else socket.end();
    },
  };
  const target = requested.transport === "unix"
    ? { unix: requested.path }
    : { hostname: requested.hostname, port: requested.port };
  let listener: BunListener;
  try {
    listener = bun.listen({
      ...target,
      allowHalfOpen: true,
      ...(tls && { tls: { cert: tls.cert, key: tls.key } }),
      socket: handlers,
    });
  } catch (error) {
    throw new Error(
      `Cannot listen on ${formatAddress(requested)}: ${describeError(error)}`,
      { cause: error },
    );
  }
  const address: NetAddress = requested.transport === "unix" ? requested : {
    transport: "tcp",
    hostname: listener.hostname ?? requested.hostname,
    port: listener.port ?? requested.port,
  };
  let stopped = false;
  return {
    address,
    close(): Promise<void> {
      if (!stopped) {
        stopped = true;
        listener.stop(false);
      }
      return Promise.resolve();
    },
  };
}

function getBun(action: "connect" | "listen"): BunNetApi {
  const bun = (globalThis as { Bun?: BunNetApi }).Bun;
  if (bun === undefined) {
    throw new Error(`Cannot ${action}: the Bun runtime is not available`);
  }
  return bun;
}

/**
 * Bun's `ca` replaces the default trust store rather than adding to it, so
 * extra CA certificates are appended to the roots Bun would otherwise trust.
 */
async function clientTlsOptions(
  tls: ConnectOptions["tls"],
): Promise<BunTlsOptions> {
  const options: BunTlsOptions = { rejectUnauthorized: true };
  if (typeof tls !== "object") return options;
  if (tls.serverName !== undefined) options.serverName = tls.serverName;
  if (tls.caCerts !== undefined && tls.caCerts.length > 0) {
    const roots = await import("node:tls") as NodeTlsRoots;
    const defaults = roots.getCACertificates?.("default") ?? roots.rootCertificates;
    options.ca = [...defaults, ...tls.caCerts];
  }
  return options;
}

function closedError(action: string, cause: Error | undefined): Error {
  return cause === undefined
    ? new Error(`${action}: socket is closed`)
    : new Error(`${action}: socket closed with ${describeError(cause)}`, { cause });
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && !error.message.includes(code)
    ? `${error.message} (${code})`
    : error.message;
}

function formatAddress(address: NetAddress): string {
  return address.transport === "unix" ? address.path : `${address.hostname}:${address.port}`;
}
