/**
 * `serve`: a WebSocket server for trying clients out. It echoes, broadcasts,
 * or by default prints what clients send and sends them the lines of
 * standard input; `--static DIR` serves files to plain HTTP requests.
 *
 * @module
 */

import { serve, type Server } from "../serve.ts";
import type { ServerChannel } from "../_accept.ts";
import type { MessageInput } from "../protocol/channel.ts";
import type { Message } from "../protocol/connection.ts";
import {
  type FlagSpec,
  parseFlags,
  parseInteger,
  parseProtocols,
  readPem,
  strings,
  UsageError,
} from "./args.ts";
import { EXIT_CODE, type ExitCode } from "./exit_code.ts";
import { CommandFailure, describe } from "./failure.ts";
import { staticFiles } from "./static_files.ts";
import { Stats } from "./stats.ts";
import { onStopSignal, printLine, readInputLines, report } from "./terminal.ts";

/** The help of `serve`. */
export const SERVE_USAGE = `Usage: seed-websocket serve [options]

Starts a WebSocket server and prints "listening on ws://HOST:PORT" once
ready. By default each message a client sends is printed on standard
output, and each line of standard input is sent to every client.
SIGINT (Ctrl-C) or SIGTERM closes every connection with 1001, prints the
counts of connections, messages and bytes on standard error, and exits 0.

Options:
  -e, --echo                 send every message back to its sender
  -b, --broadcast            send every message to every client, the sender
                             included
  -P, --port PORT            port to listen on; 0 picks a free one
                             (default 8080)
  --hostname HOST            address to listen on (default 127.0.0.1)
  -S, --static DIR           answer plain HTTP requests with the files of
                             DIR (index.html for a directory)
  --cert FILE --key FILE     serve wss:// with this certificate chain and
                             private key (PEM)
  -s, --subprotocol A,B      subprotocols accepted: the client's first offer
                             that is listed wins
  --mode MODE                native: the runtime's own HTTP server; raw: our
                             codec on raw sockets (default native)
  -q, --quiet                no status lines, no stats
  -v, --verbose              print stack traces with errors
  -h, --help                 print this help and exit

Exit codes: 0 stopped by a signal, 1 cannot listen, 2 bad command line.`;

const SERVE_FLAGS: FlagSpec = {
  echo: { type: "boolean", short: "e" },
  broadcast: { type: "boolean", short: "b" },
  port: { type: "string", short: "P", default: "8080" },
  hostname: { type: "string", default: "127.0.0.1" },
  static: { type: "string", short: "S" },
  cert: { type: "string" },
  key: { type: "string" },
  subprotocol: { type: "string", short: "s", multiple: true },
  mode: { type: "string", default: "native" },
  quiet: { type: "boolean", short: "q" },
  verbose: { type: "boolean", short: "v" },
  help: { type: "boolean", short: "h" },
};

/** Messages waiting to be written to one client past which it is dropped with 1008. */
const MAX_PENDING_WRITES = 1024;

/** A client of the server and what waits to be written to it. */
interface Client {
  id: number;
  writer: WritableStreamDefaultWriter<MessageInput>;
  pending: number;
}

/** The server `serve` runs: the clients and what it does with their messages. */
class Hub {
  readonly clients: Map<ServerChannel, Client> = new Map();
  readonly stats: Stats = new Stats();
  connections = 0;
  #nextId = 1;

  constructor(
    readonly behaviour: "echo" | "broadcast" | "print",
    readonly status: (line: string) => void,
  ) {}

  async accept(channel: ServerChannel): Promise<void> {
    const client: Client = { id: this.#nextId++, writer: channel.writable.getWriter(), pending: 0 };
    this.clients.set(channel, client);
    this.connections++;
    const protocol = channel.protocol === "" ? "" : `, subprotocol ${channel.protocol}`;
    this.status(
      `client ${client.id} connected (${new URL(channel.request.url).pathname}${protocol})`,
    );
    try {
      for await (const message of channel.readable) {
        this.stats.countReceived(message);
        if (this.behaviour === "echo") this.send(channel, client, message);
        else if (this.behaviour === "broadcast") this.sendToAll(message);
        else printLine(typeof message === "string" ? message : hex(message));
      }
    } catch {
      // A failed connection errors the stream; `closed` tells how.
    }
    const { code, reason } = await channel.closed;
    this.clients.delete(channel);
    this.status(`client ${client.id} closed with ${code}${reason === "" ? "" : ` (${reason})`}`);
  }

  sendToAll(message: Message): void {
    for (const [channel, client] of this.clients) this.send(channel, client, message);
  }

  send(channel: ServerChannel, client: Client, message: Message): void {
    if (client.pending >= MAX_PENDING_WRITES) {
      channel.close(1008, "Too slow to read");
      return;
    }
    client.pending++;
    client.writer.write(message).then(
      () => this.stats.countSent(message),
      () => {},
    ).finally(() => client.pending--);
  }
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * Runs `serve` with its command line until SIGINT or SIGTERM.
 *
 * @param args The arguments after `serve`.
 * @returns The exit code.
 * @throws {UsageError} On a bad command line.
 */
export async function runServe(args: string[]): Promise<ExitCode> {
  const { values, positionals } = parseFlags(args, SERVE_FLAGS);
  if (values.help === true) {
    printLine(SERVE_USAGE);
    return EXIT_CODE.Normal;
  }
  if (positionals.length > 0) {
    throw new UsageError(`serve takes no arguments, got ${JSON.stringify(positionals[0])}`);
  }
  if (values.echo === true && values.broadcast === true) {
    throw new UsageError("--echo and --broadcast cannot be used together");
  }
  const port = parseInteger("--port", String(values.port), 0, 65535);
  const hostname = String(values.hostname);
  const accepted = parseProtocols("--subprotocol", strings(values.subprotocol));
  if (values.mode !== "native" && values.mode !== "raw") {
    throw new UsageError(`--mode must be native or raw, got ${JSON.stringify(values.mode)}`);
  }
  const status = values.quiet === true ? () => {} : report;
  const hub = new Hub(
    values.echo === true ? "echo" : values.broadcast === true ? "broadcast" : "print",
    status,
  );
  const directory = typeof values.static === "string" ? values.static : undefined;
  if ((values.cert === undefined) !== (values.key === undefined)) {
    throw new UsageError("--cert and --key go together");
  }
  const tls = typeof values.cert === "string" && typeof values.key === "string"
    ? { cert: await readPem(values.cert), key: await readPem(values.key) }
    : undefined;

  let server: Server;
  try {
    server = await serve({
      mode: values.mode,
      hostname,
      port,
      selectProtocol: (offered) => offered.find((protocol) => accepted.includes(protocol)),
      ...(directory === undefined ? {} : { fetch: staticFiles(directory) }),
      ...(tls === undefined ? {} : { tls }),
      onError: (error) => status(`error: ${describe(error)}`),
      onConnection: (channel) => hub.accept(channel),
    });
  } catch (error) {
    throw new CommandFailure(`Cannot listen on ${hostname}:${port}: ${describe(error)}`, error);
  }
  // Before the listening line, which tells whoever waits for it that a signal now stops the server.
  const stopped = new Promise<void>((resolve) => {
    const removeSignals = onStopSignal(() => {
      removeSignals();
      resolve();
    });
  });
  const host = server.hostname.includes(":") ? `[${server.hostname}]` : server.hostname;
  const secure = tls === undefined ? "" : "s";
  printLine(`listening on ws${secure}://${host}:${server.port}`);
  if (directory !== undefined) {
    status(`serving the files of ${directory} at http${secure}://${host}:${server.port}/`);
  }

  const input = hub.behaviour === "print" ? readInputLines() : undefined;
  if (input !== undefined) {
    (async () => {
      for await (const line of input.lines) hub.sendToAll(line);
    })().catch((error) => status(`error: ${describe(error)}`));
  }
  await stopped;
  input?.stop();
  await server.close();
  status(`served ${hub.connections} connection${hub.connections === 1 ? "" : "s"}`);
  for (const line of hub.stats.format()) status(line);
  return EXIT_CODE.Normal;
}
