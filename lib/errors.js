'use strict'
// Every error ephemeron throws and every warning it emits: the codes, their classes and the
// wording, in one place. README.md ("Errors and warnings") lists the same codes; a spec checks
// that the two agree.
//
// Two rules keep error paths from becoming crash paths:
// - Describing a value never runs user code: no getters, no Proxy traps, no toString (a hostile
//   key or a revoked Proxy must get a clear TypeError, not a different exception).
// - A warning about a user callback that threw is built from whatever was thrown (a revoked
//   Proxy, `Object.create(null)`, an Error whose `stack` getter throws) without ever throwing.

const { types } = require('node:util')
const { Array, Error, JSON, Object, RangeError, Reflect, String, Symbol, TypeError } = require('./primordials.js')

/** code -> the class it is thrown with ('warning' for process warnings) and what it means. */
const CODES = Object.freeze({
  ERR_INVALID_ARG_TYPE: { class: 'TypeError', meaning: 'an argument or option has the wrong type' },
  ERR_INVALID_ARG_VALUE: { class: 'TypeError', meaning: 'an argument or option has a value that is not allowed' },
  ERR_OUT_OF_RANGE: { class: 'RangeError', meaning: 'a number is out of its range' },
  ERR_INVALID_THIS: { class: 'TypeError', meaning: 'a method was called on an object that is not an instance of its class' },
  ERR_CONSTRUCT_CALL_REQUIRED: { class: 'TypeError', meaning: 'a class constructor was called without new' },
  ERR_EPHEMERON_CLOSED: { class: 'Error', meaning: 'a LeakRegistry (or OpenTelemetry instrumentation) method was called after close()' },
  ERR_EPHEMERON_FILE_HANDLE_CLOSED: { class: 'Error', meaning: 'trackFileHandle() was given a FileHandle that is already closed' },
  ERR_EPHEMERON_LOG: { class: 'Error', meaning: 'the LeakRegistry log cannot be opened (a missing folder, no permission, a FIFO nobody reads)' },
  ERR_EPHEMERON_NOT_BUILT: { class: 'Error', meaning: 'no native addon for this platform was found' },
  ERR_EPHEMERON_VERSION_MISMATCH: { class: 'Error', meaning: 'the native addon was built for another version of the package' },
  ERR_EPHEMERON_INVALID_HANDLE: { class: 'TypeError', meaning: 'a native function was called with a handle it did not make' },
  ERR_EPHEMERON_NO_MEMO_METHOD: { class: 'Error', meaning: 'WeakCache.memo() was called on a cache made without a memoMethod' },
  ERR_EPHEMERON_FETCH_UNDEFINED: { class: 'Error', meaning: 'the fetch of WeakCache.forceFetch() resolved to undefined' },
  ERR_EPHEMERON_BROKEN: { class: 'Error', meaning: 'a WeakCache was interrupted by an internal error (a caught Rust panic) and refuses every further call' },
  ERR_EPHEMERON_INTERNAL: { class: 'Error', meaning: 'a bug in ephemeron (please report it)' },
  ERR_EPHEMERON_OPENTELEMETRY_MISSING: { class: 'Error', meaning: 'ephemeron/opentelemetry was loaded or used without the OpenTelemetry API package it needs (an optional peer dependency)' },
  ERR_UNHANDLED_ERROR: { class: 'Error', meaning: "WeakEventEmitter.emit('error') found no listener and the value emitted is not an Error (as EventEmitter)" },
  ERR_EPHEMERON_DISPOSE_THREW: { class: 'warning', meaning: 'a WeakCache dispose, disposeAfter or onInsert callback threw (WeakCacheWarning)' },
  ERR_EPHEMERON_LATE_FETCH: { class: 'warning', meaning: 'the late result of an aborted WeakCache fetch (allowStaleOnFetchAbort) could not be stored; the error is in the detail (WeakCacheWarning)' },
  ERR_EPHEMERON_UNKNOWN_OPTION: { class: 'warning', meaning: 'a WeakCache was given an option name neither it nor lru-cache knows; it is ignored (WeakCacheWarning; once per name)' },
  LRU_CACHE_UNBOUNDED: { class: 'warning', meaning: "a WeakCache is bounded only by ttl, without ttlAutopurge (UnboundedCacheWarning, lru-cache's code; once per process)" },
  ERR_EPHEMERON_ON_COLLECT: { class: 'warning', meaning: 'an onCollect callback threw (IterableWeakMapWarning, IterableWeakSetWarning or WeakEventEmitterWarning)' },
  ERR_EPHEMERON_ON_LEAK: { class: 'warning', meaning: 'a LeakRegistry onLeak callback threw (LeakRegistryWarning)' },
  ERR_EPHEMERON_LOG_WRITE: { class: 'warning', meaning: 'the LeakRegistry log could not write lines; they were counted as dropped (LeakRegistryWarning)' },
  ERR_EPHEMERON_OPENTELEMETRY: { class: 'warning', meaning: 'ephemeron/opentelemetry could not hand a report or a figure to OpenTelemetry (OpenTelemetryWarning; once per instrumentation)' },
  ERR_EPHEMERON_CONTEXT: { class: 'warning', meaning: 'a LeakRegistry context() function threw or returned what JSON cannot represent; those resources have no context (LeakRegistryWarning, once per registry)' },
})

const ERROR_CLASSES = { TypeError, RangeError, Error }
const { getPrototypeOf, getOwnPropertyDescriptor, hasOwn } = Object
const ObjectPrototype = Object.prototype
const symbolToString = Symbol.prototype.toString
const stringSlice = String.prototype.slice
const { isProxy } = types
const symbolKeyFor = Symbol.keyFor
const { apply } = Reflect
const { isArray } = Array
const { stringify } = JSON
const MAX_STRING = 40

/** An error of the class its code is thrown with, carrying `code`. */
function makeError(code, message, cause = undefined) {
  const entry = CODES[code]
  const Class = entry === undefined || entry.class === 'warning' ? Error : ERROR_CLASSES[entry.class]
  const error = cause === undefined ? new Class(message) : new Class(message, { cause })
  error.code = code
  return error
}

/** `TypeError` ERR_INVALID_ARG_TYPE: `${what} must be ${expected}; got <value>`. */
function invalidType(what, expected, value) {
  return makeError('ERR_INVALID_ARG_TYPE', `${what} must be ${expected}; got ${describe(value)}`)
}

/** `TypeError` ERR_INVALID_ARG_VALUE: `${what} must be ${expected}; got <value>`. */
function invalidValue(what, expected, value) {
  return makeError('ERR_INVALID_ARG_VALUE', `${what} must be ${expected}; got ${describe(value)}`)
}

/** `RangeError` ERR_OUT_OF_RANGE: `${what} must be ${expected}; got <value>` (a number as it is). */
function outOfRange(what, expected, value) {
  return makeError('ERR_OUT_OF_RANGE', `${what} must be ${expected}; got ${typeof value === 'number' ? value : describe(value)}`)
}

/** `TypeError` ERR_INVALID_THIS, worded as V8 words it for built-ins. */
function incompatibleReceiver(method, receiver) {
  return makeError('ERR_INVALID_THIS', `Method ${method} called on incompatible receiver ${describe(receiver)}`)
}

/** A short description of any value, for messages. Runs no user code. */
function describe(value) {
  switch (typeof value) {
    case 'undefined':
      return 'undefined'
    case 'string':
      return `the string ${quote(value.length > MAX_STRING ? apply(stringSlice, value, [0, MAX_STRING]) + '…' : value)}`
    case 'number':
      return `number ${value === 0 && 1 / value < 0 ? '-0' : value}`
    case 'bigint':
      return `bigint ${value}n`
    case 'boolean':
      return `boolean ${value}`
    case 'symbol': {
      const registered = symbolKeyFor(value)
      return registered === undefined ? apply(symbolToString, value, []) : `a registered symbol (Symbol.for(${quote(registered)}))`
    }
    case 'function':
      return isProxy(value) ? 'a Proxy (function)' : `function ${ownDataString(value, 'name') || '(anonymous)'}`
    default:
      if (value === null) return 'null'
      return describeObject(value)
  }
}

function describeObject(object) {
  if (isProxy(object)) return 'a Proxy'
  if (isArray(object)) return 'an array'
  const proto = getPrototypeOf(object)
  if (proto === null) return 'an object with a null prototype'
  if (proto === ObjectPrototype) return 'an object'
  const constructor = getOwnPropertyDescriptor(proto, 'constructor')?.value
  const name = typeof constructor === 'function' && !isProxy(constructor) ? ownDataString(constructor, 'name') : ''
  return name === '' ? 'an object' : `an instance of ${name}`
}

/** An own data property that is a string, read without running a getter ('' otherwise). */
function ownDataString(object, key) {
  const descriptor = getOwnPropertyDescriptor(object, key)
  return descriptor !== undefined && hasOwn(descriptor, 'value') && typeof descriptor.value === 'string' ? descriptor.value : ''
}

/** A string in double quotes with JSON escapes: control characters and lone surrogates shown, never raw. */
function quote(text) {
  return stringify(text)
}

/**
 * Text for whatever a user callback threw: an Error's stack (or message), else a description.
 * Never throws, and never runs a Proxy trap.
 */
function describeThrown(thrown) {
  if (isProxy(thrown)) return 'a Proxy was thrown'
  if (thrown === null || (typeof thrown !== 'object' && typeof thrown !== 'function')) return `${describe(thrown)} was thrown`
  try {
    const stack = thrown.stack
    if (typeof stack === 'string' && stack !== '') return stack
  } catch {
    // A throwing `stack` getter: try the message.
  }
  try {
    const message = thrown.message
    if (typeof message === 'string') return `${describeObject(thrown)} was thrown: ${message}`
  } catch {
    // A throwing `message` getter: describe it.
  }
  return `${describeObject(thrown)} was thrown`
}

/**
 * Emits a process warning and never throws, whatever `thrown` is; `thrown` (a value a user
 * callback threw) goes into the warning's detail.
 */
function warn(type, code, message, thrown = undefined) {
  try {
    const detail = arguments.length > 3 ? describeThrown(thrown) : undefined
    process.emitWarning(message, { type, code, detail })
  } catch {
    // process.emitWarning replaced by something that throws: nothing else can be done here.
  }
}

/**
 * The warning for a user callback that threw: `${context}: <what was thrown, first line>`, the
 * whole stack in the detail. Never throws.
 */
function warnCallbackThrew(type, code, context, thrown) {
  let summary
  try {
    summary = describeThrown(thrown).split('\n', 1)[0]
  } catch {
    summary = 'a value was thrown'
  }
  warn(type, code, `${context}: ${summary}`, thrown)
}

module.exports = {
  CODES,
  makeError,
  invalidType,
  invalidValue,
  outOfRange,
  incompatibleReceiver,
  describe,
  describeThrown,
  quote,
  warn,
  warnCallbackThrew,
}
