'use strict'
// lru-cache 11.5's operations on a WeakCache's entries: get, peek, has, set, delete, clear, pop,
// purgeStale, the walk its iterators take, and the reports of removals (dispose, disposeAfter,
// aborted fetches) in lru-cache's order. The public class (lib/weak-cache.js) reads a call's
// options and status; the entries are the store's (lib/weak-cache-store.js) and time is
// lib/weak-cache-time.js's. Fetches and memo build on these (lib/weak-cache-fetch.js).

const { Array, Error, Map, Reflect } = require('./primordials.js')
const { invalidType, makeError, invalidValue, warn } = require('./errors.js')
const { IO, STATUS, FLAG, CAUSE, LOOKED, REASONS } = require('./weak-cache-native.js')
const { NO_REMOVALS } = require('./weak-cache-store.js')
const { BackgroundFetch } = require('./weak-cache-fetch.js')
const { metrics, deleteMessage } = require('./weak-cache-channels.js')
const { callTtlOption, flagOption, isPositiveInteger } = require('./weak-cache-options.js')

const { apply } = Reflect

class CacheOps {
  /** The WeakCache these operations are of (callbacks get it as `this`, messages name it). */
  cache
  store
  time
  /** The options lru-cache lets its users change (see lib/weak-cache.js). */
  options
  disposal
  /** Whether `disposeAfter` is set (its queue needs flushing). */
  hasDisposeAfter
  onInsert
  tracksSizes
  /** Whether a new key's set may skip ttls, sizes and fetches (addPlain): no clock, no sizes, no
   * fetchMethod. */
  plainAdds
  /** Whether a get may skip staleness and fetches (weakHit): no clock, no fetchMethod. */
  plainGets

  constructor(cache, store, time, options, { disposal, onInsert, tracksSizes }) {
    this.cache = cache
    this.store = store
    this.time = time
    this.options = options
    this.disposal = disposal
    this.hasDisposeAfter = disposal.disposeAfter !== undefined
    this.onInsert = onInsert
    this.tracksSizes = tracksSizes
    this.plainAdds = !tracksSizes && store.fetches === null
    this.plainGets = store.fetches === null
    store.reportsRemovals = disposal.listening || store.fetches !== null
  }

  /** Turns on the clock, for the first entry with a ttl. */
  startClock() {
    this.time.start()
    this.plainAdds = false
    this.plainGets = false
  }

  get(key, allowStale, updateAgeOnGet, noDeleteOnStaleGet, status) {
    const slot = this.store.index.get(key)
    if (slot === undefined) {
      if (status) status.get = 'miss'
      this.store.logRead(LOOKED.miss)
      return undefined
    }
    return this.getAt(slot, key, allowStale, updateAgeOnGet, noDeleteOnStaleGet, status)
  }

  /** A get of a weak entry where nothing can be stale or fetching (no clock, no fetchMethod):
   * a weak hit, or a value the GC took. */
  weakHit(slot) {
    const { store } = this
    const { values, io } = store
    const weak = store.native.get(0, slot, 0, 0, values, values[io[IO.tail]])
    if (io[IO.status] !== STATUS.live) {
      store.forget(slot, true)
      store.logRead(LOOKED.miss)
      return undefined
    }
    values[slot] = weak
    if (io[IO.pushedCount] === 1 && io[IO.pushed + 1] === IO.demoted) {
      values[io[IO.pushed]] = undefined // the usual case: the least recent pinned entry demoted
      store.logRead(LOOKED.weakHit) // (after the reply is read: a full log calls the native side)
    } else {
      const removals = store.applyPushed(NO_REMOVALS)
      store.logRead(LOOKED.weakHit)
      if (removals !== NO_REMOVALS) this.report(removals)
      this.flush()
    }
    return weak
  }

  /** lru-cache's #get for the entry of `key` in `slot`. */
  getAt(slot, key, allowStale, updateAgeOnGet, noDeleteOnStaleGet, status) {
    const fetch = this.store.fetches?.[slot]
    const pinned = this.store.values[slot]
    const now = this.time.nowFor(slot)
    if (status) this.time.statusTTL(status, slot, now)
    if (pinned !== undefined && (!this.time.timed || (!updateAgeOnGet && this.time.freshInJs(slot, now)))) {
      this.store.logRead(slot)
      if (status) status.get = 'hit'
      return pinned
    }
    const values = this.store.values
    const flags = (updateAgeOnGet ? FLAG.updateAge : 0) | (noDeleteOnStaleGet || fetch !== undefined ? FLAG.keepStale : 0)
    const weak = this.store.native.get(flags, slot, now, this.time.restartTime(updateAgeOnGet), values, values[this.store.io[IO.tail]])
    switch (this.store.io[IO.status]) {
      case STATUS.live: {
        if (pinned === undefined && fetch === undefined) values[slot] = weak
        if (updateAgeOnGet) this.time.ageRestarted(slot)
        const removals = this.store.applyPushed(NO_REMOVALS)
        if (status) status.get = fetch === undefined ? 'hit' : 'fetching'
        const value = fetch === undefined ? (pinned ?? weak) : fetch.stale
        this.store.logRead(value === undefined ? LOOKED.miss : pinned === undefined && fetch === undefined ? LOOKED.weakHit : LOOKED.hit)
        this.report(removals)
        this.flush()
        return value
      }
      case STATUS.stale: {
        if (fetch !== undefined) {
          if (status) status.get = 'stale-fetching'
          const served = allowStale && fetch.stale !== undefined
          this.store.logRead(served ? LOOKED.staleHit : LOOKED.miss)
          if (!served) return undefined
          if (status) status.returnedStale = true
          return fetch.stale
        }
        if (status) status.get = 'stale'
        this.store.logRead(allowStale ? LOOKED.staleHit : LOOKED.miss)
        if (!allowStale) return undefined
        if (status) status.returnedStale = true
        return pinned ?? weak
      }
      case STATUS.expired: {
        const value = pinned ?? weak
        const stored = this.store.forget(slot, false)
        this.store.logRead(allowStale ? LOOKED.staleHit : LOOKED.miss)
        if (metrics.hasSubscribers) metrics.publish(deleteMessage('expire', key, this.cache))
        this.disposal.removed(value, this.store.index.size === 0 ? stored : key, 'expire')
        this.flush()
        if (status) status.get = 'stale'
        if (!allowStale) return undefined
        if (status) status.returnedStale = true
        return value
      }
      default:
        this.store.forget(slot, true)
        this.store.logRead(LOOKED.miss)
        if (status) status.get = 'miss'
        return undefined
    }
  }

  peek(key, allowStale, status) {
    const slot = this.store.index.get(key)
    if (slot === undefined) {
      if (status) status.peek = 'miss'
      return undefined
    }
    const fetch = this.store.fetches?.[slot]
    const pinned = this.store.values[slot]
    let value
    if ((pinned !== undefined || fetch !== undefined) && (!this.time.timed || allowStale || this.time.freshInJs(slot, this.time.nowFor(slot)))) {
      value = fetch === undefined ? pinned : fetch.stale
    } else {
      const weak = this.store.native.peek(0, slot, this.time.nowFor(slot), 0)
      const found = this.store.io[IO.status]
      if (found === STATUS.collected) {
        this.store.forget(slot, true)
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

  has(key, updateAgeOnHas, status) {
    const slot = this.store.index.get(key)
    if (slot === undefined) {
      if (status) status.has = 'miss'
      return false
    }
    const fetch = this.store.fetches?.[slot]
    if (fetch !== undefined && fetch.stale === undefined) return false
    const held = this.store.values[slot] !== undefined || fetch !== undefined
    if (held && (!this.time.timed || (!updateAgeOnHas && this.time.freshInJs(slot, this.time.nowFor(slot))))) {
      if (status) {
        status.has = 'hit'
        this.time.statusTTL(status, slot)
      }
      return true
    }
    this.store.native.peek(updateAgeOnHas ? FLAG.updateAge : 0, slot, this.time.nowFor(slot), this.time.restartTime(updateAgeOnHas))
    const found = this.store.io[IO.status]
    if (found === STATUS.collected) {
      this.store.forget(slot, true)
      if (status) status.has = 'miss'
      return false
    }
    if (found === STATUS.live && updateAgeOnHas) this.time.ageRestarted(slot)
    if (status) {
      status.has = found === STATUS.live ? 'hit' : 'stale'
      this.time.statusTTL(status, slot)
    }
    return found === STATUS.live
  }

  /** #set's work for a new key in a cache that has no ttl in use, no sizes and no fetchMethod:
   * the common case, without the options that do not apply. */
  addPlain(key, value) {
    const { store } = this
    const { io } = store
    store.native.insert(0, value, 0, 0, 0, store.values, store.values[io[IO.tail]])
    const slot = io[IO.slot]
    if (slot >= store.keys.length) store.grow(slot)
    const { values } = store
    // A full cache pushed out its least recent entry first, maybe from this very slot (see the
    // protocol): that is applied before the new entry is stored, but in a pure weak map, where it
    // is the new entry itself that is pushed out. The usual cases: one entry demoted, or one
    // evicted that no one is told of.
    let removals = NO_REMOVALS
    const pushed = io[IO.pushedCount]
    if (store.max !== 0 && pushed !== 0) {
      if (pushed !== 1) removals = store.applyPushed(NO_REMOVALS)
      else if (io[IO.pushed + 1] === IO.demoted) values[io[IO.pushed]] = undefined
      else if (!store.reportsRemovals) store.forget(io[IO.pushed], false)
      else removals = store.applyPushed(NO_REMOVALS)
    }
    store.keys[slot] = key
    values[slot] = value
    store.index.set(key, slot)
    if (store.max === 0) removals = store.applyPushed(NO_REMOVALS)
    if (removals !== NO_REMOVALS) this.report(removals)
    if (this.onInsert !== undefined) this.callOnInsert(value, key, 'add')
    if (this.hasDisposeAfter) this.flush()
  }

  /** lru-cache's #set: adds, replaces or (for undefined) deletes; `value` may be a fetch that
   * holds a new entry. `resolving` is the fetch in flight whose own result `value` is. */
  set(key, value, setOptions, status, resolving = undefined) {
    if (value === undefined) {
      if (status) status.set = 'deleted'
      this.deleteFor(key, CAUSE.delete)
      return
    }
    const o = this.options
    let { ttl, noDisposeOnSet, noUpdateTTL, sizeCalculation } = o
    let start
    let size = 0
    if (setOptions !== undefined) {
      if (setOptions.ttl !== undefined) ttl = callTtlOption(setOptions.ttl, 'set options.ttl')
      // null reads as 0 (never stale), as lru-cache's Float64Array of starts stores it.
      start = setOptions.start === null ? 0 : setOptions.start
      if (start !== undefined && typeof start !== 'number') {
        throw invalidType('WeakCache.prototype.set: options.start', 'a time of the cache clock (a number)', start)
      }
      noDisposeOnSet = flagOption(setOptions.noDisposeOnSet, noDisposeOnSet)
      noUpdateTTL = flagOption(setOptions.noUpdateTTL, noUpdateTTL)
      if (setOptions.sizeCalculation !== undefined) sizeCalculation = setOptions.sizeCalculation
      size = setOptions.size || 0
    }
    const fetch = this.store.fetches !== null && value instanceof BackgroundFetch ? value : undefined
    if (status && fetch === undefined) status.value = value
    if (this.tracksSizes) {
      // A fetch in flight has the size it was given, else backgroundFetchSize (lru-cache 11.5).
      if (fetch === undefined) size = requireSize(key, value, size, sizeCalculation)
      else if (!isPositiveInteger(size)) size = o.backgroundFetchSize
    } else if (size || sizeCalculation) {
      throw makeError('ERR_INVALID_ARG_VALUE', 'WeakCache.prototype.set: a size needs options.maxSize or options.maxEntrySize (cannot set size without setting maxSize or maxEntrySize on cache)')
    }
    if (o.maxEntrySize && size > o.maxEntrySize) {
      // Too large to keep: whatever the key held goes (reason 'set').
      this.deleteFor(key, CAUSE.set)
      if (status) {
        status.set = 'miss'
        status.maxEntrySizeExceeded = true
      }
      return
    }
    if (ttl > 0 && !this.time.timed) this.startClock()
    if (this.time.timed && start === undefined) start = ttl > 0 ? this.time.fresh() : 0
    const values = this.store.values
    let slot = this.store.index.get(key)
    let old
    let oldFetch
    let added = slot === undefined
    if (!added) {
      // A pinned entry, a fetch in flight, or a weak entry (its old value comes back from Rust;
      // for Rust a weak entry always changes, since JS cannot compare before the call).
      oldFetch = this.store.fetches?.[slot]
      old = values[slot]
      const changed = old === undefined ? oldFetch !== value : old !== value
      const flags = (changed ? FLAG.changed : 0) | (noUpdateTTL ? 0 : FLAG.updateTtl) | (fetch !== undefined ? FLAG.strong : 0)
      // Stored first: Rust reads it there if the entry is demoted at once (max 0).
      if (fetch === undefined) values[slot] = value
      const weak = this.store.native.replace(flags, slot, ttl, start ?? 0, size, values, values[this.store.io[IO.tail]])
      if (this.store.io[IO.status] === STATUS.collected) {
        this.store.forget(slot, true)
        added = true
      } else if (old === undefined && oldFetch === undefined) {
        old = weak
      }
    }
    let removals = NO_REMOVALS
    if (added) {
      const strong = fetch === undefined ? 0 : FLAG.strong
      this.store.native.insert(strong, fetch === undefined ? value : undefined, ttl, start ?? 0, size, values, values[this.store.io[IO.tail]])
      slot = this.store.io[IO.slot]
      if (slot >= this.store.keys.length) this.store.grow(slot)
      // The entry a full cache pushed out first may have had this slot (see #addPlain).
      if (this.store.max !== 0) removals = this.store.applyPushed(NO_REMOVALS)
      this.store.keys[slot] = key
      this.store.index.set(key, slot)
      this.store.coverFacts(slot)
    }
    if (fetch === undefined) {
      this.store.values[slot] = value
      if (oldFetch !== undefined) this.store.fetches[slot] = undefined
    } else {
      this.store.values[slot] = undefined
      this.store.fetches[slot] = fetch
      fetch.slot = slot
    }
    if (!added || this.store.max === 0) removals = this.store.applyPushed(NO_REMOVALS)
    if (added || !noUpdateTTL) this.time.timedAgain(slot, ttl)
    // lru-cache 11.5's reading of a set: the value the key showed before (a fetch's stale value)
    // decides between add, replace and update.
    const changed = !added && (oldFetch ?? old) !== value
    const previous = oldFetch === undefined ? old : oldFetch.stale
    const setType = added || (changed && previous === undefined) ? 'add' : changed && previous !== value ? 'replace' : 'update'
    if (status && fetch === undefined) {
      status.set = setType
      if (changed && previous !== undefined) status.oldValue = previous
      if (this.tracksSizes) {
        status.entrySize = size
        status.totalCalculatedSize = this.store.calculated[0]
      }
      if (this.time.timed) this.time.statusTTL(status, slot)
    }
    // User code, in lru-cache's order: the replaced value, the evictions, onInsert, disposeAfter.
    if (changed) {
      if (oldFetch !== undefined) {
        // A fetch's own result does not abort it.
        if (oldFetch !== resolving) oldFetch.abort(new Error('replaced'))
        if (!noDisposeOnSet && previous !== undefined && previous !== value) this.disposal.removed(previous, key, 'set')
      } else if (!noDisposeOnSet) {
        this.disposal.removed(old, key, 'set')
      }
    }
    this.report(removals)
    if (this.onInsert !== undefined && fetch === undefined) this.callOnInsert(value, key, setType)
    // Every removal this set caused reaches disposeAfter before it returns, noDisposeOnSet or not
    // (noDisposeOnSet only spares the replaced value).
    this.flush()
  }

  /** lru-cache's #delete: removes the key's entry for `cause` (publishing the removal first). */
  deleteFor(key, cause) {
    if (metrics.hasSubscribers) metrics.publish(deleteMessage(REASONS[cause], key, this.cache))
    const slot = this.store.index.get(key)
    let deleted = false
    if (slot !== undefined) {
      const weak = this.store.native.remove(slot, cause)
      if (this.store.io[IO.status] === STATUS.collected) {
        this.store.forget(slot, true)
      } else {
        deleted = true
        const fetch = this.store.fetches?.[slot]
        const value = this.store.values[slot] ?? weak
        // lru-cache reports the key as given, but as stored when it was the only entry (-0 or 0).
        const stored = this.store.forget(slot, false)
        this.report1(value, this.store.index.size === 0 ? stored : key, cause, fetch, 'deleted')
      }
    }
    this.flush()
    return deleted
  }

  clear() {
    // Every entry, least recent first ([slot, a weak entry's value, ...]); entries found collected
    // stay in #keys until their 'collect' is delivered.
    const removed = this.store.native.clear()
    const keys = this.store.keys
    const records = []
    for (let i = 0; i < removed.length; i += 2) {
      const slot = removed[i]
      records.push(this.store.values[slot] ?? removed[i + 1], keys[slot], CAUSE.delete, this.store.fetches?.[slot])
      keys[slot] = undefined
      this.store.values[slot] = undefined
      if (this.store.fetches !== null) this.store.fetches[slot] = undefined
    }
    this.time.cleared()
    this.store.index = new Map()
    this.report(records)
    this.flush()
  }

  /** Evicts the least recent entry and returns its value (undefined when the cache is empty). */
  pop() {
    try {
      for (;;) {
        const popped = this.store.native.pop()
        if (popped === undefined) return undefined
        const slot = popped[0]
        const fetch = this.store.fetches?.[slot]
        const value = this.store.values[slot] ?? popped[1]
        const key = this.store.forget(slot, false)
        this.report1(value, key, CAUSE.evict, fetch, 'evicted')
        if (fetch === undefined) return value
        if (fetch.stale !== undefined) return fetch.stale
        // A fetch without a value: pop the next entry, as lru-cache does.
      }
    } finally {
      this.flush()
    }
  }

  /** Removes every stale entry; returns whether there was any. */
  purgeStale() {
    if (!this.time.timed) return false
    const removed = this.store.native.purge(this.time.anyTtl() ? this.time.now() : 0)
    const records = []
    for (let i = 0; i < removed.length; i += 2) {
      const slot = removed[i]
      const value = this.store.values[slot] ?? removed[i + 1]
      const fetch = this.store.fetches?.[slot]
      records.push(value, this.store.forget(slot, false), CAUSE.expire, fetch)
    }
    for (let i = 0; i < records.length; i += 4) {
      if (metrics.hasSubscribers) metrics.publish(deleteMessage('expire', records[i + 1], this.cache))
      this.report1(records[i], records[i + 1], CAUSE.expire, records[i + 3], 'deleted')
      this.flush()
    }
    return records.length > 0
  }

  /** Every entry's slot, most recent first (least recent first with `reverse`), stale ones too. */
  order(reverse) {
    return this.store.native.order(FLAG.allowStale | (reverse ? FLAG.reverse : 0), 0)
  }

  /** Tells of removals [value, key, cause, fetch, ...]: dispose, or abort the fetch that held the
   * entry. */
  report(removals) {
    if (!this.store.reportsRemovals) return
    for (let i = 0; i < removals.length; i += 4) {
      this.report1(removals[i], removals[i + 1], removals[i + 2], removals[i + 3], removals[i + 2] === CAUSE.evict ? 'evicted' : 'deleted')
    }
  }

  /** An entry left for `cause`: its fetch in flight, if any, is aborted (with lru-cache's reason),
   * and its value (a fetch's stale value) disposed. */
  report1(value, key, cause, fetch, abortReason) {
    if (fetch !== undefined) {
      fetch.abort(new Error(abortReason))
      value = fetch.stale
      if (value === undefined) return
    }
    this.disposal.removed(value, key, REASONS[cause])
  }

  flush() {
    if (this.hasDisposeAfter && this.disposal.pending) this.disposal.flush()
  }

  callOnInsert(value, key, reason) {
    try {
      apply(this.onInsert, this.cache, [value, key, reason])
    } catch (thrown) {
      warn('WeakCacheWarning', 'ERR_EPHEMERON_DISPOSE_THREW', `WeakCache onInsert threw for a key (reason '${reason}')`, thrown)
    }
  }

  /** Entries whose values the GC collected: 'collect' for each, once every one has left (Rust
   * has freed their slots, and a dispose that sets a key may be given one of them again). */
  deliverCollected(slots) {
    for (const key of this.store.takeCollected(slots)) this.disposal.removed(undefined, key, 'collect')
    this.flush()
  }

  /**
   * [key, value, isFetch] of the live entries, most recent first (least recent first with
   * `reverse`): a snapshot of the keys, each looked up (without refreshing it) when reached, so
   * entries removed, collected or stale by then are skipped. A fetch in flight yields its stale
   * value (if any) when `withFetches`, and is yielded with isFetch otherwise.
   */
  *walk(reverse, allowStale, withFetches) {
    const slots = this.order(reverse)
    const keys = new Array(slots.length)
    for (let i = 0; i < slots.length; i++) keys[i] = this.store.keys[slots[i]]
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]
      const slot = slots[i]
      if (this.store.liveIndex('entries').get(key) !== slot) continue
      const fetch = this.store.fetches?.[slot]
      if (fetch !== undefined) {
        if (!this.staleAllowed(slot, allowStale)) continue
        if (!withFetches) yield [key, undefined, true]
        else if (fetch.stale !== undefined) yield [key, fetch.stale, false]
        continue
      }
      const pinned = this.store.values[slot]
      let value
      if (pinned !== undefined) {
        if (!this.staleAllowed(slot, allowStale)) continue
        value = pinned
      } else {
        value = this.store.lookupWeak(slot, this.time.nowFor(slot), allowStale)
        if (value === undefined) continue
      }
      yield [key, value, false]
    }
  }

  /** Whether a pinned entry may be shown: fresh, or stale with `allowStale`. */
  staleAllowed(slot, allowStale) {
    if (!this.time.timed || allowStale) return true
    const now = this.time.nowFor(slot)
    if (this.time.freshInJs(slot, now)) return true
    this.store.native.peek(0, slot, now, 0)
    return this.store.io[IO.status] === STATUS.live
  }

  /** The value an entry shows in info() and dump(): stale or not, a fetch's stale value. */
  valueAt(slot) {
    const fetch = this.store.fetches?.[slot]
    if (fetch !== undefined) return fetch.stale
    return this.store.values[slot] ?? this.store.lookupWeak(slot, this.time.nowFor(slot), true)
  }
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

module.exports = { CacheOps }
