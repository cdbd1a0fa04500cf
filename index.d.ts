// Type definitions for ephemeron: the hand-written public face (binding.d.ts is the generated raw layer).

/** What can be a weak key: an object, a function, or a symbol that was not made by `Symbol.for`. */
export type WeakKey = object | symbol

/**
 * A `WeakMap` you can iterate, count and clear.
 *
 * Keys are held weakly and a value lives only as long as its key, even when the value references
 * the key (values are stored in a real `WeakMap`, V8's ephemeron table). Iteration is in
 * insertion order, like `Map`, and never yields a key that was collected. Setting a key again
 * keeps its place; entries added during iteration are visited, deleted ones are not.
 *
 * `size` counts keys whose collection has not been finalized yet: after a GC it drops once Node
 * has run the finalizers (by the next `setImmediate` turn), while iteration skips collected keys
 * at once.
 *
 * @example
 * const meta = new IterableWeakMap<Socket, { openedAt: number }>()
 * meta.set(socket, { openedAt: Date.now() })
 * for (const [socket, { openedAt }] of meta) report(socket, openedAt)
 */
export declare class IterableWeakMap<K extends WeakKey = WeakKey, V = any> {
  /**
   * @param iterable entries to add, through `this.set`.
   * @throws {TypeError} if `iterable` is not iterable, an item is not an entry object, or a key
   *   cannot be held weakly.
   */
  constructor(iterable?: Iterable<readonly [K, V]> | null)
  /** The value stored under `key`, or `undefined`. */
  get(key: K): V | undefined
  /** Stores `value` under `key` and returns the map. A present key keeps its iteration position.
   * @throws {TypeError} if `key` is not an object, a function or a non-registered symbol. */
  set(key: K, value: V): this
  /** Whether `key` is in the map. */
  has(key: K): boolean
  /** Removes `key`; true if it was there. */
  delete(key: K): boolean
  /** Removes every entry. */
  clear(): void
  /** The number of entries (see the class notes on when collected keys stop counting). */
  readonly size: number
  /** The value under `key`; if absent, stores `value` first and returns it.
   * @throws {TypeError} if `key` cannot be held weakly. */
  getOrInsert(key: K, value: V): V
  /** The value under `key`; if absent, stores and returns `callback(key)`.
   * @throws {TypeError} if `callback` is not a function or `key` cannot be held weakly. */
  getOrInsertComputed(key: K, callback: (key: K) => V): V
  /** Calls `callback(value, key, map)` for each entry, in insertion order. */
  forEach(callback: (value: V, key: K, map: IterableWeakMap<K, V>) => void, thisArg?: any): void
  /** `[key, value]` pairs in insertion order. */
  entries(): IterableWeakMapIterator<[K, V]>
  /** Keys in insertion order. */
  keys(): IterableWeakMapIterator<K>
  /** Values in insertion order. */
  values(): IterableWeakMapIterator<V>
  /** Same as `entries()`. */
  [Symbol.iterator](): IterableWeakMapIterator<[K, V]>
  readonly [Symbol.toStringTag]: 'IterableWeakMap'
}

/**
 * A `WeakSet` you can iterate, count and clear: members are held weakly and vanish when
 * collected. Iteration is in insertion order, like `Set`.
 */
export declare class IterableWeakSet<T extends WeakKey = WeakKey> {
  /**
   * @param iterable values to add, through `this.add`.
   * @throws {TypeError} if `iterable` is not iterable or a value cannot be held weakly.
   */
  constructor(iterable?: Iterable<T> | null)
  /** Adds `value` and returns the set.
   * @throws {TypeError} if `value` is not an object, a function or a non-registered symbol. */
  add(value: T): this
  /** Whether `value` is in the set. */
  has(value: T): boolean
  /** Removes `value`; true if it was there. */
  delete(value: T): boolean
  /** Removes every member. */
  clear(): void
  /** The number of members (collected ones stop counting once their finalizers ran). */
  readonly size: number
  /** Calls `callback(value, value, set)` for each member, in insertion order. */
  forEach(callback: (value: T, value2: T, set: IterableWeakSet<T>) => void, thisArg?: any): void
  /** `[value, value]` pairs, as `Set` does. */
  entries(): IterableWeakMapIterator<[T, T]>
  /** Members in insertion order. */
  values(): IterableWeakMapIterator<T>
  /** Same as `values()`. */
  keys(): IterableWeakMapIterator<T>
  /** Same as `values()`. */
  [Symbol.iterator](): IterableWeakMapIterator<T>
  readonly [Symbol.toStringTag]: 'IterableWeakSet'
}

/** The iterator of an IterableWeakMap or IterableWeakSet (also iterable itself). */
export interface IterableWeakMapIterator<T> extends IterableIterator<T> {
  next(): IteratorResult<T, undefined>
}
