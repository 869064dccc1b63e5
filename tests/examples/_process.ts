/**
 * Runs example programs as child processes on the runtime running the
 * tests, and watches their output.
 */

import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** How long a spawned example, or a message, may take: runtimes start slowly on a busy machine. */
export const TIMEOUT = 20_000;

// This file runs as TypeScript from tests/examples/ under Deno and Bun, and as
// JavaScript from npm/test/examples/ under Node; the examples sit two levels up
// either way, compiled to JavaScript beside the built tests.
const EXTENSION = import.meta.url.endsWith(".ts") ? "ts" : "js";

/** The command that runs an example on the runtime running this test. */
export function command(example: string, args: string[]): [string, string[]] {
  const file = fileURLToPath(new URL(`../../examples/${example}.${EXTENSION}`, import.meta.url));
  // process.execPath is the deno, bun or node binary running this file.
  return "Deno" in globalThis
    ? [process.execPath, ["run", "-A", file, ...args]]
    : [process.execPath, [file, ...args]];
}

/** Rejects after {@linkcode TIMEOUT} unless `promise` settles first. */
export function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${TIMEOUT} ms`)), TIMEOUT);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The command that runs the command-line tool on the runtime running this
 * test: `cli.ts` under Deno and Bun, the npm build's `esm/cli.js` (its
 * `bin`) under Node.
 */
export function cliCommand(args: string[]): [string, string[]] {
  const file = fileURLToPath(
    new URL(EXTENSION === "ts" ? "../../cli.ts" : "../../esm/cli.js", import.meta.url),
  );
  return "Deno" in globalThis
    ? [process.execPath, ["run", "-A", file, ...args]]
    : [process.execPath, [file, ...args]];
}

/** How to start an {@linkcode ExampleProcess} beyond its arguments. */
export interface ProcessOptions {
  /** Environment variables to set, over the test's own. */
  env?: Record<string, string>;
  /** Whether to give it a standard input to write to, rather than none. */
  stdin?: boolean;
  /** The command to run instead of the example's. */
  command?: [string, string[]];
}

/** How a process ended. */
export interface Exit {
  code: number | null;
  signal: string | null;
}

/** An example running as a child process, its output collected. */
export class ExampleProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  stdout = "";
  stderr = "";
  #ended = false;
  #waiters = new Set<() => void>();

  /**
   * Starts an example.
   *
   * @param example Its path under `examples/`, without extension.
   * @param args Its command-line arguments.
   * @param env Environment variables to set for it, over the test's own.
   * @param options Standard input, or another command to run.
   */
  constructor(
    example: string,
    args: string[],
    env?: Record<string, string>,
    options: ProcessOptions = {},
  ) {
    this.name = [example, ...args].join(" ");
    const [file, argv] = options.command ?? command(example, args);
    env ??= options.env;
    this.child = spawn(file, argv, {
      stdio: [options.stdin ? "pipe" : "ignore", "pipe", "pipe"],
      ...(env === undefined ? {} : { env: { ...process.env, ...env } }),
    });
    this.child.stdout?.setEncoding("utf8").on("data", (text: string) => {
      this.stdout += text;
      this.#changed();
    });
    this.child.stderr?.setEncoding("utf8").on("data", (text: string) => {
      this.stderr += text;
      this.#changed();
    });
    this.exited = new Promise<Exit>((resolve) => {
      this.child.on("error", (error) => {
        this.stderr += String(error);
        resolve({ code: null, signal: null });
      });
      this.child.on("close", (code, signal) => resolve({ code, signal }));
    }).then((exit) => {
      this.#ended = true;
      this.#changed();
      return exit;
    });
  }

  /** Waits for a line of standard output matching `pattern`; returns the match. */
  line(pattern: RegExp): Promise<RegExpMatchArray> {
    return this.waitFor(
      `line matching ${pattern}`,
      () =>
        this.stdout.split("\n").slice(0, -1).map((line) => line.match(pattern)).find((m) =>
          m !== null
        ) ??
          undefined,
    );
  }

  /** Waits for the `listening on` line of a server; returns its URL. */
  listening(): Promise<string> {
    return this.waitFor(
      "listening line",
      () => /^listening on (ws:\/\/\S+)\n/.exec(this.stdout)?.[1],
    );
  }

  /** Waits for the process to exit by itself. */
  exit(): Promise<Exit> {
    return within(this.exited, `exit from ${this.name} (stderr: ${this.stderr})`);
  }

  /** Kills the process if it still runs, and waits until it has ended. */
  async stop(): Promise<void> {
    if (!this.#ended) this.child.kill("SIGKILL");
    await within(this.exited, `end of ${this.name} after SIGKILL`);
  }

  #changed(): void {
    for (const waiter of this.#waiters) waiter();
  }

  /**
   * Waits until `check` returns something other than `undefined`, checking
   * after each output the process writes; rejects if it ends first.
   */
  waitFor<T>(what: string, check: () => T | undefined): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${what} from ${this.name} within ${TIMEOUT} ms: ${this.#output()}`));
      }, TIMEOUT);
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(attempt);
      };
      const attempt = () => {
        const value = check();
        if (value !== undefined) {
          done();
          resolve(value);
        } else if (this.#ended) {
          done();
          reject(new Error(`${this.name} ended before its ${what}: ${this.#output()}`));
        }
      };
      this.#waiters.add(attempt);
      attempt();
    });
  }

  #output(): string {
    return `stdout ${JSON.stringify(this.stdout)}, stderr ${JSON.stringify(this.stderr)}`;
  }
}

/** Runs an example that is expected to exit by itself; returns its exit code and output. */
export async function run(
  example: string,
  args: string[],
  options: ProcessOptions = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const program = new ExampleProcess(example, args, undefined, options);
  try {
    const { code } = await program.exit();
    return { code, stdout: program.stdout, stderr: program.stderr };
  } finally {
    await program.stop();
  }
}
