/**
 * Negotiation of the permessage-deflate extension (RFC 7692 §7.1), free of
 * I/O: a client builds its offer and checks the server's answer, a server
 * picks one of the client's offers and answers it. Both end with the agreed
 * {@linkcode DeflateParams}.
 *
 * @module
 */

import type { Extension, ExtensionParam } from "../handshake/server.ts";

/** The extension's name in `Sec-WebSocket-Extensions`. */
export const PERMESSAGE_DEFLATE = "permessage-deflate";
/** Default of {@linkcode CompressionOptions.threshold}, in bytes. */
export const DEFAULT_COMPRESSION_THRESHOLD = 1024;
/** Default of {@linkcode CompressionOptions.compressorIdleTimeout}, in milliseconds. */
export const DEFAULT_COMPRESSOR_IDLE_TIMEOUT = 10_000;

/**
 * How to compress messages with permessage-deflate (RFC 7692), as the
 * `compression` option of clients and servers takes it; `true` takes every
 * default.
 */
export interface CompressionOptions {
  /**
   * Messages shorter than this many bytes (UTF-8 bytes for text) are sent
   * uncompressed: compressing them costs more than it saves.
   *
   * @default {1024}
   */
  threshold?: number;
  /**
   * Decides per message, for those from the threshold on, whether to
   * compress it: return `false` for data that would not shrink, such as
   * images or data already compressed. A `WeakSet` of the byte arrays to
   * send as they are is one way to mark them.
   *
   * @default {() => true}
   */
  shouldCompress?: (data: string | Uint8Array) => boolean;
  /**
   * Whether the server resets its compression context after each message:
   * a server asks for it in its answer, a client in its offer. It costs
   * compression ratio and saves the server the memory of a compressor
   * between messages.
   *
   * @default {false}
   */
  serverNoContextTakeover?: boolean;
  /**
   * Whether the client resets its compression context after each message;
   * it saves the server the memory of a decompressor between messages.
   *
   * @default {false}
   */
  clientNoContextTakeover?: boolean;
  /**
   * The largest LZ77 window, as a power of two from 8 to 15, the server may
   * compress with. A client sends it in its offer; a server uses it as its
   * upper bound.
   *
   * @default {15}
   */
  serverMaxWindowBits?: number;
  /**
   * The largest LZ77 window, from 8 to 15, the client may compress with. A
   * client offers it (`true` offers the parameter without a value, as
   * browsers do, so the server may choose); a server asks for it when the
   * client offered the parameter, and declines an offer without it when
   * this is a number.
   *
   * @default {true} on a client, `undefined` (no limit) on a server
   */
  clientMaxWindowBits?: number | true;
  /**
   * The zlib compression level, from 0 (none) to 9 (best, slowest).
   *
   * @default {6}
   */
  level?: number;
  /**
   * The zlib memory level, from 1 to 9: how much memory the compressor
   * keeps (2^(memLevel + 9) bytes beside the window). Lower saves memory per
   * connection for some compression ratio.
   *
   * @default {8}
   */
  memLevel?: number;
  /**
   * Milliseconds after which a connection's compressor, unused, is freed
   * (about 256 KiB with the default window and `memLevel`); the next
   * message gets a fresh one, which is always valid, and compresses a
   * little worse since it starts without history. The decompressor is kept
   * as long as the peer has context takeover, since the peer may refer
   * back to earlier messages. 0 or `Infinity` keeps compressors for good.
   *
   * @default {10000}
   */
  compressorIdleTimeout?: number;
}

/** What both ends agreed on; window bits are 15 when the answer set none. */
export interface DeflateParams {
  /** The server resets its compression context after each message. */
  serverNoContextTakeover: boolean;
  /** The client resets its compression context after each message. */
  clientNoContextTakeover: boolean;
  /** The server's LZ77 window, in bits. */
  serverMaxWindowBits: number;
  /** The client's LZ77 window, in bits. */
  clientMaxWindowBits: number;
}

/** A parsed offer or answer: each parameter at most once, values checked. */
interface ParsedParams {
  server_no_context_takeover?: true;
  client_no_context_takeover?: true;
  server_max_window_bits?: number;
  // `true` for the parameter without a value (allowed only in an offer).
  client_max_window_bits?: number | true;
}

const MIN_WINDOW_BITS = 8;
const MAX_WINDOW_BITS = 15;

/**
 * Checks the `compression` option, as given to a client or a server.
 *
 * @returns The options, `undefined` when compression is off.
 * @throws {RangeError} When a value is out of range.
 */
export function checkCompressionOptions(
  value: boolean | CompressionOptions | undefined,
  what: string,
): CompressionOptions | undefined {
  if (value === undefined || value === false) return undefined;
  const options = value === true ? {} : value;
  const fail = (name: string, range: string, got: unknown) => {
    throw new RangeError(`Cannot ${what}: compression.${name} must be ${range}, got ${got}`);
  };
  const { threshold, serverMaxWindowBits, clientMaxWindowBits, level, memLevel } = options;
  if (threshold !== undefined && !(threshold >= 0)) fail("threshold", "at least 0", threshold);
  const idle = options.compressorIdleTimeout;
  if (idle !== undefined && !(idle >= 0)) fail("compressorIdleTimeout", "at least 0", idle);
  if (serverMaxWindowBits !== undefined && !isWindowBits(serverMaxWindowBits)) {
    fail("serverMaxWindowBits", "a whole number from 8 to 15", serverMaxWindowBits);
  }
  if (
    clientMaxWindowBits !== undefined && clientMaxWindowBits !== true &&
    !isWindowBits(clientMaxWindowBits)
  ) {
    fail("clientMaxWindowBits", "true or a whole number from 8 to 15", clientMaxWindowBits);
  }
  if (level !== undefined && !(Number.isInteger(level) && level >= 0 && level <= 9)) {
    fail("level", "a whole number from 0 to 9", level);
  }
  if (memLevel !== undefined && !(Number.isInteger(memLevel) && memLevel >= 1 && memLevel <= 9)) {
    fail("memLevel", "a whole number from 1 to 9", memLevel);
  }
  return options;
}

/**
 * Builds a client's offer (RFC 7692 §7.1): one permessage-deflate element
 * for `Sec-WebSocket-Extensions`.
 *
 * @param options The compression options; `clientMaxWindowBits` defaults to
 * `true`, offered without a value, as browsers do.
 * @returns The header value, such as `"permessage-deflate; client_max_window_bits"`.
 */
export function createDeflateOffer(options: CompressionOptions): string {
  const parts = [PERMESSAGE_DEFLATE];
  if (options.serverNoContextTakeover) parts.push("server_no_context_takeover");
  if (options.clientNoContextTakeover) parts.push("client_no_context_takeover");
  if (options.serverMaxWindowBits !== undefined) {
    parts.push(`server_max_window_bits=${options.serverMaxWindowBits}`);
  }
  const clientBits = options.clientMaxWindowBits ?? true;
  parts.push(
    clientBits === true ? "client_max_window_bits" : `client_max_window_bits=${clientBits}`,
  );
  return parts.join("; ");
}

/**
 * Checks a server's answer against the client's offer (RFC 7692 §7.1).
 *
 * @param answered The extensions the server accepted, parsed.
 * @param options The options the offer was built from.
 * @returns The agreed parameters, or `undefined` when the server declined compression.
 * @throws {Error} Saying what is wrong, when the answer is malformed,
 * repeats a parameter or the extension, or breaks the offer; the caller
 * fails the handshake with it.
 */
export function acceptDeflateAnswer(
  answered: Extension[],
  options: CompressionOptions,
): DeflateParams | undefined {
  const answers = answered.filter((extension) => extension.name === PERMESSAGE_DEFLATE);
  if (answers.length === 0) return undefined;
  if (answers.length > 1) throw new Error("the server accepted permessage-deflate twice");
  const params = parseParams(answers[0]!.params, "answer");
  if (typeof params === "string") throw new Error(params);
  if (params.client_max_window_bits === true) {
    throw new Error("client_max_window_bits has no value in the answer");
  }
  const offeredClientBits = options.clientMaxWindowBits ?? true;
  if (params.client_max_window_bits !== undefined) {
    if (offeredClientBits !== true && params.client_max_window_bits > offeredClientBits) {
      throw new Error(
        `client_max_window_bits=${params.client_max_window_bits} is over the ${offeredClientBits} offered`,
      );
    }
  }
  const serverBits = params.server_max_window_bits;
  if (options.serverMaxWindowBits !== undefined) {
    // RFC 7692 §7.1.2.1: the server must answer with a window no larger.
    if (serverBits === undefined || serverBits > options.serverMaxWindowBits) {
      throw new Error(
        `server_max_window_bits is ${serverBits ?? "absent"}, ` +
          `${options.serverMaxWindowBits} or less was offered`,
      );
    }
  }
  // RFC 7692 §7.1.1.1: a server that accepts the offer accepts this parameter.
  if (options.serverNoContextTakeover && !params.server_no_context_takeover) {
    throw new Error("server_no_context_takeover was offered but not answered");
  }
  return {
    serverNoContextTakeover: params.server_no_context_takeover === true,
    clientNoContextTakeover: params.client_no_context_takeover === true ||
      options.clientNoContextTakeover === true,
    serverMaxWindowBits: serverBits ?? MAX_WINDOW_BITS,
    clientMaxWindowBits: params.client_max_window_bits ?? bitsOf(offeredClientBits),
  };
}

/** A server's choice among a client's offers. */
export interface DeflateAgreement {
  /** The agreed parameters. */
  params: DeflateParams;
  /** The answer for `Sec-WebSocket-Extensions`. */
  answer: string;
}

/**
 * Picks the first of a client's permessage-deflate offers the server can
 * accept and answers it (RFC 7692 §7.1). An offer that is malformed, repeats
 * a parameter or asks what the options rule out is declined, and the next
 * one tried.
 *
 * @param offered The extensions the client offered, parsed, in its order.
 * @param options The server's compression options.
 * @returns The agreement, or `undefined` when no offer can be accepted.
 */
export function negotiateDeflate(
  offered: Extension[],
  options: CompressionOptions,
): DeflateAgreement | undefined {
  for (const extension of offered) {
    if (extension.name !== PERMESSAGE_DEFLATE) continue;
    const params = parseParams(extension.params, "offer");
    if (typeof params === "string") continue;
    const agreement = answerOffer(params, options);
    if (agreement !== undefined) return agreement;
  }
  return undefined;
}

function answerOffer(
  offer: ParsedParams,
  options: CompressionOptions,
): DeflateAgreement | undefined {
  const parts = [PERMESSAGE_DEFLATE];
  const serverNoContextTakeover = offer.server_no_context_takeover === true ||
    options.serverNoContextTakeover === true;
  const clientNoContextTakeover = offer.client_no_context_takeover === true ||
    options.clientNoContextTakeover === true;
  if (serverNoContextTakeover) parts.push("server_no_context_takeover");
  if (clientNoContextTakeover) parts.push("client_no_context_takeover");

  let serverBits = Math.min(
    options.serverMaxWindowBits ?? MAX_WINDOW_BITS,
    offer.server_max_window_bits ?? MAX_WINDOW_BITS,
  );
  if (offer.server_max_window_bits !== undefined || serverBits < MAX_WINDOW_BITS) {
    parts.push(`server_max_window_bits=${serverBits}`);
  } else {
    serverBits = MAX_WINDOW_BITS;
  }

  const wanted = options.clientMaxWindowBits === true ? undefined : options.clientMaxWindowBits;
  const offeredClient = offer.client_max_window_bits;
  let clientBits = MAX_WINDOW_BITS;
  if (offeredClient === undefined) {
    // RFC 7692 §7.1.2.2: without the parameter in the offer the client's
    // window cannot be limited; decline rather than use more memory than asked.
    if (wanted !== undefined && wanted < MAX_WINDOW_BITS) return undefined;
  } else {
    clientBits = Math.min(wanted ?? MAX_WINDOW_BITS, bitsOf(offeredClient));
    if (wanted !== undefined || offeredClient !== true) {
      parts.push(`client_max_window_bits=${clientBits}`);
    }
  }
  return {
    params: {
      serverNoContextTakeover,
      clientNoContextTakeover,
      serverMaxWindowBits: serverBits,
      clientMaxWindowBits: clientBits,
    },
    answer: parts.join("; "),
  };
}

/** Parses the parameters of one element; a string says what is wrong. */
function parseParams(params: ExtensionParam[], what: "offer" | "answer"): ParsedParams | string {
  const parsed: ParsedParams = {};
  for (const { name, value } of params) {
    if (Object.hasOwn(parsed, name)) return `${name} is repeated in the ${what}`;
    switch (name) {
      case "server_no_context_takeover":
      case "client_no_context_takeover":
        if (value !== undefined) return `${name} has a value in the ${what}`;
        parsed[name] = true;
        break;
      case "server_max_window_bits":
      case "client_max_window_bits": {
        if (value === undefined) {
          // RFC 7692 §7.1.2.1: only an offer's client_max_window_bits may go without a value.
          if (name === "server_max_window_bits") return `${name} has no value in the ${what}`;
          parsed[name] = true;
          break;
        }
        // RFC 7692 §7.1.2: a decimal integer from 8 to 15, without leading zeros.
        if (!/^(?:[89]|1[0-5])$/.test(value)) {
          return `${name}=${value} in the ${what} is not a whole number from 8 to 15`;
        }
        parsed[name] = Number(value);
        break;
      }
      default:
        return `${what} has the unknown parameter ${name}`;
    }
  }
  return parsed;
}

function isWindowBits(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= MIN_WINDOW_BITS &&
    (value as number) <= MAX_WINDOW_BITS;
}

function bitsOf(value: number | true): number {
  return value === true ? MAX_WINDOW_BITS : value;
}
