'use strict'
// WeakCache: lru-cache 11.5's API and semantics, whose `max` most recent entries are pinned and
// whose object values, once pushed out, stay reachable through the cache while anything else
// holds them (the weak tier).
//
// This class is the public face: it checks its receiver, reads each call's options and status
// object as lru-cache does, and posts on the diagnostics channels. The rest is one concept per
// file: the entries JS holds by slot and the calls into the native policy (weak-cache-store.js,
// over the protocol of src/core/cache_protocol.rs), lru-cache's operations on them
// (weak-cache-ops.js), fetch and memo (weak-cache-loading.js, weak-cache-fetch.js), time
// (weak-cache-time.js, weak-cache-clock.js), dispose and disposeAfter (weak-cache-disposal.js) and
// the options (weak-cache-options.js).

const { Object, Reflect, Symbol, WeakRef } = require('./primordials.js')
const { incompatibleReceiver, invalidType, invalidValue, warn } = require('./errors.js')
const { CAUSE, LOOKED, protocol } = require('./weak-cache-native.js')
const { environment, resolutionOf } = require('./weak-cache-clock.js')
const { metrics, tracing, anyoneListens, nameCache } = require('./weak-cache-channels.js')
const { Disposal } = require('./weak-cache-disposal.js')
const { SlotStore, brokenError } = require('./weak-cache-store.js')
const { CacheTime } = require('./weak-cache-time.js')
const { LoadingOps } = require('./weak-cache-loading.js')
const { KEYS, VALUES, ENTRIES } = require('./iteration-kinds.js')
const options = require('./weak-cache-options.js')

const { configure, callOptions, ttlOption, flagOption, backgroundFetchSizeOption, isPositiveInteger, warnIfUnbounded } = options
const { apply } = Reflect
const weakRefDeref = WeakRef.prototype.deref
const noop = () => {}

let opsOf // (cache, method) => its operations; throws a clear TypeError on a foreign receiver
let storeOf // (cache, method) => its slot store (the hot path of get); the same checks as opsOf
let deliverCollected // (cache, slots) => reports collected entries to dispose
let injectPanic // (cache) => makes the native side panic in the middle of an update (specs only)

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
  /** lru-cache's operations on this cache's entries (see weak-cache-ops.js). */
  #ops
  /** `#ops.store`, read directly by the hot path of `get` (a load less). */
  #store
  #max
  #maxSize
  /** `max` as given (lru-cache's getter shows it so, -0 included). */
  #shownMax
  #weak
  #perf
  /** The options lru-cache exposes as writable fields (see MUTABLE). */
  #options

  static {
    opsOf = (cache, method) => {
      let ops
      try {
        ops = cache.#ops
      } catch {
        throw incompatibleReceiver(`WeakCache.prototype.${method}`, cache)
      }
      if (ops.store.index === null) throw brokenError(method)
      return ops
    }
    storeOf = (cache, method) => {
      let store
      try {
        store = cache.#store
      } catch {
        throw incompatibleReceiver(`WeakCache.prototype.${method}`, cache)
      }
      if (store.index === null) throw brokenError(method)
      return store
    }
    deliverCollected = (cache, slots) => cache.#ops.deliverCollected(slots)
    injectPanic = (cache) => cache.#ops.store.native.injectPanic()
  }

  /**
   * @param {object} options lru-cache 11's options, plus `weak`; or a WeakCache, to make an empty
   *   cache with the same options.
   */
  constructor(options) {
    const config = configure(isWeakCache(options) ? options.#config() : options)
    const env = environment(config.perf)
    this.#perf = env.perf
    this.#max = config.max
    this.#maxSize = config.maxSize
    this.#shownMax = config.shownMax
    this.#weak = config.weak
    this.#options = {}
    for (const name of Object.keys(MUTABLE)) this.#options[name] = config[name]
    const tracksSizes = config.maxEntrySize > 0
    const store = new SlotStore(
      { max: config.max, maxSize: config.maxSize, tracksSizes, weak: config.weak, fetching: config.fetchMethod !== undefined },
      collectedSlotsHandler(new WeakRef(this)),
    )
    const time = new CacheTime(store, this.#options, env, (key) => this.#ops.deleteFor(key, CAUSE.expire))
    this.#ops = new LoadingOps(this, store, time, this.#options, {
      disposal: new Disposal(this, config.dispose, config.disposeAfter),
      onInsert: config.onInsert,
      tracksSizes,
      fetchMethod: config.fetchMethod,
      memoMethod: config.memoMethod,
    })
    this.#store = store
    if (config.ttl > 0) this.#ops.startClock()
    warnIfUnbounded(config, WeakCache)
  }

  /** The options this cache was made with, as `new WeakCache(cache)` reads them. */
  #config() {
    const ops = this.#ops
    return {
      ...this.#options,
      max: this.#max ?? undefined,
      maxSize: this.#maxSize || undefined,
      maxEntrySize: this.#options.maxEntrySize || undefined,
      dispose: ops.disposal.dispose,
      disposeAfter: ops.disposal.disposeAfter,
      onInsert: ops.onInsert,
      fetchMethod: ops.fetchMethod,
      memoMethod: ops.memoMethod,
      perf: this.#perf,
      weak: this.#weak,
    }
  }

  /** The most pinned entries (0 for no count limit, as in lru-cache, or for a pure weak map). */
  get max() {
    opsOf(this, 'max')
    return this.#shownMax
  }

  /** The most total size of the pinned entries (0: none). */
  get maxSize() {
    opsOf(this, 'maxSize')
    return this.#maxSize
  }

  /** The total size of the pinned entries. */
  get calculatedSize() {
    return opsOf(this, 'calculatedSize').store.calculated[0]
  }

  /** Pinned entries plus weak entries whose collection has not been noticed or delivered yet. */
  get size() {
    return opsOf(this, 'size').store.index.size
  }

  /** Whether object values pushed out of the pinned tier are demoted to the weak tier. */
  get weak() {
    opsOf(this, 'weak')
    return this.#weak
  }

  get perf() {
    opsOf(this, 'perf')
    return this.#perf
  }

  get fetchMethod() {
    return opsOf(this, 'fetchMethod').fetchMethod
  }

  get memoMethod() {
    return opsOf(this, 'memoMethod').memoMethod
  }

  get dispose() {
    return opsOf(this, 'dispose').disposal.dispose
  }

  get disposeAfter() {
    return opsOf(this, 'disposeAfter').disposal.disposeAfter
  }

  get onInsert() {
    return opsOf(this, 'onInsert').onInsert
  }

  get(key, options = undefined) {
    const store = storeOf(this, 'get')
    if (options === undefined && !metrics.hasSubscribers) {
      // The common call, without a status or per-call options: a pinned hit stays in JS.
      const slot = store.index.get(key)
      if (slot === undefined) {
        store.logRead(LOOKED.miss)
        return undefined
      }
      const value = store.values[slot]
      if (value !== undefined && !store.timed) {
        store.logRead(slot)
        return value
      }
      const ops = this.#ops
      if (ops.plainGets) return ops.weakHit(slot)
      const o = this.#options
      return ops.getAt(slot, key, o.allowStale, o.updateAgeOnGet, o.noDeleteOnStaleGet, undefined)
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
    status = this.#status(status, 'get', key, metrics.hasSubscribers)
    const result = this.#ops.get(key, allowStale, updateAgeOnGet, noDeleteOnStaleGet, status)
    if (status) {
      if (result !== undefined) status.value = result
      if (metrics.hasSubscribers) metrics.publish(status)
    }
    return result
  }

  peek(key, options = undefined) {
    const ops = opsOf(this, 'peek')
    let status
    let { allowStale } = this.#options
    options = callOptions(options, 'peek')
    if (options !== undefined) {
      status = statusOption(options.status, 'peek')
      allowStale = flagOption(options.allowStale, allowStale)
    }
    status = this.#status(status, 'peek', key, anyoneListens())
    const result = ops.peek(key, allowStale, status)
    if (metrics.hasSubscribers) metrics.publish(status)
    return result
  }

  has(key, options = undefined) {
    const ops = opsOf(this, 'has')
    let status
    let { updateAgeOnHas } = this.#options
    options = callOptions(options, 'has')
    if (options !== undefined) {
      status = statusOption(options.status, 'has')
      updateAgeOnHas = flagOption(options.updateAgeOnHas, updateAgeOnHas)
    }
    status = this.#status(status, 'has', key, metrics.hasSubscribers)
    const result = ops.has(key, updateAgeOnHas, status)
    if (metrics.hasSubscribers) metrics.publish(status)
    return result
  }

  set(key, value, options = undefined) {
    const ops = opsOf(this, 'set')
    if (options === undefined && value !== undefined && ops.plainAdds && this.#options.ttl === 0 && !metrics.hasSubscribers && ops.store.index.get(key) === undefined) {
      ops.addPlain(key, value) // the common call: a new key, without ttls, sizes or fetches
      return this
    }
    let status
    options = callOptions(options, 'set')
    if (options !== undefined) status = statusOption(options.status, 'set')
    status = this.#status(status, 'set', key, metrics.hasSubscribers)
    if (status && value !== undefined) status.value = value
    ops.set(key, value, options, status)
    if (status && metrics.hasSubscribers) metrics.publish(status)
    return this
  }

  delete(key) {
    return opsOf(this, 'delete').deleteFor(key, CAUSE.delete)
  }

  clear() {
    opsOf(this, 'clear').clear()
  }

  /** Evicts the least recent entry and returns its value (undefined when the cache is empty). */
  pop() {
    return opsOf(this, 'pop').pop()
  }

  /** Removes every stale entry; returns whether there was any. */
  purgeStale() {
    return opsOf(this, 'purgeStale').purgeStale()
  }

  /** Milliseconds until the entry is stale (negative: past); Infinity without a ttl; 0 if absent. */
  getRemainingTTL(key) {
    const { store, time } = opsOf(this, 'getRemainingTTL')
    const slot = store.index.get(key)
    if (slot === undefined) return 0
    if (store.values[slot] === undefined && store.fetches?.[slot] === undefined) {
      // A weak entry: only if its value is still there.
      if (store.lookupWeak(slot, time.nowFor(slot), true) === undefined) return 0
    }
    return time.remainingTTL(slot)
  }

  /** An entry's value, and its ttl left and size: `{ value, ttl?, start?, size? }`, stale or not. */
  info(key) {
    const ops = opsOf(this, 'info')
    const slot = ops.store.index.get(key)
    if (slot === undefined) return undefined
    const value = ops.valueAt(slot)
    if (value === undefined) return undefined
    const entry = { value }
    ops.time.infoTTL(entry, slot)
    if (ops.tracksSizes) entry.size = ops.store.sizeOf(slot)
    return entry
  }

  /** Every entry as `[key, { value, ttl?, start?, size? }]`, least recent first, for `load`. */
  dump() {
    const ops = opsOf(this, 'dump')
    const { store } = ops
    const entries = []
    for (const slot of ops.order(true)) {
      const key = store.keys[slot]
      const value = ops.valueAt(slot)
      // lru-cache's dump leaves out the entry of the key undefined.
      if (value === undefined || key === undefined) continue
      const entry = { value }
      ops.time.dumpTTL(entry, slot)
      if (ops.tracksSizes) entry.size = store.sizeOf(slot)
      entries.push([key, entry])
    }
    return entries
  }

  /** Clears the cache and sets the entries of a `dump()`, in order. */
  load(entries) {
    const ops = opsOf(this, 'load')
    if (entries === null || typeof entries !== 'object' || typeof entries[Symbol.iterator] !== 'function') {
      throw invalidType('WeakCache.prototype.load: entries', 'an array of [key, { value, ttl?, start?, size? }], as dump() returns', entries)
    }
    ops.clear()
    for (const pair of entries) {
      const [key, entry] = pair
      if (entry === null || typeof entry !== 'object') throw invalidType('WeakCache.prototype.load: an entry', 'an object { value, ttl?, start?, size? }', entry)
      ops.set(key, entry.value, { ttl: entry.ttl, start: ops.time.loadedStart(entry.start), size: entry.size }, undefined)
    }
  }

  /** The value of the first entry (most recent first) for which `fn(value, key, cache)` is truthy,
   * looked up as `get(key, options)` does. */
  find(fn, options = undefined) {
    const ops = opsOf(this, 'find')
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
    for (const [key, value] of ops.walk(false, o.allowStale, true)) {
      if (fn(value, key, this)) return ops.get(key, allowStale, updateAgeOnGet, noDeleteOnStaleGet, status)
    }
    return undefined
  }

  /** Counters since construction, and the current size of each tier. */
  stats() {
    return opsOf(this, 'stats').store.native.stats()
  }

  entries() {
    return this.#entries(opsOf(this, 'entries'), ENTRIES, false)
  }

  keys() {
    return this.#entries(opsOf(this, 'keys'), KEYS, false)
  }

  values() {
    return this.#entries(opsOf(this, 'values'), VALUES, false)
  }

  /** entries(), least recent first. */
  rentries() {
    return this.#entries(opsOf(this, 'rentries'), ENTRIES, true)
  }

  /** keys(), least recent first. */
  rkeys() {
    return this.#entries(opsOf(this, 'rkeys'), KEYS, true)
  }

  /** values(), least recent first. */
  rvalues() {
    return this.#entries(opsOf(this, 'rvalues'), VALUES, true)
  }

  forEach(callbackfn, thisArg = this) {
    this.#forEach(callbackfn, thisArg, false, 'forEach')
  }

  /** forEach(), least recent first. */
  rforEach(callbackfn, thisArg = this) {
    this.#forEach(callbackfn, thisArg, true, 'rforEach')
  }

  /**
   * The value of `key`: a fresh entry's value at once; otherwise `fetchMethod(key, staleValue, {
   * signal, options, context })` loads it (one call at a time per key: concurrent fetches share
   * it), and the cache stores what it resolves to.
   */
  fetch(key, options = undefined) {
    const ops = opsOf(this, 'fetch')
    options = callOptions(options, 'fetch')
    const status = this.#fetchStatus(options, 'fetch')
    const traced = tracing.hasSubscribers === true
    const promise = ops.fetch(key, options, status)
    return traced ? trace(promise, status) : promise
  }

  /** fetch(), but a result of undefined rejects. */
  forceFetch(key, options = undefined) {
    const ops = opsOf(this, 'forceFetch')
    options = callOptions(options, 'forceFetch')
    const status = this.#fetchStatus(options, 'forceFetch')
    const traced = tracing.hasSubscribers === true
    const promise = ops.forceFetch(key, options, status)
    return traced ? trace(promise, status) : promise
  }

  /** get(key), or else `memoMethod(key, staleValue, { options, context })`, stored and returned. */
  memo(key, options = undefined) {
    const ops = opsOf(this, 'memo')
    let status
    options = callOptions(options, 'memo')
    if (options !== undefined) status = statusOption(options.status, 'memo')
    if (status === undefined && metrics.hasSubscribers) status = {}
    if (status) {
      status.op = 'memo'
      status.key = key
      if (options?.context) status.context = options.context
      nameCache(status, this)
    }
    const result = ops.memo(key, options, status)
    if (status) status.value = result
    if (metrics.hasSubscribers) metrics.publish(status)
    return result
  }

  /** The status object of a call: the caller's, or one made for the channels (`wanted`), with
   * lru-cache's first fields. */
  #status(status, op, key, wanted) {
    if (status === undefined && wanted) status = {}
    if (status) {
      status.op = op
      status.key = key
      nameCache(status, this)
    }
    return status
  }

  #fetchStatus(options, method) {
    let status
    if (options !== undefined) status = statusOption(options.status, method)
    if (status === undefined && anyoneListens()) status = {}
    if (status && options?.context) status.context = options.context
    return status
  }

  /** Entries in order (least recent first with `reverse`), fetches in flight left out. */
  *#entries(ops, kind, reverse) {
    for (const [key, value, fetch] of ops.walk(reverse, this.#options.allowStale, false)) {
      // As in lru-cache: a fetch in flight is not listed, nor (but by values()) the key undefined.
      if (fetch || (key === undefined && kind !== VALUES)) continue
      yield kind === KEYS ? key : kind === VALUES ? value : [key, value]
    }
  }

  #forEach(callbackfn, thisArg, reverse, method) {
    const ops = opsOf(this, method)
    if (typeof callbackfn !== 'function') throw invalidType(`WeakCache.prototype.${method}: callback`, 'a function', callbackfn)
    for (const [key, value] of ops.walk(reverse, this.#options.allowStale, true)) apply(callbackfn, thisArg, [value, key, this])
  }
}

function isWeakCache(value) {
  try {
    opsOf(value, 'constructor')
    return true
  } catch {
    return false
  }
}

/** A status object given in options: an object to fill in; undefined or any falsy value for none
 * (undefined lets the cache make one for the diagnostics channel, as lru-cache). */
function statusOption(status, method) {
  if (!status || typeof status === 'object' || typeof status === 'function') return status
  throw invalidType(`WeakCache.prototype.${method}: options.status`, 'an object to fill in', status)
}

/** fetch()'s promise on the 'lru-cache' tracing channel, as lru-cache traces it. */
function trace(promise, status) {
  if (status) {
    status.trace = true
    tracing.tracePromise(() => promise, status).catch(noop)
  }
  return promise
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

for (const [name, check] of Object.entries(MUTABLE)) {
  Object.defineProperty(WeakCache.prototype, name, {
    get() {
      return opsOf(this, name).options[name]
    },
    set(value) {
      opsOf(this, name).options[name] = check(value)
    },
    configurable: true,
  })
}
Object.defineProperty(WeakCache.prototype, Symbol.iterator, { value: WeakCache.prototype.entries, writable: true, configurable: true })
Object.defineProperty(WeakCache.prototype, Symbol.toStringTag, { value: 'WeakCache', configurable: true })

// `forSpecs` is not part of the package's API (index.js exports WeakCache only).
module.exports = { WeakCache, forSpecs: { injectPanic, protocol } }
