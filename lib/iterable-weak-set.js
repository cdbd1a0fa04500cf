'use strict'
// IterableWeakSet: the built-in WeakSet's semantics plus size, clear() and ordered iteration.
// It is an IterableWeakMap from each member to itself, behind a WeakSet-shaped surface.
// Every built-in comes from primordials.js (captured at load), as for IterableWeakMap.

const {
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
  onCollectOption,
  watchCollections,
  KEYS,
  ENTRIES,
} = require('./iterable-weak-map.js')
const { Object, Reflect, Symbol } = require('./primordials.js')
const { assertWeakKey } = require('./weak-keys.js')
const { describe, incompatibleReceiver, makeError } = require('./errors.js')

const { apply } = Reflect
const { defineProperty } = Object

let membersOf // (set, method) => the IterableWeakMap behind it; throws ERR_INVALID_THIS on anything else

/**
 * The private state and the methods of an IterableWeakSet. The methods are copied onto
 * `IterableWeakSet.prototype` (below); the constructor is `IterableWeakSet`.
 */
class IterableWeakSetState extends PrivateStateOf {
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

  // The IterableWeakMap inside is reached through its module's operations, never through
  // IterableWeakMap.prototype, which user code can change.
  add(value) {
    const members = membersOf(this, 'add')
    if (!hasKey(members, value)) {
      assertWeakKey(value, 'IterableWeakSet value')
      insertEntry(members, value, value)
    }
    return this
  }

  has(value) {
    return hasKey(membersOf(this, 'has'), value)
  }

  delete(value) {
    return deleteEntry(membersOf(this, 'delete'), value)
  }

  clear() {
    clearEntries(membersOf(this, 'clear'))
  }

  get size() {
    return tableOf(membersOf(this, 'size')).size()
  }

  forEach(callbackfn, thisArg = undefined) {
    const members = membersOf(this, 'forEach')
    if (typeof callbackfn !== 'function') {
      throw makeError('ERR_INVALID_ARG_TYPE', `IterableWeakSet.prototype.forEach: callback ${describe(callbackfn)} is not a function`)
    }
    const table = tableOf(members)
    for (let entry = table.next(0); entry !== undefined; entry = table.next(entry.id)) {
      apply(callbackfn, thisArg, [entry.key, entry.key, this])
    }
  }

  entries() {
    return new IterableWeakSetIterator(membersOf(this, 'entries'), ENTRIES)
  }

  values() {
    return new IterableWeakSetIterator(membersOf(this, 'values'), KEYS)
  }
}

/** `new IterableWeakSet(iterable?)`; a call without `new` throws ERR_CONSTRUCT_CALL_REQUIRED. */
function IterableWeakSet(iterable = undefined, options = undefined) {
  if (new.target === undefined) throw constructCallRequired('IterableWeakSet')
  const onCollect = onCollectOption('IterableWeakSet', options)
  new IterableWeakSetState(this)
  if (onCollect !== undefined) watchCollections(membersOf(this, 'constructor'), onCollect, 'IterableWeakSet')
  if (iterable === undefined || iterable === null) return
  const adder = this.add
  if (typeof adder !== 'function') {
    throw makeError('ERR_INVALID_ARG_TYPE', `IterableWeakSet: this.add must be a function; got ${describe(adder)}`)
  }
  addEntriesFrom(iterable, (value) => apply(adder, this, [value]))
}

class IterableWeakSetIterator extends IterableWeakMapIterator {}
defineProperty(IterableWeakSetIterator.prototype, Symbol.toStringTag, {
  value: 'IterableWeakSet Iterator',
  configurable: true,
})

// As for Set: keys is values, and iterating a set yields its values.
defineProperty(IterableWeakSetState.prototype, 'keys', {
  value: IterableWeakSetState.prototype.values,
  writable: true,
  configurable: true,
})
defineLikeBuiltin(IterableWeakSet, IterableWeakSetState, 'IterableWeakSet', 'values')

module.exports = { IterableWeakSet }
