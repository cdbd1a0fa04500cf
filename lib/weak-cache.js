'use strict'
// WeakCache: an LRU cache whose `max` most recent entries are pinned and whose object values,
// once pushed out, stay reachable through the cache while anything else holds them.
//
// The policy (order, demotion, expiry, collection, stats) lives in Rust. This class holds the
// keys (`#index`: key -> slot, `#keys` by slot) and the pinned values (`#values` by slot: holding
// them is what pins them), so a pinned hit never leaves JS. The protocol between the two sides
// (who holds what, the shared buffers, the sequence of every operation) is defined once, in
// src/core/cache_protocol.rs; every number below comes from the native side at load.

const { weakCacheProtocol, weakCacheCreate } = require('./native.js')
const { Array, ArrayBuffer, Float64Array, Int32Array, Map, Number, Object, Reflect, Symbol, WeakRef, performance } = require('./primordials.js')
const { describe, describeThrown, incompatibleReceiver, invalidType, invalidValue, makeError, outOfRange, warn } = require('./errors.js')

const protocol = weakCacheProtocol()

/** A number of the protocol; a missing one means the addon and this file disagree. */
function numberOf(group, name) {
  const n = protocol[group]?.[name]
  if (typeof n !== 'number') {
    throw makeError('ERR_EPHEMERON_VERSION_MISMATCH', `WeakCache: the native addon does not define ${group}.${name}; rebuild it`)
  }
  return n
}

const IO_BYTES = numberOf('io', 'bytes')
const STATUS = numberOf('io', 'status')
const TAIL = numberOf('io', 'tail')
const PUSHED_COUNT = numberOf('io', 'pushedCount')
const PUSHED = numberOf('io', 'pushed')
const READ_COUNT = numberOf('io', 'readCount')
const READS = numberOf('io', 'reads')
const READ_CAPACITY = numberOf('io', 'readCapacity')
const READ_TIMES = numberOf('io', 'readTimes')
const DEMOTED = numberOf('io', 'demoted')
const LIVE = numberOf('status', 'live')
const COLLECTED = numberOf('status', 'collected')
const OP_INSERT = numberOf('op', 'insert')
const OP_REPLACE = numberOf('op', 'replace')
const OP_GET = numberOf('op', 'get')
const OP_PEEK = numberOf('op', 'peek')
const OP_REMOVE = numberOf('op', 'remove')
const OP_CLEAR = numberOf('op', 'clear')
const OP_ORDER = numberOf('op', 'order')
const OP_STATS = numberOf('op', 'stats')
const OP_SYNC = numberOf('op', 'sync')
const OP_TIMING = numberOf('op', 'timing')
const OP_INJECT_PANIC = numberOf('op', 'injectPanic')
/** The `dispose` reasons, by removal-cause number. */
const CAUSES = protocol.causes
const causeOf = (reason) => {
  const n = CAUSES.indexOf(reason)
  if (n < 0) throw makeError('ERR_EPHEMERON_VERSION_MISMATCH', `WeakCache: the native addon has no removal cause '${reason}'; rebuild it`)
  return n
}
const EVICT = causeOf('evict')
const SET = causeOf('set')
const DELETE = causeOf('delete')
const EXPIRE = causeOf('expire')
const COLLECT = causeOf('collect')

// Slots travel as Int32.
const MAX_LIMIT = 2 ** 31 - 2
const NO_REMOVALS = Object.freeze([])

const { apply } = Reflect
const { isInteger } = Number
const weakRefDeref = WeakRef.prototype.deref

let indexOf // (cache, method) => its index; throws a clear TypeError on a foreign receiver
let deliverCollected // (cache, slots) => reports collected entries to dispose
let injectPanic // (cache) => makes the native side panic in the middle of an update (specs only)

class WeakCache {
  /** key -> slot, for every entry JS has not seen leave (pinned, weak, collected but unnoticed);
   * null once the native side reported the cache broken. */
  #index = new Map()
  /** slot -> key (kept for a collected entry until its 'collect' is delivered). */
  #keys = []
  /** slot -> the value of a pinned entry; undefined for every other slot. */
  #values = []
  /** Int32 view of the io buffer shared with Rust: the reply and the read log. */
  #io
  /** Float64 view of the io buffer: the time of each logged read. */
  #times
  /** Float64 by slot, written by Rust: when each pinned entry expires. Null until a ttl is used. */
  #deadlines = null
  #native
  #max
  #ttl
  #dispose
  #perf

  static {
    indexOf = (cache, method) => {
      let index
      try {
        index = cache.#index
      } catch {
        throw incompatibleReceiver(`WeakCache.prototype.${method}`, cache)
      }
      if (index === null) throw brokenError(method)
      return index
    }
    deliverCollected = (cache, slots) => cache.#deliverCollected(slots)
    injectPanic = (cache) => cache.#call(OP_INJECT_PANIC)
  }

  /**
   * @param {{max: number, ttl?: number, updateAgeOnGet?: boolean, dispose?: Function, perf?: {now(): number}}} options
   */
  constructor(options) {
    if (options === null || typeof options !== 'object') {
      throw invalidType('WeakCache: options', 'an object such as { max: 1000 }', options)
    }
    const { max, ttl = 0, updateAgeOnGet = false, dispose, perf = performance } = options
    this.#max = checkMax(max)
    this.#ttl = checkTtl(ttl, 'options.ttl')
    if (typeof updateAgeOnGet !== 'boolean') throw invalidType('WeakCache: options.updateAgeOnGet', 'a boolean', updateAgeOnGet)
    if (dispose !== undefined && typeof dispose !== 'function') throw invalidType('WeakCache: options.dispose', 'a function', dispose)
    if (perf === null || typeof perf !== 'object' || typeof perf.now !== 'function') {
      throw invalidType('WeakCache: options.perf', 'an object with a now() method', perf)
    }
    this.#dispose = dispose
    this.#perf = perf
    const buffer = new ArrayBuffer(IO_BYTES)
    this.#io = new Int32Array(buffer)
    this.#times = new Float64Array(buffer, READ_TIMES * 8, READ_CAPACITY)
    this.#native = weakCacheCreate(buffer, this.#max, updateAgeOnGet, collectedSlotsHandler(new WeakRef(this)))
    if (this.#ttl > 0) this.#startClock()
  }

  /** The number of pinned entries. */
  get max() {
    indexOf(this, 'max')
    return this.#max
  }

  /** Pinned entries plus weak entries whose collection has not been noticed or delivered yet. */
  get size() {
    return indexOf(this, 'size').size
  }

  get(key) {
    const slot = indexOf(this, 'get').get(key)
    if (slot === undefined) {
      assertKey(key, 'get')
      this.#logMiss()
      return undefined
    }
    const value = this.#values[slot]
    if (value !== undefined && this.#deadlines === null) {
      this.#logRead(slot)
      return value
    }
    return this.#getSlow(slot)
  }

  peek(key) {
    const index = indexOf(this, 'peek') // before this.#peek, which would throw its own TypeError
    return this.#peek(index, key, 'peek')
  }

  has(key) {
    const index = indexOf(this, 'has')
    return this.#peek(index, key, 'has') !== undefined
  }

  set(key, value, options = undefined) {
    const index = indexOf(this, 'set')
    assertKey(key, 'set')
    if (value === undefined) {
      this.#delete(key)
      return this
    }
    if (key === 0) key = 0 // as in Map, -0 is stored (and reported) as 0
    let ttl = this.#ttl
    if (options !== undefined) {
      if (options === null || typeof options !== 'object') {
        throw invalidType('WeakCache.prototype.set: options', 'an object such as { ttl: 1000 }', options)
      }
      const optionTtl = options.ttl
      if (optionTtl !== undefined) ttl = checkTtl(optionTtl, 'set options.ttl')
    }
    // The clock is user code: read it before anything changes.
    const now = ttl > 0 || this.#deadlines !== null ? this.#clock() : 0
    if (ttl > 0 && this.#deadlines === null) this.#startClock()
    const slot = index.get(key)
    if (slot === undefined) return this.#insert(key, value, ttl, now, undefined)
    const old = this.#values[slot]
    if (old !== undefined) {
      this.#call(OP_REPLACE, slot, ttl, now, old !== value)
      this.#values[slot] = value
      if (old !== value) this.#callDispose(old, key, SET)
      return this
    }
    // A weak entry: its value is replaced (or was collected, and its 'collect' follows).
    const replaced = this.#call(OP_REMOVE, slot, SET)
    const collected = this.#io[STATUS] === COLLECTED
    this.#forget(slot, collected)
    return this.#insert(key, value, ttl, now, replaced)
  }

  delete(key) {
    indexOf(this, 'delete')
    assertKey(key, 'delete')
    return this.#delete(key)
  }

  clear() {
    const index = indexOf(this, 'clear')
    const weakPairs = this.#call(OP_CLEAR)
    const keys = this.#keys
    const values = this.#values
    const removed = []
    for (const [key, slot] of index) {
      const value = values[slot]
      if (value === undefined) continue
      removed.push(value, key, DELETE)
      keys[slot] = undefined
      values[slot] = undefined
    }
    for (let i = 0; i < weakPairs.length; i += 2) {
      const slot = weakPairs[i]
      removed.push(weakPairs[i + 1], keys[slot], DELETE)
      keys[slot] = undefined
    }
    // Entries found collected stay in #keys until their 'collect' is delivered.
    this.#index = new Map()
    this.#disposeAll(removed)
  }

  /** Counters since construction, and the current size of each tier. */
  stats() {
    indexOf(this, 'stats')
    return this.#call(OP_STATS)
  }

  entries() {
    indexOf(this, 'entries')
    return this.#walk(ENTRIES)
  }

  keys() {
    indexOf(this, 'keys')
    return this.#walk(KEYS)
  }

  values() {
    indexOf(this, 'values')
    return this.#walk(VALUES)
  }

  forEach(callbackfn, thisArg = this) {
    indexOf(this, 'forEach')
    if (typeof callbackfn !== 'function') throw invalidType('WeakCache.prototype.forEach: callback', 'a function', callbackfn)
    for (const [key, value] of this.#walk(ENTRIES)) apply(callbackfn, thisArg, [value, key, this])
  }

  /** Live entries, most recent first: a snapshot of the keys, each looked up (without
   * refreshing it) when reached, so entries removed, collected or expired meanwhile are skipped. */
  *#walk(kind) {
    const slots = this.#call(OP_ORDER)
    const keys = new Array(slots.length)
    for (let i = 0; i < slots.length; i++) keys[i] = this.#keys[slots[i]]
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]
      const value = this.#peek(indexOf(this, 'entries'), key, 'entries')
      if (value === undefined) continue
      yield kind === KEYS ? key : kind === VALUES ? value : [key, value]
    }
  }

  /** A get that JS cannot answer alone: a weak entry, or a pinned one at or past its deadline. */
  #getSlow(slot) {
    const now = this.#now()
    const pinned = this.#values[slot]
    if (pinned !== undefined && now < this.#deadlines[slot]) {
      this.#logTimedRead(slot, now)
      return pinned
    }
    const values = this.#values
    const weak = this.#call(OP_GET, slot, now, values, values[this.#io[TAIL]])
    if (this.#io[STATUS] === LIVE) {
      const value = pinned ?? weak
      this.#values[slot] = value
      this.#disposeAll(this.#applyPushed())
      return value
    }
    const collected = this.#io[STATUS] === COLLECTED
    const key = this.#forget(slot, collected)
    if (!collected) this.#callDispose(pinned ?? weak, key, EXPIRE)
    return undefined
  }

  #peek(index, key, method) {
    const slot = index.get(key)
    if (slot === undefined) {
      assertKey(key, method)
      return undefined
    }
    const pinned = this.#values[slot]
    if (pinned !== undefined && this.#deadlines === null) return pinned
    const now = this.#now()
    if (pinned !== undefined && now < this.#deadlines[slot]) return pinned
    const weak = this.#call(OP_PEEK, slot, now)
    const status = this.#io[STATUS]
    if (status === LIVE) return pinned ?? weak
    if (status === COLLECTED) this.#forget(slot, true)
    return undefined
  }

  #delete(key) {
    const slot = this.#index.get(key)
    if (slot === undefined) return false
    const weak = this.#call(OP_REMOVE, slot, DELETE)
    if (this.#io[STATUS] === COLLECTED) {
      this.#forget(slot, true)
      return false
    }
    const value = this.#values[slot] ?? weak
    this.#callDispose(value, this.#forget(slot, false), DELETE)
    return true
  }

  #insert(key, value, ttl, now, replaced) {
    const values = this.#values
    const slot = this.#call(OP_INSERT, value, ttl, now, values, values[this.#io[TAIL]])
    if (slot >= this.#keys.length) this.#grow(slot)
    this.#keys[slot] = key
    this.#values[slot] = value
    this.#index.set(key, slot)
    // Rust grew the deadlines buffer before an insert whose slot is beyond it.
    if (this.#deadlines !== null && slot >= this.#deadlines.length) this.#deadlines = new Float64Array(this.#call(OP_TIMING))
    const removed = this.#applyPushed()
    if (replaced !== undefined && replaced !== value) this.#callDispose(replaced, key, SET)
    this.#disposeAll(removed)
    return this
  }

  /** Makes room for `slot` in the arrays by slot: in doublings up to `max + 1` (so a full cache
   * has no slack, as lru-cache, which allocates its arrays at `max`), by doubling beyond. */
  #grow(slot) {
    const wanted = slot + 1
    let length = wanted > 8 ? wanted : 8
    if (length < 2 * this.#keys.length) length = 2 * this.#keys.length
    if (wanted <= this.#max + 1 && length > this.#max + 1) length = this.#max + 1
    this.#keys = grown(this.#keys, length)
    this.#values = grown(this.#values, length)
  }

  /** Applies the entries the last call pushed out of the pinned tier; returns the removed ones as
   * [value, key, cause, ...] for dispose, which runs once everything is consistent. */
  #applyPushed() {
    const io = this.#io
    const count = io[PUSHED_COUNT]
    if (count === 0) return NO_REMOVALS
    let removed = NO_REMOVALS
    for (let i = 0; i < count; i++) {
      const slot = io[PUSHED + 2 * i]
      const fate = io[PUSHED + 2 * i + 1]
      if (fate === DEMOTED) {
        this.#values[slot] = undefined
        continue
      }
      const value = this.#values[slot]
      if (removed === NO_REMOVALS) removed = []
      removed.push(value, this.#forget(slot, false), fate)
    }
    return removed
  }

  /** An entry left: drops it from the index and the values; a collected entry keeps its key until
   * its 'collect' is delivered. Returns its key. */
  #forget(slot, collected) {
    const key = this.#keys[slot]
    this.#index.delete(key)
    this.#values[slot] = undefined
    if (!collected) this.#keys[slot] = undefined
    return key
  }

  #deliverCollected(slots) {
    const keys = this.#keys
    const index = this.#index
    const removed = []
    // First forget every slot (Rust has freed them), then call dispose: a dispose that sets a key
    // may be given one of these slots again.
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]
      const key = keys[slot]
      keys[slot] = undefined
      if (index.get(key) === slot) index.delete(key)
      removed.push(undefined, key, COLLECT)
    }
    this.#disposeAll(removed)
  }

  #logRead(slot) {
    const io = this.#io
    const count = io[READ_COUNT]
    io[READS + count] = slot
    io[READ_COUNT] = count + 1
    if (count + 1 === READ_CAPACITY) this.#call(OP_SYNC)
  }

  #logTimedRead(slot, now) {
    this.#times[this.#io[READ_COUNT]] = now
    this.#logRead(slot)
  }

  #logMiss() {
    this.#logRead(-1)
  }

  #now() {
    return this.#deadlines === null ? 0 : this.#clock()
  }

  /** The ttl clock (user code). */
  #clock() {
    const now = this.#perf.now()
    if (typeof now !== 'number') throw invalidType('WeakCache: the result of options.perf.now()', 'a number', now)
    if (now !== now) throw invalidValue('WeakCache: the result of options.perf.now()', 'a number other than NaN', now)
    return now
  }

  /** Turns on the clock, for the first entry with a ttl. */
  #startClock() {
    this.#deadlines = new Float64Array(this.#call(OP_TIMING))
  }

  /** Calls the native side (see the protocol). If it reports the cache broken (a caught panic
   * interrupted an update), JS breaks too, so that every later call fails the same way. */
  #call(op, a, b, c, d, e) {
    try {
      return this.#native(op, a, b, c, d, e)
    } catch (error) {
      if (error?.code === 'ERR_EPHEMERON_BROKEN') this.#index = null
      throw error
    }
  }

  /** Calls dispose for [value, key, cause, ...]; each one runs whatever the others throw. */
  #disposeAll(removed) {
    for (let i = 0; i < removed.length; i += 3) this.#callDispose(removed[i], removed[i + 1], removed[i + 2])
  }

  /** Calls dispose; whatever it throws becomes a warning. */
  #callDispose(value, key, cause) {
    const dispose = this.#dispose
    if (dispose === undefined) return
    const reason = CAUSES[cause]
    try {
      apply(dispose, this, [value, key, reason])
    } catch (thrown) {
      warn(
        'WeakCacheWarning',
        'ERR_EPHEMERON_DISPOSE_THREW',
        `WeakCache dispose threw for key ${describe(key)} (reason '${reason}'): ${describeThrown(thrown)}`,
      )
    }
  }
}

const KEYS = 0
const VALUES = 1
const ENTRIES = 2

/** The function the native side calls, on the event loop, with the slots of collected entries. It
 * holds the cache only weakly, so a cache nobody uses any more can itself be collected, and it
 * never throws: an exception here would end the process. */
function collectedSlotsHandler(cacheRef) {
  return (slots) => {
    try {
      const cache = apply(weakRefDeref, cacheRef, [])
      if (cache !== undefined) deliverCollected(cache, slots)
    } catch (thrown) {
      warn('WeakCacheWarning', 'ERR_EPHEMERON_INTERNAL', 'WeakCache: delivering collected entries failed', thrown)
    }
  }
}

/** A copy of `array` with room for `length` elements, every new one undefined (never a hole). */
function grown(array, length) {
  const copy = new Array(length)
  for (let i = 0; i < array.length; i++) copy[i] = array[i]
  for (let i = array.length; i < length; i++) copy[i] = undefined
  return copy
}

function brokenError(method) {
  return makeError(
    'ERR_EPHEMERON_BROKEN',
    `WeakCache.prototype.${method}: this cache is broken: an internal error (a caught Rust panic) interrupted an update, so its state cannot be trusted. Please report it.`,
  )
}

function assertKey(key, method) {
  const type = typeof key
  if (type !== 'string' && type !== 'number') throw invalidType(`WeakCache.prototype.${method}: key`, 'a string or a number', key)
}

function checkMax(max) {
  if (typeof max !== 'number') throw invalidType('WeakCache: options.max', 'an integer >= 0 (0 makes a pure weak-value map)', max)
  if (!isInteger(max) || max < 0 || max > MAX_LIMIT) throw outOfRange('WeakCache: options.max', `an integer from 0 to ${MAX_LIMIT}`, max)
  return max
}

function checkTtl(ttl, what) {
  if (typeof ttl !== 'number') throw invalidType(`WeakCache: ${what}`, 'a number of milliseconds', ttl)
  if (!(ttl >= 0) || ttl === Infinity) throw outOfRange(`WeakCache: ${what}`, 'a finite number of milliseconds >= 0 (0 = no ttl)', ttl)
  return ttl
}

Object.defineProperty(WeakCache.prototype, Symbol.iterator, { value: WeakCache.prototype.entries, writable: true, configurable: true })
Object.defineProperty(WeakCache.prototype, Symbol.toStringTag, { value: 'WeakCache', configurable: true })

// `forSpecs` is not part of the package's API (index.js exports WeakCache only).
module.exports = { WeakCache, forSpecs: { injectPanic, protocol } }
