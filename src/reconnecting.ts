/**
 * {@linkcode reconnecting}: a client that opens a new connection each time
 * the previous one has closed, retrying failed attempts with exponential
 * backoff and jitter.
 *
 * @module
 */

import { type ClientChannel, connect, type ConnectOptions } from "./connect.ts";
import { createUpgradeRequest } from "./handshake/client.ts";
import { parseTarget } from "./_target.ts";

/** What {@linkcode ReconnectingOptions.onError} is told about a failed attempt. */
export interface ReconnectFailure {
  /**
   * The number of this attempt among those that failed in a row: 1 for the
   * first failure since the iteration started or since a connection opened.
   */
  attempt: number;
  /** Why the attempt failed: what `connect()` rejected with. */
  error: unknown;
  /**
   * How long, in milliseconds, until the next attempt; `undefined` when this
   * was the last attempt `maxAttempts` allows.
   */
  delay: number | undefined;
}

/** Options of {@linkcode reconnecting}: its own, and every option of `connect()`. */
export interface ReconnectingOptions extends ConnectOptions {
  /**
   * The delay before the second attempt of a run of failures, in
   * milliseconds, before jitter.
   *
   * @default {1000}
   */
  initialDelay?: number;
  /**
   * Each further failure in a row multiplies the delay by this factor, at
   * least 1; 1 keeps it constant.
   *
   * @default {2}
   */
  backoffFactor?: number;
  /**
   * The cap on the delay, in milliseconds, before jitter; at most
   * 2147483647, the longest timer every runtime keeps.
   *
   * @default {30000}
   */
  maxDelay?: number;
  /**
   * The share of each delay, from 0 to 1, taken off at random, so that
   * clients cut off together do not all come back at once: the delay is
   * drawn uniformly from `[base × (1 − jitter), base]`, never above the cap.
   * 0 turns jitter off.
   *
   * @default {0.5}
   */
  jitter?: number;
  /**
   * How many attempts in a row may fail before the iteration gives up and
   * throws; `Infinity` never gives up. A connection that opens resets the count.
   *
   * @default {Infinity}
   */
  maxAttempts?: number;
  /**
   * The source of randomness for the jitter, returning a number in `[0, 1)`
   * as `Math.random` does; tests inject their own to check the bounds.
   *
   * @default {Math.random}
   */
  random?: () => number;
  /**
   * Called after each failed attempt, before the delay starts, with the
   * attempt's number, its error and the delay until the next one, so that
   * callers can log. Aborting `signal` from here stops the retries; an
   * exception it throws ends the iteration with that exception.
   */
  onError?: (failure: ReconnectFailure) => void;
  /**
   * Stops reconnecting: an attempt in progress is aborted (or, if it has
   * just opened, closed with 1001), a delay is cut short, and the iteration
   * ends without an error. A connection already yielded is left as it is.
   */
  signal?: AbortSignal;
}

const DEFAULT_INITIAL_DELAY = 1000;
const DEFAULT_BACKOFF_FACTOR = 2;
const DEFAULT_MAX_DELAY = 30_000;
const DEFAULT_JITTER = 0.5;
/** setTimeout fires at once for a longer delay, in every runtime. */
const LONGEST_TIMER = 2 ** 31 - 1;

/**
 * Connects to `url` again and again: an async iterable whose every step
 * yields a newly opened {@linkcode ClientChannel} from `connect()`.
 *
 * When it is asked for the next channel (the body of a `for await` loop has
 * finished), it first waits until the channel it last yielded has closed,
 * that is until its `closed` resolves, and only then starts the next
 * attempt, at once. An attempt that fails is retried after a delay that
 * starts at `initialDelay`, is multiplied by `backoffFactor` after each
 * further failure in a row, is capped at `maxDelay`, and has up to `jitter`
 * of it taken off at random. Once a connection opens, the next failure
 * starts from `initialDelay` again. After `maxAttempts` failures in a row
 * the iteration throws.
 *
 * Leaving the loop (`break`, `return` or an exception) stops reconnecting
 * and leaves the channel in hand open: the caller closes it. So does
 * aborting `signal`, which ends the iteration cleanly and aborts an attempt
 * in progress.
 *
 * @param url The server's URL, as `connect()` takes it.
 * @param options The backoff, the retry limit, `signal`, `onError`, and the
 * options passed on to each `connect()`.
 * @returns The channels, one at a time.
 * @throws {SyntaxError} (a `DOMException`) At once, when the URL or a
 * subprotocol is invalid, since no retry could fix it.
 * @throws {TypeError} At once, when a header is invalid or reserved by the handshake.
 * @throws {RangeError} At once, when a backoff option or `maxAttempts` is
 * out of range; from the iteration, when `random()` returns a number outside `[0, 1]`.
 * @throws {Error} From the iteration, after `maxAttempts` failed attempts in
 * a row: its message names the URL and the number of attempts, its `cause`
 * is the last attempt's error.
 *
 * @example Keeping a connection up, and stopping
 * ```ts ignore
 * import { reconnecting } from "@seed/websocket";
 *
 * const stop = new AbortController();
 * const connections = reconnecting("ws://127.0.0.1:8080", {
 *   initialDelay: 500,
 *   maxDelay: 10_000,
 *   signal: stop.signal,
 *   onError: ({ attempt, error, delay }) =>
 *     console.error(`attempt ${attempt} failed (${error}), next in ${delay} ms`),
 * });
 * for await (const channel of connections) {
 *   for await (const message of channel.readable) console.log(message);
 *   console.log("closed:", (await channel.closed).code);
 * }
 * ```
 *
 * @example Giving up after three attempts, 10 ms apart
 * ```ts
 * import { listen, reconnecting } from "@seed/websocket";
 * import assert from "node:assert/strict";
 *
 * // A port that nothing listens on any more.
 * const server = await listen({ hostname: "127.0.0.1", port: 0 }, () => {});
 * await server.close();
 *
 * const failures: (number | undefined)[] = [];
 * const connections = reconnecting(`ws://127.0.0.1:${server.port}`, {
 *   maxAttempts: 3,
 *   initialDelay: 10,
 *   backoffFactor: 1,
 *   jitter: 0,
 *   onError: ({ delay }) => failures.push(delay),
 * });
 * await assert.rejects(async () => {
 *   for await (const channel of connections) channel.close();
 * }, /3 attempts failed/);
 * assert.deepEqual(failures, [10, 10, undefined]);
 * ```
 */
export function reconnecting(
  url: string | URL,
  options: ReconnectingOptions = {},
): AsyncGenerator<ClientChannel, void, undefined> {
  const {
    initialDelay = DEFAULT_INITIAL_DELAY,
    backoffFactor = DEFAULT_BACKOFF_FACTOR,
    maxDelay = DEFAULT_MAX_DELAY,
    jitter = DEFAULT_JITTER,
    maxAttempts = Infinity,
    random = Math.random,
    onError,
    ...connectOptions
  } = options;
  checkRange("initialDelay", initialDelay, 0, LONGEST_TIMER);
  checkRange("maxDelay", maxDelay, 0, LONGEST_TIMER);
  checkRange("jitter", jitter, 0, 1);
  if (!(backoffFactor >= 1 && backoffFactor < Infinity)) {
    throw new RangeError(
      `Cannot reconnect: backoffFactor must be a finite number of at least 1, got ${backoffFactor}`,
    );
  }
  if (!(maxAttempts === Infinity || (Number.isInteger(maxAttempts) && maxAttempts >= 1))) {
    throw new RangeError(
      `Cannot reconnect: maxAttempts must be a whole number of at least 1 or Infinity, got ${maxAttempts}`,
    );
  }
  // What connect() would refuse on every attempt is refused once, now.
  createUpgradeRequest(parseTarget(url).request, {
    ...(options.protocols === undefined ? {} : { protocols: options.protocols }),
    ...(options.origin === undefined ? {} : { origin: options.origin }),
    ...(options.headers === undefined ? {} : { headers: options.headers }),
  });
  const delayAfter = (failures: number): number => {
    const base = Math.min(maxDelay, initialDelay * backoffFactor ** (failures - 1));
    const draw = random();
    if (!(draw >= 0 && draw <= 1)) {
      throw new RangeError(
        `Cannot reconnect: random() must return a number from 0 to 1, got ${draw}`,
      );
    }
    return base * (1 - jitter * draw);
  };
  return attempts(url, connectOptions, { maxAttempts, delayAfter, onError });
}

interface RetryPolicy {
  maxAttempts: number;
  delayAfter(failures: number): number;
  onError: ((failure: ReconnectFailure) => void) | undefined;
}

async function* attempts(
  url: string | URL,
  options: ConnectOptions,
  policy: RetryPolicy,
): AsyncGenerator<ClientChannel, void, undefined> {
  const { signal } = options;
  let failures = 0;
  while (!signal?.aborted) {
    let channel: ClientChannel;
    try {
      channel = await connect(url, options);
    } catch (error) {
      if (signal?.aborted) return;
      failures++;
      const last = failures >= policy.maxAttempts;
      const delay = last ? undefined : policy.delayAfter(failures);
      policy.onError?.({ attempt: failures, error, delay });
      if (delay === undefined) {
        throw new Error(
          `Cannot open connection to ${String(url)}: ${failures} attempt${
            failures === 1 ? "" : "s"
          } failed, the last with: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      }
      if (!await sleep(delay, signal)) return;
      continue;
    }
    if (signal?.aborted) {
      channel.close(1001);
      return;
    }
    failures = 0;
    yield channel;
    await settled(channel.closed, signal);
  }
}

/** Resolves with `true` after `ms`, or with `false` as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const abort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", abort);
      resolve(true);
    }, ms);
    if (signal?.aborted) abort();
    else signal?.addEventListener("abort", abort, { once: true });
  });
}

/** Resolves once `promise` has settled or `signal` has aborted, whichever comes first. */
function settled(promise: Promise<unknown>, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return promise.then(() => {});
  return new Promise((resolve) => {
    const done = () => {
      signal.removeEventListener("abort", done);
      resolve();
    };
    if (signal.aborted) return resolve();
    signal.addEventListener("abort", done, { once: true });
    promise.then(done);
  });
}

function checkRange(name: string, value: number, min: number, max: number): void {
  if (!(value >= min && value <= max)) {
    throw new RangeError(`Cannot reconnect: ${name} must be from ${min} to ${max}, got ${value}`);
  }
}
