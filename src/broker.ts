/**
 * {@linkcode Broker}: how the servers that share topics reach each other,
 * and {@linkcode EmbeddedBroker}, the in-process one every server uses
 * unless given another. The Redis broker of `@seed/websocket/redis` lets
 * servers in several processes share topics.
 *
 * @module
 */

import type { Message } from "./protocol/connection.ts";

/** Receives the messages published to a topic a server subscribed to, by another server. */
export type BrokerListener = (topic: string, message: Message) => void;

/**
 * Carries published messages between the servers sharing topics: servers in
 * one process with {@linkcode EmbeddedBroker}, or in many with the Redis
 * broker of `@seed/websocket/redis`. A server subscribes its listener to a
 * topic while one of its connections is subscribed, delivers its own
 * publishes to its own connections itself, and hands them to the broker for
 * the other servers.
 */
export interface Broker {
  /**
   * Starts delivering the topic's messages to `listener`.
   *
   * @param topic The topic.
   * @param listener Receives each message published to it by another server.
   * @returns Once messages published from now on reach the listener.
   */
  subscribe(topic: string, listener: BrokerListener): Promise<void>;
  /**
   * Stops delivering the topic's messages to `listener`.
   *
   * @param topic The topic.
   * @param listener The listener given to `subscribe`.
   * @returns Once done.
   */
  unsubscribe(topic: string, listener: BrokerListener): Promise<void>;
  /**
   * Delivers a message to every listener of the topic, in every process
   * sharing the broker, but `origin`.
   *
   * @param topic The topic.
   * @param message The message: a string for text, bytes for binary.
   * @param origin The publishing server's listener, which has delivered the message itself.
   * @returns Once the broker has taken the message; it rejects with
   * {@linkcode PublishError} when it could not, so that no message is lost unnoticed.
   */
  publish(topic: string, message: Message, origin?: BrokerListener): Promise<void>;
  /**
   * Stops delivering messages and lets go of what the broker holds.
   *
   * @returns Once closed.
   */
  close(): Promise<void>;
}

/**
 * A message published on one server could not reach the servers of other
 * processes, as when the broker lost its connection to Redis. The
 * subscribers of the publishing server have received it.
 *
 * @example
 * ```ts
 * import { PublishError } from "@seed/websocket";
 * import assert from "node:assert/strict";
 *
 * const error = new PublishError("Cannot publish message: Redis is unreachable", { topic: "chat" });
 * assert.equal(error.topic, "chat");
 * assert.equal(error.name, "PublishError");
 * ```
 */
export class PublishError extends Error {
  /** The topic the message was published to. */
  readonly topic: string;

  /**
   * Constructs a new instance.
   *
   * @param message What could not be done, then the detail after a colon.
   * @param options The topic, and the cause.
   */
  constructor(message: string, options: ErrorOptions & { topic: string }) {
    super(message, options);
    this.name = "PublishError";
    this.topic = options.topic;
  }
}

/**
 * The broker of servers that share topics within one process; each
 * {@linkcode serve} server makes its own unless given one. Pass one
 * instance to several servers (on several ports, or a plain and a TLS one)
 * and a publish on any of them reaches the subscribers of all.
 *
 * @example Two listeners sharing a topic
 * ```ts
 * import { EmbeddedBroker } from "@seed/websocket";
 * import assert from "node:assert/strict";
 *
 * const broker = new EmbeddedBroker();
 * const received: string[] = [];
 * const first = (topic: string, message: unknown) => received.push(`first ${topic} ${message}`);
 * const second = (topic: string, message: unknown) => received.push(`second ${topic} ${message}`);
 * await broker.subscribe("news", first);
 * await broker.subscribe("news", second);
 * await broker.publish("news", "hello", first); // first delivered it to its own subscribers
 * assert.deepEqual(received, ["second news hello"]);
 * ```
 */
export class EmbeddedBroker implements Broker {
  readonly #listeners = new Map<string, Set<BrokerListener>>();
  #closed = false;

  /**
   * Starts delivering the topic's messages to `listener`.
   *
   * @param topic The topic.
   * @param listener Receives each message another server publishes to it.
   * @returns At once.
   */
  subscribe(topic: string, listener: BrokerListener): Promise<void> {
    if (this.#closed) return Promise.resolve();
    let listeners = this.#listeners.get(topic);
    if (listeners === undefined) this.#listeners.set(topic, listeners = new Set());
    listeners.add(listener);
    return Promise.resolve();
  }

  /**
   * Stops delivering the topic's messages to `listener`.
   *
   * @param topic The topic.
   * @param listener The listener given to `subscribe`.
   * @returns At once.
   */
  unsubscribe(topic: string, listener: BrokerListener): Promise<void> {
    const listeners = this.#listeners.get(topic);
    listeners?.delete(listener);
    if (listeners?.size === 0) this.#listeners.delete(topic);
    return Promise.resolve();
  }

  /**
   * Delivers a message to every listener of the topic but `origin`, before returning.
   *
   * @param topic The topic.
   * @param message The message.
   * @param origin The publishing server's listener.
   * @returns Once delivered; it never rejects.
   */
  publish(topic: string, message: Message, origin?: BrokerListener): Promise<void> {
    const listeners = this.#listeners.get(topic);
    if (listeners !== undefined) {
      for (const listener of listeners) if (listener !== origin) listener(topic, message);
    }
    return Promise.resolve();
  }

  /**
   * Forgets every subscription; later ones are ignored.
   *
   * @returns At once.
   */
  close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    return Promise.resolve();
  }
}
