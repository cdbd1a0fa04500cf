'use strict'
// WeakCache against hostile and careless use: callbacks that throw odd values, clocks
// that throw or lie, re-entrant dispose callbacks, a panic inside the native policy, hostile keys,
// replaced globals, and the error contract. Each test is named after the bug it pins down.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { WeakCache } = require('..')
const { forSpecs } = require('../lib/weak-cache.js')
const { CODES } = require('../lib/errors.js')
const { fakeClock, random } = require('./helpers/weak-cache.js')
const { captureWarnings } = require('./helpers/warnings.js')

/** The process warnings emitted while `body` runs (and one turn of the event loop after it),
 * captured: asserted here, not printed. */
function warningsDuring(body) {
  return captureWarnings(async () => {
    await body()
    await new Promise((resolve) => setImmediate(resolve))
  })
}

/** Values that broke the old warning path when thrown. */
function oddThrowables() {
  const revoked = Proxy.revocable({}, {})
  revoked.revoke()
  const hostileError = new Error('hostile')
  Object.defineProperty(hostileError, 'stack', {
    get() {
      throw new Error('stack getter')
    },
  })
  Object.defineProperty(hostileError, 'message', {
    get() {
      throw new Error('message getter')
    },
  })
  return { 'a revoked Proxy': revoked.proxy, 'Object.create(null)': Object.create(null), 'an Error whose message and stack getters throw': hostileError }
}

test('regression: a dispose that throws a revoked Proxy, Object.create(null) or an Error with throwing getters becomes a warning, and later disposes still run', async () => {
  for (const [what, thrown] of Object.entries(oddThrowables())) {
    const seen = []
    const warnings = await warningsDuring(() => {
      const cache = new WeakCache({
        max: 1,
        dispose: (value, key, reason) => {
          seen.push(`${reason} ${key}`)
          throw thrown
        },
      })
      cache.set('a', 1).set('b', 2).set('c', 3) // two evictions, each dispose throws
      cache.delete('c')
      cache.set('d', 4)
      cache.clear()
    })
    assert.deepEqual(seen, ['evict a', 'evict b', 'delete c', 'delete d'], what)
    const ours = warnings.filter((w) => w.code === 'ERR_EPHEMERON_DISPOSE_THREW')
    assert.equal(ours.length, 4, what)
    assert.equal(ours[0].type, 'WeakCacheWarning')
    assert.match(ours[0].message, /dispose threw for key the string "a" \(reason 'evict'\)/)
  }
})

test('regression: a dispose(set) that calls set() does not turn a later eviction value into undefined', () => {
  const log = []
  const weakValue = { weak: true }
  const cache = new WeakCache({
    max: 1,
    dispose(value, key, reason) {
      log.push([reason, key, value])
      if (reason === 'set') cache.set('q', 2).set('r', 3) // an eviction of its own in the middle
    },
  })
  cache.set('a', weakValue).set('p', 1) // a is demoted; p (a primitive) is pinned
  cache.set('a', { fresh: true }) // replaces the weak a ('set'), pushes out p ('evict')
  assert.deepEqual(log, [
    ['set', 'a', weakValue],
    ['evict', 'q', 2],
    ['evict', 'p', 1],
  ])
})

test('regression: a perf.now() that throws leaves JS and native state agreeing (delete, set, get)', () => {
  let failing = false
  const clock = {
    t: 1000,
    now() {
      if (failing) throw new Error('clock failed')
      return this.t
    },
  }
  const cache = new WeakCache({ max: 2, ttl: 100, perf: clock })
  const held = { held: true }
  cache.set('a', held).set('b', 2).set('c', 3) // a is demoted
  const before = { size: cache.size, sets: cache.stats().sets }
  failing = true
  assert.equal(cache.delete('b'), true, 'delete needs no clock')
  assert.throws(() => cache.set('d', 4), /clock failed/)
  assert.throws(() => cache.get('a'), /clock failed/)
  assert.throws(() => cache.peek('c'), /clock failed/)
  failing = false
  assert.equal(cache.size, before.size - 1)
  assert.deepEqual([...cache.keys()], ['c', 'a'])
  const { pinned, weak, sets, deleted } = cache.stats()
  assert.deepEqual({ pinned, weak, sets, deleted }, { pinned: 1, weak: 1, sets: before.sets, deleted: 1 })
  assert.equal(cache.get('a'), held, 'the weak entry is intact')
})

test('regression: a perf.now() that returns a non-number is a TypeError that names perf', () => {
  for (const bad of ['soon', undefined, { valueOf: () => 1 }, 1n]) {
    const cache = new WeakCache({ max: 2, ttl: 100, perf: { now: () => bad } })
    assert.throws(() => cache.set('k', 1), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: /options\.perf\.now\(\) must be a number/ })
    assert.equal(cache.size, 0)
  }
  const nan = new WeakCache({ max: 2, ttl: 100, perf: { now: () => NaN } })
  assert.throws(() => nan.set('k', 1), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: /options\.perf\.now\(\)/ })
})

test('regression: a panic caught inside a policy update marks the cache broken, and every later call throws ERR_EPHEMERON_BROKEN', () => {
  const cache = new WeakCache({ max: 2 })
  cache.set('a', 1).set('b', { b: true })
  assert.throws(() => forSpecs.injectPanic(cache), { name: 'Error', code: 'ERR_EPHEMERON_BROKEN' })
  const uses = {
    'get (a pinned hit)': () => cache.get('a'),
    'get (a miss)': () => cache.get('zzz'),
    peek: () => cache.peek('a'),
    has: () => cache.has('a'),
    set: () => cache.set('c', 3),
    delete: () => cache.delete('a'),
    clear: () => cache.clear(),
    size: () => cache.size,
    stats: () => cache.stats(),
    keys: () => [...cache.keys()],
  }
  for (const [what, use] of Object.entries(uses)) {
    assert.throws(use, { name: 'Error', code: 'ERR_EPHEMERON_BROKEN', message: /this cache is broken/ }, what)
  }
  const other = new WeakCache({ max: 1 })
  other.set('fine', 1)
  assert.equal(other.get('fine'), 1, 'other caches are unaffected')
})

test('regression: has() names has in its errors and warnings, not peek()', async () => {
  const cache = new WeakCache({ max: 1 })
  assert.throws(() => cache.has('k', null), { code: 'ERR_INVALID_ARG_TYPE', message: /^WeakCache\.prototype\.has: options must be an object/ })
  assert.throws(() => cache.has('k', { status: 1 }), { code: 'ERR_INVALID_ARG_TYPE', message: /^WeakCache\.prototype\.has: options\.status must be an object/ })
  const warnings = await warningsDuring(() => assert.equal(cache.has('k', { allowStale: true }), false))
  assert.deepEqual(
    warnings.map((w) => [w.code, w.message]),
    [['ERR_EPHEMERON_UNKNOWN_OPTION', "WeakCache: has options.allowStale is not an option of WeakCache.prototype.has or lru-cache's has; it is ignored"]],
  )
  assert.throws(() => WeakCache.prototype.has.call({}, 'k'), { code: 'ERR_INVALID_THIS', message: /WeakCache\.prototype\.has called on/ })
})

test("regression: a Proxy's traps never run: as a key (any value is a key), or while an error about it is built", () => {
  const trapped = []
  const handler = Object.fromEntries(
    ['get', 'has', 'ownKeys', 'getOwnPropertyDescriptor', 'getPrototypeOf', 'apply'].map((trap) => [
      trap,
      (...args) => {
        trapped.push(trap)
        return Reflect[trap](...args)
      },
    ]),
  )
  const cache = new WeakCache({ max: 1 })
  for (const proxy of [new Proxy({}, handler), new Proxy(function f() {}, handler)]) {
    cache.set(proxy, 'by identity')
    assert.equal(cache.get(proxy), 'by identity')
    assert.equal(cache.has(proxy) && cache.peek(proxy), 'by identity')
    assert.equal(cache.delete(proxy), true)
    assert.throws(() => cache.set('k', 1, { status: Symbol('not an object') }), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: /options\.status must be an object/ })
    assert.throws(() => new WeakCache({ max: proxy }), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: /got a Proxy/ })
  }
  assert.deepEqual(trapped, [])
})

test('regression: every WeakCache error has a stable code from the one list, and no message says "got undefined undefined"', () => {
  const cache = new WeakCache({ max: 1 })
  const misuses = [
    () => new WeakCache(),
    () => new WeakCache(null),
    () => new WeakCache({}),
    () => new WeakCache({ max: -1 }),
    () => new WeakCache({ max: 1, ttl: 'x' }),
    () => new WeakCache({ max: 1, ttl: Infinity }),
    () => new WeakCache({ max: 2 ** 31 }),
    () => new WeakCache({ max: 1, dispose: 1 }),
    () => new WeakCache({ max: 1, fetchMethod: null }),
    () => new WeakCache({ max: 1, backgroundFetchSize: -1 }),
    () => new WeakCache({ max: 1, perf: { now: 1 } }),
    () => cache.get('k', { status: 'x' }),
    () => cache.set('k', 1, null),
    () => cache.set('k', 1, { ttl: -1 }),
    () => cache.set('k', 1, { size: 2 }),
    () => new WeakCache({ max: 1, maxSize: -1 }),
    () => new WeakCache({ max: 1, sizeCalculation: () => 1 }),
    () => new WeakCache({ maxSize: 10 }).set('k', 1),
    () => new WeakCache({ maxSize: 10, sizeCalculation: () => 0 }).set('k', 1),
    () => cache.memo('k'),
    () => cache.load(1),
    () => cache.forEach(undefined),
    () => WeakCache.prototype.stats.call(undefined),
    () => Reflect.get(WeakCache.prototype, 'max', 1),
  ]
  for (const misuse of misuses) {
    let error
    try {
      misuse()
    } catch (thrown) {
      error = thrown
    }
    assert.ok(error, `${misuse} threw`)
    const entry = CODES[error.code]
    assert.ok(entry, `${misuse}: code ${error.code} is in CODES`)
    assert.equal(error.name, entry.class, `${misuse}: thrown as ${entry.class}`)
    assert.doesNotMatch(error.message, /undefined undefined/, String(misuse))
  }
})

test('regression: WeakCache uses the built-ins captured at load, not globals replaced later (a cache given its clock never reads performance)', () => {
  const names = ['Map', 'Array', 'ArrayBuffer', 'Int32Array', 'Float64Array', 'WeakRef', 'performance', 'Reflect', 'Number', 'Object']
  const { defineProperty, getOwnPropertyDescriptor, fromEntries } = Object
  const saved = fromEntries(names.map((name) => [name, getOwnPropertyDescriptor(globalThis, name)]))
  const touched = []
  try {
    for (const name of names) {
      const trap = new Proxy(function () {}, {
        get: () => touched.push(name),
        apply: () => touched.push(name),
        construct: () => touched.push(name),
      })
      defineProperty(globalThis, name, { value: trap, configurable: true, writable: true })
    }
    const log = []
    // The clock and the timers are read from the global object when a cache is made (as lru-cache
    // does; see the next spec), so this cache is given its clock.
    const clock = { now: () => 1000 }
    const cache = new WeakCache({ max: 2, ttl: 1000, perf: clock, dispose: (value, key, reason) => log.push(reason) })
    const held = { held: true }
    cache.set('a', held).set('b', 2).set('c', 3, { ttl: 5 })
    const results = [cache.get('a') === held, cache.has('b'), [...cache.keys()].length, cache.size, cache.stats().sets]
    cache.clear()
    for (const name of names) defineProperty(globalThis, name, saved[name])
    assert.deepEqual(results, [true, false, 2, 2, 3])
    assert.deepEqual(log, ['evict', 'delete', 'delete'])
    assert.deepEqual(touched, [])
  } finally {
    for (const name of names) defineProperty(globalThis, name, saved[name])
  }
})

test('the default clock, Date and timers are the global ones when a cache is made, as in lru-cache: fake timers work, later replacements change nothing', async () => {
  const { defineProperty, getOwnPropertyDescriptor } = Object
  const names = ['performance', 'Date', 'setTimeout', 'clearTimeout']
  const saved = Object.fromEntries(names.map((name) => [name, getOwnPropertyDescriptor(globalThis, name)]))
  const fake = { t: 5000 }
  const timers = []
  const FakeDate = { now: () => 1_700_000_000_000 + fake.t }
  let cache
  let noPerformance
  try {
    defineProperty(globalThis, 'performance', { value: { now: () => fake.t }, configurable: true, writable: true })
    defineProperty(globalThis, 'Date', { value: FakeDate, configurable: true, writable: true })
    defineProperty(globalThis, 'setTimeout', { value: (fn, ms) => timers.push({ fn, ms }) && { unref() {} }, configurable: true, writable: true })
    defineProperty(globalThis, 'clearTimeout', { value: () => {}, configurable: true, writable: true })
    cache = new WeakCache({ ttl: 100, ttlAutopurge: true, ttlResolution: 0 })
    defineProperty(globalThis, 'performance', { value: null, configurable: true, writable: true })
    noPerformance = new WeakCache({ max: 2, ttl: 100 })
  } finally {
    for (const name of names) defineProperty(globalThis, name, saved[name])
  }
  assert.equal(cache.perf.now(), fake.t, 'the performance of the moment')
  assert.equal(noPerformance.perf, FakeDate, "no performance with now(): Date, lru-cache's fallback")
  cache.set('k', 'v')
  assert.equal(cache.info('k').start, FakeDate.now(), 'info() uses that Date')
  assert.deepEqual(timers.map(({ ms }) => ms), [101], 'the autopurge timer is set with that setTimeout')
  fake.t += 101
  assert.equal(cache.has('k'), false, 'its clock is the fake one, now restored globally')
  timers[0].fn()
  assert.equal(cache.size, 0, 'the fake timer purges the entry')
})

/**
 * One seeded run of hostile use: callbacks (dispose, disposeAfter, onInsert, sizeCalculation,
 * fetchMethod) that throw odd values or call back into the cache, fetches aborted or refreshed
 * mid-flight, a clock that jumps, keys of every kind, copies by dump/load, and GC between rounds.
 * Returns what went wrong: errors the cache threw that no callback threw, broken invariants.
 */
async function hostileRun(seed) {
  const rand = random(seed)
  const pick = (items) => items[Math.floor(rand() * items.length)]
  const clock = fakeClock()
  const thrown = new Set() // every value a callback threw: the only errors a call may pass on
  const problems = []
  const throwOdd = () => {
    const value = pick([...Object.values(oddThrowables()), new Error('callback')])
    thrown.add(value)
    throw value
  }
  const keys = [0, 1, 2, 'a', 'b', -0, NaN, {}, Symbol.for('k'), null, true]
  const value = () => pick([1, 'text', { object: 1 }, [1, 2], () => 1, 0n, false])
  let cache
  let depth = 0
  const pending = []
  const reenter = () => {
    if (depth < 2 && rand() < 0.4) {
      depth++
      try {
        step()
      } finally {
        depth--
      }
    }
  }
  const callback = (chanceToThrow) => () => {
    if (rand() < chanceToThrow) throwOdd()
    reenter()
  }
  const options = {
    max: pick([0, 1, 3, 10]),
    weak: rand() < 0.7,
    ttl: pick([0, 0, 5, 20]),
    perf: clock,
    ttlAutopurge: rand() < 0.3,
    allowStale: rand() < 0.3,
    updateAgeOnGet: rand() < 0.3,
    noDeleteOnStaleGet: rand() < 0.3,
    dispose: callback(0.1),
    disposeAfter: callback(0.1),
    onInsert: callback(0.05),
    fetchMethod: async () => {
      await new Promise((resolve) => setImmediate(resolve))
      reenter()
      if (rand() < 0.2) throwOdd()
      return rand() < 0.1 ? undefined : value()
    },
  }
  if (rand() < 0.5) {
    options.maxSize = pick([5, 20])
    options.sizeCalculation = () => {
      reenter()
      if (rand() < 0.02) throwOdd()
      return 1 + Math.floor(rand() * 3)
    }
  }
  if (options.max === 0 && !options.weak && !options.ttl && !options.maxSize) options.max = 2
  cache = new WeakCache(options)
  function step() {
    const key = pick(keys)
    switch (Math.floor(rand() * 15)) {
      case 0:
      case 1:
        return cache.set(key, value(), rand() < 0.2 ? { ttl: pick([1, 5, 50]) } : undefined)
      case 2:
        return cache.get(key, { status: {} })
      case 3:
        return cache.peek(key) ?? cache.has(key)
      case 4:
        return cache.delete(key)
      case 5:
        return rand() < 0.1 && cache.clear()
      case 6:
        return cache.pop()
      case 7:
        clock.t += pick([0, 1, 3, 10])
        return
      case 8: {
        const controller = new AbortController()
        const fetched = cache.fetch(key, { signal: controller.signal, allowStaleOnFetchRejection: rand() < 0.5, allowStaleOnFetchAbort: rand() < 0.5, forceRefresh: rand() < 0.2 })
        pending.push(fetched.catch(() => {}))
        if (rand() < 0.3) controller.abort(new Error('aborted by the test'))
        return
      }
      case 9:
        for (const [entryKey] of cache.entries()) if (rand() < 0.2) cache.delete(entryKey)
        return
      case 10:
        return cache.purgeStale()
      case 11:
        return new WeakCache(cache).load(cache.dump())
      case 12:
        return cache.forEach(reenter)
      case 13:
        return cache.getRemainingTTL(key) + (cache.info(key) ? 1 : 0)
      case 14:
        return [...cache.rkeys()].length + [...cache.values()].length
    }
  }
  for (let i = 0; i < 2000; i++) {
    try {
      step()
    } catch (error) {
      if (!thrown.has(error)) problems.push(`step ${i}: ${String(error?.stack ?? error)}`)
    }
    if (options.maxSize && cache.calculatedSize > options.maxSize) problems.push(`step ${i}: calculatedSize ${cache.calculatedSize} > maxSize ${options.maxSize}`)
    if (i % 100 === 99) {
      global.gc()
      await new Promise((resolve) => setImmediate(resolve))
    }
  }
  await Promise.all(pending) // every fetch settles: none is left waiting forever
  depth = Infinity // no more re-entrant calls: they could evict the entry checked below
  const held = { held: true } // an object the test holds: kept even by a pure weak-value map
  cache.set('after', held, options.maxSize ? { size: 1 } : undefined)
  if (cache.get('after') !== held) problems.push('the cache no longer answers after the run')
  return problems
}

test('hostile use: re-entrant and throwing callbacks, aborted fetches, a jumping clock and GC never break a cache, pass on an error nobody threw, or exceed maxSize (40 seeds)', async () => {
  const problems = []
  const warnings = await warningsDuring(async () => {
    for (let seed = 1; seed <= 40; seed++) {
      for (const problem of await hostileRun(seed)) problems.push(`seed ${seed}, ${problem}`)
    }
  })
  assert.deepEqual(problems.slice(0, 5), [])
  const codes = new Set(warnings.map((warning) => warning.code))
  assert.ok(codes.has('ERR_EPHEMERON_DISPOSE_THREW'), 'the throwing callbacks ran and were reported')
  assert.deepEqual([...codes].filter((code) => code !== 'ERR_EPHEMERON_DISPOSE_THREW' && code !== 'LRU_CACHE_UNBOUNDED'), [], 'no other warning')
})
