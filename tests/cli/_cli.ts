/**
 * Helpers for the tests of the command-line tool: running it as a child
 * process, and a loopback server that records what it was sent.
 */

import { createHash } from "node:crypto";
import { createServer, type Server as NetServer } from "node:net";
import { listen, type ListenOptions, type Message, type ServerChannel } from "../../mod.ts";
import { cliCommand, ExampleProcess, type ProcessOptions, run } from "../examples/_process.ts";

export { TIMEOUT, within } from "../examples/_process.ts";

/** Starts the command-line tool with `args`, standard input open for writing. */
export function startCli(args: string[]): ExampleProcess {
  return new ExampleProcess("cli", args, undefined, { stdin: true, command: cliCommand(args) });
}

/** Runs the command-line tool to its end, without standard input. */
export function runCli(
  args: string[],
  options: ProcessOptions = {},
): ReturnType<typeof run> {
  return run("cli", args, { ...options, command: cliCommand(args) });
}

/** Waits for a line of standard error matching `pattern`. */
export function stderrLine(program: ExampleProcess, pattern: RegExp): Promise<string> {
  return program.waitFor(
    `stderr line matching ${pattern}`,
    () => program.stderr.split("\n").find((line) => pattern.test(line)),
  );
}

/** The lines of some output. */
export function lines(text: string): string[] {
  return text === "" ? [] : text.replace(/\n$/, "").split("\n");
}

/** What a recording server saw of one connection. */
export interface Seen {
  request: Request;
  protocol: string;
  messages: Message[];
  closeCode: number | undefined;
}

/**
 * Runs `body` with a server on a loopback port that records each connection
 * and lets `handler` answer it; closes the server afterwards.
 */
export async function withServer(
  options: ListenOptions,
  handler: (channel: ServerChannel, seen: Seen) => void | Promise<void>,
  body: (url: string, seen: Seen[]) => Promise<void>,
): Promise<void> {
  const seen: Seen[] = [];
  const server = await listen({ hostname: "127.0.0.1", port: 0, ...options }, async (channel) => {
    const record: Seen = {
      request: channel.request,
      protocol: channel.protocol,
      messages: [],
      closeCode: undefined,
    };
    seen.push(record);
    channel.closed.then(({ code }) => record.closeCode = code);
    await handler(channel, record);
  });
  try {
    await body(`ws://127.0.0.1:${server.port}`, seen);
  } finally {
    await server.close();
  }
}

/** Reads a channel's messages into `seen` until it closes, calling `reply` on each. */
export async function recordMessages(
  channel: ServerChannel,
  seen: Seen,
  reply: (message: Message) => Message | undefined = () => undefined,
): Promise<void> {
  const writer = channel.writable.getWriter();
  try {
    for await (const message of channel.readable) {
      seen.messages.push(message);
      const answer = reply(message);
      if (answer !== undefined) await writer.write(answer);
    }
  } catch {
    // The connection failed; its close code is recorded.
  }
}

/**
 * A raw TCP server that accepts the WebSocket handshake, then cuts the
 * connection off without a close frame: a 1006 for the client.
 */
export async function withCuttingServer(body: (url: string) => Promise<void>): Promise<void> {
  const server: NetServer = createServer((socket) => {
    let head = "";
    socket.setEncoding("latin1").on("data", (text: string) => {
      head += text;
      if (!head.includes("\r\n\r\n")) return;
      const key = /^sec-websocket-key:\s*(\S+)/im.exec(head)?.[1] ?? "";
      const accept = createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
        .digest("base64");
      socket.write(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
      );
      setTimeout(() => socket.destroy(), 100);
    });
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  try {
    await body(`ws://127.0.0.1:${port}`);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}
