/**
 * Command-line parsing shared by the commands: `node:util`'s `parseArgs`,
 * whose errors become a {@linkcode UsageError} of one line, and checkers
 * for the values the flags take.
 *
 * @module
 */

import { readFile } from "node:fs/promises";
import { parseArgs, type ParseArgsConfig } from "node:util";

/** A bad command line: reported in one line, with exit code 2. */
export class UsageError extends Error {
  /**
   * Creates the error.
   *
   * @param message What is wrong, in one line.
   */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The options of a command, for `parseArgs`. */
export type FlagSpec = NonNullable<ParseArgsConfig["options"]>;

/** What a command line holds once parsed. */
export interface ParsedArgs {
  /** The flags by name; strings, booleans, or arrays of strings for repeated ones. */
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  /** The arguments that are not flags. */
  positionals: string[];
}

/**
 * Parses a command line against its flags, strictly.
 *
 * @param args The arguments after the command's name.
 * @param options The flags the command takes.
 * @returns The flags and the positional arguments.
 * @throws {UsageError} On an unknown flag or a flag without its value.
 */
export function parseFlags(args: string[], options: FlagSpec): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({
      args,
      options,
      allowPositionals: true,
      strict: true,
    });
    return { values, positionals };
  } catch (error) {
    throw new UsageError(firstSentence(error));
  }
}

/** The first sentence of a `parseArgs` error, which may run to several lines. */
function firstSentence(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const sentence = message.split(/\.(?:\s|$)/)[0] ?? message;
  return sentence.charAt(0).toLowerCase() + sentence.slice(1);
}

/**
 * Reads a whole number within bounds.
 *
 * @param flag The flag's name, for the message.
 * @param text The value given.
 * @param min The least value allowed.
 * @param max The greatest value allowed.
 * @returns The number.
 * @throws {UsageError} When the value is not a whole number within bounds.
 */
export function parseInteger(flag: string, text: string, min: number, max: number): number {
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(value >= min && value <= max)) {
    throw new UsageError(
      `${flag} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`,
    );
  }
  return value;
}

/**
 * Reads a positive number of seconds, fractions allowed.
 *
 * @param flag The flag's name, for the message.
 * @param text The value given.
 * @returns The seconds.
 * @throws {UsageError} When the value is not a positive number.
 */
export function parseSeconds(flag: string, text: string): number {
  const value = /^\d+(\.\d+)?$|^\.\d+$/.test(text) ? Number(text) : NaN;
  if (!(value > 0 && value <= 86_400)) {
    throw new UsageError(
      `${flag} must be a number of seconds above 0, at most 86400, got ${JSON.stringify(text)}`,
    );
  }
  return value;
}

// RFC 7230 §3.2.6: a subprotocol, like a header name, is a token.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Reads subprotocols from flags that may each hold a comma-separated list.
 *
 * @param flag The flag's name, for the message.
 * @param values The values of each use of the flag.
 * @returns The subprotocols, in order.
 * @throws {UsageError} When one is not a token.
 */
export function parseProtocols(flag: string, values: string[]): string[] {
  const protocols = values.flatMap((value) => value.split(",")).map((value) => value.trim());
  const bad = protocols.find((protocol) => !TOKEN.test(protocol));
  if (bad !== undefined) {
    throw new UsageError(`${flag} takes tokens separated by commas, got ${JSON.stringify(bad)}`);
  }
  return protocols;
}

/**
 * Reads request headers given as `Name: value`.
 *
 * @param values The values of each use of the flag.
 * @returns The headers, in order.
 * @throws {UsageError} When one has no colon, a bad name or a bad value.
 */
export function parseHeaders(values: string[]): [string, string][] {
  return values.map((text): [string, string] => {
    const colon = text.indexOf(":");
    const name = text.slice(0, colon).trim();
    const value = text.slice(colon + 1).trim();
    // RFC 7230 §3.2: no control characters but tab in a field value.
    // deno-lint-ignore no-control-regex
    if (colon < 0 || !TOKEN.test(name) || /[\x00-\x08\x0a-\x1f\x7f]/.test(value)) {
      throw new UsageError(`--header takes "Name: value", got ${JSON.stringify(text)}`);
    }
    return [name, value];
  });
}

/** The strings of a flag that may be repeated. */
export function strings(value: ParsedArgs["values"][string]): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).filter((item) => typeof item === "string");
}

/**
 * Reads a PEM file named on the command line.
 *
 * @param file The file's path.
 * @returns Its text.
 * @throws {UsageError} When it cannot be read.
 */
export async function readPem(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw new UsageError(
      `cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
