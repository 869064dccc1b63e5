/**
 * Hostile input for a live server: random bytes, bit flips on valid traffic
 * (random and from the seed corpus in `fixtures/fuzz/`), random lengths in
 * frame headers, each cut into random chunks and sent on its own socket to
 * an echo server of ours on 127.0.0.1, several at a time. Each case checks
 * that the server answers with valid frames, at most one close frame and
 * with a valid close code, and closes the socket in bounded time; between
 * rounds, a well-behaved client checks that the server still echoes; at the
 * end no connection is left over. Shared by `fuzz_live_test.ts` and
 * `scripts/fuzz_live.ts`; every case comes from a seed, so a failure
 * reproduces.
 *
 * @module
 */

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { connect, listen, type WebSocketServer } from "../mod.ts";
import { isValidCloseCode, OPCODE } from "../src/codec/mod.ts";
import {
  closeCodeOf,
  closeFrame,
  decodeFrames,
  fromHex,
  mulberry32,
  randomBytes,
  randomInt,
} from "./conformance/_harness.ts";
import { randomSplit, randomStream } from "./conformance/_fuzz.ts";
import { rawPeer } from "./_raw_peer.ts";
import { within } from "./_servers.ts";

/** The kinds of input a case sends. */
export const LIVE_INPUTS = [
  "garbage",
  "bit-flipped traffic",
  "bit-flipped corpus",
  "random length",
] as const;

/** One of {@linkcode LIVE_INPUTS}. */
export type LiveInput = typeof LIVE_INPUTS[number];

/** The seed corpus: valid client traffic, one file of hex per sample. */
export function loadCorpus(): Uint8Array[] {
  const folder = new URL("./fixtures/fuzz/", import.meta.url);
  return readdirSync(folder).filter((name) => name.endsWith(".hex")).sort().map((name) =>
    fromHex(readFileSync(new URL(name, folder), "utf8").replace(/\s+/g, ""))
  );
}

/** Makes the bytes of one case from its seed. */
export function liveInput(
  kind: LiveInput,
  seed: number,
  corpus: readonly Uint8Array[],
): Uint8Array {
  const random = mulberry32(seed);
  const flip = (bytes: Uint8Array) => {
    for (let i = randomInt(random, 1, 4); i > 0; i--) {
      const at = random() < 0.6
        ? randomInt(random, 0, Math.min(bytes.length - 1, 40))
        : randomInt(random, 0, bytes.length - 1);
      bytes[at]! ^= 1 << randomInt(random, 0, 7);
    }
    return bytes;
  };
  switch (kind) {
    case "garbage":
      return randomBytes(random, randomInt(random, 1, random() < 0.9 ? 64 : 4000));
    case "bit-flipped traffic":
      return flip(randomStream(random, "server").bytes.slice());
    case "bit-flipped corpus":
      return flip(corpus[randomInt(random, 0, corpus.length - 1)]!.slice());
    case "random length": {
      // A masked frame whose 7-bit length, and 16- or 64-bit extension, are random.
      const byte0 = [0x81, 0x82, 0x01, 0x00, 0x80, 0x88, 0x89, 0x8a][randomInt(random, 0, 7)]!;
      const length7 = random() < 0.5 ? randomInt(random, 126, 127) : randomInt(random, 0, 127);
      const extension = randomBytes(random, length7 === 126 ? 2 : length7 === 127 ? 8 : 0);
      const body = randomBytes(random, randomInt(random, 0, 2000));
      return Uint8Array.of(byte0, 0x80 | length7, ...extension, 0x37, 0xfa, 0x21, 0x3d, ...body);
    }
  }
}

/** Options of {@linkcode fuzzLive}. */
export interface FuzzLiveOptions {
  /** How long to run, in milliseconds. */
  duration: number;
  /** The first seed; each case takes the next. */
  seed: number;
  /** How many cases run at once. */
  concurrency?: number;
  /** Called after each round with the count of cases so far. */
  onRound?: (cases: number) => void;
}

/** What {@linkcode fuzzLive} saw. */
export interface FuzzLiveReport {
  /** How many cases ran. */
  cases: number;
  /** The last seed used. */
  lastSeed: number;
  /** How many times the server's close frame carried each code; 0 for none sent. */
  codes: Map<number, number>;
}

/**
 * Runs cases against a new echo server until `duration` has passed, and
 * checks the invariants; throws, naming the case's kind and seed, at the
 * first broken one.
 */
export async function fuzzLive(options: FuzzLiveOptions): Promise<FuzzLiveReport> {
  const corpus = loadCorpus();
  const server = await listen({
    hostname: "127.0.0.1",
    port: 0,
    maxMessageSize: 1 << 20,
    closeTimeout: 1000,
    idleTimeout: 0,
    onError: () => {},
  }, (channel) => {
    channel.readable.pipeTo(channel.writable).catch(() => {});
  });
  const codes = new Map<number, number>();
  const canary = await connect(`ws://127.0.0.1:${server.port}`);
  const canaryWriter = canary.writable.getWriter();
  const canaryReader = canary.readable.getReader();
  const concurrency = options.concurrency ?? 4;
  const deadline = performance.now() + options.duration;
  let seed = options.seed;
  let cases = 0;
  try {
    for (let round = 0; performance.now() < deadline; round++) {
      const batch: Promise<void>[] = [];
      for (let i = 0; i < concurrency; i++) {
        const kind = LIVE_INPUTS[(seed + i) % LIVE_INPUTS.length]!;
        batch.push(runCase(server, kind, seed, corpus, codes));
        seed++;
      }
      await Promise.all(batch);
      cases += batch.length;
      // The server still serves a well-behaved client.
      await within(canaryWriter.write(`round ${round}`), "canary write");
      const { value } = await within(canaryReader.read(), "canary echo");
      assert.equal(value, `round ${round}`);
      options.onRound?.(cases);
    }
    // Every hostile connection is gone; only the canary is left.
    assert.equal(server.connections.size, 1);
  } finally {
    canary.close(1000);
    await server.shutdown(2000);
  }
  return { cases, lastSeed: seed - 1, codes };
}

async function runCase(
  server: WebSocketServer,
  kind: LiveInput,
  seed: number,
  corpus: readonly Uint8Array[],
  codes: Map<number, number>,
): Promise<void> {
  const label = `${kind}, seed ${seed}`;
  const bytes = liveInput(kind, seed, corpus);
  const chunks = randomSplit(mulberry32(seed ^ 0x5bd1e995), bytes);
  const peer = await rawPeer(server.port);
  for (const chunk of chunks) peer.socket.write(chunk);
  // A polite end, which may land inside a frame the garbage started.
  peer.socket.end(closeFrame("server", 1000));
  await within(peer.ended, `end of the connection (${label})`, 5000);
  let frames;
  try {
    frames = decodeFrames("server", peer.received());
  } catch (error) {
    throw new Error(`the server sent an invalid frame (${label})`, { cause: error });
  }
  const closes = frames.filter((frame) => frame.opcode === OPCODE.Close);
  assert.ok(closes.length <= 1, `${closes.length} close frames (${label})`);
  if (closes.length === 1) {
    assert.equal(frames.at(-1)!.opcode, OPCODE.Close, `a frame after the close frame (${label})`);
    const code = closeCodeOf(closes[0]!);
    assert.ok(code === undefined || isValidCloseCode(code), `close code ${code} (${label})`);
    codes.set(code ?? 0, (codes.get(code ?? 0) ?? 0) + 1);
  } else {
    codes.set(0, (codes.get(0) ?? 0) + 1);
  }
}
