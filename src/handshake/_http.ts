/**
 * HTTP/1.1 helpers shared by the handshake: heads as Latin-1 bytes, reason
 * phrases, and the conventional spelling of field names.
 *
 * @module
 */

// The reason phrases of the statuses a handshake sends or commonly receives (RFC 9110 §15).
const REASON_PHRASES = new Map<number, string>([
  [101, "Switching Protocols"],
  [200, "OK"],
  [301, "Moved Permanently"],
  [302, "Found"],
  [307, "Temporary Redirect"],
  [308, "Permanent Redirect"],
  [400, "Bad Request"],
  [401, "Unauthorized"],
  [403, "Forbidden"],
  [404, "Not Found"],
  [405, "Method Not Allowed"],
  [408, "Request Timeout"],
  [409, "Conflict"],
  [426, "Upgrade Required"],
  [429, "Too Many Requests"],
  [431, "Request Header Fields Too Large"],
  [500, "Internal Server Error"],
  [502, "Bad Gateway"],
  [503, "Service Unavailable"],
  [505, "HTTP Version Not Supported"],
]);

/**
 * Returns the reason phrase of a status; empty for one not in the table,
 * which RFC 9112 §4 allows.
 */
export function reasonPhrase(status: number): string {
  return REASON_PHRASES.get(status) ?? "";
}

/** Describes a status for a message: `404 Not Found`, or `599` when the phrase is unknown. */
export function describeStatus(status: number, statusText = reasonPhrase(status)): string {
  return statusText === "" ? String(status) : `${status} ${statusText}`;
}

/** Describes a header value for a message: `missing` for none, `empty` for `""`, else the value. */
export function describeValue(value: string | null): string {
  return value === null ? "missing" : value === "" ? "empty" : value;
}

// Name parts whose conventional spelling is not plain title case.
const PART_SPELLINGS = new Map([["websocket", "WebSocket"], ["www", "WWW"]]);

/**
 * Spells a field name the conventional way (`sec-websocket-version` becomes
 * `Sec-WebSocket-Version`). Names are case-insensitive (RFC 9110 §5.1), but
 * `Headers` lowercases them and some peers still compare them exactly.
 */
export function spellFieldName(name: string): string {
  return name.split("-").map((part) => {
    const lower = part.toLowerCase();
    return PART_SPELLINGS.get(lower) ?? lower.charAt(0).toUpperCase() + lower.slice(1);
  }).join("-");
}

/**
 * The field lines of `headers` in conventional spelling, by name, skipping
 * the names in `skip`. `Set-Cookie` lines stay separate, as `Headers`
 * iterates them.
 */
export function fieldLines(headers: Headers, skip: ReadonlySet<string> = new Set()): string[] {
  // Sorted here, stably, since runtimes disagree on where Set-Cookie comes.
  const fields = [...headers].filter(([name]) => !skip.has(name))
    .sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0);
  return fields.map(([name, value]) => `${spellFieldName(name)}: ${value}`);
}

/**
 * Encodes a head: the start line, the field lines, each ending in CRLF, and
 * the empty line. Field values are byte strings (RFC 9110 §5.5), so each
 * character becomes one byte.
 *
 * @throws {TypeError} When a character is above U+00FF.
 */
export function encodeHead(startLine: string, lines: readonly string[]): Uint8Array {
  return encodeLatin1(`${startLine}\r\n${lines.map((line) => `${line}\r\n`).join("")}\r\n`);
}

/**
 * Encodes a string whose characters are all at most U+00FF, one byte each.
 *
 * @throws {TypeError} When a character is above U+00FF.
 */
export function encodeLatin1(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0xff) {
      throw new TypeError(
        `Cannot encode head: character U+${code.toString(16).padStart(4, "0")} is not a byte`,
      );
    }
    bytes[i] = code;
  }
  return bytes;
}

// Chunked so that String.fromCharCode never receives too many arguments.
const DECODE_CHUNK = 4096;

/** Decodes bytes one character each (Latin-1 proper, not the windows-1252 of TextDecoder). */
export function decodeLatin1(bytes: Uint8Array): string {
  let text = "";
  for (let at = 0; at < bytes.length; at += DECODE_CHUNK) {
    text += String.fromCharCode(...bytes.subarray(at, at + DECODE_CHUNK));
  }
  return text;
}
