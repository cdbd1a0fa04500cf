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

const { Number } = require('./primordials.js')
const { invalidType, invalidValue } = require('./errors.js')

const { isInteger } = Number
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
 * resolution of `r` ms, a reading is reused while the clock has moved less than `r` since it was
 * taken, as lru-cache's `ttlResolution` (which clears its kept reading with a timer after `r` ms;
 * judged by the clock itself, no timer is needed, and a fake clock gives the same answers).
 */
class TtlClock {
  #perf
  #kept = Number.NaN
  /** The last reading, from `fresh()` or `now()`. */
  last = 0

  constructor(perf) {
    this.#perf = perf
  }

  fresh() {
    const now = this.#perf.now()
    if (typeof now !== 'number') throw invalidType('WeakCache: the result of options.perf.now()', 'a number', now)
    if (now !== now) throw invalidValue('WeakCache: the result of options.perf.now()', 'a number other than NaN', now)
    this.last = now
    return now
  }

  now(resolution) {
    const now = this.fresh()
    if (resolution <= 0) return now
    if (now - this.#kept < resolution) return this.#kept
    this.#kept = now
    return now
  }
}

module.exports = { environment, isClock, resolutionOf, TtlClock }
