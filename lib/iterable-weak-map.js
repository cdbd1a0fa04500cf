'use strict'
// IterableWeakMap: the built-in WeakMap's semantics plus size, clear() and ordered iteration.
//
// Values live in a real WeakMap under their keys: V8 treats WeakMap entries as ephemerons, so a
// value that references its own key still dies with it, and get/has cost one WeakMap lookup.
// A second WeakMap holds, per key, its entry `{ key, id }`; the native table
// (src/iterable_weak_map.rs) keeps one weak reference to each entry, in insertion order, for
// size, clear and iteration. An entry lives exactly as long as its key is in the map. Only
// adding a new key, size, clear, each iteration step and every 32nd delete cross into Rust.
//
// Every built-in comes from primordials.js (captured at load): a polyfill that installs this
// class as `globalThis.WeakMap` must not make it build itself out of itself.

const { weakTableCreate, weakTableProtocol } = require('./native.js')
const { adapterClass } = require('./native-protocol.js')
const { Float64Array, Object, Reflect, SafeWeakMap, Symbol, TypeError, WeakRef } = require('./primordials.js')
const { assertWeakKey } = require('./weak-keys.js')
const { describe, incompatibleReceiver, invalidType, makeError, warn, warnCallbackThrew } = require('./errors.js')

const { apply, ownKeys } = Reflect
const { defineProperty, getOwnPropertyDescriptor, getPrototypeOf, setPrototypeOf } = Object
const SymbolIterator = Symbol.iterator
const SymbolToStringTag = Symbol.toStringTag
const weakRefDeref = WeakRef.prototype.deref

// A map's native table, with a method per op of its protocol (src/core/weak_table_protocol.rs,
// which says what each does). A map's first delete shares a Float64Array `[count, id, id, ...]`
// with its table (`shareRemoved`); later deletes append there instead of crossing into Rust, and
// every call removes them first.
const WeakTable = adapterClass('IterableWeakMap table', weakTableProtocol())
const REMOVED_CAPACITY = 32 // deletes per crossing into Rust

const IteratorPrototype = getPrototypeOf(getPrototypeOf([][SymbolIterator]()))

// The operations on a map's private state, shared with IterableWeakSet (which keeps an
// IterableWeakMap inside and must not go through prototypes that user code can change).
let brandCheck // (map, method) => map; throws ERR_INVALID_THIS on anything else
let hasKey // (map, key) => boolean
let insertEntry // (map, key, value): appends an entry; the caller checked that the key is new and can be held weakly
let deleteEntry // (map, key) => boolean
let clearEntries // (map)
let tableOf // map => its native table (the same one for the map's whole life)
let valuesOf // map => its key -> value WeakMap (replaced by clear())
let watchCollections // (map, onCollect, className?): calls onCollect(count) on the event loop after collections
let deliverCollected // map => calls its onCollect with the entries collected since the last call

/**
 * The base of the state classes: its constructor returns its argument, so `new State(target)`
 * installs State's private fields on `target`, an object the public constructor already made
 * (with the prototype of `new.target`, so that subclasses work as they do for built-ins).
 */
class PrivateStateOf {
  constructor(target) {
    return target
  }
}

/**
 * The private state and the methods of an IterableWeakMap. The methods are copied onto
 * `IterableWeakMap.prototype` (below); the constructor is `IterableWeakMap`.
 */
class IterableWeakMapState extends PrivateStateOf {
  #values = new SafeWeakMap() // key -> value: get and has read only this
  #entries = new SafeWeakMap() // key -> entry { key, id }, the object the table watches
  #table = new WeakTable(weakTableCreate())
  #removed = null // made by the first delete: most maps never delete, and it costs ~1.5 µs
  #onCollect = undefined
  #onCollectOf = 'IterableWeakMap' // the class whose option it is, for the warning if it throws
  #collectedReported = 0 // what onCollect was told of so far (the table counts the total)

  static {
    brandCheck = (map, method) => {
      if (map === null || (typeof map !== 'object' && typeof map !== 'function') || !(#table in map)) {
        throw incompatibleReceiver(`IterableWeakMap.prototype.${method}`, map)
      }
      return map
    }
    hasKey = (map, key) => map.#values.has(key)
    insertEntry = (map, key, value) => {
      const entry = { key, id: 0 }
      entry.id = map.#table.add(entry)
      map.#entries.set(key, entry)
      map.#values.set(key, value)
    }
    deleteEntry = (map, key) => {
      const entry = map.#entries.get(key)
      if (entry === undefined) return false
      let removed = map.#removed
      if (removed === null) {
        // Shared before anything changes, so that a failure leaves the map as it was.
        removed = new Float64Array(1 + REMOVED_CAPACITY)
        map.#table.shareRemoved(removed)
        map.#removed = removed
      }
      map.#entries.delete(key)
      map.#values.delete(key)
      const count = removed[0] + 1
      removed[count] = entry.id
      removed[0] = count
      if (count === REMOVED_CAPACITY) map.#table.drain()
      return true
    }
    clearEntries = (map) => {
      map.#values = new SafeWeakMap()
      map.#entries = new SafeWeakMap()
      map.#table.clear()
    }
    tableOf = (map) => map.#table
    valuesOf = (map) => map.#values
    watchCollections = (map, onCollect, className = 'IterableWeakMap') => {
      map.#onCollect = onCollect
      map.#onCollectOf = className
      // The wake-up holds the map only weakly: the threadsafe function behind it is a GC root.
      map.#table.watchCollected(collectedHandler(new WeakRef(map)))
    }
    deliverCollected = (map) => {
      const total = map.#table.collected()
      const count = total - map.#collectedReported
      if (count <= 0) return
      map.#collectedReported = total
      try {
        apply(map.#onCollect, undefined, [count])
      } catch (thrown) {
        const className = map.#onCollectOf
        warnCallbackThrew(`${className}Warning`, 'ERR_EPHEMERON_ON_COLLECT', `${className} onCollect threw`, thrown)
      }
    }
  }

  // get and has are the hot path: the private-field read is the brand check (a foreign receiver
  // makes V8 throw a TypeError), and a failed read is turned into our error with its code.
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
    brandCheck(this, 'set')
    if (this.#values.has(key)) {
      this.#values.set(key, value) // a present key keeps its place
    } else {
      assertWeakKey(key, 'IterableWeakMap key')
      insertEntry(this, key, value)
    }
    return this
  }

  delete(key) {
    return deleteEntry(brandCheck(this, 'delete'), key)
  }

  clear() {
    clearEntries(brandCheck(this, 'clear'))
  }

  get size() {
    return brandCheck(this, 'size').#table.size()
  }

  getOrInsert(key, value) {
    brandCheck(this, 'getOrInsert')
    assertWeakKey(key, 'IterableWeakMap key')
    if (this.#values.has(key)) return this.#values.get(key)
    insertEntry(this, key, value)
    return value
  }

  getOrInsertComputed(key, callbackfn) {
    brandCheck(this, 'getOrInsertComputed')
    if (typeof callbackfn !== 'function') {
      throw makeError('ERR_INVALID_ARG_TYPE', `IterableWeakMap.prototype.getOrInsertComputed: callback ${describe(callbackfn)} is not a function`)
    }
    assertWeakKey(key, 'IterableWeakMap key')
    if (this.#values.has(key)) return this.#values.get(key)
    const value = apply(callbackfn, undefined, [key])
    // The callback may have inserted the key (or cleared the map): look again, as the spec does,
    // and overwrite a present key in place.
    if (this.#values.has(key)) this.#values.set(key, value)
    else insertEntry(this, key, value)
    return value
  }

  forEach(callbackfn, thisArg = undefined) {
    brandCheck(this, 'forEach')
    if (typeof callbackfn !== 'function') {
      throw makeError('ERR_INVALID_ARG_TYPE', `IterableWeakMap.prototype.forEach: callback ${describe(callbackfn)} is not a function`)
    }
    const table = this.#table
    for (let entry = table.next(0); entry !== undefined; entry = table.next(entry.id)) {
      apply(callbackfn, thisArg, [this.#values.get(entry.key), entry.key, this])
    }
  }

  entries() {
    return new IterableWeakMapIterator(brandCheck(this, 'entries'), ENTRIES)
  }

  keys() {
    return new IterableWeakMapIterator(brandCheck(this, 'keys'), KEYS)
  }

  values() {
    return new IterableWeakMapIterator(brandCheck(this, 'values'), VALUES)
  }
}

/**
 * `new IterableWeakMap(iterable?)`. A function rather than a class, so that a call without `new`
 * throws our TypeError with its code (ERR_CONSTRUCT_CALL_REQUIRED) instead of V8's.
 */
function IterableWeakMap(iterable = undefined, options = undefined) {
  if (new.target === undefined) throw constructCallRequired('IterableWeakMap')
  const onCollect = onCollectOption('IterableWeakMap', options)
  new IterableWeakMapState(this)
  if (onCollect !== undefined) watchCollections(this, onCollect)
  if (iterable === undefined || iterable === null) return
  const adder = this.set
  if (typeof adder !== 'function') {
    throw makeError('ERR_INVALID_ARG_TYPE', `IterableWeakMap: this.set must be a function; got ${describe(adder)}`)
  }
  addEntriesFrom(iterable, (entry) => {
    if (entry === null || (typeof entry !== 'object' && typeof entry !== 'function')) {
      throw makeError('ERR_INVALID_ARG_TYPE', `IterableWeakMap: iterator value ${describe(entry)} is not an entry object`)
    }
    apply(adder, this, [entry[0], entry[1]])
  })
}

/** The `onCollect` of `options` (undefined if none), checked. */
function onCollectOption(name, options) {
  if (options === undefined) return undefined
  if (options === null || typeof options !== 'object') throw invalidType(`${name}: options`, 'an object', options)
  const { onCollect } = options
  if (onCollect !== undefined && typeof onCollect !== 'function') throw invalidType(`${name}: options.onCollect`, 'a function', onCollect)
  return onCollect
}

/** The function a table wakes after collections. It never throws: it runs as a threadsafe call. */
function collectedHandler(mapRef) {
  return () => {
    try {
      const map = apply(weakRefDeref, mapRef, [])
      if (map !== undefined) deliverCollected(map)
    } catch (error) {
      warn('IterableWeakMapWarning', 'ERR_EPHEMERON_INTERNAL', 'IterableWeakMap could not deliver collections', error)
    }
  }
}

function constructCallRequired(name) {
  return makeError('ERR_CONSTRUCT_CALL_REQUIRED', `Constructor ${name} requires 'new'`)
}

function receiverError(receiver, method, error) {
  return error instanceof TypeError ? incompatibleReceiver(`IterableWeakMap.prototype.${method}`, receiver) : error
}

const { KEYS, VALUES, ENTRIES } = require('./iteration-kinds.js')

/**
 * Walks a map's live entries in insertion order, as a Map iterator walks its entries. It holds
 * the map and the id of the entry it yielded last, never an entry it has not yielded yet: an
 * abandoned iterator keeps no key alive. Entries added later have larger ids and are visited;
 * deleted ones are gone from the table and are not.
 */
class IterableWeakMapIterator {
  #map
  #kind
  #after = 0

  constructor(map, kind) {
    this.#map = map
    this.#kind = kind
  }

  next() {
    let map
    try {
      map = this.#map
    } catch {
      throw incompatibleReceiver('IterableWeakMap Iterator.prototype.next', this)
    }
    if (map === undefined) return { value: undefined, done: true }
    const entry = tableOf(map).next(this.#after)
    if (entry === undefined) {
      this.#map = undefined // exhausted for good, as a Map iterator
      return { value: undefined, done: true }
    }
    this.#after = entry.id
    const kind = this.#kind
    if (kind === KEYS) return { value: entry.key, done: false }
    const value = valuesOf(map).get(entry.key)
    return { value: kind === VALUES ? value : [entry.key, value], done: false }
  }
}

setPrototypeOf(IterableWeakMapIterator.prototype, IteratorPrototype)
defineProperty(IterableWeakMapIterator.prototype, SymbolToStringTag, {
  value: 'IterableWeakMap Iterator',
  configurable: true,
})

/** Feeds each value of `iterable` to `add`, closing the iterator if `add` throws (spec: AddEntriesFromIterable). */
function addEntriesFrom(iterable, add) {
  const method = iterable[SymbolIterator]
  if (typeof method !== 'function') throw makeError('ERR_INVALID_ARG_TYPE', `${describe(iterable)} is not iterable`)
  const iterator = apply(method, iterable, [])
  if (iterator === null || (typeof iterator !== 'object' && typeof iterator !== 'function')) {
    throw makeError('ERR_INVALID_ARG_TYPE', `Result of the Symbol.iterator method is not an object; got ${describe(iterator)}`)
  }
  const next = iterator.next
  for (;;) {
    const step = apply(next, iterator, [])
    if (step === null || (typeof step !== 'object' && typeof step !== 'function')) {
      throw makeError('ERR_INVALID_ARG_TYPE', `Iterator result ${describe(step)} is not an object`)
    }
    if (step.done) return
    const value = step.value // a throwing `value` getter does not close the iterator (spec)
    try {
      add(value)
    } catch (error) {
      try {
        const close = iterator.return
        if (close !== undefined && close !== null) apply(close, iterator, [])
      } catch {
        // The original error wins (spec: IteratorClose with a throw completion).
      }
      throw error
    }
  }
}

/**
 * Gives the public constructor the methods of its state class (copied onto its own `prototype`,
 * which keeps `constructor`), `Symbol.iterator` and `Symbol.toStringTag`, and makes `prototype`
 * read-only, as for built-ins.
 */
function defineLikeBuiltin(constructor, State, tag, iteratorMethodName) {
  const proto = constructor.prototype
  for (const key of ownKeys(State.prototype)) {
    if (key !== 'constructor') defineProperty(proto, key, getOwnPropertyDescriptor(State.prototype, key))
  }
  defineProperty(proto, SymbolIterator, { value: proto[iteratorMethodName], writable: true, configurable: true })
  defineProperty(proto, SymbolToStringTag, { value: tag, configurable: true })
  defineProperty(constructor, 'prototype', { writable: false })
}

defineLikeBuiltin(IterableWeakMap, IterableWeakMapState, 'IterableWeakMap', 'entries')

module.exports = {
  IterableWeakMap,
  IterableWeakMapIterator,
  PrivateStateOf,
  addEntriesFrom,
  constructCallRequired,
  defineLikeBuiltin,
  hasKey,
  insertEntry,
  deleteEntry,
  clearEntries,
  tableOf,
  valuesOf,
  onCollectOption,
  watchCollections,
  KEYS,
  ENTRIES,
}
