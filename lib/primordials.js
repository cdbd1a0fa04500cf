'use strict'
// The built-ins ephemeron uses, captured once when it loads (as Node core's primordials are).
//
// A library must not look up mutable globals later: a polyfill that does
// `globalThis.WeakMap = IterableWeakMap` would otherwise make every IterableWeakMap build itself
// out of IterableWeakMaps until the stack overflows, and a test harness that replaces
// `performance` or `setTimeout` would change how a registry behaves. Modules take what they need
// from here, never from the global object. The one exception is WeakCache's default clock and
// timers, read when a cache is made, as lru-cache does (lib/weak-cache-clock.js).

const process = require('node:process')
const timers = require('node:timers')
const { performance } = require('node:perf_hooks')

/**
 * A WeakMap whose methods were copied at load onto its own frozen prototype, as Node core's
 * `SafeWeakMap`: `get`/`set`/`has`/`delete` keep working when user code replaces
 * `WeakMap.prototype` methods, and they cost the same as the built-in's.
 */
class SafeWeakMap extends globalThis.WeakMap {}
for (const key of Reflect.ownKeys(globalThis.WeakMap.prototype)) {
  if (key !== 'constructor') {
    Object.defineProperty(SafeWeakMap.prototype, key, Object.getOwnPropertyDescriptor(globalThis.WeakMap.prototype, key))
  }
}
Object.freeze(SafeWeakMap.prototype)
Object.freeze(SafeWeakMap)

module.exports = Object.freeze({
  Array: globalThis.Array,
  ArrayBuffer: globalThis.ArrayBuffer,
  Date: globalThis.Date,
  Error: globalThis.Error,
  FinalizationRegistry: globalThis.FinalizationRegistry,
  Float64Array: globalThis.Float64Array,
  Int32Array: globalThis.Int32Array,
  JSON: globalThis.JSON,
  Map: globalThis.Map,
  Math: globalThis.Math,
  Number: globalThis.Number,
  Object: globalThis.Object,
  Promise: globalThis.Promise,
  Proxy: globalThis.Proxy,
  RangeError: globalThis.RangeError,
  Reflect: globalThis.Reflect,
  Set: globalThis.Set,
  String: globalThis.String,
  Symbol: globalThis.Symbol,
  TypeError: globalThis.TypeError,
  WeakMap: globalThis.WeakMap,
  SafeWeakMap,
  WeakRef: globalThis.WeakRef,
  performance,
  process,
  queueMicrotask: globalThis.queueMicrotask,
  setImmediate: timers.setImmediate,
  setTimeout: timers.setTimeout,
  clearTimeout: timers.clearTimeout,
  /** `Symbol.dispose` where the runtime has it (Node >= 20.4). */
  SymbolDispose: globalThis.Symbol.dispose,
})
