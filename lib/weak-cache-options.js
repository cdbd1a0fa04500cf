'use strict'
// The options of WeakCache: lru-cache 11's, validated, plus `weak`. An option WeakCache does not
// know is an error (never silently ignored), and so is a value of the wrong type. Where
// lru-cache's suite pins what a bad value throws, WeakCache throws the same (a TypeError for a
// ttl, maxSize, maxEntrySize or size that is not a positive integer), with its words in the
// message; `ttlResolution` falls back to 1 on a bad value, as in lru-cache.

const { Number, Object, Set, process } = require('./primordials.js')
const { invalidType, invalidValue, makeError, outOfRange } = require('./errors.js')
const { isClock, resolutionOf } = require('./weak-cache-clock.js')

const { isInteger, isSafeInteger } = Number
const { keys } = Object
const { console } = globalThis

// Slots travel as Int32.
const MAX_LIMIT = 2 ** 31 - 2

const BOOLEANS = [
  'ttlAutopurge',
  'updateAgeOnGet',
  'updateAgeOnHas',
  'allowStale',
  'noDisposeOnSet',
  'noUpdateTTL',
  'noDeleteOnFetchRejection',
  'noDeleteOnStaleGet',
  'allowStaleOnFetchRejection',
  'allowStaleOnFetchAbort',
  'ignoreFetchAbort',
  'weak',
]
const FUNCTIONS = ['dispose', 'onInsert', 'disposeAfter', 'fetchMethod', 'memoMethod']
const CONSTRUCTOR = new Set([...BOOLEANS, ...FUNCTIONS, 'max', 'ttl', 'ttlResolution', 'maxSize', 'maxEntrySize', 'sizeCalculation', 'perf'])

/** What lru-cache 6 and earlier called some options. */
const RENAMED = { maxAge: 'ttl', length: 'sizeCalculation', stale: 'allowStale' }

const GET = ['allowStale', 'updateAgeOnGet', 'noDeleteOnStaleGet', 'status']
const SET = ['ttl', 'start', 'size', 'sizeCalculation', 'noDisposeOnSet', 'noUpdateTTL', 'status']
const FETCH_ONLY = ['noDeleteOnFetchRejection', 'allowStaleOnFetchRejection', 'ignoreFetchAbort', 'allowStaleOnFetchAbort', 'forceRefresh', 'context']

/** The options each method takes. */
const CALL = {
  get: new Set(GET),
  find: new Set(GET),
  peek: new Set(['allowStale', 'status']),
  has: new Set(['updateAgeOnHas', 'status']),
  set: new Set(SET),
  // lru-cache's fetch takes no `start`: its value starts when it arrives.
  fetch: new Set([...GET, ...SET.filter((name) => name !== 'start'), ...FETCH_ONLY, 'signal']),
  forceFetch: new Set([...GET, ...SET.filter((name) => name !== 'start'), ...FETCH_ONLY, 'signal']),
  memo: new Set([...GET, ...SET, ...FETCH_ONLY]),
}

/** lru-cache's isPosInt. */
const isPositiveInteger = (n) => typeof n === 'number' && isSafeInteger(n) && n > 0

/**
 * The validated options of `new WeakCache(options)`. `max` is null for no count limit (lru-cache's
 * `max` 0 or none, when `maxSize` or `ttl` bounds the cache); `max: 0` with the weak tier pins
 * nothing (a pure weak-value map).
 */
function configure(options) {
  if (options === null || typeof options !== 'object') {
    throw invalidType('WeakCache: options', 'an object such as { max: 1000 }', options)
  }
  for (const key of keys(options)) {
    if (!CONSTRUCTOR.has(key)) throw unknownOption(`options.${key}`, key)
  }
  const config = {}
  for (const name of BOOLEANS) config[name] = booleanOption(options[name], `options.${name}`, name === 'weak')
  for (const name of FUNCTIONS) {
    const value = options[name]
    if (value !== undefined && typeof value !== 'function') throw invalidType(`WeakCache: options.${name}`, `a function (${name} must be a function if specified)`, value)
    config[name] = value
  }
  config.ttl = ttlOption(options.ttl, 'options.ttl')
  config.ttlResolution = resolutionOf(options.ttlResolution ?? 1)
  config.maxSize = sizeOption(options.maxSize, 'options.maxSize', 'maxSize')
  config.maxEntrySize = sizeOption(options.maxEntrySize, 'options.maxEntrySize', 'maxEntrySize') || config.maxSize
  const { sizeCalculation } = options
  if (sizeCalculation !== undefined) {
    if (!config.maxEntrySize) {
      throw makeError('ERR_INVALID_ARG_VALUE', 'WeakCache: options.sizeCalculation needs options.maxSize or options.maxEntrySize (cannot set sizeCalculation without setting maxSize or maxEntrySize)')
    }
    if (typeof sizeCalculation !== 'function') throw invalidType('WeakCache: options.sizeCalculation', 'a function (sizeCalculation set to non-function)', sizeCalculation)
  }
  config.sizeCalculation = sizeCalculation
  const { perf } = options
  if (perf !== undefined && !isClock(perf)) {
    throw invalidType('WeakCache: the perf option must have a now() method if specified: options.perf', 'an object with a now() method, such as performance or Date', perf)
  }
  config.perf = perf
  config.max = maxOption(options.max, config)
  return config
}

function maxOption(max, config) {
  const bounded = config.maxSize > 0 || config.ttl > 0
  const expected = 'an integer >= 0 (0 makes a pure weak-value map), unless options.maxSize or options.ttl bounds the cache'
  if (max === undefined) {
    if (bounded) return null
    throw invalidType('WeakCache: options.max', `${expected} (At least one of max, maxSize, or ttl is required)`, max)
  }
  if (typeof max !== 'number') throw invalidType('WeakCache: options.max', expected, max)
  if (!isInteger(max) || max < 0 || max > MAX_LIMIT) throw outOfRange('WeakCache: options.max', `an integer from 0 to ${MAX_LIMIT}`, max)
  if (max === 0 && !config.weak) {
    // Without the weak tier a cache is lru-cache's, where max 0 means no count limit.
    if (bounded) return null
    throw invalidType('WeakCache: options.max', 'an integer > 0 with weak: false, unless options.maxSize or options.ttl bounds the cache (At least one of max, maxSize, or ttl is required)', max)
  }
  return max
}

function booleanOption(value, what, defaultValue = false) {
  if (value === undefined) return defaultValue
  if (typeof value !== 'boolean') throw invalidType(`WeakCache: ${what}`, 'a boolean', value)
  return value
}

/** A ttl: 0 or undefined for none, else a positive integer of milliseconds (as lru-cache). */
function ttlOption(ttl, what) {
  if (ttl === undefined || ttl === 0) return 0
  if (typeof ttl !== 'number') throw invalidType(`WeakCache: ${what}`, 'a number of milliseconds', ttl)
  if (!isPositiveInteger(ttl)) throw invalidValue(`WeakCache: ${what}`, 'a positive integer of milliseconds, or 0 for none (ttl must be a positive integer if specified)', ttl)
  return ttl
}

function sizeOption(size, what, name) {
  if (size === undefined || size === 0) return 0
  if (typeof size !== 'number') throw invalidType(`WeakCache: ${what}`, 'a positive integer', size)
  if (!isPositiveInteger(size)) throw invalidValue(`WeakCache: ${what}`, `a positive integer (${name} must be a positive integer if specified)`, size)
  return size
}

/** Rejects an option `method` does not take. */
function checkCallOptions(options, method) {
  if (options === null || typeof options !== 'object') {
    throw invalidType(`WeakCache.prototype.${method}: options`, 'an object', options)
  }
  const allowed = CALL[method]
  for (const key of keys(options)) {
    if (!allowed.has(key)) throw unknownOption(`${method} options.${key}`, key, method)
  }
}

function unknownOption(what, key, method = undefined) {
  const renamed = RENAMED[key]
  const hint = renamed === undefined ? '' : ` (lru-cache 7 renamed ${key} to ${renamed})`
  const whose = method === undefined ? 'WeakCache or lru-cache' : `WeakCache.prototype.${method} or lru-cache's ${method}`
  return makeError('ERR_INVALID_ARG_VALUE', `WeakCache: ${what} is not an option of ${whose}${hint}`)
}

let warnedUnbounded = false

/**
 * lru-cache's UnboundedCacheWarning, once per process: a cache bounded only by ttl, without
 * ttlAutopurge, keeps stale entries until they are read.
 */
function warnIfUnbounded(config, constructor) {
  if (warnedUnbounded || config.ttlAutopurge || config.max !== null || config.maxSize > 0) return
  warnedUnbounded = true
  const message = 'TTL caching without ttlAutopurge, max, or maxSize can result in unbounded memory consumption.'
  if (typeof process.emitWarning === 'function') process.emitWarning(message, 'UnboundedCacheWarning', 'LRU_CACHE_UNBOUNDED', constructor)
  else console.error(`[LRU_CACHE_UNBOUNDED] UnboundedCacheWarning: ${message}`)
}

module.exports = { configure, checkCallOptions, ttlOption, booleanOption, isPositiveInteger, warnIfUnbounded }
