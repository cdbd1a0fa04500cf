'use strict'
// Time in a WeakCache: when the clock is read, each entry's ttl and start (in the `facts` the
// native side publishes), the ttl fields of status objects, and ttlAutopurge's timers. All of it
// follows lru-cache 11.5 to the millisecond: the clock is read only for an entry that has a ttl, a
// reading is kept for `ttlResolution` ms until a timer forgets it (lib/weak-cache-clock.js), an
// entry without a start never goes stale, and purge timers wait at most 2^31 - 1 ms at a time.

const { Map, Math, Reflect } = require('./primordials.js')
const { FACTS, FLAG, STATUS, IO } = require('./weak-cache-native.js')
const { TtlClock } = require('./weak-cache-clock.js')
const { warn } = require('./errors.js')

const { apply } = Reflect
const { floor } = Math
const { stride: STRIDE, start: START, ttl: TTL } = FACTS
/** The longest delay a timer takes (a longer one fires at once). */
const MAX_TIMER_DELAY = 2 ** 31 - 1

class CacheTime {
  /** Whether the clock has started (the first ttl): kept by the store, where get's fast path reads it. */
  get timed() {
    return this.#store.timed
  }
  #store
  /** The cache's writable options (ttlResolution, ttlAutopurge are read from there). */
  #options
  /** The `Date`, `setTimeout` and `clearTimeout` of the environment when the cache was made. */
  #environment
  #clock
  /** `(slot, key)`: an entry's ttlAutopurge timer found it stale (the cache removes it). */
  #onExpired
  /** slot -> its ttlAutopurge timer. */
  #purgeTimers = null
  /** slot -> when its age last restarted (NaN: never), for the entries of a cache without `max`
   * that were there before the clock started and have had no ttl since: lru-cache's ttl arrays
   * start empty in such a cache, so its `dump()` shows them with no ttl, and a start only once
   * their age restarted. */
  #untimed = null
  /** The time of the last restarted age (see #restartTime). */
  #restartedAt = 0

  constructor(store, options, environment, onExpired) {
    this.#store = store
    this.#options = options
    this.#environment = environment
    this.#clock = new TtlClock(environment.perf, environment.setTimeout)
    this.#onExpired = onExpired
  }

  /** From the first purge timer or untimed mark on, the store tells of every entry that leaves
   * (a call per removal that a cache without them does not pay). */
  #listenForForgotten() {
    if (this.#store.onForget === null) this.#store.onForget = (slot) => this.#forgotten(slot)
  }

  /** A fresh reading of the clock. */
  fresh() {
    return this.#clock.fresh()
  }

  /** The time staleness is judged at (0 until the clock starts). */
  now() {
    return this.timed ? this.#clock.now(this.#options.ttlResolution) : 0
  }

  /** The time the entry in `slot` is judged at. The clock is read only for an entry with a ttl,
   * as lru-cache reads it: a kept reading then stands for ttlResolution ms from when lru-cache
   * would take it. */
  nowFor(slot) {
    if (!this.timed) return 0
    // No ttl, or a start of 0 (or NaN): never stale, and lru-cache reads no clock for it.
    const facts = this.#store.facts
    return facts[slot * STRIDE + TTL] === 0 || !facts[slot * STRIDE + START] ? 0 : this.now()
  }

  /** Whether any entry can go stale: a ttl and a start (purgeStale reads the clock only then, as
   * lru-cache). */
  anyTtl() {
    const facts = this.#store.facts
    for (const slot of this.#store.index.values()) if (facts[slot * STRIDE + TTL] !== 0 && facts[slot * STRIDE + START]) return true
    return false
  }

  /** The time an age restarts at (a fresh reading, as lru-cache's updateItemAge), when it does. */
  restartTime(restarts) {
    if (!restarts || !this.timed) return 0
    this.#restartedAt = this.#clock.fresh()
    return this.#restartedAt
  }

  /** An entry's age restarted at the last restartTime (lru-cache's updateItemAge): its timer
   * starts again. */
  ageRestarted(slot) {
    if (!this.timed) return
    if (this.#untimed?.has(slot)) this.#untimed.set(slot, this.#restartedAt)
    this.#armPurgeTimer(slot, this.#store.facts[slot * STRIDE + TTL])
  }

  /** An entry got its ttl (a new one, or a set that updates it): its timer starts. */
  timedAgain(slot, ttl) {
    if (!this.timed) return
    this.#untimed?.delete(slot)
    this.#armPurgeTimer(slot, ttl)
  }

  /** Whether a pinned entry is strictly fresh at `now` (JS may answer alone; see the protocol). */
  freshInJs(slot, now) {
    const facts = this.#store.facts
    const ttl = facts[slot * STRIDE + TTL]
    return ttl === 0 || now - facts[slot * STRIDE + START] < ttl
  }

  /** lru-cache's getRemainingTTL of an entry: Infinity without a ttl or a start. */
  remainingTTL(slot) {
    if (!this.timed) return Infinity
    const facts = this.#store.facts
    const ttl = facts[slot * STRIDE + TTL]
    const start = facts[slot * STRIDE + START]
    if (ttl === 0 || !start) return Infinity
    return ttl - (this.now() - start)
  }

  /** lru-cache's status ttl fields: the entry's ttl and start, the time, the ttl left. */
  statusTTL(status, slot, now = undefined) {
    if (!this.timed) return
    const facts = this.#store.facts
    const ttl = facts[slot * STRIDE + TTL]
    const start = facts[slot * STRIDE + START]
    if (ttl === 0 || !start) return // lru-cache's rule: no start (0 or NaN), no ttl
    status.ttl = ttl
    status.start = start
    status.now = now ?? this.now()
    status.remainingTTL = ttl - (status.now - start)
  }

  /** `info()`'s ttl fields: the ttl left, and the time now as `Date.now()`. */
  infoTTL(entry, slot) {
    if (!this.timed) return
    const facts = this.#store.facts
    const ttl = facts[slot * STRIDE + TTL]
    const start = facts[slot * STRIDE + START]
    if (ttl !== 0 && start) {
      entry.ttl = ttl - (this.#clock.fresh() - start)
      entry.start = this.#environment.Date.now()
    }
  }

  /** `dump()`'s ttl fields: the ttl, and a start in `Date.now()` time, which survives a process
   * (as lru-cache's dump). */
  dumpTTL(entry, slot) {
    if (!this.timed) return
    const facts = this.#store.facts
    const untimed = this.#untimed?.get(slot)
    entry.ttl = untimed === undefined ? facts[slot * STRIDE + TTL] : undefined
    const age = this.#clock.fresh() - (untimed ?? facts[slot * STRIDE + START])
    entry.start = floor(this.#environment.Date.now() - age)
  }

  /** `load()`'s start: a `Date.now()` time as a time of the clock. */
  loadedStart(start) {
    return start ? this.#clock.fresh() - (this.#environment.Date.now() - start) : start
  }

  /** Turns on the clock, for the first entry with a ttl. In a cache without `max`, lru-cache's
   * ttl arrays start empty, so the entries already there have no ttl and no start (not 0). */
  start() {
    const store = this.#store
    if (store.max === null && store.index.size > 0) {
      this.#untimed = new Map()
      for (const slot of store.index.values()) this.#untimed.set(slot, NaN)
      this.#listenForForgotten()
    }
    store.refreshFacts(FLAG.clock)
    store.timed = true
  }

  /** Every entry left at once (clear()): every timer goes, and every untimed mark. */
  cleared() {
    this.#untimed = null
    const timers = this.#purgeTimers
    if (timers === null) return
    for (let slot = 0; slot < timers.length; slot++) if (timers[slot] !== undefined) this.#clearPurgeTimer(slot)
  }

  /** An entry left: its timer goes, and its untimed mark. */
  #forgotten(slot) {
    if (this.#purgeTimers?.[slot] !== undefined) this.#clearPurgeTimer(slot)
    this.#untimed?.delete(slot)
  }

  /** ttlAutopurge: removes the entry in `slot` once its ttl has passed (lru-cache's timer). */
  #armPurgeTimer(slot, ttl) {
    const timers = this.#purgeTimers
    if (timers?.[slot] !== undefined) this.#clearPurgeTimer(slot)
    if (!this.#options.ttlAutopurge || ttl === 0) return
    if (timers === null) {
      this.#purgeTimers = []
      this.#listenForForgotten()
    }
    const key = this.#store.keys[slot]
    // Timers cannot wait longer than 2^31 - 1 ms: a longer ttl waits again for what is left.
    const delay = ttl + 1 < MAX_TIMER_DELAY ? ttl + 1 : MAX_TIMER_DELAY
    const timer = apply(this.#environment.setTimeout, globalThis, [() => this.#purgeExpired(slot, key), delay])
    timer?.unref?.()
    this.#purgeTimers[slot] = timer
  }

  #purgeExpired(slot, key) {
    this.#purgeTimers[slot] = undefined
    const store = this.#store
    const index = store.index
    if (index === null || index.get(key) !== slot) return
    try {
      // The clock is read only for an entry that can go stale (a ttl and a start), as lru-cache's
      // timer reads it: a reading kept for ttlResolution would change what later calls see.
      store.native.peek(0, slot, this.nowFor(slot), 0)
      const status = store.io[IO.status]
      if (status === STATUS.stale) this.#onExpired(key)
      else if (status === STATUS.collected) store.forget(slot, true)
      else this.#armPurgeTimer(slot, this.remainingTTL(slot) || 1)
    } catch (thrown) {
      warn('WeakCacheWarning', 'ERR_EPHEMERON_INTERNAL', 'WeakCache: a ttlAutopurge timer failed', thrown)
    }
  }

  #clearPurgeTimer(slot) {
    apply(this.#environment.clearTimeout, globalThis, [this.#purgeTimers[slot]])
    this.#purgeTimers[slot] = undefined
  }
}

module.exports = { CacheTime }
