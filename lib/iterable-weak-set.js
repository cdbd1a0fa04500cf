'use strict'
// IterableWeakSet: the built-in WeakSet's semantics plus size, clear() and ordered iteration.
// It is an IterableWeakMap from each member to itself, behind a WeakSet-shaped surface.

const {
  IterableWeakMap,
  IterableWeakMapIterator,
  RecordCursor,
  addEntriesFrom,
  defineLikeBuiltin,
  KEYS,
  ENTRIES,
} = require('./iterable-weak-map.js')
const { assertWeakKey, incompatibleReceiver, describe } = require('./weak-keys.js')

let membersOf // (set, method) => the IterableWeakMap behind it; throws on a foreign receiver

class IterableWeakSet {
  #members = new IterableWeakMap()

  static {
    membersOf = (set, method) => {
      try {
        return set.#members
      } catch {
        throw incompatibleReceiver(`IterableWeakSet.prototype.${method}`, set)
      }
    }
  }

  /**
   * @param {Iterable<object|symbol> | null} [iterable] values added with `this.add`.
   */
  constructor(iterable = undefined) {
    if (iterable === undefined || iterable === null) return
    const adder = this.add
    if (typeof adder !== 'function') throw new TypeError("IterableWeakSet: 'this.add' is not a function")
    addEntriesFrom(iterable, (value) => adder.call(this, value))
  }

  add(value) {
    const members = membersOf(this, 'add')
    if (!members.has(value)) {
      assertWeakKey(value, 'IterableWeakSet value')
      members.set(value, value)
    }
    return this
  }

  has(value) {
    return membersOf(this, 'has').has(value)
  }

  delete(value) {
    return membersOf(this, 'delete').delete(value)
  }

  clear() {
    membersOf(this, 'clear').clear()
  }

  get size() {
    return membersOf(this, 'size').size
  }

  forEach(callbackfn, thisArg = undefined) {
    const members = membersOf(this, 'forEach')
    if (typeof callbackfn !== 'function') {
      throw new TypeError(`IterableWeakSet.prototype.forEach: callback ${describe(callbackfn)} is not a function`)
    }
    const cursor = new RecordCursor(members)
    for (let record = cursor.next(); record !== undefined; record = cursor.next()) {
      callbackfn.call(thisArg, record.key, record.key, this)
    }
  }

  entries() {
    return new IterableWeakSetIterator(membersOf(this, 'entries'), ENTRIES)
  }

  values() {
    return new IterableWeakSetIterator(membersOf(this, 'values'), KEYS)
  }
}

class IterableWeakSetIterator extends IterableWeakMapIterator {}
Object.defineProperty(IterableWeakSetIterator.prototype, Symbol.toStringTag, {
  value: 'IterableWeakSet Iterator',
  configurable: true,
})

// As for Set: keys is values, and iterating a set yields its values.
Object.defineProperty(IterableWeakSet.prototype, 'keys', {
  value: IterableWeakSet.prototype.values,
  writable: true,
  configurable: true,
})
defineLikeBuiltin(IterableWeakSet.prototype, 'IterableWeakSet', IterableWeakSet.prototype.values)

module.exports = { IterableWeakSet }
