/**
 * A bounded reader for the HTTP/1.1 head that opens a WebSocket connection
 * over raw TCP (RFC 9112 §2-§5): {@linkcode RequestHeadParser} for a server,
 * {@linkcode ResponseHeadParser} for a client. Both are pushed byte chunks,
 * give the head once its empty line arrives, and hand back the bytes that
 * followed it, the start of the WebSocket stream.
 *
 * @module
 */

import { HandshakeError } from "../errors.ts";
import { decodeLatin1 } from "./_http.ts";
import { isToken } from "./_header_values.ts";

/** Default of {@linkcode HeadParserOptions.maxHeadSize}: 8 KiB. */
export const DEFAULT_MAX_HEAD_SIZE = 8192;
/** Default of {@linkcode HeadParserOptions.maxHeaders}. */
export const DEFAULT_MAX_HEADERS = 100;

/** Options of {@linkcode RequestHeadParser} and {@linkcode ResponseHeadParser}. */
export interface HeadParserOptions {
  /**
   * The largest head accepted, in bytes, from the start line up to and
   * including the empty line that ends it. One byte more fails, before it
   * is buffered.
   *
   * @default {8192}
   */
  maxHeadSize?: number;
  /**
   * The most header field lines accepted. One line more fails, as soon as it ends.
   *
   * @default {100}
   */
  maxHeaders?: number;
}

/** A request head: the request line and the header fields. */
export interface RequestHead {
  /** The method, case-sensitive: `"GET"`. */
  method: string;
  /** The request target as sent: `"/chat?room=1"`. */
  target: string;
  /** The HTTP version: `"HTTP/1.1"`. */
  version: string;
  /** The header fields; lines with the same name are joined with `", "`. */
  headers: Headers;
}

/** A response head: the status line and the header fields. */
export interface ResponseHead {
  /** The HTTP version: `"HTTP/1.1"`. */
  version: string;
  /** The status code, 100 to 599. */
  status: number;
  /** The reason phrase, possibly empty. */
  statusText: string;
  /** The header fields; lines with the same name are joined with `", "`. */
  headers: Headers;
}

/** A complete head and the bytes that followed it. */
export interface ParsedHead<Head> {
  /** The head. */
  head: Head;
  /**
   * The bytes after the head's empty line in the chunk that completed it: the
   * start of the WebSocket stream. A view into that chunk, empty when the
   * chunk ended with the head.
   */
  rest: Uint8Array;
}

/**
 * Reads a request head, for a server on raw TCP. Each
 * {@linkcode RequestHeadParser.push} returns `undefined` until the head's
 * empty line arrives, then the head and the bytes after it. At most
 * `maxHeadSize` bytes are ever held, however the head is trickled in.
 *
 * Strict where RFC 9112 allows a choice: every line ends in CRLF (a bare CR
 * or LF is refused), the request line has single spaces, a field name is a
 * token followed at once by a colon, folded lines (obs-fold) and control
 * characters in values are refused, as is a second `Host` line (§3.2).
 * Field values may hold bytes 0x80-0xFF, read as Latin-1.
 *
 * @example Reading a request head that arrives in pieces
 * ```ts
 * import { RequestHeadParser } from "@seed/websocket/handshake";
 * import assert from "node:assert/strict";
 *
 * const head = "GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\r\n";
 * // The head, then an empty text frame.
 * const bytes = new Uint8Array([...new TextEncoder().encode(head), 0x81, 0x00]);
 * const parser = new RequestHeadParser();
 * assert.equal(parser.push(bytes.subarray(0, 20)), undefined);
 * const parsed = parser.push(bytes.subarray(20));
 * assert.equal(parsed?.head.method, "GET");
 * assert.equal(parsed?.head.target, "/chat");
 * assert.equal(parsed?.head.headers.get("upgrade"), "websocket");
 * assert.deepEqual(parsed?.rest, new Uint8Array([0x81, 0x00]));
 * ```
 *
 * @example A head over the limit is refused with 431
 * ```ts
 * import { HandshakeError, RequestHeadParser } from "@seed/websocket/handshake";
 * import assert from "node:assert/strict";
 *
 * const parser = new RequestHeadParser({ maxHeadSize: 64 });
 * const line = new TextEncoder().encode(`GET /${"a".repeat(100)} HTTP/1.1\r\n`);
 * assert.throws(
 *   () => parser.push(line),
 *   (error) => error instanceof HandshakeError && error.status === 431,
 * );
 * ```
 */
export class RequestHeadParser {
  readonly #reader: HeadReader<RequestHead>;

  /**
   * Constructs a new instance.
   *
   * @param options The limits.
   * @throws {RangeError} When a limit is not a whole number, or `maxHeadSize` is below 1.
   */
  constructor(options: HeadParserOptions = {}) {
    this.#reader = new HeadReader("request", options, parseRequestLines);
  }

  /**
   * Feeds the next bytes of the connection.
   *
   * @param chunk The next bytes; not modified, and not held once the head is complete.
   * @returns The head and the bytes after it once the head is complete, otherwise `undefined`.
   * @throws {HandshakeError} 431 when the head passes `maxHeadSize` or has more than
   * `maxHeaders` field lines, 400 when it is malformed; every later call throws it again.
   * @throws {TypeError} When called again after the head was complete.
   */
  push(chunk: Uint8Array): ParsedHead<RequestHead> | undefined {
    return this.#reader.push(chunk);
  }
}

/**
 * Reads a response head, for a client on raw TCP. It works as
 * {@linkcode RequestHeadParser} does, with one difference RFC 9112 §5.2
 * requires of a user agent: a folded line (obs-fold) is joined to the one
 * before it with a space rather than refused. Its errors carry status 502,
 * the status a gateway answers with for an invalid upstream response.
 *
 * @example Reading a server's answer and the first frame behind it
 * ```ts
 * import { ResponseHeadParser } from "@seed/websocket/handshake";
 * import assert from "node:assert/strict";
 *
 * const head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n";
 * // The head, then a text frame holding "hi".
 * const bytes = new Uint8Array([...new TextEncoder().encode(head), 0x81, 0x02, 0x68, 0x69]);
 * const parsed = new ResponseHeadParser().push(bytes);
 * assert.equal(parsed?.head.status, 101);
 * assert.equal(parsed?.head.statusText, "Switching Protocols");
 * assert.deepEqual(parsed?.rest, new Uint8Array([0x81, 0x02, 0x68, 0x69]));
 * ```
 */
export class ResponseHeadParser {
  readonly #reader: HeadReader<ResponseHead>;

  /**
   * Constructs a new instance.
   *
   * @param options The limits.
   * @throws {RangeError} When a limit is not a whole number, or `maxHeadSize` is below 1.
   */
  constructor(options: HeadParserOptions = {}) {
    this.#reader = new HeadReader("response", options, parseResponseLines);
  }

  /**
   * Feeds the next bytes of the connection.
   *
   * @param chunk The next bytes; not modified, and not held once the head is complete.
   * @returns The head and the bytes after it once the head is complete, otherwise `undefined`.
   * @throws {HandshakeError} With status 502 when the head passes a limit or is
   * malformed; every later call throws it again.
   * @throws {TypeError} When called again after the head was complete.
   */
  push(chunk: Uint8Array): ParsedHead<ResponseHead> | undefined {
    return this.#reader.push(chunk);
  }
}

type Kind = "request" | "response";
type ParseLines<Head> = (lines: string[], fail: (detail: string) => never) => Head;

const CR = 0x0d;
const LF = 0x0a;
const EMPTY = new Uint8Array(0);
// The first buffer of a head split across chunks; it doubles up to the limit.
const MIN_BUFFER = 1024;

/** Finds the end of a head within the limits, buffering what it must, then parses it. */
class HeadReader<Head> {
  readonly #kind: Kind;
  readonly #maxHeadSize: number;
  readonly #maxHeaders: number;
  readonly #parseLines: ParseLines<Head>;
  #failure: HandshakeError | undefined;
  #done = false;
  // The bytes of a head split across chunks.
  #buffer = EMPTY;
  #filled = 0;
  // Scanning state, carried across chunks: bytes seen, lines ended, the length
  // of the current line, and whether its last byte was a CR.
  #size = 0;
  #lines = 0;
  #lineLength = 0;
  #afterCr = false;

  constructor(kind: Kind, options: HeadParserOptions, parseLines: ParseLines<Head>) {
    this.#kind = kind;
    this.#maxHeadSize = checkLimit("maxHeadSize", options.maxHeadSize, 1) ??
      DEFAULT_MAX_HEAD_SIZE;
    this.#maxHeaders = checkLimit("maxHeaders", options.maxHeaders, 0) ?? DEFAULT_MAX_HEADERS;
    this.#parseLines = parseLines;
  }

  push(chunk: Uint8Array): ParsedHead<Head> | undefined {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#done) {
      throw new TypeError(`Cannot read ${this.#kind} head: it is already complete`);
    }
    const end = this.#scan(chunk);
    if (end < 0) {
      this.#append(chunk);
      return undefined;
    }
    this.#done = true;
    let bytes: Uint8Array;
    if (this.#filled === 0) {
      // The whole head is in this chunk: parse it in place.
      bytes = chunk.subarray(0, end);
    } else {
      this.#append(chunk.subarray(0, end));
      bytes = this.#buffer.subarray(0, this.#filled);
    }
    this.#buffer = EMPTY;
    // Without the final empty line, the lines are what CRLF separates.
    const lines = decodeLatin1(bytes.subarray(0, bytes.length - 4)).split("\r\n");
    const head = this.#parseLines(lines, (detail) => {
      throw this.#fail(400, detail);
    });
    return { head, rest: chunk.subarray(end) };
  }

  /**
   * Scans a chunk for the end of the head, checking line endings and the
   * limits byte by byte. Returns the offset just past the head's empty line,
   * or -1 when the head goes on past the chunk.
   */
  #scan(chunk: Uint8Array): number {
    for (let i = 0; i < chunk.length; i++) {
      // Counting before looking means the byte past the limit is never buffered.
      if (++this.#size > this.#maxHeadSize) {
        throw this.#fail(431, `it is over ${this.#maxHeadSize} bytes, the limit`);
      }
      const byte = chunk[i]!;
      if (this.#afterCr) {
        // RFC 9112 §2.2: a bare CR is invalid; we also refuse the bare LF it allows.
        if (byte !== LF) throw this.#fail(400, `line ${this.#lines + 1} has a CR without LF`);
        this.#afterCr = false;
        if (this.#lineLength === 0) {
          if (this.#lines === 0) throw this.#fail(400, "it starts with an empty line");
          return i + 1;
        }
        this.#lines++;
        this.#lineLength = 0;
        // The first line is the start line; the others are field lines.
        if (this.#lines - 1 > this.#maxHeaders) {
          throw this.#fail(431, `it has over ${this.#maxHeaders} header lines, the limit`);
        }
      } else if (byte === CR) {
        this.#afterCr = true;
      } else if (byte === LF) {
        throw this.#fail(400, `line ${this.#lines + 1} ends in LF without CR`);
      } else {
        this.#lineLength++;
      }
    }
    return -1;
  }

  #append(bytes: Uint8Array): void {
    const needed = this.#filled + bytes.length;
    if (needed > this.#buffer.length) {
      // The scan has checked the limit, so the buffer never grows past it.
      const grown = new Uint8Array(
        Math.min(this.#maxHeadSize, Math.max(needed, MIN_BUFFER, 2 * this.#buffer.length)),
      );
      grown.set(this.#buffer.subarray(0, this.#filled));
      this.#buffer = grown;
    }
    this.#buffer.set(bytes, this.#filled);
    this.#filled = needed;
  }

  #fail(status: number, detail: string): HandshakeError {
    this.#buffer = EMPTY;
    this.#failure = new HandshakeError(`Cannot read ${this.#kind} head: ${detail}`, {
      // A client reports a bad upstream answer as a gateway would.
      status: this.#kind === "response" ? 502 : status,
    });
    return this.#failure;
  }
}

// RFC 9112 §3: method SP request-target SP HTTP-version, the target visible ASCII.
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([\x21-\x7e]+) (HTTP\/[0-9]\.[0-9])$/;
// RFC 9112 §4: HTTP-version SP status-code SP [ reason-phrase ]. The space
// before an empty reason is optional here: a client ignores the reason anyway.
const STATUS_LINE = /^(HTTP\/[0-9]\.[0-9]) ([0-9]{3})(?: ([\t\x20-\x7e\x80-\xff]*))?$/;
// RFC 9110 §5.5: field-vchar, SP and HTAB; no other control characters.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

function parseRequestLines(lines: string[], fail: (detail: string) => never): RequestHead {
  const match = REQUEST_LINE.exec(lines[0]!);
  if (match === null) fail(`request line ${JSON.stringify(lines[0])} is malformed`);
  const headers = parseFields(lines, false, fail);
  return { method: match[1]!, target: match[2]!, version: match[3]!, headers };
}

function parseResponseLines(lines: string[], fail: (detail: string) => never): ResponseHead {
  const match = STATUS_LINE.exec(lines[0]!);
  if (match === null) fail(`status line ${JSON.stringify(lines[0])} is malformed`);
  const status = Number(match[2]);
  // RFC 9110 §15: status codes outside 100-599 are invalid.
  if (status < 100 || status > 599) fail(`status ${match[2]} is not from 100 to 599`);
  const headers = parseFields(lines, true, fail);
  return { version: match[1]!, status, statusText: match[3] ?? "", headers };
}

/**
 * Parses the field lines, `lines[1]` on. Lines with the same name are joined
 * here rather than by `Headers.append`, whose handling of empty values
 * differs between runtimes.
 */
function parseFields(
  lines: string[],
  unfold: boolean,
  fail: (detail: string) => never,
): Headers {
  // Keyed by the lowercase name; a Map, so no name can reach a prototype.
  const fields = new Map<string, string[]>();
  let last: string[] | undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const number = i + 1;
    if (line[0] === " " || line[0] === "\t") {
      // RFC 9112 §5.2: a server refuses obs-fold with 400; a user agent
      // replaces it with a space. Before any field, it is whitespace after
      // the start line, which §2.2 lets us refuse.
      if (!unfold || last === undefined) fail(`line ${number} is folded (obs-fold)`);
      const value = trimOws(line);
      if (!FIELD_VALUE.test(value)) fail(`line ${number} has a control character`);
      last[last.length - 1] += ` ${value}`;
      continue;
    }
    const colon = line.indexOf(":");
    if (colon < 0) fail(`line ${number} has no colon`);
    const name = line.slice(0, colon);
    // RFC 9112 §5.1: no whitespace between the name and the colon.
    if (!isToken(name)) fail(`line ${number} has ${JSON.stringify(name)}, not a field name`);
    const value = trimOws(line.slice(colon + 1));
    // RFC 9110 §5.5: CR, LF and NUL are dangerous; other controls are invalid too.
    if (!FIELD_VALUE.test(value)) fail(`field ${name} has a control character`);
    const key = name.toLowerCase();
    const values = fields.get(key);
    if (values === undefined) {
      last = [value];
      fields.set(key, last);
    } else {
      // RFC 9112 §3.2: a request with two Host lines is refused with 400.
      if (key === "host" && !unfold) fail("it has more than one Host line");
      values.push(value);
      last = values;
    }
  }
  const headers = new Headers();
  for (const [name, values] of fields) {
    if (name === "set-cookie") {
      for (const value of values) headers.append(name, value);
    } else {
      headers.set(name, values.join(", "));
    }
  }
  return headers;
}

function trimOws(value: string): string {
  return value.replace(/^[ \t]+|[ \t]+$/g, "");
}

function checkLimit(name: string, value: number | undefined, minimum: number): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < minimum) {
    throw new RangeError(
      `Cannot create head parser: ${name} must be a whole number of at least ${minimum}, got ${value}`,
    );
  }
  return value;
}
