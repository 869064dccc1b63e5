/**
 * The command-line tool's standard streams and signals, through
 * `node:process` and `node:readline`, which Deno, Bun and Node all provide.
 *
 * @module
 */

import process from "node:process";
import { createInterface } from "node:readline";

/**
 * Ends the program quietly with `code` when whatever reads standard output
 * goes away (`seed-websocket connect URL | head -1`), rather than failing
 * with a stack trace.
 */
export function exitWhenOutputCloses(code: number): void {
  process.stdout.on("error", (error: Error & { code?: string }) => {
    if (error.code === "EPIPE") process.exit(code);
    throw error;
  });
}

/** Writes one line to standard output. */
export function printLine(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Writes bytes, then a newline, to standard output. */
export function printBytes(bytes: Uint8Array): void {
  process.stdout.write(bytes);
  process.stdout.write("\n");
}

/** Writes one line to standard error. */
export function report(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Resolves once what was written to standard output and error has been handed on. */
export function flushOutput(): Promise<void> {
  const flushed = (stream: { write(chunk: string, callback: () => void): boolean }) =>
    new Promise<void>((resolve) => stream.write("", () => resolve()));
  return Promise.all([flushed(process.stdout), flushed(process.stderr)]).then(() => {});
}

/** The lines read from standard input, with a way to stop reading. */
export interface InputLines {
  /** The lines, without their line endings, until standard input ends. */
  lines: AsyncIterable<string>;
  /** Stops reading standard input. */
  stop(): void;
}

/** Reads standard input line by line. */
export function readInputLines(): InputLines {
  const reader = createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
  return {
    lines: reader,
    stop: () => {
      reader.close();
      process.stdin.pause();
    },
  };
}

/**
 * Calls `handler` on SIGINT and SIGTERM; on the second signal, exits at once
 * with 130.
 *
 * @returns A function that removes the handlers.
 */
export function onStopSignal(handler: () => void): () => void {
  let signalled = false;
  const listener = () => {
    if (signalled) process.exit(130);
    signalled = true;
    handler();
  };
  process.on("SIGINT", listener);
  process.on("SIGTERM", listener);
  return () => {
    process.off("SIGINT", listener);
    process.off("SIGTERM", listener);
  };
}
