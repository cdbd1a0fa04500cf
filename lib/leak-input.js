'use strict'
// LeakRegistry's input: what `track()`, the options and `trackFileHandle()` accept, read without
// running a user's getter where it can be avoided, and the errors for what they do not accept.

const { realHandleOf } = require('./file-handle-guard.js')
const { describe, invalidType, makeError, outOfRange } = require('./errors.js')
const { JSON, Number, Object } = require('./primordials.js')

const { stringify } = JSON
const { isFinite } = Number

/**
 * `info` as JSON text, taken now: later changes to it do not show, and it cannot keep anything
 * alive. Rust finds `id` and `label` in it (src/core/leak_texts.rs).
 */
function infoJson(info) {
  try {
    return stringify(info)
  } catch (cause) {
    throw makeError('ERR_INVALID_ARG_VALUE', `LeakRegistry.track: info must be JSON-serializable: ${describeCause(cause)}`, cause)
  }
}

function describeCause(cause) {
  try {
    return typeof cause?.message === 'string' ? cause.message : describe(cause)
  } catch {
    return describe(cause)
  }
}

function checkSuspectAfter(value, what) {
  if (typeof value !== 'number') throw invalidType(what, 'a number of milliseconds (0 = off)', value)
  if (!(value >= 0) || !isFinite(value)) throw outOfRange(what, 'a finite number of milliseconds >= 0 (0 = off)', value)
  return value
}

/** The class name of the first `constructor` on a prototype chain, read without running a getter. */
function constructorName(first) {
  try {
    for (let proto = first; proto !== null; proto = Object.getPrototypeOf(proto)) {
      const constructor = Object.getOwnPropertyDescriptor(proto, 'constructor')?.value
      if (constructor === undefined) continue
      const name = typeof constructor === 'function' ? Object.getOwnPropertyDescriptor(constructor, 'name')?.value : undefined
      return typeof name === 'string' && name !== '' ? name : 'Object'
    }
  } catch {
    // A Proxy whose traps throw: it has no name to give.
  }
  return 'Object'
}

/** An fs.promises FileHandle (or a guarded one): duck-typed, as Node offers no class to test. */
function isFileHandle(value) {
  if (value === null || typeof value !== 'object') return false
  if (realHandleOf(value) !== undefined) return true
  try {
    return typeof value.fd === 'number' && typeof value.close === 'function' && typeof value.on === 'function' && typeof value.read === 'function'
  } catch {
    return false
  }
}

function closedError(method) {
  return makeError('ERR_EPHEMERON_CLOSED', `LeakRegistry.${method}: the registry is closed`)
}

module.exports = { checkSuspectAfter, closedError, constructorName, infoJson, isFileHandle }
