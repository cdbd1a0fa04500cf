'use strict'
// IterableWeakMap: the built-in WeakMap's semantics plus size, clear() and ordered iteration.
//
// Values live in a real WeakMap under their keys: V8 treats WeakMap entries as ephemerons, so a
// value that references its own key still dies with it, and get/has cost one WeakMap lookup.
// A second WeakMap holds, per key, a record `{ key, id }`; the native table
// (src/iterable_weak_map.rs) keeps one weak reference to each record, in insertion order, for
// size, clear and iteration. A record lives exactly as long as its key is in the map. Only
// adding a new key, size, clear, each iteration step and every 32nd delete cross into Rust.

const { weakTableCreate } = require('./native.js')
const { Float64Array } = require('./primordials.js')
const { assertWeakKey, incompatibleReceiver, describe } = require('./weak-keys.js')

// The protocol of a native table (src/iterable_weak_map.rs): `weakTableCreate(removed)` makes a
// table function `table(op, arg)`. `removed` is a Float64Array `[count, id, id, ...]` of records
// deleted since the last call: delete appends there instead of crossing into Rust, and every
// call removes them first.
const OP_ADD = 0 // arg: the new record; returns its id
const OP_DRAIN = 1 // only the removals every call does first (when `removed` is full)
const OP_SIZE = 2
const OP_NEXT = 3 // arg: a record id; returns the first live record after it, or undefined
const OP_CLEAR = 4
const REMOVED_CAPACITY = 32 // deletes per crossing into Rust

const IteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()))

let stateOf // (map, method) => the map itself after a brand check; throws on a foreign receiver
let valuesOf // map => WeakMap key -> value
let tableOf // map => native table function

class IterableWeakMap {
  #values = new WeakMap()
  #records = new WeakMap()
  #removed = new Float64Array(1 + REMOVED_CAPACITY)
  #table = weakTableCreate(this.#removed)

  static {
    stateOf = (map, method) => {
      if (map === null || typeof map !== 'object' || !(#table in map)) {
        throw incompatibleReceiver(`IterableWeakMap.prototype.${method}`, map)
      }
      return map
    }
    valuesOf = (map) => map.#values
    tableOf = (map) => map.#table
  }

  /**
   * @param {Iterable<[object|symbol, unknown]> | null} [iterable] entries added with `this.set`.
   */
  constructor(iterable = undefined) {
    if (iterable === undefined || iterable === null) return
    const adder = this.set
    if (typeof adder !== 'function') throw new TypeError("IterableWeakMap: 'this.set' is not a function")
    addEntriesFrom(iterable, (entry) => {
      if (entry === null || (typeof entry !== 'object' && typeof entry !== 'function')) {
        throw new TypeError(`IterableWeakMap: iterator value ${describe(entry)} is not an entry object`)
      }
      adder.call(this, entry[0], entry[1])
    })
  }

  // get and has are the hot path: the private-field read is the brand check (a foreign receiver
  // makes V8 throw a TypeError), and a failed read is turned into our clearer message.
  get(key) {
    try {
      return this.#values.get(key)
    } catch (error) {
      throw receiverError(this, 'get', error)
    }
  }

  has(key) {
    try {
      return this.#values.has(key)
    } catch (error) {
      throw receiverError(this, 'has', error)
    }
  }

  set(key, value) {
    stateOf(this, 'set')
    if (!this.#values.has(key)) {
      assertWeakKey(key, 'IterableWeakMap key')
      this.#insertRecord(key)
    }
    this.#values.set(key, value) // a present key keeps its place
    return this
  }

  delete(key) {
    stateOf(this, 'delete')
    const record = this.#records.get(key)
    if (record === undefined) return false
    this.#records.delete(key)
    this.#values.delete(key)
    const removed = this.#removed
    const count = removed[0] + 1
    removed[count] = record.id
    removed[0] = count
    if (count === REMOVED_CAPACITY) this.#table(OP_DRAIN)
    return true
  }

  clear() {
    stateOf(this, 'clear')
    this.#values = new WeakMap()
    this.#records = new WeakMap()
    this.#table(OP_CLEAR)
  }

  get size() {
    return stateOf(this, 'size').#table(OP_SIZE)
  }

  getOrInsert(key, value) {
    stateOf(this, 'getOrInsert')
    assertWeakKey(key, 'IterableWeakMap key')
    if (this.#values.has(key)) return this.#values.get(key)
    this.#insertRecord(key)
    this.#values.set(key, value)
    return value
  }

  getOrInsertComputed(key, callbackfn) {
    stateOf(this, 'getOrInsertComputed')
    if (typeof callbackfn !== 'function') {
      throw new TypeError(`IterableWeakMap.prototype.getOrInsertComputed: callback ${describe(callbackfn)} is not a function`)
    }
    assertWeakKey(key, 'IterableWeakMap key')
    if (this.#values.has(key)) return this.#values.get(key)
    const value = callbackfn.call(undefined, key)
    // The callback may have inserted the key (or cleared the map): look again, as the spec does.
    if (!this.#values.has(key)) this.#insertRecord(key)
    this.#values.set(key, value)
    return value
  }

  forEach(callbackfn, thisArg = undefined) {
    stateOf(this, 'forEach')
    if (typeof callbackfn !== 'function') {
      throw new TypeError(`IterableWeakMap.prototype.forEach: callback ${describe(callbackfn)} is not a function`)
    }
    const cursor = new RecordCursor(this)
    for (let record = cursor.next(); record !== undefined; record = cursor.next()) {
      callbackfn.call(thisArg, this.#values.get(record.key), record.key, this)
    }
  }

  entries() {
    return new IterableWeakMapIterator(stateOf(this, 'entries'), ENTRIES)
  }

  keys() {
    return new IterableWeakMapIterator(stateOf(this, 'keys'), KEYS)
  }

  values() {
    return new IterableWeakMapIterator(stateOf(this, 'values'), VALUES)
  }

  #insertRecord(key) {
    const record = { key, id: 0 }
    record.id = this.#table(OP_ADD, record)
    this.#records.set(key, record)
  }
}

function receiverError(receiver, method, error) {
  return error instanceof TypeError ? incompatibleReceiver(`IterableWeakMap.prototype.${method}`, receiver) : error
}

/**
 * Walks the live records of a map in insertion order, as a Map iterator walks its entries. It
 * holds the map and the id of the record it passed last, never a record it has not passed yet:
 * an abandoned cursor keeps no key alive. Records added later have larger ids and are visited;
 * deleted ones are gone from the native table and are not.
 */
class RecordCursor {
  #map
  #after = 0 // id of the last record passed

  constructor(map) {
    this.#map = map
  }

  /** The map walked, until the end is reached. */
  get map() {
    return this.#map
  }

  /** The next live record, or undefined at the end (after which it stays at the end). */
  next() {
    const map = this.#map
    if (map === undefined) return undefined
    const record = tableOf(map)(OP_NEXT, this.#after)
    if (record === undefined) {
      this.#map = undefined
      return undefined
    }
    this.#after = record.id
    return record
  }
}

const KEYS = 0
const VALUES = 1
const ENTRIES = 2

class IterableWeakMapIterator {
  #cursor
  #kind

  constructor(map, kind) {
    this.#cursor = new RecordCursor(map)
    this.#kind = kind
  }

  next() {
    let cursor
    try {
      cursor = this.#cursor
    } catch {
      throw incompatibleReceiver('IterableWeakMap Iterator.prototype.next', this)
    }
    const record = cursor.next()
    if (record === undefined) return { value: undefined, done: true }
    const kind = this.#kind
    if (kind === KEYS) return { value: record.key, done: false }
    const value = valuesOf(cursor.map).get(record.key)
    return { value: kind === VALUES ? value : [record.key, value], done: false }
  }
}

Object.setPrototypeOf(IterableWeakMapIterator.prototype, IteratorPrototype)
Object.defineProperty(IterableWeakMapIterator.prototype, Symbol.toStringTag, {
  value: 'IterableWeakMap Iterator',
  configurable: true,
})

/** Feeds each value of `iterable` to `add`, closing the iterator if `add` throws (spec: AddEntriesFromIterable). */
function addEntriesFrom(iterable, add) {
  const method = iterable[Symbol.iterator]
  if (typeof method !== 'function') throw new TypeError(`${describe(iterable)} is not iterable`)
  const iterator = method.call(iterable)
  if (iterator === null || (typeof iterator !== 'object' && typeof iterator !== 'function')) {
    throw new TypeError('Result of the Symbol.iterator method is not an object')
  }
  const next = iterator.next
  for (;;) {
    const step = next.call(iterator)
    if (step === null || (typeof step !== 'object' && typeof step !== 'function')) {
      throw new TypeError(`Iterator result ${describe(step)} is not an object`)
    }
    if (step.done) return
    try {
      add(step.value)
    } catch (error) {
      try {
        const close = iterator.return
        if (close !== undefined && close !== null) close.call(iterator)
      } catch {
        // The original error wins (spec: IteratorClose with a throw completion).
      }
      throw error
    }
  }
}

function defineLikeBuiltin(proto, tag, iteratorMethod) {
  Object.defineProperty(proto, Symbol.iterator, { value: iteratorMethod, writable: true, configurable: true })
  Object.defineProperty(proto, Symbol.toStringTag, { value: tag, configurable: true })
}

defineLikeBuiltin(IterableWeakMap.prototype, 'IterableWeakMap', IterableWeakMap.prototype.entries)

module.exports = { IterableWeakMap, IterableWeakMapIterator, RecordCursor, addEntriesFrom, defineLikeBuiltin, KEYS, ENTRIES }
