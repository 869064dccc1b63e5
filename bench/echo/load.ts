/**
 * The echo benchmark's load generator: opens `--conns` WebSocket connections
 * to an echo server on raw TCP (`Bun.connect`), keeps `--window` binary
 * messages of `--size` bytes in flight on each, and counts the echoes. It does
 * as little per message as it can: every frame it sends is the same
 * pre-masked bytes, written in one call per batch, and it reads only the
 * header of each echoed frame to know where the next starts. One round-trip
 * time is measured per message from the batch it left in to the read that
 * completed it.
 *
 *     bun bench/echo/load.ts --port 8080 --conns 64 --size 32 --window 16 --seconds 2
 *
 * Prints one line of JSON: `{ messages, seconds, p50, p99 }` (round trips in
 * milliseconds) for the measured interval after `--warmup` seconds. With
 * `--idle` it opens the connections, prints `ready`, and holds them open
 * until it is killed, so that the server's memory per idle connection can be
 * read.
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";

/** The slice of Bun's TCP client used here. */
interface BunSocket {
  write(data: Uint8Array | string): number;
  end(): void;
  data: Link;
}
interface BunApi {
  connect(options: {
    hostname: string;
    port: number;
    socket: {
      open(socket: BunSocket): void;
      data(socket: BunSocket, chunk: Uint8Array): void;
      drain(socket: BunSocket): void;
      close(socket: BunSocket): void;
      error(socket: BunSocket, error: Error): void;
      connectError?(socket: BunSocket, error: Error): void;
    };
    data: Link;
  }): Promise<BunSocket>;
}

const { values } = parseArgs({
  options: {
    hostname: { type: "string", default: "127.0.0.1" },
    port: { type: "string" },
    conns: { type: "string", default: "64" },
    size: { type: "string", default: "32" },
    window: { type: "string", default: "16" },
    seconds: { type: "string", default: "2" },
    warmup: { type: "string", default: "0.5" },
    idle: { type: "boolean", default: false },
  },
});
const HOSTNAME = values.hostname;
const PORT = Number(values.port);
const CONNS = Number(values.conns);
const SIZE = Number(values.size);
const WINDOW = Number(values.window);
const SECONDS = Number(values.seconds);
const WARMUP = Number(values.warmup);
if (!(PORT > 0) || !(CONNS > 0) || !(SIZE >= 0) || !(WINDOW > 0)) {
  console.error("load: --port, --conns, --size and --window must be positive numbers");
  process.exit(2);
}

const Bun = (globalThis as unknown as { Bun?: BunApi }).Bun;
if (Bun === undefined) {
  console.error("load: the load generator runs on Bun: bun bench/echo/load.ts ...");
  process.exit(2);
}

/** One masked binary frame of SIZE bytes, repeated WINDOW times back to back. */
function maskedFrames(size: number, count: number): { frames: Uint8Array; frameLength: number } {
  const header = size < 126 ? 2 : size < 65536 ? 4 : 10;
  const frame = new Uint8Array(header + 4 + size);
  frame[0] = 0x82;
  if (size < 126) frame[1] = 0x80 | size;
  else if (size < 65536) {
    frame[1] = 0x80 | 126;
    new DataView(frame.buffer).setUint16(2, size);
  } else {
    frame[1] = 0x80 | 127;
    new DataView(frame.buffer).setBigUint64(2, BigInt(size));
  }
  const mask = [0x37, 0xfa, 0x21, 0x3d];
  frame.set(mask, header);
  for (let i = 0; i < size; i++) frame[header + 4 + i] = (i % 251) ^ mask[i % 4]!;
  const frames = new Uint8Array(frame.length * count);
  for (let i = 0; i < count; i++) frames.set(frame, i * frame.length);
  return { frames, frameLength: frame.length };
}

const { frames, frameLength } = maskedFrames(SIZE, WINDOW);
const REQUEST = `GET / HTTP/1.1\r\nHost: ${HOSTNAME}:${PORT}\r\nUpgrade: websocket\r\n` +
  "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
  "Sec-WebSocket-Version: 13\r\n\r\n";

let running = false;
let measuring = false;
let echoed = 0;
let samples = new Float64Array(1 << 20);
let sampleCount = 0;

function record(rtt: number): void {
  if (sampleCount === samples.length) {
    const grown = new Float64Array(samples.length * 2);
    grown.set(samples);
    samples = grown;
  }
  samples[sampleCount++] = rtt;
}

/** One connection's state: the handshake, the frame being skipped, and the send times in flight. */
class Link {
  socket: BunSocket | undefined;
  open = false;
  head = "";
  /** Payload bytes of the current echoed frame still to skip. */
  remaining = 0;
  /** Header bytes of the current echoed frame seen so far, and how many it has. */
  header = new Uint8Array(10);
  headerSeen = 0;
  headerSize = 2;
  pending: Uint8Array[] = [];
  sentAt = new Float64Array(WINDOW);
  sentTail = 0;
  sentHead = 0;
  readonly ready: Promise<void>;
  resolveReady!: () => void;
  rejectReady!: (error: Error) => void;

  constructor() {
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
  }

  send(count: number): void {
    const now = performance.now();
    for (let i = 0; i < count; i++) this.sentAt[this.sentTail++ % WINDOW] = now;
    this.write(frames.subarray(0, count * frameLength));
  }

  write(bytes: Uint8Array): void {
    if (this.pending.length > 0) {
      this.pending.push(bytes);
      return;
    }
    const written = this.socket!.write(bytes);
    if (written < bytes.length) this.pending.push(bytes.subarray(Math.max(written, 0)));
  }

  drain(): void {
    while (this.pending.length > 0) {
      const bytes = this.pending[0]!;
      const written = this.socket!.write(bytes);
      if (written < bytes.length) {
        this.pending[0] = bytes.subarray(Math.max(written, 0));
        return;
      }
      this.pending.shift();
    }
  }

  receive(chunk: Uint8Array): void {
    if (!this.open) {
      this.head += new TextDecoder().decode(chunk);
      const end = this.head.indexOf("\r\n\r\n");
      if (end === -1) return;
      if (!this.head.startsWith("HTTP/1.1 101")) {
        this.rejectReady(new Error(`no upgrade: ${this.head.split("\r\n")[0]}`));
        return;
      }
      this.open = true;
      this.resolveReady();
      return; // The server sends nothing before our first message.
    }
    const done = this.countFrames(chunk);
    if (done === 0) return;
    const now = performance.now();
    for (let i = 0; i < done; i++) {
      const rtt = now - this.sentAt[this.sentHead++ % WINDOW]!;
      if (measuring) record(rtt);
    }
    if (measuring) echoed += done;
    if (running) this.send(done);
  }

  /** Counts the frames this chunk completes, keeping the state of one split across chunks. */
  countFrames(chunk: Uint8Array): number {
    let done = 0;
    let at = 0;
    const length = chunk.length;
    while (at < length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, length - at);
        this.remaining -= take;
        at += take;
        if (this.remaining === 0) done++;
        continue;
      }
      const byte = chunk[at++]!;
      this.header[this.headerSeen++] = byte;
      if (this.headerSeen === 2) {
        const short = byte & 0x7f;
        this.headerSize = short === 126 ? 4 : short === 127 ? 10 : 2;
        if ((this.header[0]! & 0x0f) === 0x8) {
          console.error("load: the server sent a close frame");
          process.exit(1);
        }
      }
      if (this.headerSeen < 2 || this.headerSeen < this.headerSize) continue;
      const h = this.header;
      const payload = this.headerSize === 2
        ? h[1]! & 0x7f
        : this.headerSize === 4
        ? (h[2]! << 8) | h[3]!
        : (h[6]! * 2 ** 24) + ((h[7]! << 16) | (h[8]! << 8) | h[9]!);
      this.headerSeen = 0;
      if (payload === 0) done++;
      else this.remaining = payload;
    }
    return done;
  }
}

const links: Link[] = [];
const handlers = {
  open(socket: BunSocket) {
    socket.data.socket = socket;
    socket.write(REQUEST);
  },
  data(socket: BunSocket, chunk: Uint8Array) {
    socket.data.receive(chunk);
  },
  drain(socket: BunSocket) {
    socket.data.drain();
  },
  close(socket: BunSocket) {
    if (running) {
      console.error("load: the server closed a connection during the run");
      process.exit(1);
    }
    socket.data.rejectReady(new Error("closed before the upgrade"));
  },
  error(socket: BunSocket, error: Error) {
    socket.data.rejectReady(error);
  },
  connectError(socket: BunSocket, error: Error) {
    socket.data.rejectReady(error);
  },
};

// Connect in groups so that a listen backlog of 128 is never overrun.
const GROUP = 100;
for (let i = 0; i < CONNS; i += GROUP) {
  const group: Promise<void>[] = [];
  for (let j = i; j < Math.min(CONNS, i + GROUP); j++) {
    const link = new Link();
    links.push(link);
    group.push(
      Bun.connect({ hostname: HOSTNAME, port: PORT, socket: handlers, data: link })
        .then(() => link.ready),
    );
  }
  await Promise.all(group);
}

if (values.idle) {
  console.log("ready");
  setInterval(() => {}, 1 << 30);
} else {
  running = true;
  for (const link of links) link.send(WINDOW);
  await new Promise((resolve) => setTimeout(resolve, WARMUP * 1000));
  measuring = true;
  const start = performance.now();
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
  measuring = false;
  running = false;
  const seconds = (performance.now() - start) / 1000;
  const sorted = samples.subarray(0, sampleCount).sort();
  const at = (q: number) =>
    sorted.length === 0 ? NaN : sorted[Math.floor((sorted.length - 1) * q)]!;
  console.log(JSON.stringify({ messages: echoed, seconds, p50: at(0.5), p99: at(0.99) }));
  process.exit(0);
}
