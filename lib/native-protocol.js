'use strict'
// The JS side of a native protocol declared once in Rust (src/core/protocol.rs): the native
// module describes its ops at load (`[{ name, number, args }]`), and `adapterClass` turns the
// description into a class whose instances wrap one native function, with one method per op.
// A call site says `table.next(cursor)`; no op number or argument position is written in JS.

const { Object } = require('./primordials.js')
const { makeError } = require('./errors.js')

/**
 * A method per arity: `(number) => function (a, b) { return this.native(number, a, b) }`. Exact
 * arities (no rest parameters) keep each method as cheap as the call it replaces: V8 inlines it
 * at a monomorphic call site.
 */
const METHODS_BY_ARITY = [
  (n) =>
    function () {
      return this.native(n)
    },
  (n) =>
    function (a) {
      return this.native(n, a)
    },
  (n) =>
    function (a, b) {
      return this.native(n, a, b)
    },
  (n) =>
    function (a, b, c) {
      return this.native(n, a, b, c)
    },
  (n) =>
    function (a, b, c, d) {
      return this.native(n, a, b, c, d)
    },
  (n) =>
    function (a, b, c, d, e) {
      return this.native(n, a, b, c, d, e)
    },
  (n) =>
    function (a, b, c, d, e, f) {
      return this.native(n, a, b, c, d, e, f)
    },
  (n) =>
    function (a, b, c, d, e, f, g) {
      return this.native(n, a, b, c, d, e, f, g)
    },
]

/**
 * The adapter class of a protocol: `new Adapter(native)` wraps a native function made for it, and
 * has one method per op, named as the op, taking the op's arguments in their declared order.
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
  for (const { name, number, args } of ops) {
    const method = METHODS_BY_ARITY[args.length]
    if (method === undefined) throw makeError('ERR_EPHEMERON_INTERNAL', `${protocol}: op ${name} takes ${args.length} arguments, more than an adapter method supports`)
    Object.defineProperty(Adapter.prototype, name, { value: nameFunction(method(number), name), writable: false })
  }
  Object.freeze(Adapter.prototype)
  return Adapter
}

function nameFunction(fn, name) {
  Object.defineProperty(fn, 'name', { value: name })
  return fn
}

module.exports = { adapterClass }
