'use strict'
// ephemeron: garbage-collection-aware data structures for Node.js. See README.md and index.d.ts.

const { IterableWeakMap } = require('./lib/iterable-weak-map.js')
const { IterableWeakSet } = require('./lib/iterable-weak-set.js')
const { WeakCache } = require('./lib/weak-cache.js')
const { LeakRegistry } = require('./lib/leak-registry.js')
const { WeakEventEmitter } = require('./lib/weak-event-emitter.js')

module.exports = { IterableWeakMap, IterableWeakSet, WeakCache, LeakRegistry, WeakEventEmitter }
