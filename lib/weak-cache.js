'use strict'
// WeakCache: lru-cache 11's API and semantics, whose `max` most recent entries are pinned and
// whose object values, once pushed out, stay reachable through the cache while anything else
// holds them (the weak tier).
//
// The policy (order, bounds, demotion, staleness, collection, stats) lives in Rust. This class
// holds the keys (`#index`: key -> slot, `#keys` by slot), the pinned values (`#values` by slot:
// holding them is what pins them) and the fetches in flight (`#fetches` by slot), so a pinned hit
// never leaves JS; it also holds what lru-cache's semantics add around the policy: options, status
// objects, diagnostics_channel messages, the order of the callbacks. The protocol between the two
// sides (who holds what, the shared buffers, the sequence of every operation) is defined once, in
// src/core/cache_protocol.rs; every number used here comes from the native side at load.

const { Array, ArrayBuffer, Error, Float64Array, Int32Array, Map, Math, Object, Reflect, Symbol, WeakRef } = require('./primordials.js')
const { incompatibleReceiver, invalidType, invalidValue, makeError, warn } = require('./errors.js')
const { CacheNative, IO, FACTS, STATUS, FLAG, CAUSE, LOOKED, REASONS, protocol } = require('./weak-cache-native.js')
const { environment, resolutionOf, TtlClock } = require('./weak-cache-clock.js')
const { metrics, tracing, anyoneListens } = require('./weak-cache-channels.js')
const { Disposal } = require('./weak-cache-disposal.js')
const { BackgroundFetch } = require('./weak-cache-fetch.js')
const options = require('./weak-cache-options.js')

const { configure, callOptions, ttlOption, callTtlOption, flagOption, backgroundFetchSizeOption, isPositiveInteger, warnIfUnbounded } = options
const { apply } = Reflect
const { floor } = Math
const weakRefDeref = WeakRef.prototype.deref
const NO_REMOVALS = Object.freeze([])
const { stride: STRIDE, start: START, ttl: TTL, size: SIZE } = FACTS
const noop = () => {}

let indexOf // (cache, method) => its index; throws a clear TypeError on a foreign receiver
let deliverCollected // (cache, slots) => reports collected entries to dispose
let injectPanic // (cache) => makes the native side panic in the middle of an update (specs only)
let optionsOf // (cache, name) => its mutable options, after the receiver check for `name`

/** A flag lru-cache exposes as a field: kept as given, read as truthy or not. */
const asGiven = (value) => value

/** The options lru-cache lets its users change on a cache, with how each is read. */
const MUTABLE = {
  ttl: (value) => ttlOption(value, 'ttl'),
  ttlResolution: resolutionOf,
  ttlAutopurge: asGiven,
  updateAgeOnGet: asGiven,
  updateAgeOnHas: asGiven,
  allowStale: asGiven,
  noDisposeOnSet: asGiven,
  noUpdateTTL: asGiven,
  noDeleteOnFetchRejection: asGiven,
  noDeleteOnStaleGet: asGiven,
  allowStaleOnFetchRejection: asGiven,
  allowStaleOnFetchAbort: asGiven,
  ignoreFetchAbort: asGiven,
  maxEntrySize: (value) => {
    if (!value) return 0
    if (isPositiveInteger(value)) return value
    throw invalidValue('WeakCache: maxEntrySize', 'a positive integer, or 0 for none', value)
  },
  sizeCalculation: (value) => {
    if (!value) return undefined
    if (typeof value === 'function') return value
    throw invalidType('WeakCache: sizeCalculation', 'a function (sizeCalculation must be a function)', value)
  },
  backgroundFetchSize: backgroundFetchSizeOption,
}

class WeakCache {
  /** key -> slot, for every entry JS has not seen leave (pinned, weak, collected but unnoticed);
   * null once the native side reported the cache broken. */
  #index = new Map()
  /** slot -> key (kept for a collected entry until its 'collect' is delivered). */
  #keys = []
  /** slot -> the value of a pinned entry; undefined for every other slot. */
  #values = []
  /** slot -> the fetch in flight that holds the entry (only in a cache with a fetchMethod). */
  #fetches = null
  /** slot -> its ttlAutopurge timer. */
  #purgeTimers = null
  /** Int32 view of the io buffer shared with Rust: the reply and the read log. */
  #io
  /** Float64 view of the io buffer: the calculated size. */
  #calculated
  /** Float64 by slot (start, ttl, size), written by Rust; null until ttls or sizes are in use. */
  #facts = null
  /** Whether the clock has started (the first ttl). */
  #timed = false
  /** slot -> when its age last restarted (NaN: never), for the entries of a cache without `max`
   * that were there before the clock started and have had no ttl since: lru-cache's `dump()` shows
   * them with no ttl, and a start only once their age restarted (see #startClock). */
  #untimed = null
  /** The last time an age restarted at (see #restartTime). */
  #restartedAt = 0
  /** Whether a new key's set may skip ttls, sizes and fetches (#addPlain): no clock, no sizes, no
   * fetchMethod. */
  #plainAdds = false
  /** Whether a get may skip staleness and fetches (#weakHit): no clock, no fetchMethod. */
  #plainGets = false
  #native
  #clock
  /** The `Date`, `setTimeout` and `clearTimeout` of the environment when the cache was made. */
  #environment
  #max
  #maxSize
  /** `max` as given (lru-cache's getter shows it so, -0 included). */
  #shownMax
  #tracksSizes
  #weak
  #disposal
  /** Whether `disposeAfter` is set (its queue needs flushing). */
  #hasDisposeAfter
  /** Whether removals are told to anyone (a dispose, a disposeAfter, or fetches to abort): if not,
   * an eviction only forgets its entry. */
  #reportsRemovals = false
  #onInsert
  #fetchMethod
  #memoMethod
  #fetchHooks
  #perf
  /** The options lru-cache exposes as writable fields (see MUTABLE). */
  #options

  static {
    indexOf = (cache, method) => {
      let index
      try {
        index = cache.#index
      } catch {
        throw incompatibleReceiver(`WeakCache.prototype.${method}`, cache)
      }
      if (index === null) throw brokenError(method)
      return index
    }
    deliverCollected = (cache, slots) => cache.#deliverCollected(slots)
    injectPanic = (cache) => cache.#native.injectPanic()
    optionsOf = (cache, name) => {
      indexOf(cache, name)
      return cache.#options
    }
  }

  /**
   * @param {object} options lru-cache 11's options, plus `weak`; or a WeakCache, to make an empty
   *   cache with the same options.
   */
  constructor(options) {
    const config = configure(isWeakCache(options) ? options.#config() : options)
    const env = environment(config.perf)
    this.#environment = env
    this.#perf = env.perf
    this.#clock = new TtlClock(this.#perf, env.setTimeout)
    this.#max = config.max
    this.#maxSize = config.maxSize
    this.#shownMax = config.shownMax
    this.#tracksSizes = config.maxEntrySize > 0
    this.#weak = config.weak
    this.#onInsert = config.onInsert
    this.#fetchMethod = config.fetchMethod
    this.#memoMethod = config.memoMethod
    const disposal = new Disposal(this, config.dispose, config.disposeAfter)
    this.#disposal = disposal
    this.#hasDisposeAfter = config.disposeAfter !== undefined
    this.#options = {}
    for (const name of Object.keys(MUTABLE)) this.#options[name] = config[name]
    if (config.fetchMethod !== undefined) {
      this.#fetches = []
      this.#fetchHooks = {
        held: (fetch) => this.#fetches?.[fetch.slot] === fetch,
        slotFree: (fetch) => this.#index !== null && this.#index.get(this.#keys[fetch.slot]) !== fetch.slot,
        store: (fetch, value) => this.#set(fetch.key, value, fetch.options, fetch.options.status, fetch),
        restore: (fetch) => this.#restoreStale(fetch),
        drop: (fetch) => this.#deleteFor(fetch.key, CAUSE.fetch),
      }
    }
    const buffer = new ArrayBuffer(IO.bytes)
    this.#io = new Int32Array(buffer)
    this.#calculated = new Float64Array(buffer, IO.calculated * 8, 1)
    const flags = (this.#tracksSizes ? FLAG.trackSizes : 0) | (config.weak ? FLAG.weak : 0)
    this.#native = new CacheNative(buffer, config.max ?? -1, config.maxSize, flags, collectedSlotsHandler(new WeakRef(this)), () => {
      this.#index = null
    })
    if (this.#tracksSizes) this.#facts = new Float64Array(this.#native.facts(0))
    this.#plainAdds = !this.#tracksSizes && this.#fetches === null
    this.#reportsRemovals = disposal.listening || this.#fetches !== null
    this.#plainGets = this.#fetches === null
    if (config.ttl > 0) this.#startClock()
    warnIfUnbounded(config, WeakCache)
  }

  /** The options this cache was made with, as `new WeakCache(cache)` reads them. */
  #config() {
    return {
      ...this.#options,
      max: this.#max ?? undefined,
      maxSize: this.#maxSize || undefined,
      maxEntrySize: this.#options.maxEntrySize || undefined,
      dispose: this.#disposal.dispose,
      disposeAfter: this.#disposal.disposeAfter,
      onInsert: this.#onInsert,
      fetchMethod: this.#fetchMethod,
      memoMethod: this.#memoMethod,
      perf: this.#perf,
      weak: this.#weak,
    }
  }

  /** The most pinned entries (0 for no count limit, as in lru-cache, or for a pure weak map). */
  get max() {
    indexOf(this, 'max')
    return this.#shownMax
  }

  /** The most total size of the pinned entries (0: none). */
  get maxSize() {
    indexOf(this, 'maxSize')
    return this.#maxSize
  }

  /** The total size of the pinned entries. */
  get calculatedSize() {
    indexOf(this, 'calculatedSize')
    return this.#calculated[0]
  }

  /** Pinned entries plus weak entries whose collection has not been noticed or delivered yet. */
  get size() {
    return indexOf(this, 'size').size
  }

  /** Whether object values pushed out of the pinned tier are demoted to the weak tier. */
  get weak() {
    indexOf(this, 'weak')
    return this.#weak
  }

  get perf() {
    indexOf(this, 'perf')
    return this.#perf
  }

  get fetchMethod() {
    indexOf(this, 'fetchMethod')
    return this.#fetchMethod
  }

  get memoMethod() {
    indexOf(this, 'memoMethod')
    return this.#memoMethod
  }

  get dispose() {
    indexOf(this, 'dispose')
    return this.#disposal.dispose
  }

  get disposeAfter() {
    indexOf(this, 'disposeAfter')
    return this.#disposal.disposeAfter
  }

  get onInsert() {
    indexOf(this, 'onInsert')
    return this.#onInsert
  }

  get(key, options = undefined) {
    const index = indexOf(this, 'get')
    if (options === undefined && !metrics.hasSubscribers) {
      const slot = index.get(key)
      if (slot === undefined) {
        this.#logMiss()
        return undefined
      }
      const value = this.#values[slot]
      if (value !== undefined && !this.#timed) {
        this.#logRead(slot)
        return value
      }
      if (this.#plainGets) return this.#weakHit(slot)
      const o = this.#options
      return this.#getAt(slot, key, o.allowStale, o.updateAgeOnGet, o.noDeleteOnStaleGet, undefined)
    }
    let status
    let { allowStale, updateAgeOnGet, noDeleteOnStaleGet } = this.#options
    options = callOptions(options, 'get')
    if (options !== undefined) {
      status = statusOption(options.status, 'get')
      allowStale = flagOption(options.allowStale, allowStale)
      updateAgeOnGet = flagOption(options.updateAgeOnGet, updateAgeOnGet)
      noDeleteOnStaleGet = flagOption(options.noDeleteOnStaleGet, noDeleteOnStaleGet)
    }
    if (status === undefined && metrics.hasSubscribers) status = {}
    if (status) {
      status.op = 'get'
      status.key = key
      status.cache = this
    }
    const result = this.#get(key, allowStale, updateAgeOnGet, noDeleteOnStaleGet, status)
    if (status) {
      if (result !== undefined) status.value = result
      if (metrics.hasSubscribers) metrics.publish(status)
    }
    return result
  }

  peek(key, options = undefined) {
    const index = indexOf(this, 'peek')
    let status
    let { allowStale } = this.#options
    options = callOptions(options, 'peek')
    if (options !== undefined) {
      status = statusOption(options.status, 'peek')
      allowStale = flagOption(options.allowStale, allowStale)
    }
    if (status === undefined && anyoneListens()) status = {}
    if (status) {
      status.op = 'peek'
      status.key = key
      status.cache = this
    }
    const result = this.#peek(index, key, allowStale, status)
    if (metrics.hasSubscribers) metrics.publish(status)
    return result
  }

  has(key, options = undefined) {
    const index = indexOf(this, 'has')
    let status
    let { updateAgeOnHas } = this.#options
    options = callOptions(options, 'has')
    if (options !== undefined) {
      status = statusOption(options.status, 'has')
      updateAgeOnHas = flagOption(options.updateAgeOnHas, updateAgeOnHas)
    }
    if (status === undefined && metrics.hasSubscribers) status = {}
    if (status) {
      status.op = 'has'
      status.key = key
      status.cache = this
    }
    const result = this.#has(index, key, updateAgeOnHas, status)
    if (metrics.hasSubscribers) metrics.publish(status)
    return result
  }

  set(key, value, options = undefined) {
    const index = indexOf(this, 'set')
    if (options === undefined && value !== undefined && this.#plainAdds && this.#options.ttl === 0 && !metrics.hasSubscribers && index.get(key) === undefined) {
      this.#addPlain(key, value)
      return this
    }
    let status
    options = callOptions(options, 'set')
    if (options !== undefined) status = statusOption(options.status, 'set')
    if (status === undefined && metrics.hasSubscribers) status = {}
    if (status) {
      status.op = 'set'
      status.key = key
      if (value !== undefined) status.value = value
      status.cache = this
    }
    this.#set(key, value, options, status)
    if (status && metrics.hasSubscribers) metrics.publish(status)
    return this
  }

  delete(key) {
    indexOf(this, 'delete')
    return this.#deleteFor(key, CAUSE.delete)
  }

  clear() {
    indexOf(this, 'clear')
    // Every entry, least recent first ([slot, a weak entry's value, ...]); entries found collected
    // stay in #keys until their 'collect' is delivered.
    const removed = this.#native.clear()
    const keys = this.#keys
    const records = []
    for (let i = 0; i < removed.length; i += 2) {
      const slot = removed[i]
      records.push(this.#values[slot] ?? removed[i + 1], keys[slot], CAUSE.delete, this.#fetches?.[slot])
      keys[slot] = undefined
      this.#values[slot] = undefined
      if (this.#fetches !== null) this.#fetches[slot] = undefined
    }
    this.#clearPurgeTimers()
    this.#index = new Map()
    this.#report(records)
    this.#flush()
  }

  /** Evicts the least recent entry and returns its value (undefined when the cache is empty). */
  pop() {
    indexOf(this, 'pop')
    try {
      for (;;) {
        const popped = this.#native.pop()
        if (popped === undefined) return undefined
        const slot = popped[0]
        const fetch = this.#fetches?.[slot]
        const value = this.#values[slot] ?? popped[1]
        const key = this.#forget(slot, false)
        this.#report1(value, key, CAUSE.evict, fetch, 'evicted')
        if (fetch === undefined) return value
        if (fetch.stale !== undefined) return fetch.stale
        // A fetch without a value: pop the next entry, as lru-cache does.
      }
    } finally {
      this.#flush()
    }
  }

  /** Removes every stale entry; returns whether there was any. */
  purgeStale() {
    indexOf(this, 'purgeStale')
    if (!this.#timed) return false
    const removed = this.#native.purge(this.#anyTtl() ? this.#now() : 0)
    const records = []
    for (let i = 0; i < removed.length; i += 2) {
      const slot = removed[i]
      const value = this.#values[slot] ?? removed[i + 1]
      const fetch = this.#fetches?.[slot]
      records.push(value, this.#forget(slot, false), CAUSE.expire, fetch)
    }
    for (let i = 0; i < records.length; i += 4) {
      if (metrics.hasSubscribers) metrics.publish({ op: 'delete', delete: 'expire', key: records[i + 1], cache: this })
      this.#report1(records[i], records[i + 1], CAUSE.expire, records[i + 3], 'deleted')
      this.#flush()
    }
    return records.length > 0
  }

  /** Milliseconds until the entry is stale (negative: past); Infinity without a ttl; 0 if absent. */
  getRemainingTTL(key) {
    const index = indexOf(this, 'getRemainingTTL')
    const slot = index.get(key)
    if (slot === undefined) return 0
    if (this.#values[slot] === undefined && this.#fetches?.[slot] === undefined) {
      // A weak entry: only if its value is still there.
      if (this.#lookupWeak(slot, true) === undefined) return 0
    }
    return this.#remainingTTL(slot)
  }

  /** lru-cache's getRemainingTTL of an entry: Infinity without a ttl or a start. */
  #remainingTTL(slot) {
    if (!this.#timed) return Infinity
    const ttl = this.#facts[slot * STRIDE + TTL]
    const start = this.#facts[slot * STRIDE + START]
    if (ttl === 0 || !start) return Infinity
    return ttl - (this.#now() - start)
  }

  /** An entry's value, and its ttl left and size: `{ value, ttl?, start?, size? }`, stale or not. */
  info(key) {
    const index = indexOf(this, 'info')
    const slot = index.get(key)
    if (slot === undefined) return undefined
    const value = this.#valueAt(slot)
    if (value === undefined) return undefined
    const entry = { value }
    if (this.#timed) {
      const ttl = this.#facts[slot * STRIDE + TTL]
      const start = this.#facts[slot * STRIDE + START]
      if (ttl !== 0 && start) {
        entry.ttl = ttl - (this.#clock.fresh() - start)
        entry.start = this.#environment.Date.now()
      }
    }
    if (this.#tracksSizes) entry.size = this.#facts[slot * STRIDE + SIZE]
    return entry
  }

  /** Every entry as `[key, { value, ttl?, start?, size? }]`, least recent first, for `load`. */
  dump() {
    indexOf(this, 'dump')
    const entries = []
    for (const slot of this.#native.order(FLAG.allowStale | FLAG.reverse, 0)) {
      const key = this.#keys[slot]
      const value = this.#valueAt(slot)
      // lru-cache's dump leaves out the entry of the key undefined.
      if (value === undefined || key === undefined) continue
      const entry = { value }
      if (this.#timed) {
        // A start in `Date.now()` time, which survives a process (as lru-cache's dump).
        const untimed = this.#untimed?.get(slot)
        entry.ttl = untimed === undefined ? this.#facts[slot * STRIDE + TTL] : undefined
        const age = this.#clock.fresh() - (untimed ?? this.#facts[slot * STRIDE + START])
        entry.start = floor(this.#environment.Date.now() - age)
      }
      if (this.#tracksSizes) entry.size = this.#facts[slot * STRIDE + SIZE]
      entries.push([key, entry])
    }
    return entries
  }

  /** Clears the cache and sets the entries of a `dump()`, in order. */
  load(entries) {
    indexOf(this, 'load')
    if (entries === null || typeof entries !== 'object' || typeof entries[Symbol.iterator] !== 'function') {
      throw invalidType('WeakCache.prototype.load: entries', 'an array of [key, { value, ttl?, start?, size? }], as dump() returns', entries)
    }
    this.clear()
    for (const pair of entries) {
      const [key, entry] = pair
      if (entry === null || typeof entry !== 'object') throw invalidType('WeakCache.prototype.load: an entry', 'an object { value, ttl?, start?, size? }', entry)
      let start = entry.start
      if (start) start = this.#clock.fresh() - (this.#environment.Date.now() - start)
      this.#set(key, entry.value, { ttl: entry.ttl, start, size: entry.size }, undefined)
    }
  }

  /** The value of the first entry (most recent first) for which `fn(value, key, cache)` is truthy,
   * looked up as `get(key, options)` does. */
  find(fn, options = undefined) {
    const index = indexOf(this, 'find')
    if (typeof fn !== 'function') throw invalidType('WeakCache.prototype.find: callback', 'a function', fn)
    const o = this.#options
    let { allowStale, updateAgeOnGet, noDeleteOnStaleGet } = o
    let status
    options = callOptions(options, 'find')
    if (options !== undefined) {
      status = statusOption(options.status, 'find')
      allowStale = flagOption(options.allowStale, allowStale)
      updateAgeOnGet = flagOption(options.updateAgeOnGet, updateAgeOnGet)
      noDeleteOnStaleGet = flagOption(options.noDeleteOnStaleGet, noDeleteOnStaleGet)
    }
    for (const [key, value] of this.#walk(false, o.allowStale, true, index)) {
      if (fn(value, key, this)) return this.#get(key, allowStale, updateAgeOnGet, noDeleteOnStaleGet, status)
    }
    return undefined
  }

  /** Counters since construction, and the current size of each tier. */
  stats() {
    indexOf(this, 'stats')
    return this.#native.stats()
  }

  entries() {
    const index = indexOf(this, 'entries')
    return this.#entries(ENTRIES, false, index)
  }

  keys() {
    const index = indexOf(this, 'keys')
    return this.#entries(KEYS, false, index)
  }

  values() {
    const index = indexOf(this, 'values')
    return this.#entries(VALUES, false, index)
  }

  /** entries(), least recent first. */
  rentries() {
    const index = indexOf(this, 'rentries')
    return this.#entries(ENTRIES, true, index)
  }

  /** keys(), least recent first. */
  rkeys() {
    const index = indexOf(this, 'rkeys')
    return this.#entries(KEYS, true, index)
  }

  /** values(), least recent first. */
  rvalues() {
    const index = indexOf(this, 'rvalues')
    return this.#entries(VALUES, true, index)
  }

  forEach(callbackfn, thisArg = this) {
    const index = indexOf(this, 'forEach')
    this.#forEach(callbackfn, thisArg, false, index, 'forEach')
  }

  /** forEach(), least recent first. */
  rforEach(callbackfn, thisArg = this) {
    const index = indexOf(this, 'rforEach')
    this.#forEach(callbackfn, thisArg, true, index, 'rforEach')
  }

  /**
   * The value of `key`: a fresh entry's value at once; otherwise `fetchMethod(key, staleValue, {
   * signal, options, context })` loads it (one call at a time per key: concurrent fetches share
   * it), and the cache stores what it resolves to.
   */
  fetch(key, options = undefined) {
    indexOf(this, 'fetch')
    options = callOptions(options, 'fetch')
    const status = this.#fetchStatus(options, 'fetch')
    const traced = tracing.hasSubscribers === true
    const promise = this.#fetch(key, options, status)
    return traced ? this.#trace(promise, status) : promise
  }

  /** fetch(), but a result of undefined rejects. */
  forceFetch(key, options = undefined) {
    indexOf(this, 'forceFetch')
    options = callOptions(options, 'forceFetch')
    const status = this.#fetchStatus(options, 'forceFetch')
    const traced = tracing.hasSubscribers === true
    const promise = this.#forceFetch(key, options, status)
    return traced ? this.#trace(promise, status) : promise
  }

  /** get(key), or else `memoMethod(key, staleValue, { options, context })`, stored and returned. */
  memo(key, options = undefined) {
    indexOf(this, 'memo')
    let status
    options = callOptions(options, 'memo')
    if (options !== undefined) status = statusOption(options.status, 'memo')
    if (status === undefined && metrics.hasSubscribers) status = {}
    if (status) {
      status.op = 'memo'
      status.key = key
      if (options?.context) status.context = options.context
      status.cache = this
    }
    const result = this.#memo(key, options, status)
    if (status) status.value = result
    if (metrics.hasSubscribers) metrics.publish(status)
    return result
  }

  #memo(key, memoOptions, status) {
    const memoMethod = this.#memoMethod
    if (memoMethod === undefined) {
      throw makeError('ERR_EPHEMERON_NO_MEMO_METHOD', 'WeakCache.prototype.memo: the cache has no memoMethod (no memoMethod provided to constructor)')
    }
    // `rest` is what memoMethod gets as `options`: the call's options but these three.
    const { context, status: _status, forceRefresh: _forceRefresh, ...rest } = memoOptions ?? NO_OPTIONS
    const forceRefresh = !!memoOptions?.forceRefresh
    if (status && forceRefresh) status.forceRefresh = true
    const o = this.#options
    const allowStale = flagOption(rest.allowStale, o.allowStale)
    const updateAgeOnGet = flagOption(rest.updateAgeOnGet, o.updateAgeOnGet)
    const noDeleteOnStaleGet = flagOption(rest.noDeleteOnStaleGet, o.noDeleteOnStaleGet)
    const value = this.#get(key, allowStale, updateAgeOnGet, noDeleteOnStaleGet, undefined)
    const refresh = forceRefresh || value === undefined
    if (status) {
      status.memo = refresh ? 'miss' : 'hit'
      if (!refresh) status.value = value
    }
    if (!refresh) return value
    const computed = memoMethod(key, value, { options: rest, context })
    if (status) status.value = computed
    this.#set(key, computed, rest, undefined)
    return computed
  }

  #fetchStatus(options, method) {
    let status
    if (options !== undefined) status = statusOption(options.status, method)
    if (status === undefined && anyoneListens()) status = {}
    if (status && options?.context) status.context = options.context
    return status
  }

  #trace(promise, status) {
    if (status) {
      status.trace = true
      tracing.tracePromise(() => promise, status).catch(noop)
    }
    return promise
  }

  async #forceFetch(key, options, status) {
    const value = await this.#fetch(key, options, status)
    if (value === undefined) throw makeError('ERR_EPHEMERON_FETCH_UNDEFINED', 'WeakCache.prototype.forceFetch: fetch() returned undefined')
    return value
  }

  async #fetch(key, fetchOptions, status) {
    const o = this.#options
    const given = fetchOptions ?? NO_OPTIONS
    const pick = (name) => flagOption(given[name], o[name])
    const forceRefresh = !!given.forceRefresh
    const updateAgeOnGet = pick('updateAgeOnGet')
    if (status) {
      status.op = 'fetch'
      status.key = key
      if (forceRefresh) status.forceRefresh = true
      status.cache = this
    }
    if (this.#fetchMethod !== undefined && !forceRefresh) {
      // A fresh pinned value: a hit, answered before anything for a load is made.
      const slot = this.#index.get(key)
      const pinned = slot === undefined ? undefined : this.#values[slot]
      if (pinned !== undefined && (!this.#timed || (!updateAgeOnGet && this.#freshInJs(slot, this.#nowFor(slot))))) {
        this.#logRead(slot)
        if (status) {
          status.fetch = 'hit'
          this.#statusTTL(status, slot)
        }
        return pinned
      }
    }
    const allowStale = pick('allowStale')
    const noDeleteOnStaleGet = pick('noDeleteOnStaleGet')
    if (this.#fetchMethod === undefined) {
      if (status) status.fetch = 'get'
      return this.#get(key, allowStale, updateAgeOnGet, noDeleteOnStaleGet, status)
    }
    // What fetchMethod gets as `options`, and what its result is stored with.
    const options = {
      allowStale,
      updateAgeOnGet,
      noDeleteOnStaleGet,
      ttl: given.ttl === undefined ? o.ttl : given.ttl,
      noDisposeOnSet: pick('noDisposeOnSet'),
      size: given.size === undefined ? 0 : given.size,
      sizeCalculation: given.sizeCalculation === undefined ? o.sizeCalculation : given.sizeCalculation,
      noUpdateTTL: pick('noUpdateTTL'),
      noDeleteOnFetchRejection: pick('noDeleteOnFetchRejection'),
      allowStaleOnFetchRejection: pick('allowStaleOnFetchRejection'),
      allowStaleOnFetchAbort: pick('allowStaleOnFetchAbort'),
      ignoreFetchAbort: pick('ignoreFetchAbort'),
      status,
      signal: given.signal,
    }
    const { context } = given
    const index = indexOf(this, 'fetch')
    let slot = index.get(key)
    if (slot !== undefined) {
      const inFlight = this.#fetches[slot]
      if (inFlight !== undefined) {
        this.#logRead(LOOKED.hit) // joins the load in flight: no load of its own
        const stale = allowStale && inFlight.stale !== undefined
        if (status) {
          status.fetch = 'inflight'
          if (stale) status.returnedStale = true
        }
        return stale ? inFlight.stale : awaited(inFlight)
      }
      const found = this.#lookupForFetch(slot, updateAgeOnGet, forceRefresh)
      if (found === COLLECTED_ENTRY) {
        slot = undefined
      } else if (!forceRefresh && !found.stale) {
        if (status) {
          status.fetch = 'hit'
          this.#statusTTL(status, slot)
        }
        return found.value
      } else {
        // A stale value found is a hit (counted as stale) even as it is refreshed; a forced
        // refresh of a fresh one is a load: a miss.
        this.#logRead(found.stale ? LOOKED.staleHit : LOOKED.miss)
        const fetch = this.#startFetch(key, slot, found.value, options, context)
        const staleValue = allowStale && fetch.stale !== undefined
        if (status) {
          status.fetch = found.stale ? 'stale' : 'refresh'
          if (staleValue && found.stale) status.returnedStale = true
        }
        return staleValue ? fetch.stale : awaited(fetch)
      }
    }
    if (status) status.fetch = 'miss'
    this.#logRead(LOOKED.miss)
    return awaited(this.#startFetch(key, undefined, undefined, options, context))
  }

  /** fetch()'s look at an existing entry: a fresh one is touched as by `get` (a hit); a stale one,
   * or any with forceRefresh, is left where it is. Returns { value, stale } or COLLECTED_ENTRY. */
  #lookupForFetch(slot, updateAgeOnGet, forceRefresh) {
    const pinned = this.#values[slot]
    const now = this.#nowFor(slot)
    if (pinned !== undefined && !forceRefresh && (!this.#timed || (!updateAgeOnGet && this.#freshInJs(slot, now)))) {
      this.#logRead(slot)
      return { value: pinned, stale: false }
    }
    const values = this.#values
    const weak = forceRefresh
      ? this.#native.peek(0, slot, now, 0)
      : this.#native.get((updateAgeOnGet ? FLAG.updateAge : 0) | FLAG.keepStale, slot, now, this.#restartTime(updateAgeOnGet), values, values[this.#io[IO.tail]])
    const status = this.#io[IO.status]
    if (status === STATUS.collected) {
      this.#forget(slot, true)
      return COLLECTED_ENTRY
    }
    const value = pinned ?? weak
    if (status === STATUS.live && !forceRefresh) {
      if (pinned === undefined) values[slot] = weak
      if (updateAgeOnGet) this.#ageRestarted(slot)
      const removals = this.#applyPushed(NO_REMOVALS)
      this.#logRead(pinned === undefined ? LOOKED.weakHit : LOOKED.hit)
      this.#report(removals)
      this.#flush()
    }
    return { value, stale: status !== STATUS.live }
  }

  /** Starts a fetch for `key` and makes it hold the key's entry: a new one (slot undefined), or
   * the existing one in place, whose value becomes the fetch's stale value. */
  #startFetch(key, slot, stale, options, context) {
    const fetch = new BackgroundFetch(key, stale, options, context, this.#fetchMethod, this.#fetchHooks)
    if (slot === undefined) {
      this.#set(key, fetch, { ...options, status: undefined }, undefined)
      return fetch
    }
    const values = this.#values
    this.#native.hold(FLAG.strong, slot, values, values[this.#io[IO.tail]])
    if (this.#io[IO.status] === STATUS.collected) {
      // Only a weak value can be collected, and fetch() holds it: this cannot happen.
      throw makeError('ERR_EPHEMERON_INTERNAL', 'WeakCache.prototype.fetch: the value being refreshed was collected')
    }
    values[slot] = undefined
    this.#fetches[slot] = fetch
    fetch.slot = slot
    this.#report(this.#applyPushed(NO_REMOVALS))
    this.#flush()
    return fetch
  }

  /** A fetch gave up and its entry gets its stale value back, in place. */
  #restoreStale(fetch) {
    if (fetch.stale === undefined) return this.#deleteFor(fetch.key, CAUSE.fetch)
    const slot = fetch.slot
    this.#native.hold(0, slot, this.#values, undefined)
    this.#fetches[slot] = undefined
    this.#values[slot] = fetch.stale
    return true
  }

  #get(key, allowStale, updateAgeOnGet, noDeleteOnStaleGet, status) {
    const slot = this.#index.get(key)
    if (slot === undefined) {
      if (status) status.get = 'miss'
      this.#logMiss()
      return undefined
    }
    return this.#getAt(slot, key, allowStale, updateAgeOnGet, noDeleteOnStaleGet, status)
  }

  /** A get of a weak entry where nothing can be stale or fetching (no clock, no fetchMethod):
   * a weak hit, or a value the GC took. */
  #weakHit(slot) {
    const values = this.#values
    const weak = this.#native.get(0, slot, 0, 0, values, values[this.#io[IO.tail]])
    if (this.#io[IO.status] !== STATUS.live) {
      this.#forget(slot, true)
      this.#logRead(LOOKED.miss)
      return undefined
    }
    values[slot] = weak
    const io = this.#io
    if (io[IO.pushedCount] === 1 && io[IO.pushed + 1] === IO.demoted) {
      values[io[IO.pushed]] = undefined // the usual case: the least recent pinned entry demoted
      this.#logRead(LOOKED.weakHit) // (after the reply is read: a full log calls the native side)
    } else {
      const removals = this.#applyPushed(NO_REMOVALS)
      this.#logRead(LOOKED.weakHit)
      if (removals !== NO_REMOVALS) this.#report(removals)
      this.#flush()
    }
    return weak
  }

  /** lru-cache's #get for the entry of `key` in `slot`. */
  #getAt(slot, key, allowStale, updateAgeOnGet, noDeleteOnStaleGet, status) {
    const fetch = this.#fetches?.[slot]
    const pinned = this.#values[slot]
    const now = this.#nowFor(slot)
    if (status) this.#statusTTL(status, slot, now)
    if (pinned !== undefined && (!this.#timed || (!updateAgeOnGet && this.#freshInJs(slot, now)))) {
      this.#logRead(slot)
      if (status) status.get = 'hit'
      return pinned
    }
    const values = this.#values
    const flags = (updateAgeOnGet ? FLAG.updateAge : 0) | (noDeleteOnStaleGet || fetch !== undefined ? FLAG.keepStale : 0)
    const weak = this.#native.get(flags, slot, now, this.#restartTime(updateAgeOnGet), values, values[this.#io[IO.tail]])
    switch (this.#io[IO.status]) {
      case STATUS.live: {
        if (pinned === undefined && fetch === undefined) values[slot] = weak
        if (updateAgeOnGet) this.#ageRestarted(slot)
        const removals = this.#applyPushed(NO_REMOVALS)
        if (status) status.get = fetch === undefined ? 'hit' : 'fetching'
        const value = fetch === undefined ? (pinned ?? weak) : fetch.stale
        this.#logRead(value === undefined ? LOOKED.miss : pinned === undefined && fetch === undefined ? LOOKED.weakHit : LOOKED.hit)
        this.#report(removals)
        this.#flush()
        return value
      }
      case STATUS.stale: {
        if (fetch !== undefined) {
          if (status) status.get = 'stale-fetching'
          const served = allowStale && fetch.stale !== undefined
          this.#logRead(served ? LOOKED.staleHit : LOOKED.miss)
          if (!served) return undefined
          if (status) status.returnedStale = true
          return fetch.stale
        }
        if (status) status.get = 'stale'
        this.#logRead(allowStale ? LOOKED.staleHit : LOOKED.miss)
        if (!allowStale) return undefined
        if (status) status.returnedStale = true
        return pinned ?? weak
      }
      case STATUS.expired: {
        const value = pinned ?? weak
        const stored = this.#forget(slot, false)
        this.#logRead(allowStale ? LOOKED.staleHit : LOOKED.miss)
        if (metrics.hasSubscribers) metrics.publish({ op: 'delete', delete: 'expire', key, cache: this })
        this.#disposal.removed(value, this.#index.size === 0 ? stored : key, 'expire')
        this.#flush()
        if (status) status.get = 'stale'
        if (!allowStale) return undefined
        if (status) status.returnedStale = true
        return value
      }
      default:
        this.#forget(slot, true)
        this.#logRead(LOOKED.miss)
        if (status) status.get = 'miss'
        return undefined
    }
  }

  #peek(index, key, allowStale, status) {
    const slot = index.get(key)
    if (slot === undefined) {
      if (status) status.peek = 'miss'
      return undefined
    }
    const fetch = this.#fetches?.[slot]
    const pinned = this.#values[slot]
    let value
    if ((pinned !== undefined || fetch !== undefined) && (!this.#timed || allowStale || this.#freshInJs(slot, this.#nowFor(slot)))) {
      value = fetch === undefined ? pinned : fetch.stale
    } else {
      const weak = this.#native.peek(0, slot, this.#nowFor(slot), 0)
      const found = this.#io[IO.status]
      if (found === STATUS.collected) {
        this.#forget(slot, true)
        if (status) status.peek = 'miss'
        return undefined
      }
      if (found === STATUS.stale && !allowStale) {
        if (status) status.peek = 'stale'
        return undefined
      }
      value = fetch === undefined ? (pinned ?? weak) : fetch.stale
    }
    if (status) {
      if (value === undefined) status.peek = 'miss'
      else {
        status.peek = 'hit'
        status.value = value
      }
    }
    return value
  }

  #has(index, key, updateAgeOnHas, status) {
    const slot = index.get(key)
    if (slot === undefined) {
      if (status) status.has = 'miss'
      return false
    }
    const fetch = this.#fetches?.[slot]
    if (fetch !== undefined && fetch.stale === undefined) return false
    const held = this.#values[slot] !== undefined || fetch !== undefined
    if (held && (!this.#timed || (!updateAgeOnHas && this.#freshInJs(slot, this.#nowFor(slot))))) {
      if (status) {
        status.has = 'hit'
        this.#statusTTL(status, slot)
      }
      return true
    }
    this.#native.peek(updateAgeOnHas ? FLAG.updateAge : 0, slot, this.#nowFor(slot), this.#restartTime(updateAgeOnHas))
    const found = this.#io[IO.status]
    if (found === STATUS.collected) {
      this.#forget(slot, true)
      if (status) status.has = 'miss'
      return false
    }
    if (found === STATUS.live && updateAgeOnHas) this.#ageRestarted(slot)
    if (status) {
      status.has = found === STATUS.live ? 'hit' : 'stale'
      this.#statusTTL(status, slot)
    }
    return found === STATUS.live
  }

  /** #set's work for a new key in a cache that has no ttl in use, no sizes and no fetchMethod:
   * the common case, without the options that do not apply. */
  #addPlain(key, value) {
    const slot = this.#native.insert(0, value, 0, 0, 0, this.#values, this.#values[this.#io[IO.tail]])
    if (slot >= this.#keys.length) this.#grow(slot)
    // A full cache pushed out its least recent entry first, maybe from this very slot (see the
    // protocol): that is applied before the new entry is stored, but in a pure weak map, where it
    // is the new entry itself that is pushed out.
    let removals = NO_REMOVALS
    if (this.#max !== 0 && this.#io[IO.pushedCount] !== 0) removals = this.#applyPushed(NO_REMOVALS)
    this.#keys[slot] = key
    this.#values[slot] = value
    this.#index.set(key, slot)
    if (this.#max === 0) removals = this.#applyPushed(NO_REMOVALS)
    if (removals !== NO_REMOVALS) this.#report(removals)
    if (this.#onInsert !== undefined) this.#callOnInsert(value, key, 'add')
    if (this.#hasDisposeAfter) this.#flush()
  }

  /** lru-cache's #set: adds, replaces or (for undefined) deletes; `value` may be a fetch that
   * holds a new entry. `resolving` is the fetch in flight whose own result `value` is. */
  #set(key, value, setOptions, status, resolving = undefined) {
    if (value === undefined) {
      if (status) status.set = 'deleted'
      this.delete(key)
      return
    }
    const o = this.#options
    let { ttl, noDisposeOnSet, noUpdateTTL, sizeCalculation } = o
    let start
    let size = 0
    if (setOptions !== undefined) {
      if (setOptions.ttl !== undefined) ttl = callTtlOption(setOptions.ttl, 'set options.ttl')
      start = setOptions.start
      if (start !== undefined && typeof start !== 'number') {
        throw invalidType('WeakCache.prototype.set: options.start', 'a time of the cache clock (a number)', start)
      }
      noDisposeOnSet = flagOption(setOptions.noDisposeOnSet, noDisposeOnSet)
      noUpdateTTL = flagOption(setOptions.noUpdateTTL, noUpdateTTL)
      if (setOptions.sizeCalculation !== undefined) sizeCalculation = setOptions.sizeCalculation
      size = setOptions.size || 0
    }
    const fetch = this.#fetches !== null && value instanceof BackgroundFetch ? value : undefined
    if (status && fetch === undefined) status.value = value
    if (this.#tracksSizes) {
      // A fetch in flight has the size it was given, else backgroundFetchSize (lru-cache 11.5).
      if (fetch === undefined) size = requireSize(key, value, size, sizeCalculation)
      else if (!isPositiveInteger(size)) size = o.backgroundFetchSize
    } else if (size || sizeCalculation) {
      throw makeError('ERR_INVALID_ARG_VALUE', 'WeakCache.prototype.set: a size needs options.maxSize or options.maxEntrySize (cannot set size without setting maxSize or maxEntrySize on cache)')
    }
    if (o.maxEntrySize && size > o.maxEntrySize) {
      // Too large to keep: whatever the key held goes (reason 'set').
      this.#deleteFor(key, CAUSE.set)
      if (status) {
        status.set = 'miss'
        status.maxEntrySizeExceeded = true
      }
      return
    }
    if (ttl > 0 && !this.#timed) this.#startClock()
    if (this.#timed && start === undefined) start = ttl > 0 ? this.#clock.fresh() : 0
    const values = this.#values
    let slot = this.#index.get(key)
    let old
    let oldFetch
    let added = slot === undefined
    if (!added) {
      // A pinned entry, a fetch in flight, or a weak entry (its old value comes back from Rust;
      // for Rust a weak entry always changes, since JS cannot compare before the call).
      oldFetch = this.#fetches?.[slot]
      old = values[slot]
      const changed = old === undefined ? oldFetch !== value : old !== value
      const flags = (changed ? FLAG.changed : 0) | (noUpdateTTL ? 0 : FLAG.updateTtl) | (fetch !== undefined ? FLAG.strong : 0)
      // Stored first: Rust reads it there if the entry is demoted at once (max 0).
      if (fetch === undefined) values[slot] = value
      const weak = this.#native.replace(flags, slot, ttl, start ?? 0, size, values, values[this.#io[IO.tail]])
      if (this.#io[IO.status] === STATUS.collected) {
        this.#forget(slot, true)
        added = true
      } else if (old === undefined && oldFetch === undefined) {
        old = weak
      }
    }
    let removals = NO_REMOVALS
    if (added) {
      const strong = fetch === undefined ? 0 : FLAG.strong
      slot = this.#native.insert(strong, fetch === undefined ? value : undefined, ttl, start ?? 0, size, values, values[this.#io[IO.tail]])
      if (slot >= this.#keys.length) this.#grow(slot)
      // The entry a full cache pushed out first may have had this slot (see #addPlain).
      if (this.#max !== 0) removals = this.#applyPushed(NO_REMOVALS)
      this.#keys[slot] = key
      this.#index.set(key, slot)
      if (this.#facts !== null && (slot + 1) * STRIDE > this.#facts.length) this.#facts = new Float64Array(this.#native.facts(0))
    }
    if (fetch === undefined) {
      this.#values[slot] = value
      if (oldFetch !== undefined) this.#fetches[slot] = undefined
    } else {
      this.#values[slot] = undefined
      this.#fetches[slot] = fetch
      fetch.slot = slot
    }
    if (!added || this.#max === 0) removals = this.#applyPushed(NO_REMOVALS)
    if (this.#timed && (added || !noUpdateTTL)) {
      this.#untimed?.delete(slot)
      this.#armPurgeTimer(slot, ttl)
    }
    // lru-cache 11.5's reading of a set: the value the key showed before (a fetch's stale value)
    // decides between add, replace and update.
    const changed = !added && (oldFetch ?? old) !== value
    const previous = oldFetch === undefined ? old : oldFetch.stale
    const setType = added || (changed && previous === undefined) ? 'add' : changed && previous !== value ? 'replace' : 'update'
    if (status && fetch === undefined) {
      status.set = setType
      if (changed && previous !== undefined) status.oldValue = previous
      if (this.#tracksSizes) {
        status.entrySize = size
        status.totalCalculatedSize = this.#calculated[0]
      }
      if (this.#timed) this.#statusTTL(status, slot)
    }
    // User code, in lru-cache's order: the replaced value, the evictions, onInsert, disposeAfter.
    if (changed) {
      if (oldFetch !== undefined) {
        // A fetch's own result does not abort it.
        if (oldFetch !== resolving) oldFetch.abort(new Error('replaced'))
        if (!noDisposeOnSet && previous !== undefined && previous !== value) this.#disposal.removed(previous, key, 'set')
      } else if (!noDisposeOnSet) {
        this.#disposal.removed(old, key, 'set')
      }
    }
    this.#report(removals)
    if (this.#onInsert !== undefined && fetch === undefined) this.#callOnInsert(value, key, setType)
    // Every removal this set caused reaches disposeAfter before it returns, noDisposeOnSet or not
    // (noDisposeOnSet only spares the replaced value).
    this.#flush()
  }

  /** lru-cache's #delete: removes the key's entry for `cause` (publishing the removal first). */
  #deleteFor(key, cause) {
    if (metrics.hasSubscribers) metrics.publish({ op: 'delete', delete: REASONS[cause], key, cache: this })
    const slot = this.#index.get(key)
    let deleted = false
    if (slot !== undefined) {
      const weak = this.#native.remove(slot, cause)
      if (this.#io[IO.status] === STATUS.collected) {
        this.#forget(slot, true)
      } else {
        deleted = true
        const fetch = this.#fetches?.[slot]
        const value = this.#values[slot] ?? weak
        // lru-cache reports the key as given, but as stored when it was the only entry (-0 or 0).
        const stored = this.#forget(slot, false)
        this.#report1(value, this.#index.size === 0 ? stored : key, cause, fetch, 'deleted')
      }
    }
    this.#flush()
    return deleted
  }

  /** Entries in order (least recent first with `reverse`), fetches in flight left out. */
  *#entries(kind, reverse, index) {
    for (const [key, value, fetch] of this.#walk(reverse, this.#options.allowStale, false, index)) {
      // As in lru-cache: a fetch in flight is not listed, nor (but by values()) the key undefined.
      if (fetch || (key === undefined && kind !== VALUES)) continue
      yield kind === KEYS ? key : kind === VALUES ? value : [key, value]
    }
  }

  #forEach(callbackfn, thisArg, reverse, index, method) {
    if (typeof callbackfn !== 'function') throw invalidType(`WeakCache.prototype.${method}: callback`, 'a function', callbackfn)
    for (const [key, value] of this.#walk(reverse, this.#options.allowStale, true, index)) apply(callbackfn, thisArg, [value, key, this])
  }

  /**
   * [key, value, isFetch] of the live entries, most recent first (least recent first with
   * `reverse`): a snapshot of the keys, each looked up (without refreshing it) when reached, so
   * entries removed, collected or stale by then are skipped. A fetch in flight yields its stale
   * value (if any) when `withFetches`, and is yielded with isFetch otherwise.
   */
  *#walk(reverse, allowStale, withFetches, index) {
    const slots = this.#native.order(FLAG.allowStale | (reverse ? FLAG.reverse : 0), 0)
    const keys = new Array(slots.length)
    for (let i = 0; i < slots.length; i++) keys[i] = this.#keys[slots[i]]
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]
      const slot = slots[i]
      if (indexOf(this, 'entries').get(key) !== slot) continue
      const fetch = this.#fetches?.[slot]
      if (fetch !== undefined) {
        if (!this.#staleAllowed(slot, allowStale)) continue
        if (!withFetches) yield [key, undefined, true]
        else if (fetch.stale !== undefined) yield [key, fetch.stale, false]
        continue
      }
      const pinned = this.#values[slot]
      let value
      if (pinned !== undefined) {
        if (!this.#staleAllowed(slot, allowStale)) continue
        value = pinned
      } else {
        value = this.#lookupWeak(slot, allowStale)
        if (value === undefined) continue
      }
      yield [key, value, false]
    }
  }

  /** Whether a pinned entry may be shown: fresh, or stale with `allowStale`. */
  #staleAllowed(slot, allowStale) {
    if (!this.#timed || allowStale) return true
    const now = this.#nowFor(slot)
    if (this.#freshInJs(slot, now)) return true
    this.#native.peek(0, slot, now, 0)
    return this.#io[IO.status] === STATUS.live
  }

  /** A weak entry's value (undefined if collected, or stale without `allowStale`). */
  #lookupWeak(slot, allowStale) {
    const weak = this.#native.peek(0, slot, this.#nowFor(slot), 0)
    const status = this.#io[IO.status]
    if (status === STATUS.collected) {
      this.#forget(slot, true)
      return undefined
    }
    return status === STATUS.live || allowStale ? weak : undefined
  }

  /** The value an entry shows in info() and dump(): stale or not, a fetch's stale value. */
  #valueAt(slot) {
    const fetch = this.#fetches?.[slot]
    if (fetch !== undefined) return fetch.stale
    return this.#values[slot] ?? this.#lookupWeak(slot, true)
  }

  /** Applies the entries the last call pushed out of the pinned tier; returns `removals` with the
   * removed ones appended as [value, key, cause, fetch, ...], reported once state is consistent. */
  #applyPushed(removals) {
    const io = this.#io
    const count = io[IO.pushedCount]
    if (count === 0) return removals
    let list = io
    let at = IO.pushed
    if (count > IO.pushedCapacity) {
      list = this.#native.pushed()
      at = 0
    }
    for (let i = 0; i < count; i++) {
      const slot = list[at + 2 * i]
      const fate = list[at + 2 * i + 1]
      if (fate === IO.demoted) {
        this.#values[slot] = undefined
        continue
      }
      if (!this.#reportsRemovals) {
        this.#forget(slot, false)
        continue
      }
      if (removals === NO_REMOVALS) removals = []
      const value = this.#values[slot]
      const fetch = this.#fetches?.[slot]
      removals.push(value, this.#forget(slot, false), fate, fetch)
    }
    return removals
  }

  /** Tells of removals [value, key, cause, fetch, ...]: dispose, or abort the fetch that held the
   * entry. */
  #report(removals) {
    if (!this.#reportsRemovals) return
    for (let i = 0; i < removals.length; i += 4) {
      this.#report1(removals[i], removals[i + 1], removals[i + 2], removals[i + 3], removals[i + 2] === CAUSE.evict ? 'evicted' : 'deleted')
    }
  }

  /** An entry left for `cause`: its fetch in flight, if any, is aborted (with lru-cache's reason),
   * and its value (a fetch's stale value) disposed. */
  #report1(value, key, cause, fetch, abortReason) {
    if (fetch !== undefined) {
      fetch.abort(new Error(abortReason))
      value = fetch.stale
      if (value === undefined) return
    }
    this.#disposal.removed(value, key, REASONS[cause])
  }

  #flush() {
    if (this.#hasDisposeAfter && this.#disposal.pending) this.#disposal.flush()
  }

  #callOnInsert(value, key, reason) {
    try {
      apply(this.#onInsert, this, [value, key, reason])
    } catch (thrown) {
      warn('WeakCacheWarning', 'ERR_EPHEMERON_DISPOSE_THREW', `WeakCache onInsert threw for a key (reason '${reason}')`, thrown)
    }
  }

  /** An entry left: drops it from the index, the values, the fetches and the timers; a collected
   * entry keeps its key until its 'collect' is delivered. Returns its key. */
  #forget(slot, collected) {
    const key = this.#keys[slot]
    this.#index.delete(key)
    this.#values[slot] = undefined
    if (this.#fetches !== null) this.#fetches[slot] = undefined
    if (this.#purgeTimers?.[slot] !== undefined) this.#clearPurgeTimer(slot)
    this.#untimed?.delete(slot)
    if (!collected) this.#keys[slot] = undefined
    return key
  }

  #deliverCollected(slots) {
    const keys = this.#keys
    const index = this.#index
    const removed = []
    // First forget every slot (Rust has freed them), then call dispose: a dispose that sets a key
    // may be given one of these slots again.
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]
      const key = keys[slot]
      keys[slot] = undefined
      if (index.get(key) === slot) index.delete(key)
      if (this.#purgeTimers?.[slot] !== undefined) this.#clearPurgeTimer(slot)
      removed.push(key)
    }
    for (const key of removed) this.#disposal.removed(undefined, key, 'collect')
    this.#flush()
  }

  /** lru-cache's status ttl fields: the entry's ttl and start, the time, the ttl left. */
  #statusTTL(status, slot, now = undefined) {
    if (!this.#timed) return
    const ttl = this.#facts[slot * STRIDE + TTL]
    const start = this.#facts[slot * STRIDE + START]
    if (ttl === 0 || !start) return // lru-cache's rule: no start (0 or NaN), no ttl
    status.ttl = ttl
    status.start = start
    status.now = now ?? this.#now()
    status.remainingTTL = ttl - (status.now - start)
  }

  /** Whether a pinned entry is strictly fresh at `now` (JS may answer alone; see the protocol). */
  #freshInJs(slot, now) {
    const facts = this.#facts
    const ttl = facts[slot * STRIDE + TTL]
    return ttl === 0 || now - facts[slot * STRIDE + START] < ttl
  }

  /** The time staleness is judged at (0 until the clock starts). */
  #now() {
    return this.#timed ? this.#clock.now(this.#options.ttlResolution) : 0
  }

  /** The time the entry in `slot` is judged at. The clock is read only for an entry with a ttl, as
   * lru-cache reads it: a reading is kept for ttlResolution ms from the one lru-cache would take. */
  #nowFor(slot) {
    if (!this.#timed) return 0
    return this.#facts[slot * STRIDE + TTL] === 0 ? 0 : this.#now()
  }

  /** The time an age restarts at (a fresh reading, as lru-cache's updateItemAge), when it does. */
  #restartTime(restarts) {
    if (!restarts || !this.#timed) return 0
    this.#restartedAt = this.#clock.fresh()
    return this.#restartedAt
  }

  /** Whether any entry has a ttl (purgeStale reads the clock only then, as lru-cache). */
  #anyTtl() {
    const facts = this.#facts
    for (const slot of this.#index.values()) if (facts[slot * STRIDE + TTL] !== 0) return true
    return false
  }

  /** Turns on the clock, for the first entry with a ttl. In a cache without `max`, lru-cache's
   * ttl arrays start empty, so the entries already there have no ttl and no start (not 0). */
  #startClock() {
    if (this.#max === null && this.#index.size > 0) {
      this.#untimed = new Map()
      for (const slot of this.#index.values()) this.#untimed.set(slot, NaN)
    }
    this.#facts = new Float64Array(this.#native.facts(FLAG.clock))
    this.#timed = true
    this.#plainAdds = false
    this.#plainGets = false
  }

  /** ttlAutopurge: removes the entry in `slot` once its ttl has passed (lru-cache's timer). */
  #armPurgeTimer(slot, ttl) {
    const timers = this.#purgeTimers
    if (timers?.[slot] !== undefined) this.#clearPurgeTimer(slot)
    if (!this.#options.ttlAutopurge || ttl === 0) return
    if (timers === null) this.#purgeTimers = []
    const key = this.#keys[slot]
    // Timers cannot wait longer than 2^31 - 1 ms: a longer ttl waits again for what is left.
    const delay = ttl + 1 < MAX_TIMER_DELAY ? ttl + 1 : MAX_TIMER_DELAY
    const timer = apply(this.#environment.setTimeout, globalThis, [() => this.#purgeExpired(slot, key), delay])
    timer?.unref?.()
    this.#purgeTimers[slot] = timer
  }

  /** An entry's age restarted at the last #restartTime (lru-cache's updateItemAge): its timer
   * starts again. */
  #ageRestarted(slot) {
    if (!this.#timed) return
    if (this.#untimed?.has(slot)) this.#untimed.set(slot, this.#restartedAt)
    this.#armPurgeTimer(slot, this.#facts[slot * STRIDE + TTL])
  }

  #purgeExpired(slot, key) {
    this.#purgeTimers[slot] = undefined
    const index = this.#index
    if (index === null || index.get(key) !== slot) return
    try {
      const now = this.#nowFor(slot)
      this.#native.peek(0, slot, now, 0)
      const status = this.#io[IO.status]
      if (status === STATUS.stale) this.#deleteFor(key, CAUSE.expire)
      else if (status === STATUS.collected) this.#forget(slot, true)
      else this.#armPurgeTimer(slot, this.#remainingTTL(slot) || 1)
    } catch (thrown) {
      warn('WeakCacheWarning', 'ERR_EPHEMERON_INTERNAL', 'WeakCache: a ttlAutopurge timer failed', thrown)
    }
  }

  #clearPurgeTimer(slot) {
    apply(this.#environment.clearTimeout, globalThis, [this.#purgeTimers[slot]])
    this.#purgeTimers[slot] = undefined
  }

  #clearPurgeTimers() {
    const timers = this.#purgeTimers
    if (timers === null) return
    for (let slot = 0; slot < timers.length; slot++) if (timers[slot] !== undefined) this.#clearPurgeTimer(slot)
  }

  /** Makes room for `slot` in the arrays by slot: in doublings up to `max + 1` (so a full cache
   * has no slack, as lru-cache, which allocates its arrays at `max`), by doubling beyond. */
  #grow(slot) {
    const wanted = slot + 1
    let length = wanted > 8 ? wanted : 8
    if (length < 2 * this.#keys.length) length = 2 * this.#keys.length
    const max = this.#max
    if (max !== null && wanted <= max + 1 && length > max + 1) length = max + 1
    this.#keys = grown(this.#keys, length)
    this.#values = grown(this.#values, length)
    if (this.#fetches !== null) this.#fetches = grown(this.#fetches, length)
  }

  #logRead(slot) {
    const io = this.#io
    const count = io[IO.readCount]
    io[IO.reads + count] = slot
    io[IO.readCount] = count + 1
    if (count + 1 === IO.readCapacity) this.#native.sync()
  }

  #logMiss() {
    this.#logRead(LOOKED.miss)
  }

}

/** The longest delay a timer takes (a longer one fires at once). */
const MAX_TIMER_DELAY = 2 ** 31 - 1
const KEYS = 0
const VALUES = 1
const ENTRIES = 2
const COLLECTED_ENTRY = Object.freeze({ value: undefined, stale: false })
const NO_OPTIONS = Object.freeze({})

function isWeakCache(value) {
  try {
    indexOf(value, 'constructor')
    return true
  } catch {
    return false
  }
}

/** Marks a fetch as awaited by a caller (so that its failure rejects) and returns its promise. */
function awaited(fetch) {
  fetch.returned = true
  return fetch.promise
}

/** A status object given in options: an object to fill in; undefined or any falsy value for none
 * (undefined lets the cache make one for the diagnostics channel, as lru-cache). */
function statusOption(status, method) {
  if (!status || typeof status === 'object' || typeof status === 'function') return status
  throw invalidType(`WeakCache.prototype.${method}: options.status`, 'an object to fill in', status)
}

/** lru-cache's size rules: a positive integer, given or computed by sizeCalculation. */
function requireSize(key, value, size, sizeCalculation) {
  if (isPositiveInteger(size)) return size
  if (sizeCalculation) {
    if (typeof sizeCalculation !== 'function') throw invalidType('WeakCache.prototype.set: options.sizeCalculation', 'a function (sizeCalculation must be a function)', sizeCalculation)
    const computed = sizeCalculation(value, key)
    if (!isPositiveInteger(computed)) {
      throw invalidValue('WeakCache: the result of sizeCalculation', 'a positive integer (sizeCalculation return invalid (expect positive integer))', computed)
    }
    return computed
  }
  throw invalidValue(
    'WeakCache.prototype.set: options.size',
    'a positive integer, or options.sizeCalculation must compute one (invalid size value (must be positive integer). When maxSize or maxEntrySize is used, sizeCalculation or size must be set.)',
    size,
  )
}

/** The function the native side calls, on the event loop, with the slots of collected entries. It
 * holds the cache only weakly, so a cache nobody uses any more can itself be collected, and it
 * never throws: an exception here would end the process. */
function collectedSlotsHandler(cacheRef) {
  return (slots) => {
    try {
      const cache = apply(weakRefDeref, cacheRef, [])
      if (cache !== undefined) deliverCollected(cache, slots)
    } catch (thrown) {
      warn('WeakCacheWarning', 'ERR_EPHEMERON_INTERNAL', 'WeakCache: delivering collected entries failed', thrown)
    }
  }
}

/** A copy of `array` with room for `length` elements, every new one undefined (never a hole). */
function grown(array, length) {
  const copy = new Array(length)
  for (let i = 0; i < array.length; i++) copy[i] = array[i]
  for (let i = array.length; i < length; i++) copy[i] = undefined
  return copy
}

function brokenError(method) {
  return makeError(
    'ERR_EPHEMERON_BROKEN',
    `WeakCache.prototype.${method}: this cache is broken: an internal error (a caught Rust panic) interrupted an update, so its state cannot be trusted. Please report it.`,
  )
}

for (const [name, check] of Object.entries(MUTABLE)) {
  Object.defineProperty(WeakCache.prototype, name, {
    get() {
      return optionsOf(this, name)[name]
    },
    set(value) {
      optionsOf(this, name)[name] = check(value)
    },
    configurable: true,
  })
}
Object.defineProperty(WeakCache.prototype, Symbol.iterator, { value: WeakCache.prototype.entries, writable: true, configurable: true })
Object.defineProperty(WeakCache.prototype, Symbol.toStringTag, { value: 'WeakCache', configurable: true })

// `forSpecs` is not part of the package's API (index.js exports WeakCache only).
module.exports = { WeakCache, forSpecs: { injectPanic, protocol } }
