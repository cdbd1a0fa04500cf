'use strict'
// The options of WeakCache: lru-cache 11.5's, read with lru-cache's rules, plus `weak`.
//
// The rule is lru-cache's drop-in rule: whatever lru-cache accepts, WeakCache accepts with the
// same meaning, so configuration built from JSON or the environment (nulls, extra keys) works
// unchanged. Flags are read as truthy or not; a falsy `ttl`, `maxEntrySize` or callback means none;
// an option name neither library knows is a process warning (once per name), never an error.
// Where lru-cache throws, WeakCache throws a TypeError, with lru-cache's words in the message.
// Where lru-cache accepts a value only by ignoring it (a callback that is not a function), WeakCache
// throws a TypeError instead: docs/weak-cache.md lists each case.

const { Number, Object, Set, process } = require('./primordials.js')
const { invalidType, invalidValue, makeError, outOfRange, warn } = require('./errors.js')
const { isClock, resolutionOf } = require('./weak-cache-clock.js')

const { isInteger, isFinite } = Number
const { keys } = Object
const { console } = globalThis

// Slots travel as Int32.
const MAX_LIMIT = 2 ** 31 - 2

const FLAGS = [
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
]
/** Callbacks lru-cache ignores unless they are functions. */
const LISTENERS = ['dispose', 'onInsert', 'disposeAfter']
/** Callbacks lru-cache rejects unless they are functions. */
const METHODS = ['fetchMethod', 'memoMethod']
const CONSTRUCTOR = new Set([
  ...FLAGS,
  ...LISTENERS,
  ...METHODS,
  'max',
  'ttl',
  'ttlResolution',
  'maxSize',
  'maxEntrySize',
  'sizeCalculation',
  'backgroundFetchSize',
  'perf',
  'weak',
])

/** What lru-cache 6 and earlier called some options. */
const RENAMED = { maxAge: 'ttl', length: 'sizeCalculation', stale: 'allowStale' }

const GET = ['allowStale', 'updateAgeOnGet', 'noDeleteOnStaleGet', 'status']
const SET = ['ttl', 'start', 'size', 'sizeCalculation', 'noDisposeOnSet', 'noUpdateTTL', 'status']
const FETCH_ONLY = ['noDeleteOnFetchRejection', 'allowStaleOnFetchRejection', 'ignoreFetchAbort', 'allowStaleOnFetchAbort', 'forceRefresh', 'context']
// lru-cache's fetch takes no `start`: its value starts when it arrives.
const FETCH = [...GET, ...SET.filter((name) => name !== 'start'), ...FETCH_ONLY, 'signal']

/** The options each method takes. */
const CALL = {
  get: new Set(GET),
  find: new Set(GET),
  peek: new Set(['allowStale', 'status']),
  has: new Set(['updateAgeOnHas', 'status']),
  set: new Set(SET),
  fetch: new Set(FETCH),
  forceFetch: new Set(FETCH),
  memo: new Set([...GET, ...SET, ...FETCH_ONLY]),
}

/** lru-cache's isPosInt: a finite integer above 0 (any size: 1e308 is one). */
const isPositiveInteger = (n) => typeof n === 'number' && isInteger(n) && n > 0 && isFinite(n)

/**
 * The options of `new WeakCache(options)`, normalized. `max` is null for no count limit
 * (lru-cache's `max` 0 or none, when `maxSize` or `ttl` bounds the cache); `max: 0` alone, with the
 * weak tier, pins nothing (a pure weak-value map).
 */
function configure(options) {
  if (options === null || (typeof options !== 'object' && typeof options !== 'function')) {
    throw invalidType('WeakCache: options', 'an object such as { max: 1000 } (At least one of max, maxSize, or ttl is required)', options)
  }
  for (const key of keys(options)) {
    if (!CONSTRUCTOR.has(key)) warnUnknown(`options.${key}`, key)
  }
  const config = {}
  for (const name of FLAGS) config[name] = !!options[name]
  for (const name of LISTENERS) config[name] = listenerOption(options[name], `options.${name}`)
  for (const name of METHODS) {
    const value = options[name]
    if (value !== undefined && typeof value !== 'function') throw invalidType(`WeakCache: options.${name}`, `a function (${name} must be a function if specified)`, value)
    config[name] = value
  }
  config.weak = weakOption(options.weak)
  config.backgroundFetchSize = backgroundFetchSizeOption(options.backgroundFetchSize)
  const { perf } = options
  if (perf !== undefined && !isClock(perf)) {
    throw invalidType('WeakCache: the perf option must have a now() method if specified: options.perf', 'an object with a now() method, such as performance or Date', perf)
  }
  config.perf = perf
  const { max, maxSize, maxEntrySize } = options
  // 0 (or -0, kept as given, as lru-cache shows it) for no size bound.
  config.maxSize = maxSize === undefined ? 0 : maxSize === 0 ? maxSize : positiveInteger(maxSize, 'options.maxSize', 'maxSize')
  config.maxEntrySize = maxEntrySize ? positiveInteger(maxEntrySize, 'options.maxEntrySize', 'maxEntrySize') : config.maxSize
  const { sizeCalculation } = options
  if (sizeCalculation) {
    if (!config.maxEntrySize) {
      throw makeError('ERR_INVALID_ARG_VALUE', 'WeakCache: options.sizeCalculation needs options.maxSize or options.maxEntrySize (cannot set sizeCalculation without setting maxSize or maxEntrySize)')
    }
    if (typeof sizeCalculation !== 'function') throw invalidType('WeakCache: options.sizeCalculation', 'a function (sizeCalculation set to non-function)', sizeCalculation)
  }
  config.sizeCalculation = sizeCalculation // a falsy one is none, and shown as given (lru-cache)
  const { ttlResolution } = options
  if (ttlResolution && (typeof ttlResolution === 'bigint' || typeof ttlResolution === 'symbol')) {
    // lru-cache's Math.floor throws on these.
    throw invalidType('WeakCache: options.ttlResolution', 'an integer >= 0 of milliseconds', ttlResolution)
  }
  config.ttlResolution = resolutionOf(ttlResolution ?? 1)
  config.ttl = ttlOption(options.ttl, 'options.ttl')
  config.max = maxOption(max, config)
  config.shownMax = max ?? 0 // as given (lru-cache's getter shows -0 as -0)
  return config
}

/** The size of a fetch in flight that has no stale value: an integer >= 0; left out, 1 (null is an
 * error, as in lru-cache). */
function backgroundFetchSizeOption(value) {
  if (value === undefined) return 1
  if (value === 0 || isPositiveInteger(value)) return value
  throw invalidType('WeakCache: options.backgroundFetchSize', 'an integer >= 0 (backgroundFetchSize must be a nonnegative integer)', value)
}

function maxOption(max, config) {
  const bounded = config.maxSize > 0 || config.ttl > 0
  if (max === undefined || max === 0) {
    if (bounded) return null // lru-cache's "no count limit"
    if (max === 0 && config.weak) return 0 // the pure weak-value map
    const expected = config.weak
      ? 'an integer >= 0 (0 makes a pure weak-value map), unless options.maxSize or options.ttl bounds the cache'
      : 'an integer > 0 with weak: false, unless options.maxSize or options.ttl bounds the cache'
    throw invalidType('WeakCache: options.max', `${expected} (At least one of max, maxSize, or ttl is required)`, max)
  }
  const expected = 'an integer >= 0 (max option must be a nonnegative integer)'
  if (typeof max !== 'number') throw invalidType('WeakCache: options.max', expected, max)
  if (!isPositiveInteger(max)) throw invalidValue('WeakCache: options.max', expected, max)
  if (max > MAX_LIMIT) throw outOfRange('WeakCache: options.max', `an integer from 0 to ${MAX_LIMIT}`, max)
  return max
}

/** `weak`, WeakCache's own option: a boolean; left out (or null), true. */
function weakOption(value) {
  if (value === undefined || value === null) return true
  if (typeof value !== 'boolean') throw invalidType('WeakCache: options.weak', 'a boolean', value)
  return value
}

/** dispose, onInsert, disposeAfter: a function, or nothing (any falsy value). */
function listenerOption(value, what) {
  if (!value) return undefined
  if (typeof value !== 'function') throw invalidType(`WeakCache: ${what}`, 'a function (lru-cache would ignore it)', value)
  return value
}

/** A flag given to a call: undefined is the cache's default, anything else is read as truthy or not. */
function flagOption(value, defaultValue) {
  return value === undefined ? defaultValue : !!value
}

/** A ttl, as lru-cache reads the constructor's: falsy for none (0), else a positive integer of
 * milliseconds, as large as any finite number. */
function ttlOption(ttl, what) {
  if (!ttl) return 0
  if (!isPositiveInteger(ttl)) {
    throw invalidValue(`WeakCache: ${what}`, 'a positive integer of milliseconds, or 0 for none (ttl must be a positive integer if specified)', ttl)
  }
  return ttl
}

/** The ttl of one `set` or `fetch`: falsy for none, else a positive number of milliseconds (a
 * fraction or Infinity work as lru-cache reads them). */
function callTtlOption(ttl, what) {
  if (!ttl) return 0
  if (typeof ttl !== 'number' || !(ttl > 0)) throw invalidValue(`WeakCache: ${what}`, 'a positive number of milliseconds, or 0 for none', ttl)
  return ttl
}

function positiveInteger(value, what, name) {
  if (!isPositiveInteger(value)) throw invalidValue(`WeakCache: ${what}`, `a positive integer (${name} must be a positive integer if specified)`, value)
  return value
}

/**
 * A call's options as lru-cache reads them: undefined or any value but null (a primitive has no
 * options); an option the method does not take is warned about once and ignored. Returns the
 * object to read, or undefined.
 */
function callOptions(options, method) {
  if (options === undefined) return undefined
  if (options === null) throw invalidType(`WeakCache.prototype.${method}: options`, 'an object', options)
  if (typeof options !== 'object' && typeof options !== 'function') return undefined
  const allowed = CALL[method]
  for (const key of keys(options)) {
    if (!allowed.has(key)) warnUnknown(`${method} options.${key}`, `${method}:${key}`, key, method)
  }
  return options
}

const warned = new Set()

/** One process warning per unknown option name (per method, for a call's options). */
function warnUnknown(what, id, key = id, method = undefined) {
  if (warned.has(id)) return
  warned.add(id)
  const renamed = RENAMED[key]
  const hint = renamed === undefined ? '' : ` (lru-cache 7 renamed ${key} to ${renamed})`
  const whose = method === undefined ? 'WeakCache or lru-cache' : `WeakCache.prototype.${method} or lru-cache's ${method}`
  warn('WeakCacheWarning', 'ERR_EPHEMERON_UNKNOWN_OPTION', `WeakCache: ${what} is not an option of ${whose}; it is ignored${hint}`)
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

module.exports = {
  configure,
  callOptions,
  ttlOption,
  callTtlOption,
  flagOption,
  backgroundFetchSizeOption,
  listenerOption,
  isPositiveInteger,
  warnIfUnbounded,
}
