'use strict'
// The JS side of a native protocol declared once in Rust (src/core/protocol.rs): the native
// module describes its ops at load (`[{ name, number, args }]`), and `adapterClass` turns the
// description into a class whose instances wrap one native function, with one method per op.
// A call site says `table.next(cursor)`; no op number or argument position is written in JS.

const { Object } = require('./primordials.js')
const { makeError } = require('./errors.js')

// One method factory per arity: `(n) => function (a, b) { return this.native(n, a, b) }`. Exact
// arities (no rest parameters) keep each method as cheap as the call it replaces: V8 inlines it
// at a monomorphic call site.
const PLAIN = [
  (n) => function () { return this.native(n) },
  (n) => function (a) { return this.native(n, a) },
  (n) => function (a, b) { return this.native(n, a, b) },
  (n) => function (a, b, c) { return this.native(n, a, b, c) },
  (n) => function (a, b, c, d) { return this.native(n, a, b, c, d) },
  (n) => function (a, b, c, d, e) { return this.native(n, a, b, c, d, e) },
  (n) => function (a, b, c, d, e, f) { return this.native(n, a, b, c, d, e, f) },
  (n) => function (a, b, c, d, e, f, g) { return this.native(n, a, b, c, d, e, f, g) },
]

// The same for an op whose first declared argument is `flags`, in a protocol that carries flags
// in the op number (one number to convert instead of two, on every call): the method folds them
// in above the op's bits.
const FLAGGED = [
  (n, shift) => function (flags) { return this.native(n | (flags << shift)) },
  (n, shift) => function (flags, a) { return this.native(n | (flags << shift), a) },
  (n, shift) => function (flags, a, b) { return this.native(n | (flags << shift), a, b) },
  (n, shift) => function (flags, a, b, c) { return this.native(n | (flags << shift), a, b, c) },
  (n, shift) => function (flags, a, b, c, d) { return this.native(n | (flags << shift), a, b, c, d) },
  (n, shift) => function (flags, a, b, c, d, e) { return this.native(n | (flags << shift), a, b, c, d, e) },
  (n, shift) => function (flags, a, b, c, d, e, f) { return this.native(n | (flags << shift), a, b, c, d, e, f) },
]

/**
 * Defines on `prototype` one method per op, named as the op, taking the op's arguments in their
 * declared order and calling `this.native(number, ...args)`. With `flagShift`, an op whose first
 * argument is `flags` folds them into its number (`number | flags << flagShift`).
 *
 * @param {object} prototype where the methods go (frozen afterwards)
 * @param {string} protocol the protocol's name, for messages
 * @param {{ name: string, number: number, args: string[] }[]} ops the native description
 * @param {number} [flagShift] where a protocol with flags carries them in the op number
 */
function defineOpMethods(prototype, protocol, ops, flagShift) {
  for (const { name, number, args } of ops) {
    const flagged = flagShift !== undefined && args[0] === 'flags'
    const make = flagged ? FLAGGED[args.length - 1] : PLAIN[args.length]
    if (make === undefined) throw makeError('ERR_EPHEMERON_INTERNAL', `${protocol}: op ${name} takes ${args.length} arguments, more than an adapter method supports`)
    Object.defineProperty(prototype, name, { value: nameFunction(make(number, flagShift), name), writable: false })
  }
  Object.freeze(prototype)
}

/**
 * The adapter class of a protocol: `new Adapter(native)` wraps a native function made for it, and
 * has one method per op (`defineOpMethods`).
 *
 * @param {string} protocol the protocol's name, for messages
 * @param {{ name: string, number: number, args: string[] }[]} ops the native description
 */
function adapterClass(protocol, ops) {
  class Adapter {
    constructor(native) {
      this.native = native
    }
  }
  defineOpMethods(Adapter.prototype, protocol, ops)
  return Adapter
}

function nameFunction(fn, name) {
  Object.defineProperty(fn, 'name', { value: name })
  return fn
}

module.exports = { adapterClass, defineOpMethods }
