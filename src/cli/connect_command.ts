/**
 * `connect URL`: an interactive client. Lines of standard input become
 * messages, the messages received are printed on standard output, and what
 * happens to the connection goes to standard error.
 *
 * @module
 */

import { type ClientChannel, connect, type ConnectOptions } from "../connect.ts";
import type { Message } from "../protocol/connection.ts";
import {
  type FlagSpec,
  parseFlags,
  parseHeaders,
  parseProtocols,
  parseSeconds,
  readPem,
  strings,
  UsageError,
} from "./args.ts";
import { EXIT_CODE, type ExitCode, exitCodeOfClose } from "./exit_code.ts";
import { CommandFailure, describe } from "./failure.ts";
import { Stats } from "./stats.ts";
import { onStopSignal, printBytes, printLine, readInputLines, report } from "./terminal.ts";

/** The help of `connect`. */
export const CONNECT_USAGE = `Usage: seed-websocket connect [options] URL

Connects to URL (ws://, wss://, or ws+unix:/path.sock:/request/path). Each
line of standard input is sent as a message; each message received is
printed on standard output, one a line: text as it is, binary in hex (raw
with --binary). When standard input ends and no message has come for the
--wait time, the connection is closed with 1000; SIGINT (Ctrl-C) closes it
at once. On exit, the counts of messages and
bytes and the ping round-trip times go to standard error.

Options:
  -H, --header "NAME: VALUE"  a request header; repeat for more
  -s, --subprotocol A,B       subprotocols to offer, most preferred first;
                              repeat or separate with commas
  -o, --origin ORIGIN         the Origin header to send
  --ca FILE                   trust the CA certificate(s) in FILE (PEM) for
                              wss://, beside the system's; repeat for more
  -b, --binary                send lines as binary messages (their UTF-8
                              bytes), and print binary messages raw
  -j, --json                  send each line as compact JSON, refusing lines
                              that are not JSON; print text messages that
                              hold JSON compactly
  -p, --ping SECONDS          ping every SECONDS (fractions allowed) and
                              print each round-trip time on standard error
  -w, --wait SECONDS          once standard input has ended, close when no
                              message has come for SECONDS (default 1; 0
                              closes at once)
  -q, --quiet                 print only the messages: no status, no stats
  -v, --verbose               print stack traces with errors
  -h, --help                  print this help and exit

Exit codes:
  0  closed with 1000, 1001 or no code (1005)
  1  could not connect: refused, rejected handshake, timeout
  2  bad command line
  3  cut off without a closing handshake (1006)
  4  closed with any other code`;

const CONNECT_FLAGS: FlagSpec = {
  header: { type: "string", short: "H", multiple: true },
  subprotocol: { type: "string", short: "s", multiple: true },
  origin: { type: "string", short: "o" },
  ca: { type: "string", multiple: true },
  binary: { type: "boolean", short: "b" },
  json: { type: "boolean", short: "j" },
  ping: { type: "string", short: "p" },
  wait: { type: "string", short: "w", default: "1" },
  quiet: { type: "boolean", short: "q" },
  verbose: { type: "boolean", short: "v" },
  help: { type: "boolean", short: "h" },
};

/** What `connect` was asked to do. */
interface ConnectSettings {
  url: string;
  options: ConnectOptions;
  binary: boolean;
  json: boolean;
  pingSeconds: number | undefined;
  waitSeconds: number;
  quiet: boolean;
}

/** Reads the command line of `connect`, or `undefined` for `--help`. */
async function parseConnectArgs(args: string[]): Promise<ConnectSettings | undefined> {
  const { values, positionals } = parseFlags(args, CONNECT_FLAGS);
  if (values.help === true) return undefined;
  if (positionals.length !== 1) {
    throw new UsageError(`connect takes one URL, got ${positionals.length} arguments`);
  }
  const url = checkUrl(positionals[0]!);
  if (values.binary === true && values.json === true) {
    throw new UsageError("--binary and --json cannot be used together");
  }
  const options: ConnectOptions = {};
  const headers = parseHeaders(strings(values.header));
  if (headers.length > 0) options.headers = headers;
  const protocols = parseProtocols("--subprotocol", strings(values.subprotocol));
  if (protocols.length > 0) options.protocols = protocols;
  if (typeof values.origin === "string") options.origin = values.origin;
  const caFiles = strings(values.ca);
  if (caFiles.length > 0) options.tls = { caCerts: await Promise.all(caFiles.map(readPem)) };
  return {
    url,
    options,
    binary: values.binary === true,
    json: values.json === true,
    pingSeconds: typeof values.ping === "string" ? parseSeconds("--ping", values.ping) : undefined,
    waitSeconds: values.wait === "0" ? 0 : parseSeconds("--wait", String(values.wait)),
    quiet: values.quiet === true,
  };
}

/** Checks the URL's scheme; `http:` and `https:` become `ws:` and `wss:`. */
function checkUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${JSON.stringify(text)} is not a URL`);
  }
  if (url.protocol === "http:" || url.protocol === "https:") {
    return `ws${url.href.slice("http".length)}`;
  }
  if (!["ws:", "wss:", "ws+unix:"].includes(url.protocol)) {
    throw new UsageError(`${JSON.stringify(text)} is not a ws://, wss:// or ws+unix: URL`);
  }
  return text;
}

/**
 * Runs `connect` with its command line.
 *
 * @param args The arguments after `connect`.
 * @returns The exit code.
 * @throws {UsageError} On a bad command line.
 */
export async function runConnect(args: string[]): Promise<ExitCode> {
  const settings = await parseConnectArgs(args);
  if (settings === undefined) {
    printLine(CONNECT_USAGE);
    return EXIT_CODE.Normal;
  }
  const status = settings.quiet ? () => {} : report;
  let channel: ClientChannel;
  try {
    channel = await connect(settings.url, settings.options);
  } catch (error) {
    throw new CommandFailure(`Cannot connect to ${settings.url}: ${describe(error)}`, error);
  }
  // Before the status line, which tells whoever waits for it that Ctrl-C now closes.
  const removeSignals = onStopSignal(() => channel.close(1000));
  const protocol = channel.protocol === "" ? "" : ` (subprotocol ${channel.protocol})`;
  status(`connected to ${channel.url}${protocol}`);

  const stats = new Stats();
  const stopPinging = startPinging(channel, settings, stats, status);
  const input = readInputLines();
  const printing = printMessages(channel, settings, stats, status);
  const sending = sendLines(channel, input.lines, settings, stats, status);

  const { code, reason } = await channel.closed;
  stopPinging();
  input.stop();
  removeSignals();
  await Promise.all([printing, sending]);
  status(`closed with ${code}${reason === "" ? "" : ` (${reason})`}`);
  for (const line of stats.format()) status(line);
  return exitCodeOfClose(code);
}

async function printMessages(
  channel: ClientChannel,
  settings: ConnectSettings,
  stats: Stats,
  status: (line: string) => void,
): Promise<void> {
  try {
    for await (const message of channel.readable) {
      stats.countReceived(message);
      printMessage(message, settings, status);
    }
  } catch {
    // A failed connection errors the stream; `closed` tells how it ended.
  }
}

function printMessage(
  message: Message,
  settings: ConnectSettings,
  status: (line: string) => void,
): void {
  if (typeof message !== "string") {
    if (settings.binary) printBytes(message);
    else printLine(Array.from(message, (byte) => byte.toString(16).padStart(2, "0")).join(""));
    return;
  }
  if (!settings.json) return printLine(message);
  try {
    printLine(JSON.stringify(JSON.parse(message)));
  } catch {
    status(`received text that is not JSON, printed as it is`);
    printLine(message);
  }
}

async function sendLines(
  channel: ClientChannel,
  lines: AsyncIterable<string>,
  settings: ConnectSettings,
  stats: Stats,
  status: (line: string) => void,
): Promise<void> {
  const writer = channel.writable.getWriter();
  const encoder = new TextEncoder();
  let count = 0;
  try {
    for await (const line of lines) {
      count++;
      let message: string | Uint8Array = line;
      if (settings.binary) message = encoder.encode(line);
      else if (settings.json) {
        try {
          message = JSON.stringify(JSON.parse(line));
        } catch (error) {
          status(`line ${count} is not JSON, not sent: ${describe(error)}`);
          continue;
        }
      }
      await writer.write(message);
      stats.countSent(message);
    }
    // Standard input ended: the conversation is over once the replies have come.
    await untilQuiet(channel, stats, settings.waitSeconds * 1000);
    channel.close(1000);
  } catch {
    // The connection closed while sending; `closed` tells how.
  } finally {
    writer.releaseLock();
  }
}

/** Resolves once no message has been received for `quiet` milliseconds, or the channel closed. */
async function untilQuiet(channel: ClientChannel, stats: Stats, quiet: number): Promise<void> {
  let closed = false;
  channel.closed.then(() => closed = true);
  // Bounded: each round waits until `quiet` after the last message, and messages end with the connection.
  while (!closed) {
    const left = stats.lastReceived + quiet - performance.now();
    if (left <= 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      new Promise((resolve) => timer = setTimeout(resolve, left)),
      channel.closed,
    ]);
    clearTimeout(timer);
  }
}

/** Pings every `pingSeconds`, if given; returns a function that stops. */
function startPinging(
  channel: ClientChannel,
  settings: ConnectSettings,
  stats: Stats,
  status: (line: string) => void,
): () => void {
  if (settings.pingSeconds === undefined) return () => {};
  const ping = () => {
    channel.ping().then((milliseconds) => {
      stats.roundTrips.push(milliseconds);
      status(`pong after ${milliseconds.toFixed(2)} ms`);
    }, () => {
      // The connection closed before the pong.
    });
  };
  const timer = setInterval(ping, settings.pingSeconds * 1000);
  ping();
  return () => clearInterval(timer);
}
