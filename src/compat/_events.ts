/**
 * The listener registry every compatibility module shares, offering the
 * three dispatch styles their upstream APIs use: `on(name, fn)` in the
 * manner of Node's `EventEmitter`, `onxxx` properties, and
 * `addEventListener`.
 *
 * Listeners run synchronously, in the order they were added, `onxxx` last.
 * A listener that throws does not stop the others nor the connection that
 * emitted the event: its error is rethrown on its own, in a microtask, as an
 * uncaught error, which is what an `EventEmitter` listener throwing inside a
 * socket callback amounts to. Unlike Node's `EventEmitter`, an `error`
 * event with no listener is dropped rather than thrown, so nothing a peer
 * does can end the process.
 *
 * @module
 */

/** A listener: a function, or an object with `handleEvent` as the DOM allows. */
export type Listener = ((...args: never[]) => unknown) | { handleEvent(event: unknown): unknown };

/**
 * The arguments a listener of event `K` may take, from an event map (event
 * names to argument tuples): the event's, then any more as `unknown`, so that
 * a function such as a promise's `resolve` can listen to an event with none.
 * An event the map does not name takes any arguments.
 */
export type EventArgs<Events, K extends string> = K extends keyof Events
  ? Events[K] extends unknown[] ? [...Events[K], ...unknown[]] : never
  : never[];

interface Entry {
  listener: Listener;
  once: boolean;
}

/** The event map of events that each pass one event object, from a DOM-style map of names to events. */
export type DomEvents<Map> = { [K in keyof Map]: [event: Map[K]] };

/**
 * A minimal event emitter with `on`/`once`/`off`, `addEventListener` and
 * `onxxx` dispatch. `Events` maps the event names a subclass emits to their
 * arguments, so that listeners of those events are typed.
 */
// deno-lint-ignore ban-types
export class Emitter<Events extends object = {}> {
  readonly #listeners = new Map<string, Entry[]>();

  /**
   * Adds a listener.
   *
   * @param name The event name.
   * @param listener Called with the event's arguments.
   * @returns This emitter.
   */
  on<K extends string>(
    name: K,
    listener: (this: this, ...args: EventArgs<Events, K>) => unknown,
  ): this {
    return this.#add(name, listener, false);
  }

  /**
   * Adds a listener, as {@linkcode Emitter.on}.
   *
   * @param name The event name.
   * @param listener Called with the event's arguments.
   * @returns This emitter.
   */
  addListener<K extends string>(
    name: K,
    listener: (this: this, ...args: EventArgs<Events, K>) => unknown,
  ): this {
    return this.#add(name, listener, false);
  }

  /**
   * Adds a listener called at most once.
   *
   * @param name The event name.
   * @param listener Called with the event's arguments.
   * @returns This emitter.
   */
  once<K extends string>(
    name: K,
    listener: (this: this, ...args: EventArgs<Events, K>) => unknown,
  ): this {
    return this.#add(name, listener, true);
  }

  /**
   * Removes a listener added with `on`, `once` or `addListener`.
   *
   * @param name The event name.
   * @param listener The listener to remove.
   * @returns This emitter.
   */
  off(name: string, listener: (...args: never[]) => unknown): this {
    return this.#remove(name, listener);
  }

  /**
   * Removes a listener, as {@linkcode Emitter.off}.
   *
   * @param name The event name.
   * @param listener The listener to remove.
   * @returns This emitter.
   */
  removeListener(name: string, listener: (...args: never[]) => unknown): this {
    return this.#remove(name, listener);
  }

  /**
   * Removes every listener of one event, or of all events.
   *
   * @param name The event name; all events when omitted.
   * @returns This emitter.
   */
  removeAllListeners(name?: string): this {
    if (name === undefined) this.#listeners.clear();
    else this.#listeners.delete(name);
    return this;
  }

  /**
   * Counts the listeners of one event, `onxxx` not included.
   *
   * @param name The event name.
   * @returns How many listeners it has.
   */
  listenerCount(name: string): number {
    return this.#listeners.get(name)?.length ?? 0;
  }

  /**
   * Adds a listener in the DOM's manner; the same listener is added once.
   *
   * @param name The event name.
   * @param listener A function or an object with `handleEvent`.
   * @param options `{ once: true }` removes it after its first call.
   */
  addEventListener<K extends string>(
    name: K,
    listener:
      | ((this: this, ...args: EventArgs<Events, K>) => unknown)
      | { handleEvent(event: EventArgs<Events, K>[0]): unknown }
      | null,
    options?: boolean | { once?: boolean },
  ): void {
    if (listener === null) return;
    if (this.#listeners.get(name)?.some((entry) => entry.listener === listener)) return;
    this.#add(name, listener as Listener, typeof options === "object" && options.once === true);
  }

  /**
   * Removes a listener added with `addEventListener`.
   *
   * @param name The event name.
   * @param listener The listener to remove.
   */
  removeEventListener(name: string, listener: Listener | null): void {
    if (listener !== null) this.#remove(name, listener);
  }

  /**
   * Calls the event's listeners, then the `on<name>` property if it holds a function.
   *
   * @param name The event name.
   * @param args The arguments the listeners receive.
   * @returns Whether anything listened.
   */
  emit(name: string, ...args: unknown[]): boolean {
    const entries = [...(this.#listeners.get(name) ?? [])];
    const property = (this as Record<string, unknown>)[`on${name}`];
    for (const entry of entries) {
      if (entry.once) this.#remove(name, entry.listener);
      const { listener } = entry;
      if (typeof listener === "function") call(this, listener, args);
      else call(listener, listener.handleEvent, args);
    }
    if (typeof property === "function") call(this, property as (...args: never[]) => unknown, args);
    return entries.length > 0 || typeof property === "function";
  }

  #add(name: string, listener: unknown, once: boolean): this {
    const entry = { listener: listener as Listener, once };
    const entries = this.#listeners.get(name);
    if (entries === undefined) this.#listeners.set(name, [entry]);
    else entries.push(entry);
    return this;
  }

  #remove(name: string, listener: Listener): this {
    const entries = this.#listeners.get(name);
    const index = entries?.findIndex((entry) => entry.listener === listener) ?? -1;
    if (index >= 0) entries!.splice(index, 1);
    return this;
  }
}

function call(target: unknown, fn: (...args: never[]) => unknown, args: unknown[]): void {
  try {
    const result = (fn as (...args: unknown[]) => unknown).apply(target, args);
    // An async listener's rejection is as uncaught as a sync listener's throw.
    if (result instanceof Promise) result.catch(rethrow);
  } catch (error) {
    rethrow(error);
  }
}

function rethrow(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}
