'use strict'
// Which values can be weak keys (the spec's CanBeHeldWeakly), with errors that say why not.

const { Symbol } = require('./primordials.js')
const { invalidType } = require('./errors.js')

const symbolKeyFor = Symbol.keyFor

function canBeHeldWeakly(value) {
  const type = typeof value
  if (type === 'object') return value !== null
  if (type === 'function') return true
  // Registered symbols (Symbol.for) live forever, so the spec refuses them as weak keys.
  return type === 'symbol' && symbolKeyFor(value) === undefined
}

/** Throws the TypeError WeakMap would (code ERR_INVALID_ARG_TYPE), with a message that names the rule. */
function assertWeakKey(value, what) {
  if (!canBeHeldWeakly(value)) throw invalidType(what, 'an object, a function or a non-registered symbol', value)
}

module.exports = { assertWeakKey }
