'use strict'
// fetch(), forceFetch() and memo() on a WeakCache, with lru-cache 11.5's semantics: loads through
// `fetchMethod` (one at a time per key: concurrent fetches share it), stale values served while a
// load runs, and `memoMethod`. A fetch in flight holds its entry (lib/weak-cache-fetch.js); these
// are the operations that start, join and end one, built on lib/weak-cache-ops.js's.

const { Object } = require('./primordials.js')
const { makeError } = require('./errors.js')
const { IO, STATUS, FLAG, CAUSE, LOOKED } = require('./weak-cache-native.js')
const { NO_REMOVALS } = require('./weak-cache-store.js')
const { flagOption } = require('./weak-cache-options.js')
const { CacheOps } = require('./weak-cache-ops.js')
const { nameCache } = require('./weak-cache-channels.js')
const { BackgroundFetch } = require('./weak-cache-fetch.js')

const COLLECTED_ENTRY = Object.freeze({ value: undefined, stale: false })
const NO_OPTIONS = Object.freeze({})

class LoadingOps extends CacheOps {
  fetchMethod
  memoMethod
  /** The cache's side of a fetch's outcomes (see lib/weak-cache-fetch.js). */
  hooks

  constructor(cache, store, time, options, config) {
    super(cache, store, time, options, config)
    this.fetchMethod = config.fetchMethod
    this.memoMethod = config.memoMethod
    if (config.fetchMethod !== undefined) {
      this.hooks = {
        held: (fetch) => store.fetches[fetch.slot] === fetch,
        slotFree: (fetch) => store.index !== null && store.index.get(store.keys[fetch.slot]) !== fetch.slot,
        store: (fetch, value) => this.set(fetch.key, value, fetch.options, fetch.options.status, fetch),
        restore: (fetch) => this.restoreStale(fetch),
        drop: (fetch) => this.deleteFor(fetch.key, CAUSE.fetch),
      }
    }
  }

  memo(key, memoOptions, status) {
    const memoMethod = this.memoMethod
    if (memoMethod === undefined) {
      throw makeError('ERR_EPHEMERON_NO_MEMO_METHOD', 'WeakCache.prototype.memo: the cache has no memoMethod (no memoMethod provided to constructor)')
    }
    // `rest` is what memoMethod gets as `options`: the call's options but these three.
    const { context, status: _status, forceRefresh: _forceRefresh, ...rest } = memoOptions ?? NO_OPTIONS
    const forceRefresh = !!memoOptions?.forceRefresh
    if (status && forceRefresh) status.forceRefresh = true
    const o = this.options
    const allowStale = flagOption(rest.allowStale, o.allowStale)
    const updateAgeOnGet = flagOption(rest.updateAgeOnGet, o.updateAgeOnGet)
    const noDeleteOnStaleGet = flagOption(rest.noDeleteOnStaleGet, o.noDeleteOnStaleGet)
    const value = this.get(key, allowStale, updateAgeOnGet, noDeleteOnStaleGet, undefined)
    const refresh = forceRefresh || value === undefined
    if (status) {
      status.memo = refresh ? 'miss' : 'hit'
      if (!refresh) status.value = value
    }
    if (!refresh) return value
    const computed = memoMethod(key, value, { options: rest, context })
    if (status) status.value = computed
    this.set(key, computed, rest, undefined)
    return computed
  }

  async forceFetch(key, options, status) {
    const value = await this.fetch(key, options, status)
    if (value === undefined) throw makeError('ERR_EPHEMERON_FETCH_UNDEFINED', 'WeakCache.prototype.forceFetch: fetch() returned undefined')
    return value
  }

  async fetch(key, fetchOptions, status) {
    const o = this.options
    const given = fetchOptions ?? NO_OPTIONS
    const pick = (name) => flagOption(given[name], o[name])
    const forceRefresh = !!given.forceRefresh
    const updateAgeOnGet = pick('updateAgeOnGet')
    if (status) {
      status.op = 'fetch'
      status.key = key
      if (forceRefresh) status.forceRefresh = true
      nameCache(status, this.cache)
    }
    if (this.fetchMethod !== undefined && !forceRefresh) {
      // A fresh pinned value: a hit, answered before anything for a load is made.
      const slot = this.store.index.get(key)
      const pinned = slot === undefined ? undefined : this.store.values[slot]
      if (pinned !== undefined && (!this.time.timed || (!updateAgeOnGet && this.time.freshInJs(slot, this.time.nowFor(slot))))) {
        this.store.logRead(slot)
        if (status) {
          status.fetch = 'hit'
          this.time.statusTTL(status, slot)
        }
        return pinned
      }
    }
    const allowStale = pick('allowStale')
    const noDeleteOnStaleGet = pick('noDeleteOnStaleGet')
    if (this.fetchMethod === undefined) {
      if (status) status.fetch = 'get'
      return this.get(key, allowStale, updateAgeOnGet, noDeleteOnStaleGet, status)
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
    let slot = this.store.liveIndex('fetch').get(key)
    if (slot !== undefined) {
      const inFlight = this.store.fetches[slot]
      if (inFlight !== undefined) {
        this.store.logRead(LOOKED.hit) // joins the load in flight: no load of its own
        const stale = allowStale && inFlight.stale !== undefined
        if (status) {
          status.fetch = 'inflight'
          if (stale) status.returnedStale = true
        }
        return stale ? inFlight.stale : awaited(inFlight)
      }
      const found = this.lookupForFetch(slot, updateAgeOnGet, forceRefresh)
      if (found === COLLECTED_ENTRY) {
        slot = undefined
      } else if (!forceRefresh && !found.stale) {
        if (status) {
          status.fetch = 'hit'
          this.time.statusTTL(status, slot)
        }
        return found.value
      } else {
        // A stale value found is a hit (counted as stale) even as it is refreshed; a forced
        // refresh of a fresh one is a load: a miss.
        this.store.logRead(found.stale ? LOOKED.staleHit : LOOKED.miss)
        const fetch = this.startFetch(key, slot, found.value, options, context)
        const staleValue = allowStale && fetch.stale !== undefined
        if (status) {
          status.fetch = found.stale ? 'stale' : 'refresh'
          if (staleValue && found.stale) status.returnedStale = true
        }
        return staleValue ? fetch.stale : awaited(fetch)
      }
    }
    if (status) status.fetch = 'miss'
    this.store.logRead(LOOKED.miss)
    return awaited(this.startFetch(key, undefined, undefined, options, context))
  }

  /** fetch()'s look at an existing entry: a fresh one is touched as by `get` (a hit); a stale one,
   * or any with forceRefresh, is left where it is. Returns { value, stale } or COLLECTED_ENTRY. */
  lookupForFetch(slot, updateAgeOnGet, forceRefresh) {
    const pinned = this.store.values[slot]
    const now = this.time.nowFor(slot)
    if (pinned !== undefined && !forceRefresh && (!this.time.timed || (!updateAgeOnGet && this.time.freshInJs(slot, now)))) {
      this.store.logRead(slot)
      return { value: pinned, stale: false }
    }
    const values = this.store.values
    const weak = forceRefresh
      ? this.store.native.peek(0, slot, now, 0)
      : this.store.native.get((updateAgeOnGet ? FLAG.updateAge : 0) | FLAG.keepStale, slot, now, this.time.restartTime(updateAgeOnGet), values, values[this.store.io[IO.tail]])
    const status = this.store.io[IO.status]
    if (status === STATUS.collected) {
      this.store.forget(slot, true)
      return COLLECTED_ENTRY
    }
    const value = pinned ?? weak
    if (status === STATUS.live && !forceRefresh) {
      if (pinned === undefined) values[slot] = weak
      if (updateAgeOnGet) this.time.ageRestarted(slot)
      const removals = this.store.applyPushed(NO_REMOVALS)
      this.store.logRead(pinned === undefined ? LOOKED.weakHit : LOOKED.hit)
      this.report(removals)
      this.flush()
    }
    return { value, stale: status !== STATUS.live }
  }

  /** Starts a fetch for `key` and makes it hold the key's entry: a new one (slot undefined), or
   * the existing one in place, whose value becomes the fetch's stale value. */
  startFetch(key, slot, stale, options, context) {
    const fetch = new BackgroundFetch(key, stale, options, context, this.fetchMethod, this.hooks)
    if (slot === undefined) {
      this.set(key, fetch, { ...options, status: undefined }, undefined)
      return fetch
    }
    const values = this.store.values
    this.store.native.hold(FLAG.strong, slot, values, values[this.store.io[IO.tail]])
    if (this.store.io[IO.status] === STATUS.collected) {
      // Only a weak value can be collected, and fetch() holds it: this cannot happen.
      throw makeError('ERR_EPHEMERON_INTERNAL', 'WeakCache.prototype.fetch: the value being refreshed was collected')
    }
    values[slot] = undefined
    this.store.fetches[slot] = fetch
    fetch.slot = slot
    this.report(this.store.applyPushed(NO_REMOVALS))
    this.flush()
    return fetch
  }

  /** A fetch gave up and its entry gets its stale value back, in place. */
  restoreStale(fetch) {
    if (fetch.stale === undefined) return this.deleteFor(fetch.key, CAUSE.fetch)
    const slot = fetch.slot
    this.store.native.hold(0, slot, this.store.values, undefined)
    this.store.fetches[slot] = undefined
    this.store.values[slot] = fetch.stale
    return true
  }
}

/** Marks a fetch as awaited by a caller (so that its failure rejects) and returns its promise. */
function awaited(fetch) {
  fetch.returned = true
  return fetch.promise
}

module.exports = { LoadingOps }
