'use strict'
// A fetch in flight: lru-cache's "background fetch", with its semantics. The cache holds it in
// place of the entry's value (with the value it refreshes, `stale`) until `fetchMethod` settles;
// then it stores the new value, puts the stale one back, or removes the entry, depending on the
// outcome and the options (`ignoreFetchAbort`, `allowStaleOnFetchAbort`,
// `allowStaleOnFetchRejection`, `noDeleteOnFetchRejection`). Concurrent fetches of a key share one.
//
// The cache side of those outcomes goes through `hooks` (see WeakCache): `held(fetch)` (is the
// entry still this fetch?), `keyAbsent(fetch)`, `store(fetch, value)`, `restore(fetch)` (the stale
// value goes back) and `drop(fetch)` (the entry is removed, reason 'fetch').

const { Promise } = require('./primordials.js')

const { AbortController } = globalThis

class BackgroundFetch {
  /** The value being refreshed (undefined: none), served by `allowStale` meanwhile. */
  stale
  /** The options `fetchMethod` got (it may change them: they are read again when it settles). */
  options
  /** Whether a caller awaits `promise`: only then does a failure reject it (lru-cache's __returned). */
  returned = false
  /** The entry's slot, set by the cache. */
  slot = -1
  key
  /** Settles with the value `fetch()` gives its callers. */
  promise
  #controller = new AbortController()
  #hooks

  constructor(key, stale, options, context, fetchMethod, hooks) {
    this.key = key
    this.stale = stale
    this.options = options
    this.#hooks = hooks
    const controller = this.#controller
    const { signal } = options
    // When the caller's signal aborts, so does this fetch; once this fetch is aborted, stop
    // listening. One aborted already aborts it at once (lru-cache would wait for an 'abort' event
    // that never comes).
    if (signal?.aborted) controller.abort(signal.reason)
    else signal?.addEventListener('abort', () => controller.abort(signal.reason), { signal: controller.signal })
    if (options.status) options.status.fetchDispatched = true
    const fetcherOptions = { signal: controller.signal, options, context }
    this.promise = new Promise((resolve, reject) => this.#dispatch(fetchMethod, fetcherOptions, resolve, reject)).then(
      (value) => this.#settled(value, false),
      (error) => this.#rejected(error),
    )
  }

  /** Aborts the fetch (its entry was evicted, deleted or replaced). */
  abort(reason) {
    this.#controller.abort(reason)
  }

  #dispatch(fetchMethod, fetcherOptions, resolve, reject) {
    const { options } = this
    let onValue = resolve
    const result = fetchMethod(this.key, this.stale, fetcherOptions)
    if (result instanceof Promise) result.then((value) => onValue(value), reject)
    else onValue(result) // lru-cache waits forever for a fetchMethod that returns a plain value
    // Aborting gives up on the result, unless it is ignored; with allowStaleOnFetchAbort the
    // caller gets the stale value now and a late result still updates the cache.
    const onAbort = () => {
      if (!options.ignoreFetchAbort || options.allowStaleOnFetchAbort) {
        onValue(undefined)
        if (options.allowStaleOnFetchAbort) onValue = (value) => this.#settled(value, true)
      }
    }
    const { signal } = this.#controller
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort)
  }

  /** fetchMethod resolved (or the fetch was aborted: `value` undefined). `late`: after an abort. */
  #settled(value, late) {
    const { options } = this
    const { status } = options
    const signal = this.#controller.signal
    const aborted = signal.aborted
    const ignoreAbort = options.ignoreFetchAbort && value !== undefined
    const proceed = options.ignoreFetchAbort || !!(options.allowStaleOnFetchAbort && value !== undefined)
    if (status) {
      if (aborted && !late) {
        status.fetchAborted = true
        status.fetchError = signal.reason
        if (ignoreAbort) status.fetchAbortIgnored = true
      } else {
        status.fetchResolved = true
      }
    }
    if (aborted && !ignoreAbort && !late) return this.#failed(signal.reason, proceed)
    const hooks = this.#hooks
    if (hooks.held(this) || (ignoreAbort && late && hooks.keyAbsent(this))) {
      if (value === undefined) {
        if (this.stale !== undefined) hooks.restore(this)
        else hooks.drop(this)
      } else {
        if (status) status.fetchUpdated = true
        hooks.store(this, value)
      }
    }
    return value
  }

  #rejected(error) {
    const { status } = this.options
    if (status) {
      status.fetchRejected = true
      status.fetchError = error
    }
    return this.#failed(error, false)
  }

  #failed(error, proceed) {
    const { options } = this
    const allowStaleAborted = this.#controller.signal.aborted && options.allowStaleOnFetchAbort
    const allowStale = allowStaleAborted || options.allowStaleOnFetchRejection
    const noDelete = allowStale || options.noDeleteOnFetchRejection
    const hooks = this.#hooks
    if (hooks.held(this)) {
      if (!noDelete || (!proceed && this.stale === undefined)) hooks.drop(this)
      // An aborted fetch whose late result may still arrive keeps its place.
      else if (!allowStaleAborted) hooks.restore(this)
    }
    if (allowStale) {
      if (options.status && this.stale !== undefined) options.status.returnedStale = true
      return this.stale
    }
    if (this.returned) throw error
    return undefined
  }
}

module.exports = { BackgroundFetch }
