'use strict'
// The numbers of the WeakCache protocol, read from the native side at load. The protocol (who
// holds what, the shared buffers, the sequence of every operation) is defined once, in
// src/core/cache_protocol.rs; a spec (__test__/weak-cache-protocol.test.js) checks both sides agree.

const { weakCacheProtocol } = require('./native.js')
const { Object } = require('./primordials.js')
const { makeError } = require('./errors.js')

const protocol = weakCacheProtocol()

/** A number of the protocol; a missing one means the addon and this file disagree. */
function numberOf(group, name) {
  const n = protocol[group]?.[name]
  if (typeof n !== 'number') {
    throw makeError('ERR_EPHEMERON_VERSION_MISMATCH', `WeakCache: the native addon does not define ${group}.${name}; rebuild it`)
  }
  return n
}

/** The `dispose` reasons, by removal-cause number. */
const REASONS = protocol.causes

function causeOf(reason) {
  const n = REASONS.indexOf(reason)
  if (n < 0) throw makeError('ERR_EPHEMERON_VERSION_MISMATCH', `WeakCache: the native addon has no removal cause '${reason}'; rebuild it`)
  return n
}

const group = (name, names) => Object.freeze(Object.fromEntries(names.map((n) => [n, numberOf(name, n)])))

module.exports = Object.freeze({
  protocol,
  REASONS,
  IO: group('io', ['bytes', 'status', 'tail', 'pushedCount', 'pushed', 'pushedCapacity', 'readCount', 'reads', 'readCapacity', 'calculated', 'demoted', 'opFlagsShift']),
  FACTS: group('facts', ['stride', 'start', 'ttl', 'size']),
  STATUS: group('status', ['live', 'stale', 'expired', 'collected']),
  FLAG: group('flag', ['changed', 'updateTtl', 'strong', 'updateAge', 'keepStale', 'allowStale', 'reverse', 'clock', 'trackSizes', 'weak']),
  OP: group('op', ['insert', 'replace', 'get', 'peek', 'hold', 'remove', 'pop', 'purge', 'clear', 'order', 'pushed', 'stats', 'sync', 'facts', 'injectPanic']),
  CAUSE: Object.freeze({
    evict: causeOf('evict'),
    set: causeOf('set'),
    delete: causeOf('delete'),
    expire: causeOf('expire'),
    collect: causeOf('collect'),
    fetch: causeOf('fetch'),
  }),
})
