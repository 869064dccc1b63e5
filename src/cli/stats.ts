/**
 * What a run of the command-line tool counts: messages and bytes each way,
 * ping round-trip times, and how long it ran; printed on exit.
 *
 * @module
 */

import type { Message } from "../protocol/connection.ts";

const encoder = new TextEncoder();

/** The size of a message on the wire, without framing: UTF-8 bytes for text. */
function messageSize(message: Message | string): number {
  return typeof message === "string" ? encoder.encode(message).byteLength : message.byteLength;
}

/** Counters of one run, for a client connection or a whole server. */
export class Stats {
  /** Messages sent. */
  sent = 0;
  /** Payload bytes sent. */
  bytesSent = 0;
  /** Messages received. */
  received = 0;
  /** Payload bytes received. */
  bytesReceived = 0;
  /** When the last message was received, from `performance.now()`. */
  lastReceived = 0;
  /** Round-trip times of the pings answered, in milliseconds. */
  readonly roundTrips: number[] = [];
  readonly #started: number = performance.now();

  /** Counts a message sent. */
  countSent(message: Message | string): void {
    this.sent++;
    this.bytesSent += messageSize(message);
  }

  /** Counts a message received. */
  countReceived(message: Message | string): void {
    this.received++;
    this.lastReceived = performance.now();
    this.bytesReceived += messageSize(message);
  }

  /**
   * The counters in a few lines of text.
   *
   * @returns Lines such as `sent 2 messages (10 bytes), received 2 messages
   * (10 bytes) in 1.2 s` and, after pings, `round trip of 3 pings: min 0.2
   * ms, median 0.3 ms, max 0.9 ms`.
   */
  format(): string[] {
    const seconds = ((performance.now() - this.#started) / 1000).toFixed(1);
    const lines = [
      `sent ${plural(this.sent, "message")} (${plural(this.bytesSent, "byte")}), ` +
      `received ${plural(this.received, "message")} (${plural(this.bytesReceived, "byte")}) ` +
      `in ${seconds} s`,
    ];
    if (this.roundTrips.length > 0) {
      const sorted = [...this.roundTrips].sort((a, b) => a - b);
      lines.push(
        `round trip of ${plural(sorted.length, "ping")}: min ${ms(sorted[0]!)}, ` +
          `median ${ms(median(sorted))}, max ${ms(sorted[sorted.length - 1]!)}`,
      );
    }
    return lines;
  }
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

function ms(value: number): string {
  return `${value.toFixed(value < 10 ? 2 : 1)} ms`;
}

/** The median of sorted numbers, not empty. */
function median(sorted: number[]): number {
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
