'use strict'
// The pure-JS tracker the LeakRegistry benchmark compares against: a FinalizationRegistry with
// an unregister token per resource, and the site taken from `new Error().stack` (or, as a floor
// that cannot say where a leak came from, no site at all).

class JsLeakTracker {
  #finalization
  #tokens = new WeakMap() // resource -> unregister token
  #counts = new Map() // site -> leaks so far

  #withStack

  constructor(onLeak, { withStack = true } = {}) {
    this.#withStack = withStack
    this.#finalization = new FinalizationRegistry((record) => {
      const count = (this.#counts.get(record.site) ?? 0) + 1
      this.#counts.set(record.site, count)
      const collectedAt = Date.now()
      onLeak({ ...record, collectedAt, ageMs: collectedAt - record.trackedAt, count, pid: process.pid })
    })
  }

  track(resource, info) {
    const stack = this.#withStack ? new Error().stack : undefined
    // The first frame below this method is the caller's.
    const site = stack?.split('\n', 3)[2]
    const token = {}
    this.#finalization.register(resource, { type: info.type, id: info.id, info, site, stack, trackedAt: Date.now() }, token)
    this.#tokens.set(resource, token)
    return resource
  }

  release(resource) {
    const token = this.#tokens.get(resource)
    if (token === undefined) return false
    this.#tokens.delete(resource)
    return this.#finalization.unregister(token)
  }
}

module.exports = { JsLeakTracker }
