/**
 * What a server's publish needs from each kind of channel beyond
 * {@linkcode Channel}: to queue a message without waiting for it, sharing
 * one encoded frame where the channel encodes its frames itself, and how
 * many bytes already wait to be sent. Symbol-keyed, so that these stay off
 * the public channel types.
 *
 * @module
 */

import type { Message } from "./connection.ts";
import type { Channel } from "./channel.ts";

/** One published message: its content, and its frame, encoded once when first asked for. */
export interface PublishedMessage {
  /** The message: a string for text, bytes for binary. */
  readonly message: Message;
  /** The message as one final unmasked frame, the bytes a server sends. */
  readonly frame: Uint8Array;
}

/** Queues a published message on a channel, without waiting; does nothing once it is closing. */
export const QUEUE_PUBLISHED: unique symbol = Symbol("queuePublished");
/** How many bytes wait to be sent on a channel: its send queue. */
export const QUEUED_BYTES: unique symbol = Symbol("queuedBytes");

/** A channel's access to its runtime's own topics, where the runtime has them (Bun). */
export const NATIVE_TOPICS: unique symbol = Symbol("nativeTopics");

/** The runtime's own topics of one connection: Bun's `ws.subscribe`, `ws.unsubscribe`, `ws.publish`. */
export interface NativeTopics {
  /** Subscribes the connection in the runtime. */
  subscribe(topic: string): void;
  /** Unsubscribes the connection in the runtime. */
  unsubscribe(topic: string): void;
  /** Publishes to the topic's subscribers but this connection. */
  publishToOthers(topic: string, message: Message): void;
}

/** A channel a server can publish to. */
export interface PublishTarget extends Channel {
  /** Queues a published message; does nothing once the channel is closing. */
  [QUEUE_PUBLISHED](published: PublishedMessage): void;
  /** The bytes waiting to be sent. */
  readonly [QUEUED_BYTES]: number;
  /** The runtime's own topics, where it has them. */
  readonly [NATIVE_TOPICS]?: NativeTopics;
}

/** Whether a channel can be published to: all of ours can. */
export function isPublishTarget(channel: Channel): channel is PublishTarget {
  return QUEUE_PUBLISHED in channel && QUEUED_BYTES in channel;
}
