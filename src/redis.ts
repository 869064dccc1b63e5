/**
 * {@linkcode RedisBroker}: servers in several processes, or on several
 * machines, share topics through Redis pub/sub. Pass it as the `broker`
 * option of `serve()`; a publish on any server then reaches the subscribers
 * of all of them.
 *
 * It uses `@redis/client`, the client of the node-redis project, which runs
 * on Node, Deno and Bun and has no dependencies of its own. This entry point
 * is the only one of the package that imports it.
 *
 * @example Two servers, as two processes would run them
 * ```ts ignore
 * import { serve } from "@seed/websocket";
 * import { RedisBroker } from "@seed/websocket/redis";
 *
 * const broker = await RedisBroker.connect({ url: "redis://127.0.0.1:6379" });
 * const server = await serve({
 *   port: 8080,
 *   broker,
 *   onConnection: (channel) => {
 *     channel.subscribe("chat");
 *     channel.readable.pipeTo(new WritableStream({
 *       write: (message) => server.publish("chat", message, { except: channel }),
 *     }));
 *   },
 * });
 * ```
 *
 * @module
 */

import { createClient } from "@redis/client";
import { Buffer } from "node:buffer";
import { type Broker, type BrokerListener, PublishError } from "./broker.ts";
import type { Message } from "./protocol/connection.ts";

export { type Broker, type BrokerListener, PublishError } from "./broker.ts";
export type { Message } from "./protocol/connection.ts";

/** Options of {@linkcode RedisBroker.connect}. */
export interface RedisBrokerOptions {
  /**
   * The Redis server: `redis://[[user]:password@]host[:port][/database]`,
   * or `rediss://` for TLS.
   *
   * @default {"redis://127.0.0.1:6379"}
   */
  url?: string;
  /**
   * Put before each topic to make the Redis channel name, so that other
   * users of the same Redis are not disturbed.
   *
   * @default {"websocket:"}
   */
  channelPrefix?: string;
  /**
   * The longest wait, in milliseconds, between two attempts to reconnect to
   * Redis once the connection is lost; the wait doubles from 50 up to this.
   *
   * @default {2000}
   */
  maxReconnectDelay?: number;
  /**
   * How long, in milliseconds, the first connection may take.
   *
   * @default {10000}
   */
  connectTimeout?: number;
  /**
   * How long, in milliseconds, Redis may take to confirm a publish before it
   * is reported failed, as when the connection is cut without a word.
   *
   * @default {5000}
   */
  publishTimeout?: number;
  /**
   * Receives the errors of the connections to Redis, such as each failed
   * attempt to reconnect. Publishes that fail reject on their own.
   *
   * @default {errors are ignored}
   */
  onError?: (error: unknown) => void;
}

type RedisListener = (message: Buffer) => void;
/** The slice of the client's API used here. */
interface RedisClient {
  readonly isReady: boolean;
  readonly isOpen: boolean;
  on(event: "error", listener: (error: unknown) => void): unknown;
  connect(): Promise<unknown>;
  publish(channel: string, message: Buffer): Promise<unknown>;
  subscribe(channel: string, listener: RedisListener, bufferMode: true): Promise<void>;
  unsubscribe(channel: string, listener: RedisListener, bufferMode: true): Promise<void>;
  close(): Promise<void>;
  destroy(): void;
}

const DEFAULT_URL = "redis://127.0.0.1:6379";
const DEFAULT_PREFIX = "websocket:";
const DEFAULT_MAX_RECONNECT_DELAY = 2000;
const DEFAULT_CONNECT_TIMEOUT = 10_000;
const DEFAULT_PUBLISH_TIMEOUT = 5000;
/** How long closing waits for Redis to acknowledge before cutting the connection. */
const CLOSE_TIMEOUT = 1000;
/** A message on Redis: its kind, the publishing broker's id, then the payload. */
const KIND_TEXT = 0;
const KIND_BINARY = 1;
const ID_LENGTH = 16;
const HEADER_LENGTH = 1 + ID_LENGTH;
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

/**
 * A {@linkcode Broker} on Redis pub/sub, for servers in several processes.
 * Each topic is a Redis channel (`channelPrefix` + topic), subscribed to
 * while a server of this process has a subscriber to it. Messages keep
 * their kind, text or binary, across processes.
 *
 * It holds two connections to Redis, one to publish and one to receive.
 * When Redis goes away they reconnect by themselves and subscribe again to
 * every topic, and servers keep delivering to their own subscribers; a
 * publish while the connection is down rejects with
 * {@linkcode PublishError}, since the other processes will not get it.
 *
 * @example Connecting, then sharing topics with servers elsewhere
 * ```ts ignore
 * import { serve } from "@seed/websocket";
 * import { RedisBroker } from "@seed/websocket/redis";
 *
 * const broker = await RedisBroker.connect({ url: Deno.env.get("REDIS_URL") });
 * const server = await serve({ port: 8080, broker, onConnection: (c) => c.subscribe("news") });
 * await server.publish("news", "to every process"); // rejects while Redis is down
 * ```
 */
export class RedisBroker implements Broker {
  readonly #publisher: RedisClient;
  readonly #subscriber: RedisClient;
  readonly #prefix: string;
  readonly #publishTimeout: number;
  /** Tells this broker's messages, which Redis sends back, from those of other processes. */
  readonly #id: Uint8Array = crypto.getRandomValues(new Uint8Array(ID_LENGTH));
  readonly #listeners = new Map<string, Set<BrokerListener>>();
  readonly #redisListeners = new Map<string, RedisListener>();
  #closed = false;

  private constructor(
    publisher: RedisClient,
    subscriber: RedisClient,
    settings: { prefix: string; publishTimeout: number },
  ) {
    this.#publisher = publisher;
    this.#subscriber = subscriber;
    this.#prefix = settings.prefix;
    this.#publishTimeout = settings.publishTimeout;
  }

  /**
   * Connects to Redis.
   *
   * @param options The server, the channel prefix, and how to reconnect.
   * @returns The broker, once both its connections are ready.
   * @throws {Error} When Redis cannot be reached within `connectTimeout`.
   *
   * @example
   * ```ts ignore
   * import { RedisBroker } from "@seed/websocket/redis";
   *
   * const broker = await RedisBroker.connect({ url: "redis://127.0.0.1:6379" });
   * await broker.close();
   * ```
   */
  static async connect(options: RedisBrokerOptions = {}): Promise<RedisBroker> {
    const url = options.url ?? DEFAULT_URL;
    const maxDelay = options.maxReconnectDelay ?? DEFAULT_MAX_RECONNECT_DELAY;
    const connectTimeout = options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT;
    const onError = options.onError ?? (() => {});
    const open = (publishing: boolean): RedisClient => {
      const client: RedisClient = createClient({
        url,
        // A publish while Redis is away fails at once rather than waiting in a
        // queue; subscriptions made meanwhile wait for it.
        disableOfflineQueue: publishing,
        socket: {
          connectTimeout,
          reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, maxDelay),
        },
      });
      // Without a listener the client's errors would be thrown from its event emitter.
      client.on("error", onError);
      return client;
    };
    const publisher = open(true);
    const subscriber = open(false);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(`Cannot connect to Redis: no connection to ${url} in ${connectTimeout} ms`),
          ),
        connectTimeout,
      );
    });
    try {
      await Promise.race([Promise.all([publisher.connect(), subscriber.connect()]), timeout]);
    } catch (error) {
      publisher.destroy();
      subscriber.destroy();
      throw error;
    } finally {
      clearTimeout(timer);
    }
    return new RedisBroker(publisher, subscriber, {
      prefix: options.channelPrefix ?? DEFAULT_PREFIX,
      publishTimeout: options.publishTimeout ?? DEFAULT_PUBLISH_TIMEOUT,
    });
  }

  /** Whether both connections to Redis are up now. */
  get connected(): boolean {
    return this.#publisher.isReady && this.#subscriber.isReady;
  }

  /**
   * Delivers the topic's messages to `listener`, subscribing to its Redis
   * channel for the first listener.
   *
   * @param topic The topic.
   * @param listener Receives each message published to it elsewhere.
   * @returns Once Redis confirmed the subscription; while Redis is away, once it is back.
   */
  async subscribe(topic: string, listener: BrokerListener): Promise<void> {
    if (this.#closed) return;
    const listeners = this.#listeners.get(topic);
    if (listeners !== undefined) {
      listeners.add(listener);
      return;
    }
    this.#listeners.set(topic, new Set([listener]));
    const redisListener: RedisListener = (payload) => this.#receive(topic, payload);
    this.#redisListeners.set(topic, redisListener);
    await this.#subscriber.subscribe(this.#prefix + topic, redisListener, true);
  }

  /**
   * Stops delivering the topic's messages to `listener`, and unsubscribes
   * from its Redis channel after the last listener.
   *
   * @param topic The topic.
   * @param listener The listener given to `subscribe`.
   * @returns Once done.
   */
  async unsubscribe(topic: string, listener: BrokerListener): Promise<void> {
    const listeners = this.#listeners.get(topic);
    if (listeners === undefined || !listeners.delete(listener) || listeners.size > 0) return;
    this.#listeners.delete(topic);
    const redisListener = this.#redisListeners.get(topic)!;
    this.#redisListeners.delete(topic);
    if (this.#closed) return;
    await this.#subscriber.unsubscribe(this.#prefix + topic, redisListener, true);
  }

  /**
   * Delivers a message to the topic's listeners in this process but
   * `origin`, at once, and publishes it on Redis for the other processes.
   *
   * @param topic The topic.
   * @param message The message: a string for text, bytes for binary.
   * @param origin The publishing server's listener.
   * @returns Once Redis has taken the message. It rejects with
   * {@linkcode PublishError} when the connection to Redis is down or fails,
   * or the broker is closed.
   */
  async publish(topic: string, message: Message, origin?: BrokerListener): Promise<void> {
    const listeners = this.#listeners.get(topic);
    if (listeners !== undefined) {
      for (const listener of listeners) if (listener !== origin) listener(topic, message);
    }
    const failed = (why: string, cause?: unknown) =>
      new PublishError(`Cannot publish message to topic ${topic}: ${why}`, { topic, cause });
    if (this.#closed) throw failed("the broker is closed");
    if (!this.#publisher.isReady) throw failed("the connection to Redis is down");
    let timer: ReturnType<typeof setTimeout> | undefined;
    // The client bounds the wait for a command to be written, not for its answer.
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer from Redis in ${this.#publishTimeout} ms`)),
        this.#publishTimeout,
      );
    });
    try {
      await Promise.race([
        this.#publisher.publish(this.#prefix + topic, this.#encode(message)),
        timeout,
      ]);
    } catch (error) {
      throw failed("Redis did not take it", error);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Closes both connections to Redis; later publishes reject.
   *
   * @returns Once closed.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    this.#redisListeners.clear();
    await Promise.all([this.#publisher, this.#subscriber].map(closeClient));
  }

  #encode(message: Message): Buffer {
    const binary = typeof message !== "string";
    const payload = binary ? message : textEncoder.encode(message);
    const envelope = Buffer.allocUnsafe(HEADER_LENGTH + payload.byteLength);
    envelope[0] = binary ? KIND_BINARY : KIND_TEXT;
    envelope.set(this.#id, 1);
    envelope.set(payload, HEADER_LENGTH);
    return envelope;
  }

  #receive(topic: string, envelope: Buffer): void {
    const kind = envelope[0];
    if (envelope.length < HEADER_LENGTH || (kind !== KIND_TEXT && kind !== KIND_BINARY)) return;
    // Ours, back from Redis: delivered in this process when published.
    if (equalBytes(envelope.subarray(1, HEADER_LENGTH), this.#id)) return;
    const listeners = this.#listeners.get(topic);
    if (listeners === undefined) return;
    const payload = envelope.subarray(HEADER_LENGTH);
    const message = kind === KIND_TEXT ? textDecoder.decode(payload) : new Uint8Array(payload);
    for (const listener of listeners) listener(topic, message);
  }
}

async function closeClient(client: RedisClient): Promise<void> {
  // A connection that is down, or a Redis that does not answer, would keep a polite close waiting.
  if (client.isReady) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bound = new Promise((resolve) => timer = setTimeout(resolve, CLOSE_TIMEOUT));
    await Promise.race([client.close().catch(() => {}), bound]);
    clearTimeout(timer);
  }
  if (client.isOpen) client.destroy();
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
