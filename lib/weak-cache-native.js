'use strict'
// A WeakCache's native side as JS calls it: one method per op of the protocol that
// src/core/cache_protocol.rs declares once (the op names, their arguments and numbers come from
// the addon at load, as every protocol's do: lib/native-protocol.js), plus the numbers of the
// shared buffers. A call site says `native.get(FLAG.updateAge, slot, now, fresh, values, tail)`.
//
// WeakCache's ops carry their flags in the op number (one number to convert instead of two, on
// every call): an op whose first declared argument is `flags` takes them first, and its method
// folds them in (lib/native-protocol.js makes the methods). And a native call that reports the cache broken (a caught Rust panic) marks the
// JS side broken too (`onBroken`), so that every later call fails the same way.

const { weakCacheCreate, weakCacheProtocol } = require('./native.js')
const { Object } = require('./primordials.js')
const { makeError } = require('./errors.js')
const { defineOpMethods } = require('./native-protocol.js')

const protocol = weakCacheProtocol()

/** A number of the protocol; a missing one means the addon and this file disagree. */
function numberOf(group, name) {
  const n = protocol[group]?.[name]
  if (typeof n !== 'number') {
    throw makeError('ERR_EPHEMERON_VERSION_MISMATCH', `WeakCache: the native addon does not define ${group}.${name}; rebuild it`)
  }
  return n
}

const group = (name, names) => Object.freeze(Object.fromEntries(names.map((n) => [n, numberOf(name, n)])))

const IO = group('io', ['bytes', 'status', 'tail', 'slot', 'pushedCount', 'pushed', 'pushedCapacity', 'readCount', 'reads', 'readCapacity', 'calculated', 'demoted', 'opFlagsShift'])
const FACTS = group('facts', ['stride', 'start', 'ttl', 'size'])
const STATUS = group('status', ['live', 'stale', 'expired', 'collected'])
const FLAG = group('flag', ['changed', 'updateTtl', 'strong', 'updateAge', 'keepStale', 'allowStale', 'reverse', 'clock', 'trackSizes', 'weak'])
/** The outcomes of lookups JS logs for the statistics (in the read log, beside pinned slots). */
const LOOKED = group('looked', ['miss', 'hit', 'weakHit', 'staleHit'])
const SHIFT = IO.opFlagsShift

/** The `dispose` reasons, by removal-cause number. */
const REASONS = Object.freeze([...protocol.causes])

function causeOf(reason) {
  const n = REASONS.indexOf(reason)
  if (n < 0) throw makeError('ERR_EPHEMERON_VERSION_MISMATCH', `WeakCache: the native addon has no removal cause '${reason}'; rebuild it`)
  return n
}

const CAUSE = Object.freeze(Object.fromEntries(['evict', 'set', 'delete', 'expire', 'collect', 'fetch'].map((reason) => [reason, causeOf(reason)])))

/** A cache's native function, with a method per op (see the protocol's declaration for each). */
class CacheNative {
  #fn
  #onBroken

  /**
   * @param {ArrayBuffer} io the buffer shared with the native side (IO.bytes long)
   * @param {number} max the most pinned entries, -1 for no count limit
   * @param {number} maxSize the most total size of the pinned entries, 0 for none
   * @param {number} flags FLAG.trackSizes, FLAG.weak
   * @param {(slots: number[]) => void} deliver called on the event loop with collected slots
   * @param {() => void} onBroken called when a call reports the cache broken
   */
  constructor(io, max, maxSize, flags, deliver, onBroken) {
    this.#fn = weakCacheCreate(io, max, maxSize, flags, deliver)
    this.#onBroken = onBroken
  }

  /** `native(word, ...args)`: the call every op method makes. */
  native(word, a, b, c, d, e, f) {
    try {
      return this.#fn(word, a, b, c, d, e, f)
    } catch (error) {
      if (error?.code === 'ERR_EPHEMERON_BROKEN') this.#onBroken()
      throw error
    }
  }
}

defineOpMethods(CacheNative.prototype, 'WeakCache protocol', protocol.ops, SHIFT)

module.exports = Object.freeze({ CacheNative, IO, FACTS, STATUS, FLAG, CAUSE, LOOKED, REASONS, protocol })
