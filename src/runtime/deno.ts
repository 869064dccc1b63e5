/**
 * The Deno adapter for raw sockets: `Deno.connect`, `Deno.connectTls`,
 * `Deno.startTls`, `Deno.listen` and `Deno.listenTls`, turned into
 * {@linkcode Transport}s. `Deno.startTls` also starts TLS on a transport
 * already open, such as a tunnel through a proxy. Deno has no TLS over Unix
 * domain sockets: asking for it fails.
 *
 * Deno's `conn.writable` closes the whole connection when it is closed, and
 * `conn.readable` when it reaches the end, where a WebSocket needs
 * half-closes (our close frame sent and the peer's still to read, or the
 * peer's end read and our answer still to send). So reads go through
 * `conn.read`, writes through `conn.write`, closing through `conn.closeWrite`,
 * and the connection is released once both directions are done.
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

// The slice of Deno's API this adapter uses, declared here so the module
// type-checks without Deno's global types.
type DenoAddr =
  | { transport: "tcp" | "udp"; hostname: string; port: number }
  | { transport: "unix" | "unixpacket"; path: string | null };
interface DenoConn {
  read(buffer: Uint8Array): Promise<number | null>;
  readonly localAddr: DenoAddr;
  readonly remoteAddr: DenoAddr;
  write(bytes: Uint8Array): Promise<number>;
  closeWrite(): Promise<void>;
  close(): void;
  setNoDelay?(noDelay?: boolean): void;
  /** On a TLS connection: runs the handshake, which otherwise waits for the first read or write. */
  handshake?(): Promise<unknown>;
}
interface DenoListener extends AsyncIterable<DenoConn> {
  readonly addr: DenoAddr;
  close(): void;
}
interface DenoTlsOptions {
  hostname?: string;
  caCerts?: string[];
}
interface DenoNamespace {
  connect(
    options: { hostname: string; port: number } | { transport: "unix"; path: string },
  ): Promise<DenoConn>;
  connectTls(options: { hostname: string; port: number; caCerts?: string[] }): Promise<DenoConn>;
  startTls(conn: DenoConn, options: DenoTlsOptions): Promise<DenoConn>;
  listen(
    options: { hostname: string; port: number } | { transport: "unix"; path: string },
  ): DenoListener;
  listenTls(options: { hostname: string; port: number; cert: string; key: string }): DenoListener;
}

function deno(): DenoNamespace {
  const namespace = (globalThis as { Deno?: DenoNamespace }).Deno;
  if (namespace === undefined) throw new Error("Cannot open socket: the Deno adapter needs Deno");
  return namespace;
}

/**
 * Raw sockets on Deno.
 *
 * @example Connecting to a listening socket
 * ```ts ignore
 * import { denoNet } from "@seed/websocket/deno";
 *
 * const listener = await denoNet.listen({ hostname: "127.0.0.1", port: 0 }, (transport) => {
 *   transport.readable.pipeTo(transport.writable); // echo bytes
 * });
 * const address = listener.address;
 * if (address.transport === "tcp") {
 *   const transport = await denoNet.connect({ hostname: "127.0.0.1", port: address.port });
 *   await transport.writable.getWriter().write(new Uint8Array([1, 2, 3]));
 * }
 * ```
 */
export const denoNet: RuntimeNet = {
  name: "deno",

  async connect(options: ConnectOptions): Promise<Transport> {
    const { tls, signal } = options;
    signal?.throwIfAborted();
    const Deno = deno();
    let pending: Promise<DenoConn>;
    if (options.path !== undefined) {
      if (tls !== undefined && tls !== false) throw unixTlsError(`connect to ${options.path}`);
      pending = Deno.connect({ transport: "unix", path: options.path });
    } else if (tls === undefined || tls === false) {
      pending = Deno.connect({ hostname: options.hostname, port: options.port });
    } else {
      const { caCerts, serverName } = tls === true ? {} : tls;
      pending = serverName === undefined || serverName === options.hostname
        ? Deno.connectTls({
          hostname: options.hostname,
          port: options.port,
          ...(caCerts === undefined ? {} : { caCerts }),
        })
        : Deno.connect({ hostname: options.hostname, port: options.port }).then((conn) =>
          Deno.startTls(conn, {
            hostname: serverName,
            ...(caCerts === undefined ? {} : { caCerts }),
          })
        );
    }
    const conn = await abortable(pending, signal);
    conn.setNoDelay?.(true);
    return connToTransport(conn, tls !== undefined && tls !== false);
  },

  async startTls(transport: Transport, options: StartTlsOptions): Promise<Transport> {
    const { signal } = options;
    if (transport.secure) throw new TypeError("Cannot start TLS: the transport is TLS already");
    const detach = DETACHERS.get(transport);
    if (detach === undefined) {
      throw new TypeError("Cannot start TLS: the transport was not opened by the Deno adapter");
    }
    const conn = detach();
    let secured: DenoConn | undefined;
    try {
      signal?.throwIfAborted();
      const { caCerts, serverName } = options;
      secured = await deno().startTls(conn, {
        hostname: serverName ?? options.hostname,
        ...(caCerts === undefined ? {} : { caCerts }),
      });
      // Deno would run the handshake at the first read or write; running it
      // now makes a certificate that fails verification fail here.
      const tlsConn = secured;
      await abortable(
        tlsConn.handshake?.().then(() => tlsConn) ?? Promise.resolve(tlsConn),
        signal,
      );
    } catch (error) {
      closeQuietly(secured ?? conn);
      throw error;
    }
    return connToTransport(secured, true);
  },

  listen(
    options: ListenOptions,
    onTransport: (transport: Transport) => void,
  ): Promise<TransportListener> {
    const Deno = deno();
    if (options.path !== undefined && options.tls !== undefined) {
      return Promise.reject(unixTlsError(`listen on ${options.path}`));
    }
    const listener = options.path !== undefined
      ? Deno.listen({ transport: "unix", path: options.path })
      : options.tls !== undefined
      ? Deno.listenTls({ hostname: options.hostname, port: options.port, ...options.tls })
      : Deno.listen({ hostname: options.hostname, port: options.port });
    const secure = options.tls !== undefined;
    const accepting = (async () => {
      try {
        for await (const conn of listener) {
          conn.setNoDelay?.(true);
          onTransport(connToTransport(conn, secure));
        }
      } catch {
        // The listener was closed.
      }
    })();
    return Promise.resolve({
      address: toNetAddress(listener.addr),
      async close() {
        try {
          listener.close();
        } catch {
          // Already closed.
        }
        await accepting;
      },
    });
  },
};

/** Races a connection attempt with an abort signal; a connection made after the abort is closed. */
function abortable(pending: Promise<DenoConn>, signal: AbortSignal | undefined): Promise<DenoConn> {
  if (signal === undefined) return pending;
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    pending.then((conn) => {
      signal.removeEventListener("abort", onAbort);
      if (signal.aborted) conn.close();
      else resolve(conn);
    }, (error) => {
      signal.removeEventListener("abort", onAbort);
      reject(error);
    });
  });
}

function unixTlsError(action: string): Error {
  return new Error(`Cannot ${action}: Deno has no TLS over a Unix domain socket`);
}

function closeQuietly(conn: DenoConn): void {
  try {
    conn.close();
  } catch {
    // Already closed, or taken over by Deno.startTls.
  }
}

/**
 * For each plain transport made here, hands over its connection for
 * `startTls`: the transport lets go of it, so that its streams, abandoned,
 * never close it.
 */
const DETACHERS = new WeakMap<Transport, () => DenoConn>();

const SMALL_READ_BUFFER = 4 * 1024;
const LARGE_READ_BUFFER = 64 * 1024;
const MIN_READ_SPACE = 1024;
/** A read that brings fewer bytes than this makes the next buffer small. */
const SMALL_READ = 2 * 1024;

function connToTransport(conn: DenoConn, secure: boolean): Transport {
  let readDone = false;
  let writeDone = false;
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  };
  const releaseIfDone = (): void => {
    if (readDone && writeDone) release();
  };
  // Reads land in a shared buffer, each in a region of its own that is never
  // reused: a fresh buffer per read costs more than a small message. The
  // buffer is large (64 KiB) once a read fills its region, and small again
  // once a read brings little, so that an idle connection waits on a read
  // holding 4 KiB.
  let buffer = new Uint8Array(0);
  let offset = 0;
  let large = false;
  // A high-water mark of 0: the socket is read only when the consumer asks.
  const readable = new ReadableStream<Uint8Array>({
    async pull(controller) {
      // A buffer someone transferred away has length 0: start another.
      if (
        buffer.byteLength - offset < MIN_READ_SPACE ||
        large !== (buffer.byteLength === LARGE_READ_BUFFER)
      ) {
        buffer = new Uint8Array(large ? LARGE_READ_BUFFER : SMALL_READ_BUFFER);
        offset = 0;
      }
      try {
        const region = buffer.subarray(offset);
        const count = await conn.read(region);
        if (count === region.length) large = true;
        else if (count !== null && count < SMALL_READ) large = false;
        if (count === null) {
          readDone = true;
          controller.close();
          releaseIfDone();
        } else {
          controller.enqueue(buffer.subarray(offset, offset + count));
          offset += count;
        }
      } catch (error) {
        readDone = true;
        controller.error(error);
        releaseIfDone();
      }
    },
    cancel() {
      readDone = true;
      release();
    },
  }, { highWaterMark: 0 });
  // Small writes wait for the next turn of the event loop and go out together.
  const cork = new WriteCork(async (chunk) => {
    // conn.write may take part of the chunk: write the rest until all is taken.
    for (let at = 0; at < chunk.length;) at += await conn.write(chunk.subarray(at));
  });
  const writable = new WritableStream<Uint8Array>({
    write: (chunk) => cork.write(chunk),
    async close() {
      try {
        await cork.flush();
        await conn.closeWrite();
      } finally {
        writeDone = true;
        releaseIfDone();
      }
    },
    abort() {
      writeDone = true;
      cork.clear();
      release();
    },
  });
  const transport: Transport = {
    readable,
    writable,
    remoteAddress: toNetAddress(conn.remoteAddr),
    localAddress: toNetAddress(conn.localAddr),
    secure,
  };
  if (!secure) {
    DETACHERS.set(transport, () => {
      if (released || readDone || writeDone || !cork.idle) {
        throw new TypeError("Cannot start TLS: the transport is closed, closing or busy");
      }
      released = true;
      return conn;
    });
  }
  return transport;
}

function toNetAddress(address: DenoAddr): NetAddress {
  if ("path" in address) return { transport: "unix", path: address.path ?? "" };
  return { transport: "tcp", hostname: address.hostname, port: address.port };
}
