'use strict'
// How a WeakCache tells its owner that entries left: `dispose(value, key, reason)` for each one,
// from the operation that removed it, and `disposeAfter` (lru-cache's) for each one once that
// operation has finished. Removals that a `disposeAfter` causes join the same queue, so they are
// reported by the loop that is already running, in order, as in lru-cache.

const { Reflect } = require('./primordials.js')
const { describe, describeThrown, warn } = require('./errors.js')

const { apply } = Reflect

class Disposal {
  #cache
  #dispose
  #after
  /** [value, key, reason, ...] waiting for disposeAfter, from #head on. */
  #queue = []
  #head = 0

  constructor(cache, dispose, disposeAfter) {
    this.#cache = cache
    this.#dispose = dispose
    this.#after = disposeAfter
  }

  get dispose() {
    return this.#dispose
  }

  get disposeAfter() {
    return this.#after
  }

  /** Whether anyone is told of removals at all. */
  get listening() {
    return this.#dispose !== undefined || this.#after !== undefined
  }

  /** An entry left for `reason`: dispose now, disposeAfter at the next flush. */
  removed(value, key, reason) {
    if (this.#dispose !== undefined) this.#call(this.#dispose, 'dispose', value, key, reason)
    if (this.#after !== undefined) this.#queue.push(value, key, reason)
  }

  /** Whether removals wait for disposeAfter. */
  get pending() {
    return this.#head < this.#queue.length
  }

  /** Calls disposeAfter for every queued removal, oldest first (those it causes included). */
  flush() {
    const queue = this.#queue
    while (this.#head < queue.length) {
      const at = this.#head
      this.#head = at + 3
      this.#call(this.#after, 'disposeAfter', queue[at], queue[at + 1], queue[at + 2])
    }
    queue.length = 0
    this.#head = 0
  }

  /** Calls a user callback; whatever it throws becomes a warning. */
  #call(callback, name, value, key, reason) {
    try {
      apply(callback, this.#cache, [value, key, reason])
    } catch (thrown) {
      warn(
        'WeakCacheWarning',
        'ERR_EPHEMERON_DISPOSE_THREW',
        `WeakCache ${name} threw for key ${describe(key)} (reason '${reason}'): ${describeThrown(thrown)}`,
      )
    }
  }
}

module.exports = { Disposal }
