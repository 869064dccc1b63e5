/**
 * Many clients exchanging numbered messages with an echo server, each
 * checking that every message comes back once, in order and intact. Shared
 * by `soak_test.ts` and `bench/soak.ts`.
 *
 * @module
 */

import { type ClientChannel, connect } from "../mod.ts";

/** Options of {@linkcode soakClients}. */
export interface SoakOptions {
  /** The echo server's URL. */
  url: string;
  /** How many connections to open and keep open at once. */
  connections: number;
  /** How many messages each connection sends per round. */
  messages: number;
  /** How many rounds each connection runs; a round writes its messages, then reads their echoes. */
  rounds?: number;
  /** How many opening handshakes run at once. */
  handshakes?: number;
  /** Called after each round of every connection with the count of messages echoed so far. */
  onRound?: (echoed: number) => void;
  /** Stops after the current round. */
  signal?: AbortSignal;
}

/**
 * The message numbered `n` on connection `id`: its numbers, then a payload
 * whose bytes derive from them, so that a corrupted one is noticed.
 */
export function numberedMessage(id: number, n: number): string {
  const tail = "x".repeat((id * 7 + n * 13) % 64);
  return `${id}:${n}:${tail}`;
}

/**
 * Opens the connections, runs the rounds on all of them at once, checks
 * every echo, and closes them.
 *
 * @returns How many messages came back.
 * @throws Naming the connection and the message, at the first one missing,
 * duplicated, out of order or changed.
 */
export async function soakClients(options: SoakOptions): Promise<number> {
  const handshakes = options.handshakes ?? 50;
  const channels: ClientChannel[] = [];
  try {
    for (let opened = 0; opened < options.connections; opened += handshakes) {
      const count = Math.min(handshakes, options.connections - opened);
      channels.push(
        ...await Promise.all(
          Array.from({ length: count }, () => connect(options.url, { handshakeTimeout: 20_000 })),
        ),
      );
    }
    let echoed = 0;
    await Promise.all(channels.map(async (channel, id) => {
      const writer = channel.writable.getWriter();
      const reader = channel.readable.getReader();
      let next = 0;
      for (let round = 0; round < (options.rounds ?? 1); round++) {
        if (options.signal?.aborted) break;
        const first = next;
        const writes: Promise<void>[] = [];
        for (let i = 0; i < options.messages; i++) {
          writes.push(writer.write(numberedMessage(id, first + i)));
        }
        for (let i = 0; i < options.messages; i++) {
          const { value, done } = await reader.read();
          const expected = numberedMessage(id, next);
          if (done || value !== expected) {
            throw new Error(
              `Connection ${id} expected message ${next}, got ${
                done ? "the end" : JSON.stringify(String(value).slice(0, 40))
              }`,
            );
          }
          next++;
          echoed++;
        }
        await Promise.all(writes);
        options.onRound?.(echoed);
      }
      writer.releaseLock();
      reader.releaseLock();
    }));
    return echoed;
  } finally {
    for (const channel of channels) channel.close(1000);
    await Promise.all(channels.map((channel) => channel.closed));
  }
}
