'use strict'
// WeakCache reads its options as lru-cache 11.5 does (the pinned devDependency is the reference):
// what lru-cache accepts, WeakCache accepts with the same meaning (configuration from JSON or the
// environment carries nulls and extra keys); where lru-cache throws, WeakCache throws a TypeError.
// The exceptions are deliberate and listed in docs/weak-cache.md's drop-in table; each is pinned
// here too, so the list cannot drift.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { LRUCache } = require('lru-cache')
const { WeakCache } = require('..')
const { captureWarnings } = require('./helpers/warnings.js')
const { fakeClock, random, mockTimeouts } = require('./helpers/weak-cache.js')

/** The fields lru-cache shows of its options (the public fields and getters). */
const FIELDS = [
  'max',
  'maxSize',
  'ttl',
  'ttlResolution',
  'ttlAutopurge',
  'updateAgeOnGet',
  'updateAgeOnHas',
  'allowStale',
  'noDisposeOnSet',
  'noUpdateTTL',
  'maxEntrySize',
  'sizeCalculation',
  'noDeleteOnFetchRejection',
  'noDeleteOnStaleGet',
  'allowStaleOnFetchRejection',
  'allowStaleOnFetchAbort',
  'ignoreFetchAbort',
  'backgroundFetchSize',
  'fetchMethod',
  'memoMethod',
  'dispose',
  'disposeAfter',
  'onInsert',
]

/** What constructing gives: the class of the error thrown, or the option fields. */
function outcome(Class, options) {
  let cache
  try {
    cache = new Class(options)
  } catch (error) {
    return { threw: error.constructor.name }
  }
  return { fields: Object.fromEntries(FIELDS.map((name) => [name, cache[name]])) }
}

/** Runs `body` with lru-cache's and WeakCache's warnings captured; returns WeakCache's. */
async function ownWarnings(body) {
  const warnings = await captureWarnings(body)
  return warnings.filter((w) => w.type === 'WeakCacheWarning')
}

test('the option sets lru-cache 11 accepts that WeakCache used to reject are accepted, with the same meaning', async () => {
  const noop = () => {}
  const sets = [
    { max: 5, ttl: null },
    { max: 5, ttl: false },
    { max: 5, ttl: 0, updateAgeOnGet: 1 },
    { max: 5, allowStale: 'yes' },
    { max: 5, noDisposeOnSet: 0 },
    { max: 5, dispose: null },
    { max: 5, dispose: noop, disposeAfter: false, onInsert: 0 },
    { max: 5, ttl: 1e308 },
    { max: 5, ttl: 2 ** 53 },
    { max: 5, backgroundFetchSize: 0 },
    { max: 5, backgroundFetchSize: 7 },
    { max: 5, maxEntrySize: null, sizeCalculation: null },
    { max: 5, ttlResolution: null, perf: undefined },
    { max: 0, ttl: 100 },
    { max: -0, maxSize: 10 },
    JSON.parse('{"max": 100, "ttl": null, "maxSize": 0, "allowStale": null, "updateAgeOnGet": true}'),
  ]
  await ownWarnings(() => {
    for (const options of sets) {
      const expected = outcome(LRUCache, options)
      assert.ok(expected.fields, `lru-cache accepts ${JSON.stringify(options)}`)
      assert.deepEqual(outcome(WeakCache, options), expected, JSON.stringify(options))
    }
  })
})

test('flags are read as truthy or not, as lru-cache reads them: a truthy string works', () => {
  const clock = fakeClock()
  const cache = new WeakCache({ max: 5, ttl: 10, ttlResolution: 0, allowStale: 'yes', updateAgeOnGet: 1, noDeleteOnStaleGet: {}, perf: clock })
  cache.set('k', 'v')
  clock.t += 8
  cache.get('k') // updateAgeOnGet: the age restarts
  clock.t += 8
  assert.equal(cache.get('k'), 'v', 'still fresh: its age restarted')
  clock.t += 11
  assert.equal(cache.get('k'), 'v', 'allowStale: the stale value')
  assert.equal(cache.has('k'), false)
  assert.equal(cache.peek('k'), 'v', 'noDeleteOnStaleGet: kept')
  const off = new WeakCache({ max: 5, ttl: 10, ttlResolution: 0, allowStale: 0, perf: clock })
  off.set('k', 'v')
  clock.t += 11
  assert.equal(off.get('k'), undefined, 'a falsy flag is off')
})

test('a ttl as large as any finite integer: 1e308 never expires, and ttlAutopurge waits in steps a timer can take', async (t) => {
  await mockTimeouts(t)
  const clock = fakeClock()
  const { cache, log } = (() => {
    const log = []
    const cache = new WeakCache({ max: 5, ttl: 1e308, ttlAutopurge: true, ttlResolution: 0, perf: clock, dispose: (v, k, reason) => log.push(reason) })
    return { cache, log }
  })()
  cache.set('k', 'v')
  assert.equal(cache.getRemainingTTL('k'), 1e308)
  t.mock.timers.tick(2 ** 31)
  clock.t += 2 ** 31
  assert.equal(cache.get('k'), 'v', 'the capped timer fired, found it fresh, and waits again')
  assert.deepEqual(log, [])
  const short = new WeakCache({ max: 5, ttl: 3 * 2 ** 31, ttlAutopurge: true, ttlResolution: 0, perf: clock, dispose: (v, k, reason) => log.push(reason) })
  short.set('k', 'v')
  for (let i = 0; i < 3; i++) {
    clock.t += 2 ** 31
    t.mock.timers.tick(2 ** 31)
  }
  clock.t += 10
  t.mock.timers.tick(10)
  assert.deepEqual(log, ['expire'], 'purged once its ttl passed, across several timers')
  assert.equal(short.size, 0)
})

test('unknown option names are a process warning, once per name, with a code and the renamed-option hint; never an error', async () => {
  const warnings = await ownWarnings(() => {
    const cache = new WeakCache({ max: 5, maxAge: 100, colour: 'blue' })
    new WeakCache({ max: 5, maxAge: 100, stale: true }) // maxAge again: no second warning
    cache.set('k', 1, { maxAge: 10 })
    cache.set('k', 2, { maxAge: 10 })
    assert.equal(cache.get('k', { ttl: 5 }), 2, 'a set option given to get is ignored, as in lru-cache')
    assert.equal(cache.ttl, 0, 'maxAge is not read as ttl: lru-cache 11 ignores it')
  })
  assert.deepEqual(
    warnings.map((w) => [w.code, w.message]),
    [
      ['ERR_EPHEMERON_UNKNOWN_OPTION', 'WeakCache: options.maxAge is not an option of WeakCache or lru-cache; it is ignored (lru-cache 7 renamed maxAge to ttl)'],
      ['ERR_EPHEMERON_UNKNOWN_OPTION', 'WeakCache: options.colour is not an option of WeakCache or lru-cache; it is ignored'],
      ['ERR_EPHEMERON_UNKNOWN_OPTION', 'WeakCache: options.stale is not an option of WeakCache or lru-cache; it is ignored (lru-cache 7 renamed stale to allowStale)'],
      ['ERR_EPHEMERON_UNKNOWN_OPTION', "WeakCache: set options.maxAge is not an option of WeakCache.prototype.set or lru-cache's set; it is ignored (lru-cache 7 renamed maxAge to ttl)"],
      ['ERR_EPHEMERON_UNKNOWN_OPTION', "WeakCache: get options.ttl is not an option of WeakCache.prototype.get or lru-cache's get; it is ignored"],
    ],
  )
})

test('where lru-cache throws, WeakCache throws a TypeError', async () => {
  const sets = [
    undefined,
    null,
    5,
    {},
    { max: -1 },
    { max: 1.5 },
    { max: '5' },
    { max: null },
    { max: NaN },
    { max: Infinity },
    { max: 5, ttl: -1 },
    { max: 5, ttl: 1.5 },
    { max: 5, ttl: Infinity },
    { max: 5, ttl: '10' },
    { max: 5, maxSize: -1 },
    { max: 5, maxSize: null },
    { max: 5, maxSize: 1.5 },
    { max: 5, maxEntrySize: -1 },
    { max: 5, fetchMethod: null },
    { max: 5, memoMethod: 'x' },
    { max: 5, perf: null },
    { max: 5, perf: {} },
    { max: 5, backgroundFetchSize: -1 },
    { max: 5, backgroundFetchSize: null },
    { max: 5, backgroundFetchSize: 1.5 },
    { max: 5, sizeCalculation: () => 1 },
    { max: 5, maxSize: 10, sizeCalculation: 'length' },
    { maxEntrySize: 10 },
  ]
  await ownWarnings(() => {
    for (const options of sets) {
      assert.equal(outcome(LRUCache, options).threw, 'TypeError', `lru-cache throws for ${String(JSON.stringify(options))}`)
      assert.deepEqual(outcome(WeakCache, options), { threw: 'TypeError' }, String(JSON.stringify(options)))
    }
  })
})

test('random option sets: WeakCache accepts what lru-cache accepts, with the same fields, and throws a TypeError where it throws (1,500 sets)', async () => {
  const pool = [undefined, null, false, true, 0, -0, 1, 2, 7, 1.5, -1, NaN, Infinity, 1e308, '', '5', 'yes', {}, [], () => 1, Symbol('s'), 5n]
  const rng = random(7)
  const pick = (list) => list[Math.floor(rng() * list.length)]
  const differences = []
  await ownWarnings(() => {
    for (let i = 0; i < 1500; i++) {
      const options = { max: pick([undefined, 0, 3, 3, 3]) }
      for (let n = Math.floor(rng() * 4); n >= 0; n--) options[pick(FIELDS)] = pick(pool)
      if (options.max === Infinity || options.max === 1e308 || options.max === 5n) continue // lru-cache would allocate arrays of that length
      const expected = outcome(LRUCache, options)
      const actual = outcome(WeakCache, options)
      const deliberate = deliberateDifference(options, expected)
      if (deliberate !== undefined) {
        if (!deliberate(actual)) differences.push(['deliberate difference not as listed', options, expected, actual])
        continue
      }
      if (expected.threw) {
        if (actual.threw !== 'TypeError') differences.push([options, expected, actual])
        continue
      }
      try {
        assert.deepEqual(actual, expected)
      } catch {
        differences.push([options, expected, actual])
      }
    }
  })
  assert.deepEqual(differences.slice(0, 3), [])
})

/**
 * The listed differences (docs/weak-cache.md): returns a check of WeakCache's outcome when
 * `options` is one of them.
 */
function deliberateDifference(options, lru) {
  // A dispose, disposeAfter or onInsert that is not a function: lru-cache ignores it.
  for (const name of ['dispose', 'disposeAfter', 'onInsert']) {
    const value = options[name]
    if (value && typeof value !== 'function' && !lru.threw) return (actual) => actual.threw === 'TypeError'
  }
  // max 0 with no other bound: lru-cache refuses it; WeakCache makes a pure weak-value map.
  const bounded = (options.maxSize !== undefined && options.maxSize !== 0) || !!options.ttl
  if ((options.max === 0 || options.max === undefined) && !bounded && lru.threw === 'TypeError' && isValidOtherwise(options)) {
    return (actual) => actual.threw === undefined || actual.threw === 'TypeError'
  }
  return undefined
}

/** Whether lru-cache's only complaint would be the missing bound (see deliberateDifference). */
function isValidOtherwise(options) {
  const withBound = { ...options, max: 1 }
  return !outcome(LRUCache, withBound).threw
}

test('per-call options are read as lru-cache reads them: a primitive is no options, null is a TypeError, a falsy status is none', async () => {
  const cache = new WeakCache({ max: 5, fetchMethod: async (key) => key })
  const lru = new LRUCache({ max: 5, fetchMethod: async (key) => key })
  for (const c of [cache, lru]) {
    c.set('k', 1, 5)
    assert.equal(c.get('k', 'x'), 1)
    assert.equal(c.peek('k', true), 1)
    assert.equal(c.has('k', 0), true)
    assert.equal(c.get('k', { status: null, allowStale: null }), 1)
    assert.throws(() => c.get('k', null), TypeError)
    assert.throws(() => c.set('k', 1, null), TypeError)
    assert.throws(() => c.get('k', { status: 'not an object' }), TypeError)
  }
  // A start of null is lru-cache's 0: an entry that never goes stale.
  const clock = fakeClock()
  const timed = [new WeakCache({ max: 5, ttl: 10, perf: clock }), new LRUCache({ max: 5, ttl: 10, perf: clock })]
  for (const c of timed) c.set('k', 1, { start: null })
  clock.t += 100
  assert.deepEqual(timed.map((c) => [c.get('k'), c.getRemainingTTL('k')]), [[1, Infinity], [1, Infinity]])
  assert.equal(await cache.fetch('f', 7), 'f')
  const warnings = await ownWarnings(() => cache.set('k', 2, { noDisposeOnSet: 'yes', noUpdateTTL: 1 }))
  assert.deepEqual(warnings, [])
})

test('the drop-in exceptions: a listener that is not a function, max 0 alone, max beyond 2^31 - 2, a ttl per call that is not a positive number', () => {
  assert.throws(() => new WeakCache({ max: 5, dispose: 'close' }), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: /options\.dispose must be a function/ })
  assert.doesNotThrow(() => new LRUCache({ max: 5, dispose: 'close' }), 'lru-cache ignores it')
  assert.equal(new WeakCache({ max: 0 }).max, 0, 'a pure weak-value map')
  assert.throws(() => new LRUCache({ max: 0 }), TypeError)
  assert.throws(() => new WeakCache({ max: 2 ** 31 }), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' })
  const cache = new WeakCache({ max: 5 })
  assert.throws(() => cache.set('k', 1, { ttl: -5 }), { name: 'TypeError', message: /set options\.ttl/ })
  assert.throws(() => cache.set('k', 1, { ttl: '5' }), { name: 'TypeError', message: /set options\.ttl/ })
  assert.throws(() => cache.set('k', 1, { start: 'now' }), { name: 'TypeError', message: /options\.start/ })
  cache.set('k', 1, { ttl: 2.5 }) // a fraction works, as in lru-cache
  assert.equal(cache.getRemainingTTL('k') <= 2.5, true)
})
