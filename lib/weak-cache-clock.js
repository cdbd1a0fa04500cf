'use strict'
// The time a WeakCache reads: its clock (`perf`), lru-cache's `ttlResolution`, and the timers of
// `ttlAutopurge`.
//
// The one place ephemeron reads the global object after load. lru-cache's default clock is the
// global `performance` (or `Date` where `performance` has no `now()`), its timers the global
// `setTimeout`/`clearTimeout`, and `dump`/`info`/`load` use the global `Date`. Test harnesses
// install fake clocks by replacing exactly these globals (Node's MockTimers, sinon, @tapjs/clock),
// and lru-cache's own suite does so before making its caches. So a cache takes them from the
// global object when it is constructed, and keeps them: replacing them later changes nothing for
// that cache. Everything else is captured at load (primordials.js).

const { Number, Reflect } = require('./primordials.js')
const { invalidType, invalidValue } = require('./errors.js')

const { isInteger } = Number
const { apply } = Reflect
const global = globalThis

/** Whether `value` can be used as a clock: anything with a `now()` method (`performance`, `Date`). */
function isClock(value) {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof value.now === 'function'
}

/**
 * The clock (`perf` if given), `Date` and timers of the environment, read now (when a cache is
 * constructed). The default clock is lru-cache's: `performance` if it has a `now()` method, else
 * `Date`; it is read only when no clock is given.
 */
function environment(perf) {
  const { Date, setTimeout, clearTimeout } = global
  if (perf === undefined) {
    const { performance } = global
    perf = isClock(performance) ? performance : Date
  }
  return { perf, Date, setTimeout, clearTimeout }
}

/** `ttlResolution` as lru-cache reads it: a non-negative integer, anything else means 1. */
function resolutionOf(value) {
  return isInteger(value) && value >= 0 ? value : 1
}

/**
 * A cache's clock. `fresh()` is a reading; `now()` the time staleness is judged at: with a
 * resolution of `r` ms, a reading is kept for `r` ms (a timer forgets it), as lru-cache's
 * `ttlResolution` does, and `now()` is read in the same places as lru-cache reads it, so a cache
 * run under fake timers gives lru-cache's answers to the millisecond.
 */
class TtlClock {
  #perf
  #setTimeout
  /** The kept reading; 0: none (lru-cache's `cachedNow`). */
  #kept = 0
  #forget = () => {
    this.#kept = 0
  }

  constructor(perf, setTimeout) {
    this.#perf = perf
    this.#setTimeout = setTimeout
  }

  fresh() {
    const now = this.#perf.now()
    if (typeof now !== 'number') throw invalidType('WeakCache: the result of options.perf.now()', 'a number', now)
    if (now !== now) throw invalidValue('WeakCache: the result of options.perf.now()', 'a number other than NaN', now)
    return now
  }

  now(resolution) {
    if (this.#kept !== 0) return this.#kept
    const now = this.fresh()
    if (resolution > 0) {
      this.#kept = now
      const timer = apply(this.#setTimeout, globalThis, [this.#forget, resolution])
      timer?.unref?.()
    }
    return now
  }
}

module.exports = { environment, isClock, resolutionOf, TtlClock }
