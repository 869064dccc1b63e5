/**
 * Starts, stops and restarts a real `redis-server` for the Redis broker's
 * tests, on a free loopback port, with persistence off. When the binary is
 * missing the tests skip themselves and say why.
 */

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { connect, createServer } from "node:net";
import process from "node:process";

const BINARY = "redis-server";
/** How long redis-server may take to accept connections, or to exit. */
const START_TIMEOUT = 10_000;

/** Why the Redis tests cannot run here, for their `skip`; `false` when they can. */
export const redisSkip: string | false = (() => {
  const { error } = spawnSync(BINARY, ["--version"], { stdio: "ignore" });
  return error === undefined ? false : `${BINARY} is not installed (apt-get install redis-server)`;
})();

/** A free TCP port on 127.0.0.1, as the system picks one. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** One redis-server on a fixed port, which can be stopped and started again. */
export class RedisServer {
  readonly port: number;
  #process: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();

  private constructor(port: number) {
    this.port = port;
  }

  /** Starts a redis-server on a free port, and waits until it accepts connections. */
  static async start(): Promise<RedisServer> {
    const server = new RedisServer(await freePort());
    await server.restart();
    return server;
  }

  /** The URL clients connect to. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the server again on the same port (after `stop`), and waits until it accepts. */
  async restart(): Promise<void> {
    const child = spawn(BINARY, [
      "--port",
      String(this.port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
    ], { stdio: "ignore" });
    this.#process = child;
    this.#exited = new Promise((resolve) => {
      child.once("exit", () => resolve());
      child.once("error", () => resolve());
    });
    const deadline = Date.now() + START_TIMEOUT;
    for (let attempt = 0; attempt < 1000 && Date.now() < deadline; attempt++) {
      if (await accepts(this.port)) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`Cannot start ${BINARY}: port ${this.port} accepts nothing`);
  }

  /** Freezes the server (SIGSTOP): connections stay open, nothing is answered. */
  pause(): void {
    // By pid: Deno's ChildProcess sends no signal after its first kill().
    if (this.#process?.pid !== undefined) process.kill(this.#process.pid, "SIGSTOP");
  }

  /** Lets a frozen server run again (SIGCONT). */
  resume(): void {
    if (this.#process?.pid !== undefined) process.kill(this.#process.pid, "SIGCONT");
  }

  /** Kills the server and waits until it has exited. */
  async stop(): Promise<void> {
    this.#process?.kill("SIGKILL");
    this.#process = undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#exited,
      new Promise((resolve) => timer = setTimeout(resolve, START_TIMEOUT)),
    ]);
    clearTimeout(timer);
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
