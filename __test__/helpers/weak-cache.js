'use strict'
// Helpers shared by the WeakCache specs.

const { WeakCache } = require('../..')
const { captureWarnings } = require('./warnings.js')

/** A cache whose dispose calls are recorded as [reason, key, value]. */
function recorded(options) {
  const log = []
  const cache = new WeakCache({ dispose: (value, key, reason) => log.push([reason, key, value]), ...options })
  return { cache, log }
}

/** A clock the test moves by hand. */
function fakeClock(start = 1000) {
  const clock = { t: start, now: () => clock.t }
  return clock
}

/** mulberry32: a small seeded PRNG (a failure names its seed, and the seed replays it). */
function random(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Node's mock timers for `setTimeout` (and `clearTimeout`) in test `t`; a cache made afterwards
 * takes them. The API's ExperimentalWarning (once per process, on older Node) is expected:
 * captured, not printed.
 */
async function mockTimeouts(t) {
  const warnings = await captureWarnings(() => t.mock.timers.enable({ apis: ['setTimeout'] }))
  const unexpected = warnings.filter((warning) => warning.type !== 'ExperimentalWarning')
  if (unexpected.length > 0) throw new Error(`mockTimeouts: unexpected warnings ${JSON.stringify(unexpected)}`)
}

module.exports = { recorded, fakeClock, random, mockTimeouts }
