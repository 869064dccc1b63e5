/**
 * A WebSocket client written by hand on `node:net`, for peers that misbehave
 * on purpose: it completes the opening handshake, then sends exactly the
 * bytes a test gives it and records every byte the server sends.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { connect, type Socket } from "node:net";
import { within } from "./_servers.ts";

/** A raw client after its opening handshake. */
export interface RawPeer {
  /** The socket; `pause()` it to stop reading. */
  socket: Socket;
  /** Every byte received after the server's 101 response head. */
  received(): Uint8Array;
  /** Resolves once the server closed the socket (or it failed). */
  ended: Promise<void>;
}

const HEAD = [
  "GET / HTTP/1.1",
  "Host: 127.0.0.1",
  "Upgrade: websocket",
  "Connection: Upgrade",
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
  "Sec-WebSocket-Version: 13",
  "",
  "",
].join("\r\n");

/**
 * Connects to 127.0.0.1:`port` and completes the opening handshake.
 *
 * @param port The server's port.
 * @returns The peer, once the server answered 101.
 * @throws When the server answers anything but 101 or closes first.
 */
export async function rawPeer(port: number): Promise<RawPeer> {
  const socket = connect({ host: "127.0.0.1", port });
  socket.on("error", () => {});
  let buffered = Buffer.alloc(0);
  let headEnd = -1;
  let resolveHead!: () => void;
  let rejectHead!: (error: Error) => void;
  const head = new Promise<void>((resolve, reject) => {
    resolveHead = resolve;
    rejectHead = reject;
  });
  socket.on("data", (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    if (headEnd >= 0) return;
    headEnd = buffered.indexOf("\r\n\r\n");
    if (headEnd < 0) return;
    const status = buffered.subarray(0, headEnd).toString("latin1").split("\r\n")[0]!;
    if (/^HTTP\/1\.1 101 /.test(status)) resolveHead();
    else rejectHead(new Error(`the server answered ${status}`));
  });
  const ended = new Promise<void>((resolve) => socket.on("close", () => resolve()));
  ended.then(() => rejectHead(new Error("the server closed before answering")));
  socket.on("connect", () => socket.write(HEAD));
  await within(head, "101 response");
  return {
    socket,
    received: () => new Uint8Array(buffered.subarray(headEnd + 4)),
    ended,
  };
}
