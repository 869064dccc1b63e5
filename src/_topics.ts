/**
 * The topics of one server: which of its connections subscribed to what,
 * delivery of a publish to them (its frame encoded once), and the
 * subscriptions the server holds at its {@linkcode Broker} so that other
 * servers' publishes reach it.
 *
 * @module
 */

import type { ServerChannel } from "./_accept.ts";
import { toMessage } from "./_bytes.ts";
import type { Broker, BrokerListener } from "./broker.ts";
import { encodeFrame, encodeTextFrame } from "./codec/frame.ts";
import { OPCODE } from "./codec/opcode.ts";
import type { Channel, MessageInput } from "./protocol/channel.ts";
import type { Message } from "./protocol/connection.ts";
import {
  isPublishTarget,
  NATIVE_TOPICS,
  type PublishedMessage,
  type PublishTarget,
  QUEUE_PUBLISHED,
  QUEUED_BYTES,
} from "./protocol/_publish_target.ts";

/** A server connection that can subscribe to topics of its server. */
export interface TopicChannel extends ServerChannel {
  /**
   * Subscribes the connection to a topic: what the server publishes to it
   * is sent to this connection too. Does nothing when already subscribed,
   * or once the connection has closed; the subscriptions end when it closes.
   *
   * @param topic The topic, any string.
   * @throws {TypeError} When the topic is not a string.
   */
  subscribe(topic: string): void;
  /**
   * Unsubscribes the connection from a topic. Does nothing when not subscribed.
   *
   * @param topic The topic.
   * @throws {TypeError} When the topic is not a string.
   */
  unsubscribe(topic: string): void;
  /**
   * Tells whether the connection is subscribed to a topic.
   *
   * @param topic The topic.
   * @returns Whether it is.
   */
  isSubscribed(topic: string): boolean;
  /** The topics the connection is subscribed to, in the order it subscribed. */
  readonly subscriptions: string[];
}

/** Options of a server's `publish`. */
export interface PublishOptions {
  /** A connection not to send the message to, such as the one it came from. */
  except?: Channel;
}

/** Options of {@linkcode Topics}. */
export interface TopicsOptions {
  /** Carries publishes to and from the other servers. */
  broker: Broker;
  /** Bytes waiting on one connection past which a publish closes it with 1008. */
  maxSubscriberBacklog: number;
  /** Receives the broker's failures to subscribe. */
  onError: (error: unknown) => void;
}

/** Close code and reason for a subscriber too slow to take what is published. */
const SLOW_SUBSCRIBER_CODE = 1008;
const SLOW_SUBSCRIBER_REASON = "Too many published messages wait unsent";
/** Texts up to this length are encoded straight behind their frame header. */
const SHORT_TEXT_LENGTH = 1024;
const textEncoder = new TextEncoder();

/** The topics of one server. */
export class Topics {
  readonly #options: TopicsOptions;
  readonly #subscribers = new Map<string, Set<PublishTarget>>();
  /** The runtime's own publish, whose subscriptions mirror ours (Bun's). */
  #nativePublish: ((topic: string, message: Message) => void) | undefined;
  readonly #listener: BrokerListener = (topic, message) => {
    this.#deliver(topic, message, undefined);
  };

  constructor(options: TopicsOptions) {
    if (!(options.maxSubscriberBacklog >= 0)) {
      throw new RangeError(
        `Cannot serve: maxSubscriberBacklog must be at least 0, got ${options.maxSubscriberBacklog}`,
      );
    }
    this.#options = options;
  }

  /**
   * Publishes with the runtime's own topics from now on (Bun's, which send
   * in native code): connections are subscribed there as well as here.
   */
  useNativePublish(publish: (topic: string, message: Message) => void): void {
    this.#nativePublish = publish;
  }

  /** Gives a new connection its topic methods; its subscriptions end when it closes. */
  attach(channel: ServerChannel): TopicChannel {
    if (!isPublishTarget(channel)) {
      throw new TypeError("Cannot subscribe: the channel cannot be published to");
    }
    const topics = new Set<string>();
    let closed = false;
    const methods: Omit<TopicChannel, keyof ServerChannel | "subscriptions"> = {
      subscribe: (topic) => {
        checkTopic(topic, "subscribe");
        if (closed || topics.has(topic)) return;
        topics.add(topic);
        this.#add(topic, channel);
        channel[NATIVE_TOPICS]?.subscribe(topic);
      },
      unsubscribe: (topic) => {
        checkTopic(topic, "unsubscribe");
        if (!topics.delete(topic)) return;
        this.#remove(topic, channel);
        channel[NATIVE_TOPICS]?.unsubscribe(topic);
      },
      isSubscribed: (topic) => topics.has(topic),
    };
    Object.assign(channel, methods);
    Object.defineProperty(channel, "subscriptions", { get: () => [...topics] });
    channel.closed.then(() => {
      closed = true;
      for (const topic of topics) this.#remove(topic, channel);
      topics.clear();
    });
    return channel as PublishTarget & TopicChannel;
  }

  /**
   * Sends a message to this server's subscribers of the topic but `except`,
   * and hands it to the broker for the other servers.
   *
   * @returns The number of this server's connections it was queued for, once
   * the broker has taken it; rejects with the broker's error when it could not.
   */
  publish(topic: string, data: MessageInput, options: PublishOptions = {}): Promise<number> {
    checkTopic(topic, "publish");
    const message = toMessage(data, "publish message");
    const count = this.#deliver(topic, message, options.except);
    return this.#options.broker.publish(topic, message, this.#listener).then(() => count);
  }

  /** The number of this server's connections subscribed to the topic. */
  subscriberCount(topic: string): number {
    return this.#subscribers.get(topic)?.size ?? 0;
  }

  /**
   * Gives up the server's subscriptions at the broker, without waiting: a
   * broker that lost its connection would answer only once it is back.
   */
  close(): void {
    for (const topic of this.#subscribers.keys()) {
      this.#options.broker.unsubscribe(topic, this.#listener).catch(this.#options.onError);
    }
    this.#subscribers.clear();
  }

  /** Queues the message on each subscriber; a subscriber too far behind is closed instead. */
  #deliver(topic: string, message: Message, except: Channel | undefined): number {
    const subscribers = this.#subscribers.get(topic);
    if (subscribers === undefined) return 0;
    const native = this.#nativePublish;
    const published = encodeOnce(message);
    let count = 0;
    for (const channel of subscribers) {
      if (channel === except) continue;
      // A publish never waits for one subscriber: one that cannot keep up is let go.
      if (channel[QUEUED_BYTES] > this.#options.maxSubscriberBacklog) {
        channel.close(SLOW_SUBSCRIBER_CODE, SLOW_SUBSCRIBER_REASON);
        continue;
      }
      if (native === undefined) channel[QUEUE_PUBLISHED](published);
      count++;
    }
    if (native === undefined || count === 0) return count;
    // The runtime sends to its own subscribers, which closing ones have left.
    const nativeExcept = except !== undefined && subscribers.has(except as PublishTarget)
      ? (except as PublishTarget)[NATIVE_TOPICS]
      : undefined;
    if (nativeExcept !== undefined) nativeExcept.publishToOthers(topic, message);
    else native(topic, message);
    return count;
  }

  #add(topic: string, channel: PublishTarget): void {
    let subscribers = this.#subscribers.get(topic);
    if (subscribers === undefined) {
      this.#subscribers.set(topic, subscribers = new Set());
      this.#options.broker.subscribe(topic, this.#listener).catch(this.#options.onError);
    }
    subscribers.add(channel);
  }

  #remove(topic: string, channel: PublishTarget): void {
    const subscribers = this.#subscribers.get(topic);
    if (subscribers === undefined || !subscribers.delete(channel)) return;
    if (subscribers.size > 0) return;
    this.#subscribers.delete(topic);
    this.#options.broker.unsubscribe(topic, this.#listener).catch(this.#options.onError);
  }
}

/** A published message whose frame is encoded the first time a channel asks for it. */
function encodeOnce(message: Message): PublishedMessage {
  let frame: Uint8Array | undefined;
  return {
    message,
    get frame(): Uint8Array {
      return frame ??= encodeMessageFrame(message);
    },
  };
}

function encodeMessageFrame(message: Message): Uint8Array {
  if (typeof message !== "string") {
    return encodeFrame({ fin: true, opcode: OPCODE.Binary, payload: message });
  }
  if (message.length <= SHORT_TEXT_LENGTH) return encodeTextFrame(message, false);
  return encodeFrame({ fin: true, opcode: OPCODE.Text, payload: textEncoder.encode(message) });
}

function checkTopic(topic: unknown, action: string): asserts topic is string {
  if (typeof topic !== "string") {
    throw new TypeError(`Cannot ${action}: topic must be a string, got ${typeof topic}`);
  }
}
