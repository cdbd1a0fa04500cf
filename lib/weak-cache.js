'use strict'
// WeakCache: an LRU cache whose `max` most recent entries are pinned and whose object values,
// once pushed out, stay reachable through the cache while anything else holds them.
//
// The policy (LRU order, demotion, expiry, stats) and the weak tier live in Rust
// (src/core/cache_policy.rs, src/weak_cache.rs). This class keeps only the pinned tier's hit
// index: `#index` (key -> position) and the keys and values by position; holding the values here
// is what pins them. A pinned hit is a Map lookup plus one entry in the read log of the shared
// `io` buffer, which the next native call replays into the Rust LRU (and a full log flushes).

const { weakCacheCreate, weakCacheSet, weakCacheReplace, weakCacheLookup, weakCacheRemove, weakCacheDelete, weakCacheSync, weakCacheKeys, weakCacheClear } =
  require('./native.js')
const { describe, incompatibleReceiver } = require('./weak-keys.js')

// Layout of the io buffer: mirrors `mod io` in src/weak_cache.rs.
const READ_COUNT = 0
const WEAK_LEN = 1
const VICTIM = 2
const VICTIM_EVICTED = 3
const POSITION = 4
const STATUS = 5
const READS = 8
const READ_CAPACITY = 1024
const TIMES = (READS + READ_CAPACITY) / 2
const STATS = TIMES + READ_CAPACITY
const STATS_NAMES = ['hits', 'weakHits', 'misses', 'sets', 'evictions', 'demotions', 'collected', 'expired', 'deleted', 'pinned', 'weak']
const ENTRY_TTL = STATS + STATS_NAMES.length
const ENTRY_EXPIRES = ENTRY_TTL + 1
const IO_BYTES = (ENTRY_EXPIRES + 1) * 8
const HIT = 1
const EXPIRED = 2
const NONE = Symbol('none')

// Positions travel through an Int32Array.
const MAX_LIMIT = 2 ** 31 - 2

let indexOf // (cache, method) => the pinned index; throws a clear TypeError on a foreign receiver
let deliverCollected // (cache, keys) => reports collected keys to dispose

class WeakCache {
  #index = new Map()
  #keys = []
  // The native side reads a value from here when it demotes it, so this array is never replaced.
  #values = []
  // position -> expiry time and ttl, from the first entry with a ttl on (mirrors of the Rust policy).
  #expires = null
  #ttls = null
  #io // Int32Array view of the io buffer shared with Rust
  #io64 // Float64Array view of it: read times, stats, a promoted entry's timing
  #native
  #max
  #ttl
  #updateAgeOnGet
  #dispose
  #perf
  #evictedValue = undefined

  static {
    indexOf = (cache, method) => {
      try {
        return cache.#index
      } catch {
        throw incompatibleReceiver(`WeakCache.prototype.${method}`, cache)
      }
    }
    deliverCollected = (cache, keys) => {
      for (const key of keys) cache.#callDispose(undefined, key, 'collect')
    }
  }

  /**
   * @param {{max: number, ttl?: number, updateAgeOnGet?: boolean, dispose?: Function, perf?: {now(): number}}} options
   */
  constructor(options) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`WeakCache: options must be an object such as { max: 1000 }; got ${describe(options)}`)
    }
    const { max, ttl = 0, updateAgeOnGet = false, dispose, perf = performance } = options
    this.#max = checkMax(max)
    this.#ttl = checkTtl(ttl, 'options.ttl')
    if (typeof updateAgeOnGet !== 'boolean') {
      throw new TypeError(`WeakCache: options.updateAgeOnGet must be a boolean; got ${describe(updateAgeOnGet)}`)
    }
    if (dispose !== undefined && typeof dispose !== 'function') {
      throw new TypeError(`WeakCache: options.dispose must be a function; got ${describe(dispose)}`)
    }
    if (perf === null || typeof perf !== 'object' || typeof perf.now !== 'function') {
      throw new TypeError(`WeakCache: options.perf must be an object with a now() method; got ${describe(perf)}`)
    }
    this.#updateAgeOnGet = updateAgeOnGet
    this.#dispose = dispose
    this.#perf = perf
    const buffer = new ArrayBuffer(IO_BYTES)
    this.#io = new Int32Array(buffer)
    this.#io64 = new Float64Array(buffer)
    this.#native = weakCacheCreate(buffer, this.#values, this.#max, updateAgeOnGet, collectedKeysHandler(new WeakRef(this)))
    if (this.#ttl > 0) this.#startTiming()
  }

  /** The number of pinned entries. */
  get max() {
    indexOf(this, 'max')
    return this.#max
  }

  /** Pinned entries plus weak entries whose collection has not been delivered yet. */
  get size() {
    return indexOf(this, 'size').size + this.#io[WEAK_LEN]
  }

  get(key) {
    const position = indexOf(this, 'get').get(key)
    if (position === undefined) return this.#getWeak(key)
    if (this.#expires !== null && this.#expires[position] !== Infinity) return this.#getTimed(position)
    this.#logRead(position)
    return this.#values[position]
  }

  peek(key) {
    const position = indexOf(this, 'peek').get(key)
    if (position !== undefined) {
      if (this.#expires !== null && this.#expires[position] <= this.#perf.now()) return undefined
      return this.#values[position]
    }
    assertKey(key, 'peek')
    if (this.#io[WEAK_LEN] === 0) return undefined
    const value = weakCacheLookup(this.#native, key, this.#now(), true)
    return this.#io[STATUS] === HIT ? value : undefined
  }

  has(key) {
    indexOf(this, 'has')
    return this.peek(key) !== undefined
  }

  set(key, value, options = undefined) {
    const index = indexOf(this, 'set')
    if (value === undefined) {
      this.delete(key)
      return this
    }
    assertKey(key, 'set')
    if (key === 0) key = 0 // as in Map, -0 is stored (and reported) as 0
    let ttl = this.#ttl
    if (options !== undefined) {
      if (options === null || typeof options !== 'object') {
        throw new TypeError(`WeakCache.prototype.set: options must be an object such as { ttl: 1000 }; got ${describe(options)}`)
      }
      if (options.ttl !== undefined) ttl = checkTtl(options.ttl, 'set options.ttl')
    }
    if (ttl > 0 && this.#expires === null) this.#startTiming()
    const now = this.#now()
    const position = index.get(key)
    if (position !== undefined) {
      const old = this.#values[position]
      weakCacheReplace(this.#native, position, ttl, now, old === value)
      this.#values[position] = value
      this.#mirrorTiming(position, ttl, expiry(ttl, now))
      if (old !== value) this.#callDispose(old, key, 'set')
      return this
    }
    const replaced = weakCacheSet(this.#native, key, value, ttl, now)
    const evictedKey = this.#pin(this.#io[POSITION], key, value, ttl, expiry(ttl, now))
    if (replaced !== undefined && replaced !== value) this.#callDispose(replaced, key, 'set')
    if (evictedKey !== NONE) this.#disposeEvicted(evictedKey)
    return this
  }

  delete(key) {
    if (key === 0) key = 0
    const position = indexOf(this, 'delete').get(key)
    if (position !== undefined) {
      const value = this.#unpin(position, key)
      weakCacheRemove(this.#native, position, false, this.#now())
      this.#callDispose(value, key, 'delete')
      return true
    }
    assertKey(key, 'delete')
    if (this.#io[WEAK_LEN] === 0) return false
    const value = weakCacheDelete(this.#native, key, this.#now())
    if (this.#io[STATUS] !== HIT) return false
    this.#callDispose(value, key, 'delete')
    return true
  }

  clear() {
    const index = indexOf(this, 'clear')
    const weakPairs = weakCacheClear(this.#native, this.#now())
    const values = this.#values
    const pinned = Array.from(index, ([key, position]) => [key, values[position]])
    this.#index = new Map()
    this.#keys = []
    values.length = 0
    if (this.#expires !== null) this.#startTiming()
    for (const [key, value] of pinned) this.#callDispose(value, key, 'delete')
    for (let i = 0; i < weakPairs.length; i += 2) this.#callDispose(weakPairs[i + 1], weakPairs[i], 'delete')
  }

  /** Counters since construction, and the current size of each tier. */
  stats() {
    indexOf(this, 'stats')
    weakCacheSync(this.#native, this.#now())
    const stats = {}
    for (let i = 0; i < STATS_NAMES.length; i++) stats[STATS_NAMES[i]] = this.#io64[STATS + i]
    return stats
  }

  entries() {
    indexOf(this, 'entries')
    return this.#walk(ENTRIES)
  }

  keys() {
    indexOf(this, 'keys')
    return this.#walk(KEYS)
  }

  values() {
    indexOf(this, 'values')
    return this.#walk(VALUES)
  }

  forEach(callbackfn, thisArg = this) {
    indexOf(this, 'forEach')
    if (typeof callbackfn !== 'function') {
      throw new TypeError(`WeakCache.prototype.forEach: callback must be a function; got ${describe(callbackfn)}`)
    }
    for (const [key, value] of this.#walk(ENTRIES)) callbackfn.call(thisArg, value, key, this)
  }

  /** Live entries, most recent first: a snapshot of the keys, each looked up (without
   * refreshing it) when reached, so entries removed, collected or expired meanwhile are skipped. */
  *#walk(kind) {
    const keys = weakCacheKeys(this.#native, this.#now())
    for (const key of keys) {
      const value = this.peek(key)
      if (value === undefined) continue
      yield kind === KEYS ? key : kind === VALUES ? value : [key, value]
    }
  }

  #now() {
    return this.#expires === null ? 0 : this.#perf.now()
  }

  #logRead(position) {
    const io = this.#io
    const count = io[READ_COUNT]
    io[READS + count] = position
    io[READ_COUNT] = count + 1
    if (count + 1 === READ_CAPACITY) weakCacheSync(this.#native, this.#now())
  }

  #getTimed(position) {
    const now = this.#perf.now()
    if (this.#expires[position] <= now) {
      const key = this.#keys[position]
      const value = this.#unpin(position, key)
      weakCacheRemove(this.#native, position, true, now)
      this.#logRead(-1)
      this.#callDispose(value, key, 'expire')
      return undefined
    }
    if (this.#updateAgeOnGet) this.#expires[position] = expiry(this.#ttls[position], now)
    this.#io64[TIMES + this.#io[READ_COUNT]] = now
    this.#logRead(position)
    return this.#values[position]
  }

  #getWeak(key) {
    assertKey(key, 'get')
    if (key === 0) key = 0
    const io = this.#io
    if (io[WEAK_LEN] === 0) {
      this.#logRead(-1)
      return undefined
    }
    const value = weakCacheLookup(this.#native, key, this.#now(), false)
    const status = io[STATUS]
    if (status === HIT) {
      const times = this.#io64
      const evictedKey = this.#pin(io[POSITION], key, value, times[ENTRY_TTL], times[ENTRY_EXPIRES])
      if (evictedKey !== NONE) this.#disposeEvicted(evictedKey)
      return value
    }
    if (status === EXPIRED) this.#callDispose(value, key, 'expire')
    return undefined
  }

  /**
   * Records a pinned entry at `position`, then lets go of the victim the native call named.
   * Returns the key of an evicted victim (its value in #evictedValue) or NONE, so the caller
   * calls dispose once the cache is consistent, in cause-then-effect order.
   */
  #pin(position, key, value, ttl, expires) {
    this.#index.set(key, position)
    this.#keys[position] = key
    this.#values[position] = value
    this.#mirrorTiming(position, ttl, expires)
    const io = this.#io
    const victim = io[VICTIM]
    if (victim < 0) return NONE
    const victimKey = this.#keys[victim]
    const victimValue = this.#unpin(victim, victimKey)
    if (io[VICTIM_EVICTED] !== 1) return NONE
    this.#evictedValue = victimValue
    return victimKey
  }

  #disposeEvicted(key) {
    const value = this.#evictedValue
    this.#evictedValue = undefined
    this.#callDispose(value, key, 'evict')
  }

  #unpin(position, key) {
    const value = this.#values[position]
    this.#index.delete(key)
    this.#keys[position] = undefined
    this.#values[position] = undefined
    return value
  }

  #mirrorTiming(position, ttl, expires) {
    if (this.#expires === null) return
    this.#expires[position] = expires
    this.#ttls[position] = ttl
  }

  /** Turns on the clock and the expiry mirror, for the first entry with a ttl. */
  #startTiming() {
    const length = this.#keys.length
    this.#expires = new Array(length).fill(Infinity)
    this.#ttls = new Array(length).fill(0)
  }

  #callDispose(value, key, reason) {
    const dispose = this.#dispose
    if (dispose === undefined) return
    try {
      dispose.call(this, value, key, reason)
    } catch (error) {
      process.emitWarning(`WeakCache dispose threw for key ${describe(key)} (reason '${reason}'): ${error?.stack ?? describe(error)}`, {
        type: 'WeakCacheWarning',
        code: 'ERR_EPHEMERON_DISPOSE_THREW',
      })
    }
  }
}

const KEYS = 0
const VALUES = 1
const ENTRIES = 2

/** The handler the native side calls with collected keys. It holds the cache only weakly, so a
 * cache nobody uses any more can itself be collected. */
function collectedKeysHandler(cacheRef) {
  return (keys) => {
    const cache = cacheRef.deref()
    if (cache !== undefined) deliverCollected(cache, keys)
  }
}

function expiry(ttl, now) {
  return ttl > 0 ? now + ttl : Infinity
}

function assertKey(key, method) {
  const type = typeof key
  if (type !== 'string' && type !== 'number') {
    throw new TypeError(`WeakCache.prototype.${method}: key must be a string or a number; got ${describe(key)}`)
  }
}

function checkMax(max) {
  if (typeof max !== 'number') {
    throw new TypeError(`WeakCache: options.max must be an integer >= 0 (0 makes a pure weak-value map); got ${describe(max)}`)
  }
  if (!Number.isInteger(max) || max < 0 || max > MAX_LIMIT) {
    throw new RangeError(`WeakCache: options.max must be an integer from 0 to ${MAX_LIMIT}; got ${max}`)
  }
  return max
}

function checkTtl(ttl, what) {
  if (typeof ttl !== 'number') throw new TypeError(`WeakCache: ${what} must be a number of milliseconds; got ${describe(ttl)}`)
  if (!(ttl >= 0) || ttl === Infinity) {
    throw new RangeError(`WeakCache: ${what} must be a finite number of milliseconds >= 0 (0 = no ttl); got ${ttl}`)
  }
  return ttl
}

Object.defineProperty(WeakCache.prototype, Symbol.iterator, { value: WeakCache.prototype.entries, writable: true, configurable: true })
Object.defineProperty(WeakCache.prototype, Symbol.toStringTag, { value: 'WeakCache', configurable: true })

module.exports = { WeakCache }
