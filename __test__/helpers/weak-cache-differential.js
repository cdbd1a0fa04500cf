'use strict'
// A differential fuzz of WeakCache against lru-cache 11.5 (the pinned devDependency): random
// operation sequences run on both caches, made with the same options, under the same fake clock,
// and every observable result must agree, step by step: return values, status objects, the calls
// of dispose, disposeAfter, onInsert, fetchMethod and memoMethod (with their arguments), the
// settling of each fetch, the diagnostics channel's messages, and the whole content of both
// caches (`dump()`, `size`, `calculatedSize`).
//
// Where WeakCache is lru-cache by definition: values are numbers (primitives are never weak), or
// objects in a cache made with `weak: false`. The clock is a fake one shared by both caches: `perf`,
// `Date.now()` and the global timers (ttlAutopurge's, and lru-cache's ttlResolution timers) follow
// it, and timers fire when it is moved past their time. A fetch settles when a later step settles
// its fetchMethod's promise; every step ends when the event loop has run everything it queued.
//
// Used by __test__/weak-cache-differential.test.js (a bounded run) and scripts/lru-differential.js
// (a long run: `npm run soak` runs it).

const { random } = require('./weak-cache.js')

const EPOCH = 1_700_000_000_000
/** No cache: for describing values. */
const NONE = {}
const KEYS = ['a', 'b', 'c', 'd', 'e', 'f', 0, 1, 2, -0, undefined, null]

/** A clock both caches read, with the timers and Date.now() that follow it. */
class FakeTime {
  t = 1000
  #timers = []
  #nextId = 0
  perf = { now: () => this.t }

  setTimeout = (fn, ms, ...args) => {
    // As Node reads a delay: anything but a number from 1 to 2^31 - 1 is 1.
    const delay = ms >= 1 && ms <= 2 ** 31 - 1 ? ms : 1
    const timer = { due: this.t + delay, id: this.#nextId++, fn, args, cleared: false, unref: () => timer, ref: () => timer, hasRef: () => false }
    this.#timers.push(timer)
    return timer
  }

  clearTimeout = (timer) => {
    if (timer && typeof timer === 'object') timer.cleared = true
  }

  /** Moves the clock by `ms`, firing the timers due on the way, each at its time. */
  advance(ms) {
    const target = this.t + ms
    for (;;) {
      let next
      for (const timer of this.#timers) {
        if (!timer.cleared && timer.due <= target && (next === undefined || timer.due < next.due || (timer.due === next.due && timer.id < next.id))) next = timer
      }
      if (next === undefined) break
      next.cleared = true
      this.t = Math.max(this.t, next.due)
      next.fn(...next.args)
    }
    this.#timers = this.#timers.filter((timer) => !timer.cleared)
    this.t = target
  }

  /** Installs the fake timers and Date.now() globally until `restore()`. */
  install() {
    const saved = { setTimeout: globalThis.setTimeout, clearTimeout: globalThis.clearTimeout, now: Date.now }
    globalThis.setTimeout = this.setTimeout
    globalThis.clearTimeout = this.clearTimeout
    Date.now = () => EPOCH + this.t
    return () => {
      globalThis.setTimeout = saved.setTimeout
      globalThis.clearTimeout = saved.clearTimeout
      Date.now = saved.now
    }
  }
}

const OWN_MESSAGES = new Set(['evicted', 'deleted', 'replaced', 'fetchMethod threw', 'fetchMethod rejected', 'memoMethod threw', 'the caller gave up'])

const keyText = (key) => (Object.is(key, -0) ? '-0' : String(key))

const FLAGS = [
  'allowStale',
  'updateAgeOnGet',
  'updateAgeOnHas',
  'noDeleteOnStaleGet',
  'noUpdateTTL',
  'noDisposeOnSet',
  'noDeleteOnFetchRejection',
  'allowStaleOnFetchRejection',
  'allowStaleOnFetchAbort',
  'ignoreFetchAbort',
]

const turn = () => new Promise((resolve) => setImmediate(resolve))

/** A readable, comparable copy of a value: the cache itself, pool objects, errors and signals by name. */
function normalize(value, self, seen = new Set()) {
  if (value === self) return '<cache>'
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return value
  if (typeof value === 'function') return '<function>'
  if (value.poolId !== undefined) return `<object ${value.poolId}>`
  // Messages differ (WeakCache's name the method); the test's own and lru-cache's abort reasons do not.
  if (value instanceof Error) return OWN_MESSAGES.has(value.message) ? { error: value.name, message: value.message } : { error: value.name }
  if (typeof AbortSignal === 'function' && value instanceof AbortSignal) return { signal: value.aborted ? 'aborted' : 'live' }
  if (value instanceof Promise) return '<promise>'
  if (seen.has(value)) return '<cycle>'
  seen.add(value)
  if (Array.isArray(value)) return value.map((item) => normalize(item, self, seen))
  const copy = {}
  for (const key of Object.keys(value).sort()) copy[key] = normalize(value[key], self, seen)
  // A status names its cache (lru-cache 11.5), WeakCache's without enumerating it: compared as read.
  if (Object.hasOwn(value, 'cache')) copy.cache = normalize(value.cache, self, seen)
  return copy
}

/** The options of one sequence. Values are numbers or (with weak: false) objects. */
function makeOptions(rng, time) {
  const pick = (list) => list[Math.floor(rng() * list.length)]
  const chance = (p) => rng() < p
  const objects = chance(0.4)
  const options = { perf: time.perf }
  if (chance(0.65)) options.max = 1 + Math.floor(rng() * 7)
  if (chance(0.35)) {
    options.maxSize = 6 + Math.floor(rng() * 20)
    // Always a sizeCalculation: a fetch result stored without a size would throw in an
    // unawaited promise (lru-cache: an unhandled rejection).
    options.sizeCalculation = (value) => (typeof value === 'number' ? (value % 4) + 1 : (value.poolId % 5) + 1)
    if (chance(0.2)) options.maxEntrySize = 2 + Math.floor(rng() * (options.maxSize - 2))
  }
  if (chance(0.5)) options.ttl = pick([5, 20, 60, 200])
  if (options.max === undefined && !options.maxSize && !options.ttl) options.max = 4
  if (chance(0.1) && (options.maxSize || options.ttl)) options.max = 0
  options.ttlResolution = pick([0, 0, 1, undefined, 5])
  if (chance(0.25)) options.ttlAutopurge = true
  for (const flag of FLAGS) {
    if (chance(0.15)) options[flag] = true
  }
  if (chance(0.2)) options.backgroundFetchSize = pick([0, 1, 3])
  options.weak = objects ? false : pick([true, false, undefined])
  return {
    options,
    objects,
    fetching: chance(0.6),
    memoing: chance(0.4),
    dispose: chance(0.8),
    disposeAfter: chance(0.5),
    onInsert: chance(0.4),
    subscribe: chance(0.15),
    trace: chance(0.1),
    // How much of the event loop runs between steps: all of it, or a few microtasks only (a
    // promise chain one step longer on one side would show).
    microtasks: chance(0.3) ? Math.floor(rng() * 6) : undefined,
  }
}

/**
 * Runs one sequence of `steps` operations on a WeakCache and an LRUCache. Resolves to undefined
 * when every step agreed, or to a report of the first divergence (with the seed and the steps
 * that led to it).
 */
async function runSequence(seed, { steps = 400, WeakCache, LRUCache, diagnostics = require('node:diagnostics_channel') }) {
  const rng = random(seed)
  const pick = (list) => list[Math.floor(rng() * list.length)]
  const chance = (p) => rng() < p
  const time = new FakeTime()
  const restore = time.install()
  const config = makeOptions(rng, time)
  const pool = Array.from({ length: 9 }, (_, i) => ({ poolId: i }))
  const trace = []
  const sides = []
  let plan = {} // what the fetchMethod or memoMethod does at this step (both sides read it)
  let unsubscribe = () => {}
  try {
    for (const [name, Class] of [['WeakCache', WeakCache], ['lru-cache', LRUCache]]) {
      const side = { name, events: [], pending: [], outcomes: new Map(), statuses: [], signals: [], memoCalls: 0 }
      const log = (...event) => side.events.push(normalize(event, side.cache))
      const options = { ...config.options }
      if (config.dispose) options.dispose = (value, key, reason) => log('dispose', value, key, reason)
      if (config.disposeAfter) options.disposeAfter = (value, key, reason) => log('disposeAfter', value, key, reason)
      if (config.onInsert) options.onInsert = (value, key, reason) => log('onInsert', value, key, reason)
      if (config.fetching) {
        options.fetchMethod = (key, stale, { signal, options: fetchOptions, context }) => {
          log('fetchMethod', key, stale, fetchOptions, context, signal)
          if (plan.mutateTtl !== undefined) fetchOptions.ttl = plan.mutateTtl
          switch (plan.fetch) {
            case 'value':
              return plan.value
            case 'undefined':
              return undefined
            case 'throw':
              throw new Error('fetchMethod threw')
            case 'resolved':
              return Promise.resolve(plan.value)
            case 'rejected':
              return Promise.reject(new Error('fetchMethod rejected'))
            case 'async':
              return (async () => {
                await null
                return plan.value
              })()
            default:
              return new Promise((resolve, reject) => side.pending.push({ resolve, reject, signal }))
          }
        }
      }
      if (config.memoing) {
        options.memoMethod = (key, stale, { options: memoOptions, context }) => {
          log('memoMethod', key, stale, memoOptions, context)
          if (plan.memo === 'throw') throw new Error('memoMethod threw')
          return plan.value
        }
      }
      side.cache = new Class(options)
      sides.push(side)
    }
    const unsubscribers = []
    if (config.subscribe) {
      const onMessage = (message) => {
        const side = sides.find((s) => s.cache === message?.cache)
        if (side) side.events.push(['metrics', normalize(message, side.cache)])
      }
      diagnostics.subscribe('lru-cache:metrics', onMessage)
      unsubscribers.push(() => diagnostics.unsubscribe('lru-cache:metrics', onMessage))
    }
    if (config.trace && typeof diagnostics.tracingChannel === 'function') {
      const channel = diagnostics.tracingChannel('lru-cache')
      const handlers = {}
      for (const name of ['start', 'end', 'asyncStart', 'asyncEnd', 'error']) {
        handlers[name] = (context) => {
          const side = sides.find((s) => s.cache === context?.cache)
          if (side) side.events.push(['trace', name, normalize(context, side.cache)])
        }
      }
      channel.subscribe(handlers)
      unsubscribers.push(() => channel.unsubscribe(handlers))
    }
    unsubscribe = () => unsubscribers.forEach((fn) => fn())
    let fetchCount = 0
    const anyValue = () => (config.objects ? pick(pool) : pick([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]))
    for (let step = 0; step < steps; step++) {
      const key = pick(KEYS)
      const op = pick(OPS)
      plan = {}
      let describe = op
      let act // (side) => result; the same call on each side
      const status = chance(0.5)
      // Calls without options take fast paths of their own (get, fetch): empty options are
      // sometimes left out altogether.
      const bare = chance(0.3)
      const withStatus = (options, side) => {
        if (!status) return bare && Object.keys(options).length === 0 ? undefined : options
        const s = {}
        side.statuses.push(s)
        return { ...options, status: s }
      }
      switch (op) {
        case 'set': {
          const value = chance(0.05) ? undefined : anyValue()
          const options = {}
          if (chance(0.2)) options.ttl = pick([0, 3, 20, 100])
          if (chance(0.1)) options.noDisposeOnSet = chance(0.5)
          if (chance(0.1)) options.noUpdateTTL = chance(0.5)
          if (chance(0.1) && config.options.maxSize) options.size = 1 + Math.floor(rng() * 6)
          if (chance(0.05)) options.start = chance(0.2) ? pick([null, 0]) : time.t - pick([0, 5, 50])
          describe = `set ${keyText(key)} ${show(normalize(value, NONE))} ${JSON.stringify(options)}`
          act = (side) => side.cache.set(key, value, withStatus(options, side)) === side.cache
          break
        }
        case 'get':
        case 'peek':
        case 'has':
        case 'find': {
          const options = {}
          if (chance(0.2)) options.allowStale = chance(0.5)
          if (op === 'get' || op === 'find') {
            if (chance(0.15)) options.updateAgeOnGet = chance(0.5)
            if (chance(0.15)) options.noDeleteOnStaleGet = chance(0.5)
          }
          if (op === 'has' && chance(0.2)) options.updateAgeOnHas = chance(0.5)
          describe = `${op} ${keyText(key)} ${JSON.stringify(options)}`
          if (op === 'find') {
            const wanted = anyValue()
            act = (side) => side.cache.find((value) => value === wanted, withStatus(options, side))
          } else {
            act = (side) => side.cache[op](key, withStatus(options, side))
          }
          break
        }
        case 'delete':
          describe = `delete ${keyText(key)}`
          act = (side) => side.cache.delete(key)
          break
        case 'pop':
        case 'purgeStale':
        case 'clear':
          act = (side) => side.cache[op]()
          break
        case 'getRemainingTTL':
        case 'info':
          describe = `${op} ${keyText(key)}`
          act = (side) => side.cache[op](key)
          break
        case 'iterate': {
          const how = pick(['entries', 'rentries', 'keys', 'values', 'rkeys', 'rvalues', 'forEach', 'rforEach'])
          describe = `iterate ${how}`
          act = (side) => {
            if (how.endsWith('orEach')) {
              const seen = []
              side.cache[how]((value, k) => seen.push([k, value]))
              return seen
            }
            return [...side.cache[how]()]
          }
          break
        }
        case 'load':
          act = (side) => side.cache.load(side.cache.dump())
          break
        case 'setOption': {
          const name = pick([...FLAGS, 'ttl', 'ttl', 'maxEntrySize'])
          const value = name === 'ttl' ? pick([0, 10, 50]) : name === 'maxEntrySize' ? (config.options.maxSize ? pick([0, 3, 8]) : 0) : chance(0.5)
          describe = `cache.${name} = ${value}`
          act = (side) => {
            side.cache[name] = value
            return side.cache[name]
          }
          break
        }
        case 'tick': {
          const ms = pick([0, 1, 2, 5, 10, 30, 100, 250])
          describe = `tick ${ms}`
          act = null
          time.advance(ms)
          break
        }
        case 'fetch':
        case 'forceFetch': {
          if (!config.fetching && chance(0.5)) continue
          const options = {}
          for (const flag of ['allowStale', 'forceRefresh', 'noDeleteOnFetchRejection', 'allowStaleOnFetchRejection', 'allowStaleOnFetchAbort', 'ignoreFetchAbort', 'updateAgeOnGet', 'noDeleteOnStaleGet', 'noDisposeOnSet', 'noUpdateTTL']) {
            if (chance(0.12)) options[flag] = chance(0.7)
          }
          if (chance(0.15)) options.ttl = pick([0, 3, 20, 100])
          if (chance(0.1) && config.options.maxSize) options.size = 1 + Math.floor(rng() * 4)
          if (chance(0.2)) options.context = { ctx: step }
          const withSignal = chance(0.3)
          plan = { fetch: pick(['deferred', 'deferred', 'deferred', 'deferred', 'value', 'undefined', 'throw', 'resolved', 'rejected', 'async']), value: anyValue() }
          if (chance(0.05)) plan.mutateTtl = pick([0, 7, 40])
          const id = fetchCount++
          describe = `${op} ${keyText(key)} ${JSON.stringify(options)}${withSignal ? ' +signal' : ''} -> fetch#${id} (${plan.fetch})`
          act = (side) => {
            let callOptions = withStatus(options, side)
            if (withSignal) {
              const controller = new AbortController()
              side.signals[id] = controller
              callOptions = { ...callOptions, signal: controller.signal }
            }
            const promise = side.cache[op](key, callOptions)
            promise.then(
              (value) => side.outcomes.set(id, ['resolved', normalize(value, side.cache)]),
              (error) => side.outcomes.set(id, ['rejected', normalize(error, side.cache)]),
            )
            return '<promise>'
          }
          break
        }
        case 'settle': {
          const how = pick(['resolve', 'resolve', 'undefined', 'reject', 'abortSignal'])
          const which = rng()
          const value = anyValue()
          describe = `settle ${how} (${which.toFixed(2)}) ${show(normalize(value, NONE))}`
          act = (side) => {
            if (how === 'abortSignal') {
              const live = side.signals.map((c, i) => [c, i]).filter(([c]) => c && !c.signal.aborted)
              if (live.length === 0) return 'no signal'
              const [controller, i] = live[Math.floor(which * live.length)]
              controller.abort(new Error('the caller gave up'))
              return `aborted signal of fetch#${i}`
            }
            if (side.pending.length === 0) return 'nothing pending'
            const [deferred] = side.pending.splice(Math.floor(which * side.pending.length), 1)
            side.events.push(['settled', deferred.signal.aborted ? 'aborted' : 'live'])
            if (how === 'resolve') deferred.resolve(value)
            else if (how === 'undefined') deferred.resolve(undefined)
            else deferred.reject(new Error('fetchMethod rejected'))
            return how
          }
          break
        }
        case 'memo': {
          if (!config.memoing && chance(0.5)) continue
          const options = {}
          if (chance(0.2)) options.forceRefresh = true
          if (chance(0.15)) options.allowStale = chance(0.5)
          if (chance(0.15)) options.ttl = pick([0, 20])
          if (chance(0.2)) options.context = { ctx: step }
          plan = { memo: chance(0.05) ? 'throw' : 'value', value: chance(0.05) ? undefined : anyValue() }
          describe = `memo ${keyText(key)} ${JSON.stringify(options)} -> ${plan.memo} ${show(normalize(plan.value, NONE))}`
          act = (side) => side.cache.memo(key, withStatus(options, side))
          break
        }
        default:
          throw new Error(`unknown op ${op}`)
      }
      trace.push(`${step}: ${describe}`)
      const results = []
      for (const side of sides) {
        const before = side.statuses.length
        let result
        if (act !== null) {
          try {
            result = ['returned', normalize(act(side), side.cache)]
          } catch (error) {
            result = ['threw', error?.name]
          }
        }
        results.push({ result, statuses: side.statuses.slice(before) })
      }
      // Every promise reaction, and whatever it queued, runs before the step is compared (or, in
      // some sequences, only a few microtasks: both sides must be as far along).
      if (config.microtasks === undefined) for (let i = 0; i < 4; i++) await turn()
      else for (let i = 0; i < config.microtasks; i++) await null
      const views = sides.map((side, i) => ({
        result: results[i].result,
        statuses: normalize(results[i].statuses, side.cache),
        events: side.events.splice(0),
        outcomes: normalize([...side.outcomes].sort((a, b) => a[0] - b[0]), side.cache),
        size: side.cache.size,
        calculatedSize: side.cache.calculatedSize,
        dump: normalize(side.cache.dump(), side.cache),
      }))
      const difference = firstDifference(views[0], views[1])
      if (difference !== undefined) {
        return { seed, step, options: describeOptions(config), trace, difference, weakCache: views[0], lruCache: views[1] }
      }
    }
    // Fetch statuses change when the fetch settles: the last look at every status object.
    const finalStatuses = sides.map((side) => normalize(side.statuses, side.cache))
    const difference = firstDifference(finalStatuses[0], finalStatuses[1])
    if (difference !== undefined) return { seed, step: steps, options: describeOptions(config), trace, difference: `status objects at the end: ${difference}` }
    return undefined
  } finally {
    unsubscribe()
    restore()
    // Nothing may stay pending between sequences.
    for (const side of sides) for (const deferred of side.pending) deferred.resolve(undefined)
  }
}

const OPS = [
  ...Array(8).fill('set'),
  ...Array(6).fill('get'),
  'peek',
  'peek',
  'has',
  'has',
  'delete',
  'pop',
  'purgeStale',
  'getRemainingTTL',
  'info',
  'iterate',
  'find',
  ...Array(4).fill('tick'),
  ...Array(3).fill('fetch'),
  'forceFetch',
  ...Array(3).fill('settle'),
  'memo',
  'clear',
  'load',
  'setOption',
]

function describeOptions(config) {
  const shown = { ...config.options }
  delete shown.perf
  if (shown.sizeCalculation) shown.sizeCalculation = '<function>'
  const callbacks = ['fetching', 'memoing', 'dispose', 'disposeAfter', 'onInsert', 'subscribe', 'objects'].filter((name) => config[name])
  return `${JSON.stringify(shown)} with ${callbacks.join(', ') || 'no callbacks'}`
}

/** The first place where two views differ, as text; undefined when they agree. */
function firstDifference(a, b, path = '') {
  if (Object.is(a, b)) return undefined
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) {
    return `${path || 'value'}: WeakCache ${show(a)}, lru-cache ${show(b)}`
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)])
  for (const key of keys) {
    const found = firstDifference(a[key], b[key], path ? `${path}.${key}` : key)
    if (found !== undefined) return found
  }
  return undefined
}

function show(value) {
  if (value === undefined) return 'undefined'
  if (Object.is(value, -0)) return '-0'
  return JSON.stringify(value)
}

/** A report for a person: the seed, the options, the steps and what differed. */
function formatDivergence(report) {
  const lines = [`seed ${report.seed}, step ${report.step}: ${report.difference}`, `options: ${report.options}`, ...report.trace.slice(-40)]
  if (report.weakCache) {
    lines.push(`WeakCache: ${JSON.stringify(report.weakCache)}`, `lru-cache: ${JSON.stringify(report.lruCache)}`)
  }
  return lines.join('\n')
}

module.exports = { runSequence, formatDivergence }
