'use strict'
// Which values can be weak keys (the spec's CanBeHeldWeakly), with errors that say why not.

function canBeHeldWeakly(value) {
  const type = typeof value
  if (type === 'object') return value !== null
  if (type === 'function') return true
  // Registered symbols (Symbol.for) live forever, so the spec refuses them as weak keys.
  return type === 'symbol' && Symbol.keyFor(value) === undefined
}

function describe(value) {
  if (value === null) return 'null'
  if (typeof value === 'symbol') {
    const registered = Symbol.keyFor(value)
    return registered === undefined ? String(value) : `a registered symbol (Symbol.for(${JSON.stringify(registered)}))`
  }
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`
  if (typeof value === 'object' || typeof value === 'function') return Object.prototype.toString.call(value)
  return `${typeof value} ${String(value)}`
}

/** Throws the TypeError WeakMap would, with a message that names the rule. */
function assertWeakKey(value, what) {
  if (!canBeHeldWeakly(value)) {
    throw new TypeError(`${what} must be an object, a function or a non-registered symbol; got ${describe(value)}`)
  }
}

function incompatibleReceiver(method, receiver) {
  return new TypeError(`Method ${method} called on incompatible receiver ${describe(receiver)}`)
}

module.exports = { canBeHeldWeakly, assertWeakKey, describe, incompatibleReceiver }
