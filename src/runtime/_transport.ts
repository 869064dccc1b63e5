/**
 * The shape every runtime adapter gives a stream socket, so that the
 * handshake and the protocol above it never see a runtime's own socket type.
 *
 * @module
 */

import type { ByteStreams } from "../protocol/channel.ts";

/** Where a socket is: a host and port, or a Unix domain socket path. */
export type NetAddress =
  | { transport: "tcp"; hostname: string; port: number }
  | { transport: "unix"; path: string };

/**
 * A connected stream socket as byte streams. Reading `readable` slower than
 * the peer writes must stop the socket from being read (so TCP backpressure
 * reaches the peer), and a write to `writable` must resolve only once the
 * runtime has taken the bytes, waiting while its send buffer is full.
 * Closing `writable` half-closes the socket (FIN); cancelling `readable`
 * closes it.
 */
export interface Transport extends ByteStreams {
  /** The peer's address. */
  readonly remoteAddress: NetAddress;
  /** Our own address. */
  readonly localAddress: NetAddress;
  /** Whether the socket is TLS. */
  readonly secure: boolean;
}

/** TLS options of a client socket. */
export interface TlsConnectOptions {
  /** Extra trusted CA certificates, PEM. */
  caCerts?: string[];
  /** The name to verify the server's certificate against (and send as SNI). */
  serverName?: string;
}

/** Options of {@linkcode RuntimeNet.startTls}. */
export interface StartTlsOptions extends TlsConnectOptions {
  /**
   * The host at the other end of the socket, such as the server behind a
   * proxy's tunnel: its certificate is verified against this name, which is
   * also sent as SNI, unless `serverName` is given.
   */
  hostname: string;
  /** Aborts the TLS handshake; the socket is closed then. */
  signal?: AbortSignal;
}

/** Options of {@linkcode RuntimeNet.connect}. */
export interface ConnectOptions {
  /** The host to connect to. */
  hostname: string;
  /** The port to connect to. */
  port: number;
  /** A Unix domain socket path; when given, `hostname` and `port` are not used. */
  path?: string;
  /** TLS: `true` for the defaults, or options. */
  tls?: boolean | TlsConnectOptions;
  /** Aborts the connection attempt. */
  signal?: AbortSignal;
}

/** TLS options of a listening socket. */
export interface TlsListenOptions {
  /** The certificate chain, PEM. */
  cert: string;
  /** The private key, PEM. */
  key: string;
}

/** Options of {@linkcode RuntimeNet.listen}. */
export interface ListenOptions {
  /** The host to listen on. */
  hostname: string;
  /** The port to listen on; 0 picks a free one. */
  port: number;
  /** A Unix domain socket path; when given, `hostname` and `port` are not used. */
  path?: string;
  /** TLS certificate and key, to accept `wss://`. */
  tls?: TlsListenOptions;
  /** The length of the queue of connections not yet accepted, where the runtime takes one (Node). */
  backlog?: number;
}

/** A listening socket. */
export interface TransportListener {
  /** The address it listens on, with the port the system picked for port 0. */
  readonly address: NetAddress;
  /** Stops accepting; sockets already accepted are not closed. */
  close(): Promise<void>;
}

/** What each runtime adapter provides for raw sockets. */
export interface RuntimeNet {
  /** The runtime's name, for error messages. */
  readonly name: "deno" | "bun" | "node";
  /** Opens a stream socket. */
  connect(options: ConnectOptions): Promise<Transport>;
  /**
   * Starts TLS as the client on a plain transport this adapter opened, such
   * as a tunnel through an HTTP proxy, and resolves once the handshake has
   * verified the server's certificate. The new transport takes the socket
   * over: the old one must have nothing left unread and no read pending, and
   * must not be used again. On failure the socket is closed. Absent when the
   * runtime cannot start TLS on an open socket.
   */
  startTls?(transport: Transport, options: StartTlsOptions): Promise<Transport>;
  /** Listens, handing each accepted socket to `onTransport`. */
  listen(
    options: ListenOptions,
    onTransport: (transport: Transport) => void,
  ): Promise<TransportListener>;
}
