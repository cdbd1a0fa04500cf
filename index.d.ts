// Type definitions for ephemeron: the hand-written public face (binding.d.ts is the generated raw layer).
/// <reference types="node" />

/** What can be a weak key: an object, a function, or a symbol that was not made by `Symbol.for`. */
export type WeakKey = object | symbol

/** Options of `IterableWeakMap` and `IterableWeakSet`. */
export interface IterableWeakOptions {
  /**
   * Called on the event loop, in batches (one call per collection that took keys), with the
   * number of entries removed because the GC collected their key. Entries you deleted or cleared
   * do not count. A callback that throws becomes a process warning (code `ERR_EPHEMERON_ON_COLLECT`).
   */
  onCollect?: (count: number) => void
}

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
 * Errors carry a `code`: `ERR_INVALID_ARG_TYPE` (a key that cannot be held weakly, a callback
 * that is not a function), `ERR_INVALID_THIS` (a method called on something that is not an
 * IterableWeakMap), `ERR_CONSTRUCT_CALL_REQUIRED` (called without `new`). The class takes every
 * built-in it uses at load, so it can be installed as `globalThis.WeakMap` by a polyfill.
 *
 * @example
 * const meta = new IterableWeakMap<Socket, { openedAt: number }>()
 * meta.set(socket, { openedAt: Date.now() })
 * for (const [socket, { openedAt }] of meta) report(socket, openedAt)
 */
export declare class IterableWeakMap<K extends WeakKey = WeakKey, V = any> {
  /**
   * @param iterable entries to add, through `this.set`.
   * @param options `onCollect`: see {@link IterableWeakOptions}.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` if `iterable` is not iterable, an item is not an
   *   entry object, a key cannot be held weakly, or an option has the wrong type;
   *   `ERR_CONSTRUCT_CALL_REQUIRED` without `new`.
   */
  constructor(iterable?: Iterable<readonly [K, V]> | null, options?: IterableWeakOptions)
  /** The value stored under `key`, or `undefined`. */
  get(key: K): V | undefined
  /** Stores `value` under `key` and returns the map. A present key keeps its iteration position.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` if `key` is not an object, a function or a
   *   non-registered symbol. */
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
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` if `key` cannot be held weakly. */
  getOrInsert(key: K, value: V): V
  /** The value under `key`; if absent, stores and returns `callback(key)`.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` if `callback` is not a function or `key` cannot be
   *   held weakly. */
  getOrInsertComputed(key: K, callback: (key: K) => V): V
  /** Calls `callback(value, key, map)` for each entry, in insertion order.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` if `callback` is not a function. */
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
   * @param options `onCollect`: see {@link IterableWeakOptions}.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` if `iterable` is not iterable, a value cannot be
   *   held weakly, or an option has the wrong type; `ERR_CONSTRUCT_CALL_REQUIRED` without `new`.
   */
  constructor(iterable?: Iterable<T> | null, options?: IterableWeakOptions)
  /** Adds `value` and returns the set.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` if `value` is not an object, a function or a
   *   non-registered symbol. */
  add(value: T): this
  /** Whether `value` is in the set. */
  has(value: T): boolean
  /** Removes `value`; true if it was there. */
  delete(value: T): boolean
  /** Removes every member. */
  clear(): void
  /** The number of members (collected ones stop counting once their finalizers ran). */
  readonly size: number
  /** Calls `callback(value, value, set)` for each member, in insertion order.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` if `callback` is not a function. */
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

/**
 * The iterator of an IterableWeakMap or IterableWeakSet (also iterable itself). It holds its map
 * and its position, never a key it has not yielded yet: an abandoned iterator keeps no key alive.
 */
export interface IterableWeakMapIterator<T> extends IterableIterator<T> {
  next(): IteratorResult<T, undefined>
}

/**
 * Why a WeakCache entry left the cache, as passed to `dispose` and `disposeAfter` (lru-cache's
 * `DisposeReason` plus `'collect'`):
 * - `'evict'`: pushed out of the pinned tier and not demoted (a primitive, a fetch in flight, any
 *   value with `weak: false`), or taken by `pop()` (synchronously);
 * - `'set'`: overwritten by `set` with a different value, or deleted because a new value was
 *   larger than `maxEntrySize` (synchronously);
 * - `'delete'`: removed by `delete`, `clear` or `set(key, undefined)` (synchronously);
 * - `'expire'`: past its ttl, found by `get`, `purgeStale()` or `ttlAutopurge` (synchronously);
 * - `'collect'`: a demoted object value was garbage collected. `value` is `undefined`; the call
 *   comes later, batched, on the event loop, never inside synchronous code;
 * - `'fetch'`: a `fetchMethod` failed, was aborted or resolved to `undefined`, and its entry went.
 */
export type WeakCacheDisposeReason = 'evict' | 'set' | 'delete' | 'expire' | 'collect' | 'fetch'

/** Why `onInsert` was called: a new key (`'add'`), a new value (`'replace'`), the same value
 * again (`'update'`). */
export type WeakCacheInsertReason = 'add' | 'update' | 'replace'

/**
 * Options of `new WeakCache(options)`: lru-cache 11.5's, plus `weak`, read as lru-cache reads
 * them (options from JSON or the environment work: a `null` or falsy value is the default, flags
 * are read as truthy or not). At least one of `max`, `maxSize` or `ttl` is required, except for
 * `max: 0` alone (a pure weak-value map). An unknown option name is ignored with a process warning
 * (`WeakCacheWarning`, code `ERR_EPHEMERON_UNKNOWN_OPTION`), once per name. Every option
 * lru-cache lets its users change later is also a writable property of the cache
 * (`cache.ttl = 500`).
 */
export interface WeakCacheOptions<K = any, V = any, FC = unknown> {
  /** The most entries kept strongly pinned (an integer from 0 to 2^31 - 2; above: a `RangeError`).
   * Left out, or `0` with `maxSize` or `ttl`: no count limit (they bound the cache). `0` alone pins
   * nothing: a pure weak-value map (lru-cache rejects `max: 0` alone). */
  max?: number
  /** Default time to live in milliseconds, a positive integer (any finite one); `0` or any falsy
   * value (the default): no ttl. An entry is stale once it is older than its ttl (at exactly its
   * ttl it is still fresh). */
  ttl?: number
  /** Staleness is judged against a clock reading at most this many milliseconds old (a
   * non-negative integer; anything else means 1, as in lru-cache). @default 1 */
  ttlResolution?: number
  /** Remove entries as soon as their ttl passes (one timer per entry). @default false */
  ttlAutopurge?: boolean
  /** Whether `get` restarts an entry's ttl. @default false */
  updateAgeOnGet?: boolean
  /** Whether `has` restarts an entry's ttl. @default false */
  updateAgeOnHas?: boolean
  /** Whether `get`, `fetch` and iteration return stale values (a stale `get` still removes the
   * entry unless `noDeleteOnStaleGet`). @default false */
  allowStale?: boolean
  /** Keep stale entries that `get` finds. @default false */
  noDeleteOnStaleGet?: boolean
  /** Called when an entry leaves the cache, once the cache is consistent (it may use the cache);
   * see {@link WeakCacheDisposeReason}. Whatever it throws is reported with `process.emitWarning`
   * (code `ERR_EPHEMERON_DISPOSE_THREW`), and later calls still arrive. A truthy value that is not
   * a function is a `TypeError` (lru-cache ignores it), as for `disposeAfter` and `onInsert`. */
  dispose?: (value: V | undefined, key: K, reason: WeakCacheDisposeReason) => void
  /** Like `dispose`, but called once the operation that removed the entry has finished (a `set`
   * with `noDisposeOnSet` included: before it returns). */
  disposeAfter?: (value: V | undefined, key: K, reason: WeakCacheDisposeReason) => void
  /** Called when `set` stores a value (not for a fetch's placeholder). */
  onInsert?: (value: V, key: K, reason: WeakCacheInsertReason) => void
  /** Do not call `dispose`/`disposeAfter` for a value that `set` overwrites. @default false */
  noDisposeOnSet?: boolean
  /** Keep an entry's ttl when `set` overwrites it. @default false */
  noUpdateTTL?: boolean
  /** The most total size of the pinned entries (a positive integer); entries need a size
   * (`sizeCalculation` or `set(k, v, { size })`). Demoted entries do not count. */
  maxSize?: number
  /** The largest size of one entry (a positive integer); larger ones are not stored.
   * @default maxSize */
  maxEntrySize?: number
  /** The size a fetch in flight counts for in `maxSize` while it has no stale value (with one, it
   * counts as that value's size), unless `fetch` is given a `size` (a non-negative integer;
   * lru-cache 11.5). @default 1 */
  backgroundFetchSize?: number
  /** Computes an entry's size, a positive integer; needs `maxSize` or `maxEntrySize`. */
  sizeCalculation?: (value: V, key: K) => number
  /** Loads a value for `fetch(key)`: `fetchMethod(key, staleValue, { signal, options, context })`. */
  fetchMethod?: (key: K, staleValue: V | undefined, options: WeakCacheFetcherOptions<K, V, FC>) => Promise<V | undefined | void> | V | undefined | void
  /** Computes a value for `memo(key)`: `memoMethod(key, staleValue, { options, context })`. */
  memoMethod?: (key: K, staleValue: V | undefined, options: WeakCacheMemoizerOptions<K, V, FC>) => V
  /** Keep the stale value when `fetchMethod` rejects. @default false */
  noDeleteOnFetchRejection?: boolean
  /** `fetch` resolves to the stale value when `fetchMethod` rejects (implies
   * `noDeleteOnFetchRejection`). @default false */
  allowStaleOnFetchRejection?: boolean
  /** `fetch` resolves to the stale value when its signal aborts. @default false */
  allowStaleOnFetchAbort?: boolean
  /** Keep waiting for `fetchMethod` (and store its value) when the signal aborts. @default false */
  ignoreFetchAbort?: boolean
  /** The clock for ttl: anything with a `now()` method returning milliseconds (`performance`,
   * `Date`). @default the global `performance` when the cache is made, or `Date` */
  perf?: { now(): number }
  /** Demote object values pushed out of the pinned tier (the weak tier). `false` evicts them with
   * `dispose(value, key, 'evict')`, exactly as lru-cache: for values that must be closed
   * (sockets, agents, file handles). @default true */
  weak?: boolean
}

/**
 * What an operation did, filled in on the `status` object given to it (lru-cache's `Status`);
 * also posted on the `'lru-cache:metrics'` diagnostics channel, and traced on `'lru-cache'`.
 */
export interface WeakCacheStatus<K = any, V = any> {
  /** The operation. */
  op?: 'get' | 'set' | 'memo' | 'fetch' | 'delete' | 'has' | 'peek'
  /** What `set` did: a new key, the same value again, a new value, not stored (too large), or a delete. */
  set?: 'add' | 'update' | 'replace' | 'miss' | 'deleted'
  /** Why a `{ op: 'delete' }` message's entry left (posted for deletes, expiries and failed fetches). */
  delete?: WeakCacheDisposeReason
  /** What `peek` found. */
  peek?: 'hit' | 'miss' | 'stale'
  /** Whether `memo` found the value or computed it. */
  memo?: 'hit' | 'miss'
  /** What `has` found. */
  has?: 'hit' | 'stale' | 'miss'
  /** What `get` found (`fetching`: a fetch in flight holds the entry). */
  get?: 'stale' | 'hit' | 'miss' | 'fetching' | 'stale-fetching'
  /** How `fetch` answered: without a fetchMethod (`get`), joining a fetch in flight, loading a
   * missing or stale value, a fresh hit, or a forced refresh. */
  fetch?: 'get' | 'inflight' | 'miss' | 'hit' | 'stale' | 'refresh'
  /** The `context` given to `fetch` or `memo`. */
  context?: unknown
  /** The entry's ttl, when it has one. */
  ttl?: number
  /** When its ttl started, on the cache's clock. */
  start?: number
  /** The time the operation judged staleness at. */
  now?: number
  /** Milliseconds left before the entry is stale (negative: stale). */
  remainingTTL?: number
  /** The size `set` stored. */
  entrySize?: number
  /** The cache's `calculatedSize` after `set`. */
  totalCalculatedSize?: number
  /** `set` did not store a value larger than `maxEntrySize`. */
  maxEntrySizeExceeded?: true
  /** The key of the operation. */
  key?: K
  /** The value set, found or returned. */
  value?: V
  /** The value `set` replaced. */
  oldValue?: V
  /** `fetch` or `memo` was called with `forceRefresh`. */
  forceRefresh?: boolean
  /** `fetchMethod` was called. */
  fetchDispatched?: true
  /** The value `fetchMethod` gave was stored. */
  fetchUpdated?: true
  /** Why the fetch failed: what `fetchMethod` rejected with, or the signal's reason. */
  fetchError?: Error
  /** The fetch was aborted. */
  fetchAborted?: true
  /** The fetch was aborted, and its result used anyway (`ignoreFetchAbort`). */
  fetchAbortIgnored?: true
  /** `fetchMethod` resolved. */
  fetchResolved?: true
  /** `fetchMethod` rejected. */
  fetchRejected?: true
  /** A stale value was returned. */
  returnedStale?: true
  /** `fetch` was traced on the `'lru-cache'` tracing channel. */
  trace?: boolean
  /** The cache the status is about (lru-cache 11.5); not enumerable, so a status compared or
   * logged as JSON shows what the operation did. */
  cache?: WeakCache<K, V>
}

/** Options of `get` and `find`: the cache's, for this call. */
export interface WeakCacheGetOptions<K = any, V = any> {
  /** See {@link WeakCacheOptions.allowStale}. */
  allowStale?: boolean
  /** See {@link WeakCacheOptions.updateAgeOnGet}. */
  updateAgeOnGet?: boolean
  /** See {@link WeakCacheOptions.noDeleteOnStaleGet}. */
  noDeleteOnStaleGet?: boolean
  /** Filled in with what the call did. */
  status?: WeakCacheStatus<K, V>
}

/** Options of `peek`. */
export interface WeakCachePeekOptions<K = any, V = any> {
  /** See {@link WeakCacheOptions.allowStale}. */
  allowStale?: boolean
  /** Filled in with what the call did. */
  status?: WeakCacheStatus<K, V>
}

/** Options of `has`. */
export interface WeakCacheHasOptions<K = any, V = any> {
  /** See {@link WeakCacheOptions.updateAgeOnHas}. */
  updateAgeOnHas?: boolean
  /** Filled in with what the call did. */
  status?: WeakCacheStatus<K, V>
}

/** Options of `set`. */
export interface WeakCacheSetOptions<K = any, V = any> {
  /** Time to live of this entry in milliseconds, a positive number (`0` or any falsy value: none;
   * anything else is a `TypeError`); defaults to the cache's `ttl`. */
  ttl?: number
  /** When its ttl started, on the cache's clock (default: now; `null` is 0: it never goes stale,
   * as in lru-cache). */
  start?: number | null
  /** Its size (instead of `sizeCalculation`). */
  size?: number
  /** See {@link WeakCacheOptions.sizeCalculation}. */
  sizeCalculation?: (value: V, key: K) => number
  /** See {@link WeakCacheOptions.noDisposeOnSet}. */
  noDisposeOnSet?: boolean
  /** See {@link WeakCacheOptions.noUpdateTTL}. */
  noUpdateTTL?: boolean
  /** Filled in with what the call did. */
  status?: WeakCacheStatus<K, V>
}

/** Options of `fetch` and `forceFetch`: get, set (but `start`) and fetch options for this call. */
export interface WeakCacheFetchOptions<K = any, V = any, FC = unknown> extends WeakCacheGetOptions<K, V>, Omit<WeakCacheSetOptions<K, V>, 'start'> {
  /** See {@link WeakCacheOptions.noDeleteOnFetchRejection}. */
  noDeleteOnFetchRejection?: boolean
  /** See {@link WeakCacheOptions.allowStaleOnFetchRejection}. */
  allowStaleOnFetchRejection?: boolean
  /** See {@link WeakCacheOptions.allowStaleOnFetchAbort}. */
  allowStaleOnFetchAbort?: boolean
  /** See {@link WeakCacheOptions.ignoreFetchAbort}. */
  ignoreFetchAbort?: boolean
  /** Fetch even if the value is fresh. */
  forceRefresh?: boolean
  /** Given to `fetchMethod` as `context`. */
  context?: FC
  /** Aborts this fetch. */
  signal?: AbortSignal
}

/** Options of `memo`. */
export interface WeakCacheMemoOptions<K = any, V = any, FC = unknown> extends WeakCacheGetOptions<K, V>, WeakCacheSetOptions<K, V> {
  /** Compute even if the value is fresh. */
  forceRefresh?: boolean
  /** Given to `memoMethod` as `context`. */
  context?: FC
}

/** The third argument of `fetchMethod`. */
export interface WeakCacheFetcherOptions<K = any, V = any, FC = unknown> {
  /** Aborted when the fetch's entry is evicted, deleted or replaced, or the caller's signal aborts. */
  signal: AbortSignal
  /** The options the value will be stored with; `fetchMethod` may change them (e.g. `ttl`). */
  options: WeakCacheFetchOptions<K, V, FC>
  /** The `context` given to `fetch`. */
  context: FC
}

/** The third argument of `memoMethod`. */
export interface WeakCacheMemoizerOptions<K = any, V = any, FC = unknown> {
  /** The options of the `memo` call (without `context`, `status` and `forceRefresh`). */
  options: WeakCacheMemoOptions<K, V, FC>
  /** The `context` given to `memo`. */
  context: FC
}

/** An entry as `info` and `dump` give it and `load` takes it. */
export interface WeakCacheEntry<V = any> {
  /** The entry's value (a fetch in flight: its stale value). */
  value: V
  /** `info`: milliseconds left (negative: stale); `dump`: the entry's ttl. */
  ttl?: number
  /** A `Date.now()` time: when its ttl started (`dump`), or now (`info`). */
  start?: number
  /** The entry's size (in a cache that tracks sizes). */
  size?: number
}

/** What `WeakCache.stats()` reports: counters since construction, then the size of each tier. */
export interface WeakCacheStats {
  /**
   * Lookups the cache answered: `get` (and `find`, `memo`) of a fresh pinned entry, or of a stale
   * value it served (`allowStale`); `fetch` of a fresh pinned entry, of a stale one (counted as
   * stale too, also when it is refreshed), or of a key whose load is already in flight (it joins
   * that load).
   */
  hits: number
  /** Lookups answered by the weak tier: the value was demoted but still alive, and is pinned again
   * (`get`, `find`, `memo`, `fetch`). */
  weakHits: number
  /** Of the `hits`, those that found a stale value. */
  staleHits: number
  /**
   * Lookups that found nothing usable: `get` (and `find`, `memo`) of a missing, collected or
   * stale entry it did not serve; `fetch` that loads (a missing or collected key, or
   * `forceRefresh` of a fresh one). So a `fetch` is one hit or one miss, and a `memo` counts as
   * its `get` (its computed value is then one of the `sets`).
   */
  misses: number
  /** Values stored: by `set`, `load`, `memo`, and each `fetch` result (its pending load is not
   * one). A set of the same value again is counted too. */
  sets: number
  /** Values pushed out of the pinned tier and not demoted, and `pop()`s (reason `'evict'`). */
  evictions: number
  /** Object values pushed out of the pinned tier into the weak tier. */
  demotions: number
  /** Weak entries whose values the GC collected (reason `'collect'`). */
  collected: number
  /** Entries removed because their ttl ran out. */
  expired: number
  /** Entries removed by `delete`, `clear` or `set(key, undefined)`. */
  deleted: number
  /** Entries in the pinned tier now. */
  pinned: number
  /** Entries in the weak tier now. */
  weak: number
}

/**
 * lru-cache 11, with a weak tier: the `max` most recently used entries are strongly pinned; an
 * object value pushed out of the pinned tier is demoted, not dropped. While anything else in the
 * process still holds it, `get` finds it (a weak hit), returns the very same object and pins it
 * again; once the GC takes it, the entry disappears and `dispose(undefined, key, 'collect')`
 * arrives on the event loop. Primitive values pushed out are removed with reason `'evict'`, and
 * `weak: false` evicts objects too. Keys are of any type, compared as in `Map`.
 *
 * Everything else is lru-cache 11's API and semantics (sizes, fetch, memo, stale values, status
 * objects, its diagnostics_channel output). `size` counts weak entries until their collection has
 * been noticed or delivered; iteration is most recent first: pinned entries, then weak ones.
 * Every error has a stable `code`; if an internal error ever interrupts an update, the cache
 * throws `ERR_EPHEMERON_BROKEN` from then on.
 *
 * @example
 * const users = new WeakCache<string, User>({ max: 1000, dispose: (user, id, why) => log(id, why) })
 * users.set(id, user)
 * users.get(id) // the same object, as long as something still holds it
 */
export declare class WeakCache<K = any, V = any, FC = unknown> {
  /**
   * @param options the options, or a WeakCache: an empty cache with its options.
   * @throws {TypeError} if `options` is not an object, an option is unknown or has the wrong
   *   type, a ttl or size is not a positive integer, or nothing bounds the cache.
   * @throws {RangeError} if `max` is not an integer from 0 to 2^31 - 2.
   */
  constructor(options: WeakCacheOptions<K, V, FC> | WeakCache<K, V, FC>)
  /** The most pinned entries; 0 for no count limit, or for a pure weak-value map (`max: 0`). */
  readonly max: number
  /** The most total size of the pinned entries; 0 for none. */
  readonly maxSize: number
  /** The total size of the pinned entries now. */
  readonly calculatedSize: number
  /** Pinned entries plus weak entries whose collection has not been noticed or delivered yet. */
  readonly size: number
  /** Whether object values pushed out of the pinned tier are demoted (see `WeakCacheOptions.weak`). */
  readonly weak: boolean
  /** The clock. */
  readonly perf: { now(): number }
  /** See {@link WeakCacheOptions.fetchMethod}. */
  readonly fetchMethod: WeakCacheOptions<K, V, FC>['fetchMethod']
  /** See {@link WeakCacheOptions.memoMethod}. */
  readonly memoMethod: WeakCacheOptions<K, V, FC>['memoMethod']
  /** See {@link WeakCacheOptions.dispose}. */
  readonly dispose: WeakCacheOptions<K, V, FC>['dispose']
  /** See {@link WeakCacheOptions.disposeAfter}. */
  readonly disposeAfter: WeakCacheOptions<K, V, FC>['disposeAfter']
  /** See {@link WeakCacheOptions.onInsert}. */
  readonly onInsert: WeakCacheOptions<K, V, FC>['onInsert']
  /** The default ttl (writable). */
  ttl: number
  /** See {@link WeakCacheOptions.ttlResolution} (writable). */
  ttlResolution: number
  /** See {@link WeakCacheOptions.ttlAutopurge} (writable: applies to the next entries set). */
  ttlAutopurge: boolean
  /** See {@link WeakCacheOptions.updateAgeOnGet} (writable). */
  updateAgeOnGet: boolean
  /** See {@link WeakCacheOptions.updateAgeOnHas} (writable). */
  updateAgeOnHas: boolean
  /** See {@link WeakCacheOptions.allowStale} (writable). */
  allowStale: boolean
  /** See {@link WeakCacheOptions.noDisposeOnSet} (writable). */
  noDisposeOnSet: boolean
  /** See {@link WeakCacheOptions.noUpdateTTL} (writable). */
  noUpdateTTL: boolean
  /** See {@link WeakCacheOptions.maxEntrySize} (writable). */
  maxEntrySize: number
  /** See {@link WeakCacheOptions.sizeCalculation} (writable). */
  sizeCalculation: WeakCacheOptions<K, V, FC>['sizeCalculation']
  /** See {@link WeakCacheOptions.noDeleteOnFetchRejection} (writable). */
  noDeleteOnFetchRejection: boolean
  /** See {@link WeakCacheOptions.noDeleteOnStaleGet} (writable). */
  noDeleteOnStaleGet: boolean
  /** See {@link WeakCacheOptions.allowStaleOnFetchRejection} (writable). */
  allowStaleOnFetchRejection: boolean
  /** See {@link WeakCacheOptions.allowStaleOnFetchAbort} (writable). */
  allowStaleOnFetchAbort: boolean
  /** See {@link WeakCacheOptions.ignoreFetchAbort} (writable). */
  ignoreFetchAbort: boolean
  /** The value under `key`, refreshing its recency (and its age with `updateAgeOnGet`); a weak
   * hit pins it again. A stale entry is removed (unless `noDeleteOnStaleGet`) and gives
   * `undefined` (its value with `allowStale`). `undefined` if absent or collected. */
  get(key: K, options?: WeakCacheGetOptions<K, V>): V | undefined
  /** The value under `key` without refreshing its recency or pinning it; `undefined` if stale
   * (unless `allowStale`). */
  peek(key: K, options?: WeakCachePeekOptions<K, V>): V | undefined
  /** Whether `key` has a live, fresh value (does not refresh it, unless `updateAgeOnHas`). */
  has(key: K, options?: WeakCacheHasOptions<K, V>): boolean
  /** Stores `value` as the most recent entry and returns the cache; `set(key, undefined)`
   * deletes. @throws {TypeError} for a bad option or size. */
  set(key: K, value: V | undefined, options?: WeakCacheSetOptions<K, V>): this
  /** Removes `key`; true if it was there (calls dispose with `'delete'`). */
  delete(key: K): boolean
  /** Removes every entry, least recent first (calls dispose with `'delete'` for each live one). */
  clear(): void
  /** Evicts the least recent entry (weak entries are the least recent) and returns its value;
   * `undefined` when empty. */
  pop(): V | undefined
  /** Removes every stale entry (reason `'expire'`); true if there was any. */
  purgeStale(): boolean
  /** Milliseconds until the entry is stale (negative: stale for that long); `Infinity` without a
   * ttl; `0` if absent. */
  getRemainingTTL(key: K): number
  /** The entry's value (stale or not), ttl left, start (`Date.now()`) and size; `undefined` if absent. */
  info(key: K): WeakCacheEntry<V> | undefined
  /** Every entry as `[key, entry]`, least recent first, with portable `start` times: for `load`. */
  dump(): Array<[K, WeakCacheEntry<V>]>
  /** Clears the cache, then sets the entries of a `dump()` in order. */
  load(entries: Iterable<[K, WeakCacheEntry<V>]>): void
  /** The first value (most recent first) for which `fn(value, key, cache)` is truthy, looked up
   * as `get(key, options)`. */
  find(fn: (value: V, key: K, cache: this) => unknown, options?: WeakCacheGetOptions<K, V>): V | undefined
  /** `fetchMethod`'s value for `key`: a fresh value at once; otherwise it loads it (concurrent
   * fetches of a key share one call), stores it and resolves to it. Without a `fetchMethod`,
   * `get` in a promise. In `stats()`, one hit (a fresh value, a load in flight joined, or a stale
   * value, also counted in `staleHits`) or one miss (it loads); its result is one of the `sets`. */
  fetch(key: K, options?: WeakCacheFetchOptions<K, V, FC>): Promise<V | undefined>
  /** `fetch`, but rejects (`ERR_EPHEMERON_FETCH_UNDEFINED`) instead of resolving to `undefined`. */
  forceFetch(key: K, options?: WeakCacheFetchOptions<K, V, FC>): Promise<V>
  /** `get(key)`, or else `memoMethod`'s value, stored and returned. In `stats()`, counted as
   * its `get` (a hit or a miss); a computed value is one of the `sets`.
   * @throws {Error} `ERR_EPHEMERON_NO_MEMO_METHOD` without a `memoMethod`. */
  memo(key: K, options?: WeakCacheMemoOptions<K, V, FC>): V
  /** Hit, miss and removal counters and the size of each tier. */
  stats(): WeakCacheStats
  /** `[key, value]` pairs, most recent first: pinned entries, then weak ones (most recently
   * demoted first); stale entries only with `allowStale`, fetches in flight never. */
  entries(): Generator<[K, V], void, void>
  /** Keys, most recent first. */
  keys(): Generator<K, void, void>
  /** Values, most recent first. */
  values(): Generator<V, void, void>
  /** `entries()`, least recent first. */
  rentries(): Generator<[K, V], void, void>
  /** `keys()`, least recent first. */
  rkeys(): Generator<K, void, void>
  /** `values()`, least recent first. */
  rvalues(): Generator<V, void, void>
  /** Calls `callback(value, key, cache)` for each entry, most recent first (a fetch in flight
   * with its stale value); `this` is `thisArg` (default: the cache). */
  forEach(callback: (value: V, key: K, cache: this) => void, thisArg?: any): void
  /** `forEach`, least recent first. */
  rforEach(callback: (value: V, key: K, cache: this) => void, thisArg?: any): void
  /** Same as `entries()`. */
  [Symbol.iterator](): Generator<[K, V], void, void>
  /** `'WeakCache'`. */
  readonly [Symbol.toStringTag]: 'WeakCache'
}

/** How much of the allocation stack a LeakRegistry captures: see `LeakRegistryOptions.stacks`. */
export type LeakStacks = 'off' | 'sample' | 'all'

/** Which resources a LeakRegistry captures the call site of: see `LeakRegistryOptions.sites`. */
export type LeakSites = 'auto' | 'all'

/** Options of `new LeakRegistry(options)`. */
export interface LeakRegistryOptions {
  /**
   * Called on the event loop (never inside GC or your synchronous code) with each report,
   * in batches. If it throws (anything at all), that becomes a `LeakRegistryWarning` process
   * warning (code `ERR_EPHEMERON_ON_LEAK`) and later reports still arrive. Every report is also
   * published on the `diagnostics_channel` `'ephemeron:leak'` while it has subscribers (the same
   * object); with neither `onLeak` nor a subscriber, no report object is made at all.
   */
  onLeak?: (report: LeakReport) => void
  /**
   * Appends one JSON line per report to a file (created if missing) or to `'stderr'`, from a
   * background writer shared by every registry of the process that logs to the same place
   * (whole lines only). Opening it never blocks: a FIFO that no process reads is an
   * `ERR_EPHEMERON_LOG` error. A full queue (10,000 lines) or a failed write (a full disk) drops
   * lines; they are counted in `stats().logDropped`, announced with one `{"dropped":N,...}` line
   * once the log can be written again, and a failed write also gives one `LeakRegistryWarning`
   * (`ERR_EPHEMERON_LOG_WRITE`). Written out by `close()` and at exit (`process.exit()` too),
   * waiting at most 2 s. `false` turns it off.
   * @default 'stderr' without `onLeak`, off with it
   */
  log?: 'stderr' | (string & {}) | false
  /**
   * Call sites (`report.site`). A site costs a V8 stack capture, several times the rest of a
   * `track()` (more inside a busy server). `'auto'`: every resource's site while the
   * registry tracks fewer than about 1,000 resources per second; above that rate, the site of a
   * random 1 in 14 (each standing for 14 in the counts), so a site that leaks 100 times is named
   * with probability 0.9994 (93 times: 0.999); reports of the others have
   * `site: '<not sampled>'`. `'all'`: every site at any rate.
   * @default 'auto'
   */
  sites?: LeakSites
  /**
   * Full allocation stacks (`report.stack`), each about one eager `new Error().stack`.
   * `'sample'`: a `sampleRate` fraction of the resources tracked below about 1,000 per second
   * (none above that rate); `'all'`: every resource (which then captures every site); `'off'`:
   * none.
   * @default 'sample'
   */
  stacks?: LeakStacks
  /** Fraction of the resources tracked below the rate that get a full stack in `'sample'` mode, from 0 to 1. @default 0.1 */
  sampleRate?: number
  /**
   * Print the still-tracked resources, grouped by site with their ids and labels (the first 5
   * of each site, then a count), to stderr when the process (or worker) exits. @default false
   */
  reportOnExit?: boolean
  /** Names the registry in reports (`registry` field) and in the exit inventory. */
  name?: string
  /**
   * Milliseconds a resource may stay tracked before it is reported once as `'suspected'`
   * (held too long: a socket or a pooled client the GC can never collect, since the event loop
   * or the pool still holds it). If it is released later, a `'released'` report follows with the
   * total time held. `0` turns it off; `track(resource, { suspectAfter })` overrides it per
   * resource. One unref'd timer per registry, never one per resource. @default 0
   */
  suspectAfter?: number
  /** Access records (`touch()`) kept per resource: the first and the most recent. 0 turns `touch()` off. @default 4 */
  maxTouches?: number
  /**
   * Says which request, job or tenant tracked a resource: called at `track()` (and `openFile()`,
   * `trackFileHandle()`) in the caller's async context, typically `() => als.getStore()` with an
   * `AsyncLocalStorage`. Its value is copied at once as JSON (later changes do not show, and it
   * keeps nothing alive) and becomes `context` in every report of that resource, its log line and
   * `open()`. If it throws or returns what JSON cannot represent (a BigInt, a cycle), that
   * resource has no context and the registry emits one `LeakRegistryWarning`
   * (`ERR_EPHEMERON_CONTEXT`; once per registry); `track()` never fails because of it. Returning
   * `undefined` means no context. Without this option nothing is called.
   */
  context?: () => unknown
}

/** What `track(resource, info)` records: `type`, `id` and `label` are lifted into reports; all of it must be JSON-serializable. */
export interface LeakInfo {
  /** What the resource is. @default the resource's constructor name */
  type?: string
  /** Your id for the resource. @default the registry's sequence number */
  id?: string | number
  /** A human-readable description (a path, a peer address). */
  label?: string
  /** Overrides the registry's `suspectAfter` for this resource (milliseconds, 0 = never). */
  suspectAfter?: number
  [key: string]: unknown
}

/** Why a report was made. */
export type LeakReportKind =
  /** The GC collected the resource without `release()`. */
  | 'leaked'
  /** Still tracked `suspectAfter` ms after `track()` (once per resource). */
  | 'suspected'
  /** A suspected resource was released after all; `ageMs` is the total time it was held. */
  | 'released'

/** One `touch(resource, hint)` of a resource. */
export interface LeakTouch {
  /** `file:line` of the code that called `touch`. */
  site: string
  /** Epoch milliseconds. */
  at: number
  hint?: string
}

/**
 * One report: what `onLeak` receives, what is published on the `diagnostics_channel`
 * `'ephemeron:leak'`, and the JSON of a log line, with the same fields in the same order. The
 * shape is stable: fields are only ever added. Optional fields are absent (not undefined) when
 * they do not apply. Treat it as read-only: `onLeak` and the channel's subscribers get the same
 * object.
 */
export interface LeakReport {
  kind: LeakReportKind
  type: string
  /** `info.id`, or the registry's sequence number. */
  id: string | number
  /** `info.label`, or null. */
  label: string | null
  /** A snapshot (taken at `track`) of the `info` object, or null. */
  info: LeakInfo | null
  /** The value the registry's `context()` returned at `track` (JSON data), when there was one. */
  context?: unknown
  /**
   * `file:line` of the code that called `track` (the first user frame among the caller and its
   * caller, never Node's or ephemeron's own; `'<unknown>'` if neither is user code), or
   * `'<not sampled>'` when its site was not captured (`sites: 'auto'` above about 1,000 tracks
   * per second: see `LeakRegistryOptions.sites`).
   */
  site: string
  /**
   * Allocation stack of user frames (`    at fn (file:line:column)` lines, as many as
   * `Error.stackTraceLimit` allows: 10 by default), when one was captured.
   */
  stack?: string
  /** Epoch milliseconds of `track`. */
  trackedAt: number
  /** For `'leaked'`: epoch milliseconds when the registry learned of the collection (Node runs finalizers by the next `setImmediate` after GC). */
  collectedAt?: number
  /** How long the resource was held: until collected, until now (`'suspected'`), or until released (`'released'`). */
  ageMs: number
  /**
   * Reports of this kind from this `site` so far, this one included. When sites are sampled, a
   * sampled site counts for the 14 resources it stands for, and `countEstimated` is set: the
   * count is then an unbiased estimate. For `site: '<not sampled>'` it counts those reports.
   */
  count: number
  /** Set (true) when `count` is an estimate (it includes sites captured by sampling). */
  countEstimated?: true
  pid: number
  /** `worker_threads.threadId` of the registry's thread (0 on the main thread). */
  threadId: number
  /** The registry's `name`, when it has one. */
  registry?: string
  /** The first and the most recent `touch()` records, in time order (when it was touched). */
  touches?: LeakTouch[]
  /** Touches recorded but not kept (when it was touched). */
  touchesDropped?: number
}

/** A still-tracked resource, as `open()` lists it. */
export interface OpenResource {
  type: string
  id: string | number
  label: string | null
  /** As `LeakReport.site` (`'<not sampled>'` when its site was not captured). */
  site: string
  /** When its site was captured by sampling: how many resources it stands for (14). */
  siteWeight?: number
  trackedAt: number
  ageMs: number
  /** Whether a `'suspected'` report was made for it. */
  suspected: boolean
  /** The value the registry's `context()` returned at `track`, when there was one. */
  context?: unknown
}

/** Tracking counts: `live` is tracked and neither released nor reported yet. */
export interface LeakCounts {
  tracked: number
  live: number
  released: number
  leaked: number
  /** Resources reported as `'suspected'`. */
  suspected: number
}

/** `stats()`: the counts, also per `type`. */
export interface LeakStats extends LeakCounts {
  byType: Record<string, LeakCounts>
  /** Reports the log could not write (queue full or write errors). */
  logDropped: number
}

/**
 * Production leak detection: track resources and release them. One that the GC collects
 * unreleased is reported as `'leaked'`, with what it was, where it was tracked from and how long
 * it lived; one still held after `suspectAfter` is reported as `'suspected'` (what the GC cannot
 * see: open sockets, checked-out pool clients). Resources still alive at process exit or worker
 * termination are never reported.
 *
 * A registry that tracks resources stays alive by itself (it has their leaks to report); one that
 * tracks nothing and that nothing references is collected and freed. `close()` (or
 * `Symbol.dispose`) stops it explicitly; afterwards every method but `stats()` throws an Error
 * with code `ERR_EPHEMERON_CLOSED`.
 *
 * @example
 * const leaks = new LeakRegistry({ log: '/var/log/app/leaks.jsonl', suspectAfter: 30_000 })
 * const socket = leaks.track(connect(), { type: 'Socket', label: host })
 * socket.on('close', () => leaks.release(socket))
 */
export declare class LeakRegistry {
  /**
   * @throws {TypeError} if an option has the wrong type or value.
   * @throws {RangeError} if `sampleRate` is outside [0, 1], `suspectAfter` is negative or not
   *   finite, or `maxTouches` is not an integer from 0 to 1000.
   * @throws {Error} with code `ERR_EPHEMERON_LOG` if the log cannot be opened.
   */
  constructor(options?: LeakRegistryOptions)
  /**
   * Tracks `resource` until `release(resource)` and returns it. `info` is copied (as JSON) now.
   * Tracking a resource again keeps its first record.
   * @throws {TypeError} if `resource` is not an object or a function, or `info` is not a
   *   JSON-serializable object with a string `type`.
   */
  track<T extends object>(resource: T, info?: LeakInfo): T
  /** Stops tracking `resource`: true the first time, false if it is not tracked. */
  release(resource: unknown): boolean
  /**
   * Records an access to a tracked resource: the caller's `file:line`, the time and `hint`.
   * Reports carry the first record and the most recent ones (`maxTouches` in all) and count the
   * rest. An untracked object is returned untouched.
   * @throws {TypeError} if `resource` is not an object or a function, or `hint` is not a string.
   */
  touch<T extends object>(resource: T, hint?: string): T
  /** Whether `resource` is tracked and not released. */
  isTracked(resource: unknown): boolean
  /** The still-tracked resources, oldest first. */
  open(): OpenResource[]
  /** Counts of this registry; still readable after `close()`. */
  stats(): LeakStats
  /**
   * Counts of every registry in the process, worker threads included. This thread's registries
   * are exact; another thread's are as of its last replay (within about a second while its event
   * loop runs).
   */
  static processStats(): LeakCounts
  /**
   * Opens a file with `fs.promises.open` and returns a *guarded* FileHandle, tracked (type
   * `'FileHandle'`, `id` and `info.fd` the descriptor, `label` and `info.path` the path) until it
   * is closed. Use it exactly like a FileHandle (it is one: methods, `fs.promises.readFile(handle)`,
   * streams, `readLines()`, `await using`). If it is collected unclosed, it is reported with the
   * line that called `openFile`, and the registry closes the file itself, so Node never closes it
   * during GC (on Node >= 25 that would end the process with ERR_INVALID_STATE).
   */
  openFile(path: import('node:fs').PathLike, flags?: string | number, mode?: string | number): Promise<import('node:fs/promises').FileHandle>
  /**
   * Tracks a FileHandle opened elsewhere (as `openFile` does) and returns the guarded handle:
   * use the returned handle from now on and do not keep the original (the registry keeps it; if
   * only the original were used, the guarded one would be collected, reported and closed under it).
   * @throws {TypeError} if `fileHandle` is not a FileHandle.
   * @throws {Error} with code `ERR_EPHEMERON_FILE_HANDLE_CLOSED` if it is already closed.
   */
  trackFileHandle<T extends import('node:fs/promises').FileHandle>(fileHandle: T, path?: import('node:fs').PathLike): T
  /**
   * Reopens the log file at its path, for every registry of the process that logs there: call it
   * after log rotation moved or deleted the file (on SIGHUP, say). A no-op for `'stderr'`.
   * @throws {Error} with code `ERR_EPHEMERON_LOG` if the file cannot be opened.
   */
  reopenLog(): void
  /**
   * Stops tracking everything and writes out the log (waits up to 2 s for the writer). Leaks the
   * GC already collected are reported, not dropped: those the registry has seen are in the log
   * when `close()` returns, and `onLeak` receives them on the next turn of the event loop; if the
   * GC ran since the registry last heard from it, it keeps listening until those collections'
   * callbacks have come (at most 100 ms). Resources collected later are not reported, with one
   * exception: V8 hands over a registry's finalization callbacks in batches, so a resource tracked
   * with `track()` that a second collection takes during that wait can arrive in the same batch as
   * those, and is then reported with them. Idempotent. Guarded FileHandles stay guarded: one
   * forgotten later is still closed, without a report.
   */
  close(): void
  /** Same as `close()`. */
  [Symbol.dispose](): void
  /** Whether `close()` was called. */
  readonly closed: boolean
  readonly [Symbol.toStringTag]: 'LeakRegistry'
}

/** Events and their argument lists, as for Node's `EventEmitter<T>`: `{ price: [symbol: string, price: number] }`. */
export type WeakEventMap = Record<string | symbol, any[]>

/** What `listener` is, for an event of `Events`. */
export type WeakEventListener<Events extends WeakEventMap, E extends keyof Events, This> = (this: This, ...args: Events[E]) => void

/** Options of a WeakEventEmitter. */
export interface WeakEventEmitterOptions {
  /**
   * The leak signal: called on the event loop, in batches, with the number of owners the GC
   * collected while they still had listeners (they never called `off()` for them). With
   * EventEmitter those subscribers would have leaked. A callback that throws is reported as a
   * process warning (code `ERR_EPHEMERON_ON_COLLECT`).
   */
  onCollect?: (count: number) => void
}

/**
 * An event emitter whose listeners live exactly as long as their owners.
 *
 * Every subscription names an owner, an object (a widget, a connection, a request): the listener
 * stays subscribed while the owner is alive and goes with it, so a subscriber that forgets
 * `off()` does not leak (with `EventEmitter` it would, and `MaxListenersExceededWarning` is the
 * familiar symptom). Listeners are held through the owner, as the value of an ephemeron:
 * a listener that references its owner keeps neither alive, and an anonymous listener (an arrow
 * function, a bound method) lives as long as its owner, never less.
 *
 * Otherwise it behaves as `EventEmitter`: listeners run synchronously in subscription order
 * (across owners), with the emitter as `this`; an emit uses the listeners as they were when it
 * started (listeners added during it run from the next emit, listeners removed during it still
 * run in it); a listener that throws stops the emit and the error propagates; `'error'` with no
 * listener throws the error (or an `Error` with code `ERR_UNHANDLED_ERROR` for a value that is
 * not an Error). A collected owner's listeners never run again; an emit keeps the owners of the
 * listeners it walks alive until it returns.
 *
 * Errors carry a `code`: `ERR_INVALID_ARG_TYPE` (an event that is not a string or a symbol, an
 * owner that is not an object or a function, a listener that is not a function, bad options).
 *
 * @example
 * const feed = new WeakEventEmitter<{ price: [symbol: string, price: number] }>()
 * class Widget {
 *   constructor(symbol: string) {
 *     // No off() needed: the subscription goes when the widget is collected.
 *     feed.on('price', this, (s, price) => { if (s === symbol) this.render(price) })
 *   }
 *   render(price: number) {}
 * }
 */
export declare class WeakEventEmitter<Events extends WeakEventMap = WeakEventMap> {
  /** @throws {TypeError} `ERR_INVALID_ARG_TYPE` if `options` is not an object or `onCollect` not a function. */
  constructor(options?: WeakEventEmitterOptions)
  /**
   * Subscribes `listener` to `event` for as long as `owner` lives (or until `off()`), and returns
   * the emitter. The same listener may be subscribed several times; each runs.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` if `event` is not a string or a symbol, `owner` is
   *   not an object or a function, or `listener` is not a function.
   */
  on<E extends keyof Events & (string | symbol)>(event: E, owner: object, listener: WeakEventListener<Events, E, this>): this
  /** As `on()`, but the listener is removed before its first call. */
  once<E extends keyof Events & (string | symbol)>(event: E, owner: object, listener: WeakEventListener<Events, E, this>): this
  /**
   * Unsubscribes: with `listener`, the owner's most recent subscription of that listener to
   * `event`; without it, all of the owner's listeners for `event`. Returns the emitter. Other
   * owners and other events are untouched; nothing subscribed is a no-op.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` if `event` is not a string or a symbol, `owner` is
   *   not an object or a function, or `listener` is given and is not a function.
   */
  off<E extends keyof Events & (string | symbol)>(event: E, owner: object, listener?: WeakEventListener<Events, E, this>): this
  /**
   * Calls the listeners of live owners for `event`, in subscription order, with `args`; returns
   * whether a listener ran.
   * @throws whatever a listener throws; for `'error'` with no listener, the error itself, or an
   *   `Error` with code `ERR_UNHANDLED_ERROR` (and the value as `context`) if it is not an Error.
   */
  emit<E extends keyof Events & (string | symbol)>(event: E, ...args: Events[E]): boolean
  /**
   * How many listeners of live owners `event` has.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` if `event` is not a string or a symbol.
   */
  listenerCount(event: keyof Events & (string | symbol)): number
  /** The events that have listeners of live owners. */
  eventNames(): Array<keyof Events & (string | symbol)>
  /**
   * The live owners of `event`'s listeners, each once, in the order of their first subscription.
   * The iterator holds no owner it has not yielded yet; owners that subscribe later are visited,
   * owners that unsubscribe or are collected first are not.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` if `event` is not a string or a symbol.
   */
  owners(event: keyof Events & (string | symbol)): WeakEventOwnersIterator
  /**
   * The leak signal as a count: owners the GC collected while they still had listeners (they
   * never called `off()` for them), since the emitter was made. Owners collected after
   * unsubscribing from everything do not count.
   */
  readonly collectedOwners: number
  readonly [Symbol.toStringTag]: 'WeakEventEmitter'
}

/** The iterator `WeakEventEmitter.prototype.owners()` returns. */
export interface WeakEventOwnersIterator extends IterableIterator<object> {
  readonly [Symbol.toStringTag]: 'WeakEventEmitter Owners Iterator'
}
