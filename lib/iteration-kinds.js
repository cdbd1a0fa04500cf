'use strict'
// What an iterator yields: the keys, the values, or [key, value] entries (IterableWeakMap,
// IterableWeakSet and WeakCache share these).

module.exports = Object.freeze({ KEYS: 0, VALUES: 1, ENTRIES: 2 })
