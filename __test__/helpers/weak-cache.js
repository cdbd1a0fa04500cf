'use strict'
// Helpers shared by the WeakCache specs.

const { WeakCache } = require('../..')

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

module.exports = { recorded, fakeClock }
