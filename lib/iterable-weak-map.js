'use strict'
// IterableWeakMap: the built-in WeakMap's semantics plus size, clear() and ordered iteration.
//
// Each entry is a record `{ key, value, id }` stored in a real WeakMap under its key. V8 treats
// WeakMap entries as ephemerons, so a value that references its own key still dies with it.
// get/has and re-setting a present key are pure JS. The native table (src/iterable_weak_map.rs)
// keeps one weak reference to each record, in insertion order, for size, clear and iteration;
// only adding a new key, delete, size, clear and iteration batches cross into Rust.

const native = require('./native.js')
const { assertWeakKey, incompatibleReceiver, describe } = require('./weak-keys.js')

const { weakTableCreate, weakTableAdd, weakTableRemove, weakTableSize, weakTableNext, weakTableClear } = native

// Records fetched per native call while iterating. The fetched records (and so their keys) stay
// reachable until the iterator moves past them.
const BATCH = 64
const NO_RECORDS = Object.freeze([])

const IteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()))

let entriesOf // (map, method) => WeakMap of records; throws on a foreign receiver
let tableOf // map => native table handle

class IterableWeakMap {
  #entries = new WeakMap()
  #table = weakTableCreate()

  static {
    entriesOf = (map, method) => {
      try {
        return map.#entries
      } catch {
        throw incompatibleReceiver(`IterableWeakMap.prototype.${method}`, map)
      }
    }
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

  get(key) {
    return entriesOf(this, 'get').get(key)?.value
  }

  has(key) {
    return entriesOf(this, 'has').has(key)
  }

  set(key, value) {
    const entries = entriesOf(this, 'set')
    const record = entries.get(key)
    if (record !== undefined) {
      record.value = value // re-setting keeps the entry's place
    } else {
      assertWeakKey(key, 'IterableWeakMap key')
      this.#insert(entries, key, value)
    }
    return this
  }

  delete(key) {
    const entries = entriesOf(this, 'delete')
    const record = entries.get(key)
    if (record === undefined) return false
    entries.delete(key)
    weakTableRemove(this.#table, record.id)
    return true
  }

  clear() {
    entriesOf(this, 'clear')
    this.#entries = new WeakMap()
    weakTableClear(this.#table)
  }

  get size() {
    entriesOf(this, 'size')
    return weakTableSize(this.#table)
  }

  getOrInsert(key, value) {
    const entries = entriesOf(this, 'getOrInsert')
    assertWeakKey(key, 'IterableWeakMap key')
    const record = entries.get(key)
    if (record !== undefined) return record.value
    this.#insert(entries, key, value)
    return value
  }

  getOrInsertComputed(key, callbackfn) {
    const entries = entriesOf(this, 'getOrInsertComputed')
    if (typeof callbackfn !== 'function') {
      throw new TypeError(`IterableWeakMap.prototype.getOrInsertComputed: callback ${describe(callbackfn)} is not a function`)
    }
    assertWeakKey(key, 'IterableWeakMap key')
    const found = entries.get(key)
    if (found !== undefined) return found.value
    const value = callbackfn.call(undefined, key)
    // The callback may have inserted the key (or cleared the map): look again, as the spec does.
    const current = this.#entries
    const inserted = current.get(key)
    if (inserted !== undefined) inserted.value = value
    else this.#insert(current, key, value)
    return value
  }

  forEach(callbackfn, thisArg = undefined) {
    entriesOf(this, 'forEach')
    if (typeof callbackfn !== 'function') {
      throw new TypeError(`IterableWeakMap.prototype.forEach: callback ${describe(callbackfn)} is not a function`)
    }
    const cursor = new RecordCursor(this)
    for (let record = cursor.next(); record !== undefined; record = cursor.next()) {
      callbackfn.call(thisArg, record.value, record.key, this)
    }
  }

  entries() {
    entriesOf(this, 'entries')
    return new IterableWeakMapIterator(this, ENTRIES)
  }

  keys() {
    entriesOf(this, 'keys')
    return new IterableWeakMapIterator(this, KEYS)
  }

  values() {
    entriesOf(this, 'values')
    return new IterableWeakMapIterator(this, VALUES)
  }

  #insert(entries, key, value) {
    const record = { key, value, id: 0 }
    record.id = weakTableAdd(this.#table, record)
    entries.set(key, record)
  }
}

/** Walks the live records of a map in insertion order, as a Map iterator walks its entries. */
class RecordCursor {
  #map
  #batch = NO_RECORDS
  #index = 0
  #after = 0 // id of the last record passed

  constructor(map) {
    this.#map = map
  }

  /** The next live record, or undefined at the end (after which it stays at the end). */
  next() {
    const map = this.#map
    if (map === undefined) return undefined
    for (;;) {
      while (this.#index < this.#batch.length) {
        const record = this.#batch[this.#index++]
        this.#after = record.id
        // Deleted (or cleared, or deleted and set again) since the batch was fetched: skip it.
        if (entriesOf(map, 'next').get(record.key) === record) return record
      }
      this.#batch = weakTableNext(tableOf(map), this.#after, BATCH)
      this.#index = 0
      if (this.#batch.length === 0) {
        this.#map = undefined
        this.#batch = NO_RECORDS
        return undefined
      }
    }
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
    const value = kind === KEYS ? record.key : kind === VALUES ? record.value : [record.key, record.value]
    return { value, done: false }
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
