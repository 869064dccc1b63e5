/**
 * The exchanges the interoperability tests run between our end (`connect` or
 * `listen`) and a peer no one here wrote, and the checks of what both ends
 * saw.
 *
 * In an exchange each end, once open, sends its messages; the end that closes
 * waits until it has received every message of the other, then closes with the
 * exchange's code and reason. Each end reports what it saw: the subprotocol,
 * the messages, and the close code, reason and `wasClean` it observed. The
 * client always offers `["chat", "echo"]` and the server picks `"echo"`.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type * as WsModule from "ws";
import {
  type Channel,
  connect,
  listen,
  type ListenOptions,
  type Message,
  serve,
  type ServerChannel,
} from "../../mod.ts";

/** The subprotocols the client offers. */
export const OFFERED_PROTOCOLS: string[] = ["chat", "echo"];
/** The subprotocol the server picks. */
export const PROTOCOL = "echo";
/** How long one exchange may take, connecting included, in milliseconds. */
export const DEADLINE = 5000;
/**
 * How long cleaning up after an exchange may take: the test runner's own
 * timeout is the deadline plus this, so that a hang fails the test, not the
 * run, and never the next test (Bun's default timeout is 5 s).
 */
const CLEANUP_TIME = 3000;

/** A message to send: text, or `length` bytes of {@linkcode PeerScript.pattern}. */
export type MessageSpec = { text: string } | { length: number; seed: number };

/** A close code and reason to send. */
export interface CloseSpec {
  code: number;
  reason: string;
}

/** One exchange of the interoperability tests. */
export interface Exchange {
  /** The test's name after the symbol, given the peer's name. */
  title(peer: string): string;
  /** What our end sends. */
  ours: MessageSpec[];
  /** What the peer sends. */
  theirs: MessageSpec[];
  /** Which end starts the closing handshake, and with what. */
  closer: "ours" | "theirs";
  close: CloseSpec;
}

const MIB = 1024 * 1024;
const BYE: CloseSpec = { code: 4000, reason: "bye" };

/** The exchanges every peer runs, each on a connection of its own. */
export const EXCHANGES: Exchange[] = [
  {
    title: (peer) => `exchanges a text message both ways with ${peer}`,
    ours: [{ text: "hello from our end: ünïcödé ✓" }],
    theirs: [{ text: "hello from the peer: 👋 ½" }],
    closer: "ours",
    close: BYE,
  },
  {
    title: (peer) => `exchanges a binary message both ways with ${peer}`,
    ours: [{ length: 300, seed: 1 }],
    theirs: [{ length: 300, seed: 2 }],
    closer: "ours",
    close: BYE,
  },
  {
    title: (peer) => `exchanges a 1 MiB binary message both ways with ${peer}`,
    ours: [{ length: MIB, seed: 3 }],
    theirs: [{ length: MIB, seed: 4 }],
    closer: "ours",
    close: BYE,
  },
  {
    title: (peer) => `agrees on the subprotocol echo with ${peer}`,
    ours: [],
    theirs: [],
    closer: "ours",
    close: { code: 1000, reason: "" },
  },
  {
    title: (peer) => `starts a close with 4000 "bye" that ${peer} observes`,
    ours: [],
    theirs: [],
    closer: "ours",
    close: BYE,
  },
  {
    title: (peer) => `observes a close with 4000 "bye" that ${peer} starts`,
    ours: [],
    theirs: [],
    closer: "theirs",
    close: BYE,
  },
];

/**
 * What the peer does in an exchange: plain data, so that it can be handed to
 * a browser page.
 */
export interface Plan {
  /** The messages to send once open, in order. */
  send: MessageSpec[];
  /** How many messages the other end sends. */
  expect: number;
  /** The close to start once every message arrived; none to wait for the other end's. */
  close?: CloseSpec;
}

/** What the peer does in an exchange. */
export function peerPlan(exchange: Exchange): Plan {
  return {
    send: exchange.theirs,
    expect: exchange.ours.length,
    ...(exchange.closer === "theirs" ? { close: exchange.close } : {}),
  };
}

/** A message as a peer saw it: its text, or the length and FNV-1a hash of its bytes. */
export type SeenMessage = { text: string } | { length: number; hash: number };

/** A close as an end observed it; `wasClean` is missing where the peer's API does not tell. */
export interface SeenClose {
  code: number;
  reason: string;
  wasClean?: boolean;
}

/** What the peer saw. */
export interface Seen {
  protocol: string;
  messages: SeenMessage[];
  close: SeenClose;
}

/** What our end saw: the messages themselves, so that bytes are compared one by one. */
export interface OurSeen {
  protocol: string;
  messages: Message[];
  close: SeenClose;
}

/** The peer's socket, as {@linkcode PeerScript} drives it. */
export interface PeerSocket {
  /** The subprotocol the peer agreed on. */
  readonly protocol: string;
  send(message: string | Uint8Array): void;
  close(code: number, reason: string): void;
}

/** The part of a WHATWG `WebSocket` that {@linkcode PeerScript.drive} uses; `ws` has it too. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  readonly protocol: string;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: "open", listener: () => void): void;
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
  addEventListener(
    type: "close",
    listener: (event: { code: number; reason: string; wasClean: boolean }) => void,
  ): void;
  addEventListener(type: "error", listener: () => void): void;
}

/**
 * The peer's part of an exchange, driven through the peer's own API: call
 * `open` once its socket is open, `message` for each message it receives and
 * `closed` when it closes; `seen` then resolves with what it saw.
 *
 * The class refers to nothing outside itself, since its source is also run
 * in a browser page.
 */
export class PeerScript {
  /** What the peer saw, once closed. */
  readonly seen: Promise<Seen>;
  readonly #plan: Plan;
  readonly #messages: SeenMessage[] = [];
  #resolve!: (seen: Seen) => void;
  #socket: PeerSocket | undefined;
  #closing = false;

  constructor(plan: Plan) {
    this.#plan = plan;
    this.seen = new Promise((resolve) => this.#resolve = resolve);
  }

  /** The socket opened: sends the plan's messages. */
  open(socket: PeerSocket): void {
    this.#socket = socket;
    for (const spec of this.#plan.send) socket.send(PeerScript.make(spec));
    this.#closeWhenDone();
  }

  /** A message arrived. */
  message(data: string | Uint8Array): void {
    this.#messages.push(PeerScript.summarize(data));
    this.#closeWhenDone();
  }

  /** The socket closed. */
  closed(close: SeenClose): void {
    this.#resolve({ protocol: this.#socket?.protocol ?? "", messages: this.#messages, close });
  }

  #closeWhenDone(): void {
    const close = this.#plan.close;
    if (close === undefined || this.#socket === undefined || this.#closing) return;
    if (this.#messages.length < this.#plan.expect) return;
    this.#closing = true;
    this.#socket.close(close.code, close.reason);
  }

  /**
   * Drives a WHATWG `WebSocket` (or `ws`'s, which has the same events), open
   * or about to open.
   *
   * @param protocol The subprotocol agreed on, where the socket does not tell it.
   */
  drive(socket: WebSocketLike, protocol?: string): void {
    socket.binaryType = "arraybuffer";
    const open = () =>
      this.open({
        get protocol() {
          return protocol ?? socket.protocol;
        },
        send: (message) => socket.send(message),
        close: (code, reason) => socket.close(code, reason),
      });
    socket.addEventListener("message", ({ data }) => {
      this.message(typeof data === "string" ? data : new Uint8Array(data as ArrayBuffer));
    });
    socket.addEventListener("close", ({ code, reason, wasClean }) => {
      this.closed({ code, reason, wasClean });
    });
    // An error ends in a close event, which tells it; ws would throw one nobody listens to.
    socket.addEventListener("error", () => {});
    if (socket.readyState === 1) open(); // OPEN
    else socket.addEventListener("open", open);
  }

  /** The message a spec describes. */
  static make(spec: MessageSpec): string | Uint8Array {
    return "text" in spec ? spec.text : PeerScript.pattern(spec.length, spec.seed);
  }

  /** Bytes that do not repeat every 4 or 256 bytes, so that a mask or offset error shows. */
  static pattern(length: number, seed: number): Uint8Array {
    const bytes = new Uint8Array(length);
    for (let i = 0; i < length; i++) bytes[i] = (i * 31 + (i >> 8) * 7 + seed * 13 + 5) & 0xff;
    return bytes;
  }

  /** A message as {@linkcode SeenMessage}: binary messages hashed with 32-bit FNV-1a. */
  static summarize(data: string | Uint8Array): SeenMessage {
    if (typeof data === "string") return { text: data };
    let hash = 0x811c9dc5;
    for (const byte of data) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
    return { length: data.length, hash };
  }
}

/**
 * Runs our end of an exchange on a channel.
 *
 * @returns What our end saw, once `closed` resolved.
 */
export async function runOurEnd(channel: Channel, exchange: Exchange): Promise<OurSeen> {
  const messages: Message[] = [];
  let allArrived!: () => void;
  const arrived = new Promise<void>((resolve) => allArrived = resolve);
  if (exchange.theirs.length === 0) allArrived();
  const reading = (async () => {
    for await (const message of channel.readable) {
      messages.push(message);
      if (messages.length === exchange.theirs.length) allArrived();
    }
  })().catch(() => {}); // An unclean end errors readable; `closed` tells how it ended.
  const writer = channel.writable.getWriter();
  for (const spec of exchange.ours) await writer.write(PeerScript.make(spec));
  writer.releaseLock();
  if (exchange.closer === "ours") {
    await arrived;
    channel.close(exchange.close.code, exchange.close.reason);
  }
  const close = await channel.closed;
  await reading;
  return { protocol: channel.protocol, messages, close };
}

/**
 * Checks what both ends saw: the subprotocol, every message (ours byte by
 * byte), the close code and reason at the end that did not start it, the
 * code echoed to the one that did, and `wasClean` at both.
 */
export function checkExchange(exchange: Exchange, ours: OurSeen, theirs: Seen, peer: string): void {
  assert.equal(ours.protocol, PROTOCOL, "the subprotocol our end agreed on");
  assert.equal(theirs.protocol, PROTOCOL, `the subprotocol ${peer} agreed on`);

  assert.equal(ours.messages.length, exchange.theirs.length, "how many messages our end received");
  exchange.theirs.forEach((spec, i) =>
    checkMessage(ours.messages[i], spec, `our end's message ${i}`)
  );
  assert.deepEqual(
    theirs.messages,
    exchange.ours.map((spec) => PeerScript.summarize(PeerScript.make(spec))),
    `the messages ${peer} received`,
  );

  const [initiator, observer] = exchange.closer === "ours"
    ? [{ name: "our end", close: ours.close }, { name: peer, close: theirs.close }]
    : [{ name: peer, close: theirs.close }, { name: "our end", close: ours.close }];
  assert.deepEqual(
    { code: observer.close.code, reason: observer.close.reason },
    exchange.close,
    `the close ${observer.name} observed`,
  );
  // RFC 6455 §5.5.1: the answer typically echoes the code; whether it echoes the reason varies.
  assert.equal(initiator.close.code, exchange.close.code, `the code echoed to ${initiator.name}`);
  for (const { name, close } of [initiator, observer]) {
    if (close.wasClean !== undefined) assert.equal(close.wasClean, true, `${name}'s wasClean`);
  }
  assert.equal(ours.close.wasClean, true, "our end's wasClean");
}

function checkMessage(actual: Message | undefined, spec: MessageSpec, what: string): void {
  const expected = PeerScript.make(spec);
  if (typeof expected === "string") {
    assert.equal(actual, expected, what);
    return;
  }
  assert.ok(actual instanceof Uint8Array, `${what}: expected binary, got ${typeof actual}`);
  assert.equal(actual.length, expected.length, `${what}: byte count`);
  const at = expected.findIndex((byte, i) => actual[i] !== byte);
  if (at >= 0) assert.fail(`${what}: bytes differ first at offset ${at}`);
}

/** A server no one here wrote, started for one exchange. */
export interface PeerServer {
  /** The port it listens on, on 127.0.0.1. */
  port: number;
  /** What it saw on the first connection. */
  seen: Promise<Seen>;
  /** Stops it and ends its connections. */
  stop(): Promise<void> | void;
}

/** A server, and what it takes to run one. */
export interface ForeignServer {
  name: string;
  /** Why the server cannot run here, or `false`. */
  skip: string | false;
  /** Starts the server on 127.0.0.1, port 0, picking {@linkcode PROTOCOL}, running `plan`. */
  start(plan: Plan): Promise<PeerServer>;
}

/** A client, and what it takes to run one. */
export interface ForeignClient {
  name: string;
  /** Why the client cannot run here, or `false`. */
  skip: string | false;
  /**
   * Connects to `url` offering {@linkcode OFFERED_PROTOCOLS}, runs `plan`
   * and cleans up.
   *
   * @param signal Aborted when the exchange is over or its deadline passed.
   * @returns What it saw, once closed.
   */
  run(url: string, plan: Plan, signal: AbortSignal): Promise<Seen>;
}

/** Registers the tests of {@linkcode connect} against a server no one here wrote. */
export function testConnectAgainst(server: ForeignServer): void {
  for (const exchange of EXCHANGES) {
    const options = { skip: server.skip, timeout: DEADLINE + CLEANUP_TIME };
    test(`connect ${exchange.title(server.name)}`, options, async () => {
      const peer = await server.start(peerPlan(exchange));
      let channel: Channel | undefined;
      try {
        const [ours, theirs] = await withDeadline(DEADLINE, `${server.name} exchange`, async () => {
          channel = await connect(`ws://127.0.0.1:${peer.port}/`, {
            protocols: OFFERED_PROTOCOLS,
          });
          return await Promise.all([runOurEnd(channel, exchange), peer.seen]);
        });
        checkExchange(exchange, ours, theirs, server.name);
      } finally {
        channel?.close();
        await peer.stop();
      }
    });
  }
}

/** A server of ours under test: how to start it with the battery's options. */
interface ServerUnderTest {
  name: string;
  start(
    options: ListenOptions,
    accept: (channel: ServerChannel) => void,
  ): Promise<{ port: number; close(): Promise<void> }>;
}

/**
 * Our servers: the raw-socket one, and the runtime's own through
 * {@linkcode serve} (`Deno.serve`, `Bun.serve` or `node:http`).
 */
const SERVERS: ServerUnderTest[] = [
  { name: "listen", start: (options, accept) => listen(options, accept) },
  {
    name: "serve (native)",
    start: (options, accept) => serve({ ...options, mode: "native", onConnection: accept }),
  },
];

/** Registers the tests of our servers against a client no one here wrote. */
export function testServersAgainst(client: ForeignClient, deadline = DEADLINE): void {
  for (const server of SERVERS) {
    for (const exchange of EXCHANGES) testServerAgainst(server, exchange, client, deadline);
  }
}

function testServerAgainst(
  underTest: ServerUnderTest,
  exchange: Exchange,
  client: ForeignClient,
  deadline: number,
): void {
  const options = { skip: client.skip, timeout: deadline + CLEANUP_TIME };
  test(`${underTest.name} ${exchange.title(client.name)}`, options, async () => {
    let accept!: (channel: ServerChannel) => void;
    const accepted = new Promise<ServerChannel>((resolve) => accept = resolve);
    const errors: unknown[] = [];
    const server = await underTest.start({
      hostname: "127.0.0.1",
      port: 0,
      selectProtocol: (offered) => offered.includes(PROTOCOL) ? PROTOCOL : undefined,
      onError: (error) => errors.push(error),
    }, accept);
    const done = new AbortController();
    let channel: Channel | undefined;
    try {
      const [ours, theirs] = await withDeadline(deadline, `${client.name} exchange`, () => {
        const theirs = client.run(
          `ws://127.0.0.1:${server.port}/`,
          peerPlan(exchange),
          done.signal,
        );
        const ours = accepted.then((accepted) => runOurEnd(channel = accepted, exchange));
        return Promise.all([ours, theirs]);
      });
      checkExchange(exchange, ours, theirs, client.name);
      assert.deepEqual(errors, [], "errors the server reported");
    } finally {
      done.abort();
      channel?.close();
      await server.close();
    }
  });
}

/** Runs `work`, failing if it takes longer than `ms`, so that a hang fails the test. */
export async function withDeadline<T>(
  ms: number,
  what: string,
  work: () => Promise<T>,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work(), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Loads the `ws` package from `node_modules` by file path, so that Bun, whose
 * `ws` module is its own, loads npm's. The path is searched for upwards,
 * since the tests also run from the npm build, one directory deeper.
 */
export function loadWs(): typeof WsModule {
  const require = createRequire(import.meta.url);
  for (let dir = new URL(".", import.meta.url);; dir = new URL("..", dir)) {
    const path = fileURLToPath(new URL("node_modules/ws/index.js", dir));
    if (existsSync(path)) return require(path);
    if (new URL("..", dir).href === dir.href) {
      throw new Error("Cannot find the ws package in node_modules: run npm ci");
    }
  }
}
