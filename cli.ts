#!/usr/bin/env node
/**
 * `seed-websocket`, the command-line tool: `connect` to poke a WebSocket
 * server from a terminal, `serve` to try a client against an echo,
 * broadcast or printing server. Each prints the counts of messages and
 * bytes, and ping round-trip times, on exit.
 *
 *     deno run -A jsr:@seed/websocket/cli connect ws://127.0.0.1:8080
 *     bunx @seed/websocket serve --echo --port 8080
 *     npx seed-websocket connect --json wss://example.com/socket
 *
 * Errors are one line on standard error and a non-zero exit code (2 for a
 * bad command line); `--verbose` adds the stack trace. `--help` after a
 * command lists its flags and exit codes.
 *
 * @example Printing the help
 * ```ts
 * import { main } from "@seed/websocket/cli";
 * import assert from "node:assert/strict";
 *
 * assert.equal(await main(["connect", "--help"]), 0);
 * ```
 *
 * @module
 */

import process from "node:process";
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { UsageError } from "./src/cli/args.ts";
import { CONNECT_USAGE, runConnect } from "./src/cli/connect_command.ts";
import { EXIT_CODE, type ExitCode } from "./src/cli/exit_code.ts";
import { describe } from "./src/cli/failure.ts";
import { runServe, SERVE_USAGE } from "./src/cli/serve_command.ts";
import { exitWhenOutputCloses, flushOutput, printLine, report } from "./src/cli/terminal.ts";

export { EXIT_CODE, type ExitCode } from "./src/cli/exit_code.ts";

const NAME = "seed-websocket";

const USAGE = `Usage: ${NAME} COMMAND [options]

A WebSocket client and server for the terminal.

Commands:
  connect URL   connect, send the lines of standard input, print the messages
  serve         serve WebSocket clients: echo, broadcast, or print (default)

Run "${NAME} COMMAND --help" for a command's options and exit codes.`;

const COMMANDS: Record<string, { usage: string; run: (args: string[]) => Promise<ExitCode> }> = {
  connect: { usage: CONNECT_USAGE, run: runConnect },
  serve: { usage: SERVE_USAGE, run: runServe },
};

/**
 * Runs the command-line tool: `connect URL`, `serve`, or `help`.
 *
 * A bad command line is reported in one line on standard error with exit
 * code 2; a connection or server that cannot be opened, with 1. With
 * `--verbose` the stack trace follows.
 *
 * @param args The command line after the program's name.
 * @returns The exit code, one of {@linkcode EXIT_CODE}: 0 normal close, 1
 * failure to connect or listen, 2 bad command line, 3 abnormal close
 * (1006), 4 any other close code.
 *
 * @example Asking for the help of a command
 * ```ts
 * import { EXIT_CODE, main } from "@seed/websocket/cli";
 * import assert from "node:assert/strict";
 *
 * assert.equal(await main(["serve", "--help"]), EXIT_CODE.Normal);
 * ```
 */
export async function main(args: string[]): Promise<ExitCode> {
  const [name, ...rest] = args;
  try {
    if (name === undefined) throw new UsageError("expected a command: connect or serve");
    if (name === "help" || name === "--help" || name === "-h") {
      const topic = rest[0] === undefined ? undefined : COMMANDS[rest[0]];
      printLine(topic?.usage ?? USAGE);
      return EXIT_CODE.Normal;
    }
    const command = COMMANDS[name];
    if (command === undefined) {
      throw new UsageError(`unknown command ${JSON.stringify(name)}: expected connect or serve`);
    }
    return await command.run(rest);
  } catch (error) {
    report(`${NAME}: ${describe(error)}${error instanceof UsageError ? " (see --help)" : ""}`);
    if (args.includes("--verbose") || args.includes("-v")) report(stackOf(error));
    if (error instanceof UsageError) return EXIT_CODE.Usage;
    return EXIT_CODE.Failure;
  }
}

/** The stack trace of an error and of its causes. */
function stackOf(error: unknown): string {
  const stacks: string[] = [];
  for (let cause = error, depth = 0; cause !== undefined && depth < 5; depth++) {
    stacks.push(cause instanceof Error ? cause.stack ?? cause.message : String(cause));
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return stacks.join("\nCaused by: ");
}

/** Whether this module is the program being run, rather than imported. */
function isProgram(): boolean {
  // Deno and Bun say so; Node 20 does not, so compare with the script it was given.
  const main = (import.meta as { main?: boolean }).main;
  if (main !== undefined) return main;
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isProgram()) {
  exitWhenOutputCloses(EXIT_CODE.Normal);
  const code = await main(process.argv.slice(2));
  await flushOutput();
  process.exit(code);
}
