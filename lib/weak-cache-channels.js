'use strict'
// The diagnostics_channel output of lru-cache 11, which WeakCache publishes on the same channels
// so that its subscribers see WeakCaches as they see LRUCaches: every get, set, has, peek, memo
// and delete posts its status object on 'lru-cache:metrics' while anyone listens, and fetch()
// traces its promise on the tracing channel 'lru-cache' (start, end, asyncStart, asyncEnd, error).

const diagnostics = require('node:diagnostics_channel')
const { Object } = require('./primordials.js')

const { defineProperty } = Object

const metrics = diagnostics.channel('lru-cache:metrics')
const tracing = diagnostics.tracingChannel('lru-cache')

/** Whether a status object is worth making without a caller's: anyone listens on either channel. */
const anyoneListens = () => metrics.hasSubscribers || tracing.hasSubscribers === true

/**
 * Names the cache in a status object or a message, as lru-cache 11.5 does (`cache`), but not
 * enumerable: a status is what lru-cache 11.3 made (its tests' snapshots, and code that copies or
 * logs statuses, see the same fields), and reading `status.cache` gives the cache.
 */
function nameCache(object, cache) {
  defineProperty(object, 'cache', { value: cache, writable: true, configurable: true, enumerable: false })
  return object
}

/** The message of a removal by `delete`, by expiry or by a failed fetch. */
const deleteMessage = (reason, key, cache) => nameCache({ op: 'delete', delete: reason, key }, cache)

module.exports = { metrics, tracing, anyoneListens, nameCache, deleteMessage }
