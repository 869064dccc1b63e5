/**
 * Parsers for the list-valued fields of the handshake: tokens (RFC 9110
 * §5.6.2), comma-separated lists (§5.6.1), subprotocols (RFC 6455 §4.1) and
 * extensions (RFC 6455 §9.1).
 *
 * @module
 */

import type { Extension, ExtensionParam } from "./server.ts";

// RFC 9110 §5.6.2: token = 1*tchar.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/** Whether `value` is a token (RFC 9110 §5.6.2). */
export function isToken(value: string): boolean {
  return TOKEN.test(value);
}

/** Reports a malformed value; the caller decides the error class and message. */
export type Fail = (detail: string) => never;

// OWS around list elements (RFC 9110 §5.6.3).
function trimOws(value: string): string {
  return value.replace(/^[ \t]+|[ \t]+$/g, "");
}

/** Splits a comma-separated list into its elements, trimmed, keeping empty ones. */
export function splitList(value: string): string[] {
  return value.split(",").map(trimOws);
}

/**
 * Whether a list field holds `token`, compared ASCII case-insensitively.
 * Empty elements are ignored, as RFC 9110 §5.6.1 asks of recipients.
 */
export function hasToken(value: string | null, token: string): boolean {
  if (value === null) return false;
  return splitList(value).some((element) => element.toLowerCase() === token);
}

/**
 * Parses `Sec-WebSocket-Protocol`: tokens, none empty, none twice (RFC 6455
 * §4.1). Subprotocol names are compared exactly.
 */
export function parseProtocolList(value: string, fail: Fail): string[] {
  const protocols: string[] = [];
  for (const element of splitList(value)) {
    if (element === "") fail("it has an empty element");
    if (!isToken(element)) fail(`${JSON.stringify(element)} is not a token`);
    if (protocols.includes(element)) fail(`it holds ${JSON.stringify(element)} twice`);
    protocols.push(element);
  }
  return protocols;
}

/**
 * Parses `Sec-WebSocket-Extensions` (RFC 6455 §9.1): extensions separated by
 * commas, each a token followed by `;`-separated parameters, whose values are
 * tokens, bare or quoted. Empty elements are ignored (RFC 9110 §5.6.1).
 */
export function parseExtensionList(value: string, fail: Fail): Extension[] {
  const extensions: Extension[] = [];
  let at = 0;
  const skipOws = (): void => {
    while (value[at] === " " || value[at] === "\t") at++;
  };
  const readToken = (what: string): string => {
    const start = at;
    while (at < value.length && TCHAR.test(value[at]!)) at++;
    if (at === start) fail(`expected ${what} at offset ${at}`);
    return value.slice(start, at);
  };
  const readQuoted = (): string => {
    let text = "";
    for (at++; at < value.length; at++) {
      const char = value[at]!;
      if (char === '"') {
        at++;
        return text;
      }
      if (char === "\\") at++;
      if (at < value.length) text += value[at];
    }
    return fail("a quoted string is not closed");
  };
  for (;;) {
    skipOws();
    if (at === value.length) return extensions;
    if (value[at] === ",") {
      at++;
      continue;
    }
    const name = readToken("an extension name");
    const params: ExtensionParam[] = [];
    skipOws();
    while (value[at] === ";") {
      at++;
      skipOws();
      const paramName = readToken("a parameter name");
      skipOws();
      if (value[at] === "=") {
        at++;
        skipOws();
        const paramValue = value[at] === '"' ? readQuoted() : readToken("a parameter value");
        // RFC 6455 §9.1: a quoted value must still be a token once unquoted.
        if (!isToken(paramValue)) {
          fail(`the value of ${paramName} is ${JSON.stringify(paramValue)}, not a token`);
        }
        params.push({ name: paramName, value: paramValue });
        skipOws();
      } else {
        params.push({ name: paramName });
      }
    }
    extensions.push({ name, params });
    if (at === value.length) return extensions;
    if (value[at] !== ",") fail(`unexpected ${JSON.stringify(value[at])} at offset ${at}`);
    at++;
  }
}
