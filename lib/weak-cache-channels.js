'use strict'
// The diagnostics_channel output of lru-cache 11, which WeakCache publishes on the same channels
// so that its subscribers see WeakCaches as they see LRUCaches: every get, set, has, peek, memo
// and delete posts its status object on 'lru-cache:metrics' while anyone listens, and fetch()
// traces its promise on the tracing channel 'lru-cache' (start, end, asyncStart, asyncEnd, error).

const diagnostics = require('node:diagnostics_channel')

const metrics = diagnostics.channel('lru-cache:metrics')
const tracing = diagnostics.tracingChannel('lru-cache')

/** Whether a status object is worth making without a caller's: anyone listens on either channel. */
const anyoneListens = () => metrics.hasSubscribers || tracing.hasSubscribers === true

module.exports = { metrics, tracing, anyoneListens }
