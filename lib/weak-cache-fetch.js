'use strict'
// A fetch in flight: lru-cache's "background fetch", with its semantics. The cache holds it in
// place of the entry's value (with the value it refreshes, `stale`) until `fetchMethod` settles;
// then it stores the new value, puts the stale one back, or removes the entry, depending on the
// outcome and the options (`ignoreFetchAbort`, `allowStaleOnFetchAbort`,
// `allowStaleOnFetchRejection`, `noDeleteOnFetchRejection`). Concurrent fetches of a key share one.
//
// The cache side of those outcomes goes through `hooks` (see WeakCache): `held(fetch)` (is the
// entry still this fetch?), `slotFree(fetch)` (is its slot unused now?), `store(fetch, value)`,
// `restore(fetch)` (the stale value goes back) and `drop(fetch)` (the entry is removed, reason
// 'fetch').

const { Promise } = require('./primordials.js')
const { warn } = require('./errors.js')

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
  /** Stops listening to the caller's signal and to this fetch's own: done when it settles. */
  #stopListening

  constructor(key, stale, options, context, fetchMethod, hooks) {
    this.key = key
    this.stale = stale
    this.options = options
    this.#hooks = hooks
    const controller = this.#controller
    const { signal } = options
    // The caller's signal aborts this fetch; an aborted one aborts it at once.
    const onSignalAbort = () => controller.abort(signal?.reason)
    let onAbort
    this.#stopListening = () => {
      signal?.removeEventListener('abort', onSignalAbort)
      if (onAbort !== undefined) controller.signal.removeEventListener('abort', onAbort)
    }
    if (signal?.aborted) controller.abort(signal.reason)
    else signal?.addEventListener('abort', onSignalAbort)
    if (options.status) options.status.fetchDispatched = true
    const fetcherOptions = { signal: controller.signal, options, context }
    this.promise = new Promise((resolve, reject) => {
      let onValue = resolve
      let onError = reject
      const result = fetchMethod(key, stale, fetcherOptions)
      // Aborting gives up on the result, unless it is ignored; with allowStaleOnFetchAbort the
      // caller gets the stale value now, and a late result (or failure) still updates the cache.
      onAbort = () => {
        this.#stopListening()
        if (!options.ignoreFetchAbort || options.allowStaleOnFetchAbort) {
          onValue(undefined)
          if (options.allowStaleOnFetchAbort) {
            onValue = (value) => this.#late(() => this.#settled(value, true))
            onError = () => this.#late(() => this.#failedLate())
          }
        }
      }
      controller.signal.addEventListener('abort', onAbort)
      if (controller.signal.aborted) onAbort()
      if (result instanceof Promise) result.then((value) => onValue(value), (error) => onError(error))
      else onValue(result)
    }).then(
      (value) => this.#settled(value, false),
      (error) => this.#rejected(error),
    )
  }

  /** Aborts the fetch (its entry was evicted, deleted or replaced). */
  abort(reason) {
    this.#controller.abort(reason)
  }

  /** fetchMethod resolved (or the fetch was aborted: `value` undefined). `late`: after an abort. */
  #settled(value, late) {
    this.#stopListening()
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
    // lru-cache stores a late result of an aborted fetch only if its index is unused meanwhile.
    if (hooks.held(this) || (ignoreAbort && late && hooks.slotFree(this))) {
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
    this.#stopListening()
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
      // Without a stale value, the entry stays only while an aborted fetch it waits for runs on.
      if (!noDelete || (this.stale === undefined && !(proceed && allowStaleAborted))) hooks.drop(this)
      else if (!allowStaleAborted) hooks.restore(this)
    }
    if (allowStale) {
      if (options.status && this.stale !== undefined) options.status.returnedStale = true
      return this.stale
    }
    if (this.returned) throw error
    return undefined
  }

  /** An aborted fetch whose caller already got the stale value failed after all: the entry gets
   * its stale value back (if it keeps one on rejections), or goes. */
  #failedLate() {
    const hooks = this.#hooks
    if (!hooks.held(this)) return
    const { options } = this
    if ((options.noDeleteOnFetchRejection || options.allowStaleOnFetchRejection) && this.stale !== undefined) hooks.restore(this)
    else hooks.drop(this)
  }

  /** What a late result does happens after its callers are gone: what it throws (say, a value
   * that cannot be sized) becomes a warning, never an unhandled rejection. */
  #late(update) {
    try {
      update()
    } catch (thrown) {
      warn('WeakCacheWarning', 'ERR_EPHEMERON_LATE_FETCH', 'WeakCache: the late result of an aborted fetch could not be stored', thrown)
    }
  }
}

module.exports = { BackgroundFetch }
