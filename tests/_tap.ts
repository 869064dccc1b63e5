/**
 * A TCP tap between a WebSocket client and server on 127.0.0.1: it forwards
 * every byte unchanged and decodes the frames of each direction after the
 * opening handshake, so that tests see what went over the wire, RSV1 included.
 *
 * @module
 */

import { connect, createServer, type Socket } from "node:net";
import { type Frame, FrameParser } from "../src/codec/mod.ts";

/** A frame as seen on the wire. */
export interface TappedFrame {
  opcode: number;
  fin: boolean;
  rsv1: boolean;
  /** The payload length on the wire (compressed when RSV1 is set). */
  length: number;
}

/** A running tap. */
export interface Tap {
  /** The port to connect to instead of the server's. */
  port: number;
  /** The frames the client sent, over every connection, in order. */
  fromClient: TappedFrame[];
  /** The frames the server sent. */
  fromServer: TappedFrame[];
  /** The request and response heads, as latin1 text. */
  heads: string[];
  /** Ends every connection and stops the tap. */
  close(): Promise<void>;
}

/**
 * Starts a tap in front of the server at `targetPort`.
 *
 * @param targetPort The server's port on 127.0.0.1.
 * @returns The running tap.
 */
export async function startTap(targetPort: number): Promise<Tap> {
  const sockets = new Set<Socket>();
  const tap: Tap = { port: 0, fromClient: [], fromServer: [], heads: [], close: async () => {} };
  const server = createServer((client) => {
    const upstream = connect(targetPort, "127.0.0.1");
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => {});
      socket.on("close", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    relay(client, upstream, "server", tap.fromClient, tap.heads);
    relay(upstream, client, "client", tap.fromServer, tap.heads);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  tap.port = typeof address === "object" && address !== null ? address.port : 0;
  tap.close = () => {
    for (const socket of sockets) socket.destroy();
    return new Promise((resolve) => server.close(() => resolve()));
  };
  return tap;
}

/** Forwards `from` to `to`, decoding the frames after the head as the `role` receiving them. */
function relay(
  from: Socket,
  to: Socket,
  role: "server" | "client",
  frames: TappedFrame[],
  heads: string[],
): void {
  const parser = new FrameParser({ role, allowRsv1: true, maxMessageSize: Infinity });
  let head = "";
  let inHead = true;
  let failed = false;
  from.on("data", (chunk: Uint8Array) => {
    to.write(chunk);
    let bytes = Uint8Array.from(chunk);
    if (inHead) {
      head += new TextDecoder("latin1").decode(bytes);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      inHead = false;
      heads.push(head.slice(0, end));
      bytes = bytes.subarray(bytes.length - (head.length - end - 4));
    }
    if (failed) return;
    try {
      parser.push(bytes, (frame: Frame) =>
        frames.push({
          opcode: frame.opcode,
          fin: frame.fin,
          rsv1: frame.rsv1 === true,
          length: frame.payload.length,
        }));
    } catch {
      failed = true; // What the ends make of bad frames is for the test to check.
    }
  });
  from.on("end", () => to.end());
}

/**
 * The `Sec-WebSocket-Extensions` value of the tapped response, or `""`.
 *
 * @param tap The tap.
 * @returns The value the server answered with.
 */
export function answeredExtensions(tap: Tap): string {
  const response = tap.heads.find((head) => head.startsWith("HTTP/"));
  return /\r\nsec-websocket-extensions: *([^\r]*)/i.exec(response ?? "")?.[1] ?? "";
}
