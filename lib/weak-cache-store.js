'use strict'
// What JS holds of a WeakCache, by slot, and its calls into the native side: the JS half of the
// protocol that src/core/cache_protocol.rs documents. JS holds the keys (`index`: key -> slot, and
// `keys` by slot), the pinned values (`values` by slot: holding them is what pins them) and the
// fetches in flight (`fetches` by slot), so a pinned hit never leaves JS; Rust holds the policy.
// After each call, JS applies the reply (`applyPushed`); hits JS answers alone go to the read log,
// which the next call replays (`logRead`).

const { Array, ArrayBuffer, Float64Array, Int32Array, Map, Object } = require('./primordials.js')
const { CacheNative, IO, FACTS, STATUS, FLAG } = require('./weak-cache-native.js')
const { makeError } = require('./errors.js')

const { stride: STRIDE, ttl: TTL, size: SIZE } = FACTS
/** No removals (the usual reply): `applyPushed` makes a new array only when there are some. */
const NO_REMOVALS = Object.freeze([])

class SlotStore {
  /** key -> slot, for every entry JS has not seen leave (pinned, weak, collected but unnoticed);
   * null once the native side reported the cache broken. */
  index = new Map()
  /** slot -> key (kept for a collected entry until its 'collect' is delivered). */
  keys = []
  /** slot -> the value of a pinned entry; undefined for every other slot. */
  values = []
  /** Whether the cache's clock has started (lib/weak-cache-time.js). */
  timed = false
  /** slot -> the fetch in flight that holds the entry (only in a cache with a fetchMethod). */
  fetches
  /** The cache's native function, by op (see weak-cache-native.js). */
  native
  /** Int32 view of the io buffer shared with Rust: the reply and the read log. */
  io
  /** Float64 view of the io buffer: the calculated size. */
  calculated
  /** Float64 by slot (start, ttl, size), written by Rust; null until ttls or sizes are in use. */
  facts = null
  /** The most pinned entries: null for no count limit, 0 for a pure weak-value map. */
  max
  /** Whether removals are told to anyone (a dispose, a disposeAfter, or fetches to abort): if
   * not, an eviction only forgets its entry. */
  reportsRemovals = false
  /** Told when an entry leaves: `forgotten(slot)` (set by the cache's time keeping). */
  onForget = null

  /**
   * @param {{ max: number|null, maxSize: number, tracksSizes: boolean, weak: boolean, fetching:
   *   boolean }} config
   * @param {(slots: number[]) => void} deliver called on the event loop with collected slots
   */
  constructor({ max, maxSize, tracksSizes, weak, fetching }, deliver) {
    this.max = max
    this.fetches = fetching ? [] : null
    const buffer = new ArrayBuffer(IO.bytes)
    this.io = new Int32Array(buffer)
    this.calculated = new Float64Array(buffer, IO.calculated * 8, 1)
    const flags = (tracksSizes ? FLAG.trackSizes : 0) | (weak ? FLAG.weak : 0)
    this.native = new CacheNative(buffer, max ?? -1, maxSize, flags, deliver, () => {
      this.index = null
    })
    if (tracksSizes) this.facts = new Float64Array(this.native.facts(0))
  }

  /** The index, for a call of `method`; a broken cache (a caught panic interrupted an update)
   * refuses every call. */
  liveIndex(method) {
    const index = this.index
    if (index === null) throw brokenError(method)
    return index
  }

  /** The value of the least recent pinned entry, which JS passes with every call that may demote
   * it (see the protocol). */
  tailValue() {
    return this.values[this.io[IO.tail]]
  }

  /** A fresh view of the facts, after a call that may have grown them (or `clock`: started). */
  refreshFacts(flags = 0) {
    this.facts = new Float64Array(this.native.facts(flags))
  }

  /** A new slot's facts may be beyond JS's view: Rust grew the buffer before the insert. */
  coverFacts(slot) {
    if (this.facts !== null && (slot + 1) * STRIDE > this.facts.length) this.refreshFacts()
  }

  ttlOf(slot) {
    return this.facts[slot * STRIDE + TTL]
  }

  sizeOf(slot) {
    return this.facts[slot * STRIDE + SIZE]
  }

  /** Makes room for `slot` in the arrays by slot: in doublings up to `max + 1` (so a full cache
   * has no slack, as lru-cache, which allocates its arrays at `max`), by doubling beyond. */
  grow(slot) {
    const wanted = slot + 1
    let length = wanted > 8 ? wanted : 8
    if (length < 2 * this.keys.length) length = 2 * this.keys.length
    const max = this.max
    if (max !== null && wanted <= max + 1 && length > max + 1) length = max + 1
    this.keys = grown(this.keys, length)
    this.values = grown(this.values, length)
    if (this.fetches !== null) this.fetches = grown(this.fetches, length)
  }

  /** An entry left: drops it from the index, the values, the fetches (and its timers); a
   * collected entry keeps its key until its 'collect' is delivered. Returns its key. */
  forget(slot, collected) {
    const key = this.keys[slot]
    this.index.delete(key)
    this.values[slot] = undefined
    if (this.fetches !== null) this.fetches[slot] = undefined
    if (this.onForget !== null) this.onForget(slot)
    if (!collected) this.keys[slot] = undefined
    return key
  }

  /** Applies the entries the last call pushed out of the pinned tier; returns `removals` with the
   * removed ones appended as [value, key, cause, fetch, ...], reported once state is consistent. */
  applyPushed(removals) {
    const io = this.io
    const count = io[IO.pushedCount]
    if (count === 0) return removals
    let list = io
    let at = IO.pushed
    if (count > IO.pushedCapacity) {
      list = this.native.pushed()
      at = 0
    }
    for (let i = 0; i < count; i++) {
      const slot = list[at + 2 * i]
      const fate = list[at + 2 * i + 1]
      if (fate === IO.demoted) {
        this.values[slot] = undefined
        continue
      }
      if (!this.reportsRemovals) {
        this.forget(slot, false)
        continue
      }
      if (removals === NO_REMOVALS) removals = []
      const value = this.values[slot]
      const fetch = this.fetches?.[slot]
      removals.push(value, this.forget(slot, false), fate, fetch)
    }
    return removals
  }

  /** Logs a pinned slot JS read (a hit), or a lookup's outcome (LOOKED), for the next call. */
  logRead(read) {
    const io = this.io
    const count = io[IO.readCount]
    io[IO.reads + count] = read
    io[IO.readCount] = count + 1
    if (count + 1 === IO.readCapacity) this.native.sync()
  }

  /** A weak entry's value at `now` (undefined if collected, or stale without `allowStale`). */
  lookupWeak(slot, now, allowStale) {
    const weak = this.native.peek(0, slot, now, 0)
    const status = this.io[IO.status]
    if (status === STATUS.collected) {
      this.forget(slot, true)
      return undefined
    }
    return status === STATUS.live || allowStale ? weak : undefined
  }

  /** The collected entries Rust freed: they leave the index (where it still maps their key to
   * their slot: the key may have been set again); returns their keys. */
  takeCollected(slots) {
    const keys = this.keys
    const index = this.index
    const removed = []
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]
      const key = keys[slot]
      keys[slot] = undefined
      if (index.get(key) === slot) index.delete(key)
      if (this.onForget !== null) this.onForget(slot)
      removed.push(key)
    }
    return removed
  }
}

function brokenError(method) {
  return makeError(
    'ERR_EPHEMERON_BROKEN',
    `WeakCache.prototype.${method}: this cache is broken: an internal error (a caught Rust panic) interrupted an update, so its state cannot be trusted. Please report it.`,
  )
}

/** A copy of `array` with room for exactly `length` elements, every new one undefined (never a
 * hole): an array grown in place would keep up to half its length as spare capacity. */
function grown(array, length) {
  const copy = new Array(length)
  for (let i = 0; i < array.length; i++) copy[i] = array[i]
  for (let i = array.length; i < length; i++) copy[i] = undefined
  return copy
}

module.exports = { SlotStore, NO_REMOVALS, brokenError }
