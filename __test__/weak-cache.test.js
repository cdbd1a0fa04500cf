'use strict'
// WeakCache: the Map-like surface, options, LRU order, dispose reasons, ttl, stats. Values here
// are held by the tests, so nothing depends on the GC (see weak-cache-gc.test.js for that).

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { WeakCache } = require('..')
const { recorded, fakeClock } = require('./helpers/weak-cache.js')
const { captureWarnings } = require('./helpers/warnings.js')

test('bad options get errors that name the option and the constraint (which options are bad: weak-cache-options.test.js)', () => {
  assert.throws(() => new WeakCache(), { name: 'TypeError', message: /options must be an object/ })
  assert.throws(() => new WeakCache({}), { name: 'TypeError', message: /options\.max must be an integer >= 0/ })
  assert.throws(() => new WeakCache({ max: '10' }), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: /options\.max/ })
  for (const max of [-1, 1.5, NaN, Infinity]) {
    assert.throws(() => new WeakCache({ max }), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: /options\.max must be an integer >= 0/ }, String(max))
  }
  assert.throws(() => new WeakCache({ max: 2 ** 31 }), { name: 'RangeError', message: /options\.max must be an integer from 0 to 2147483646/ })
  assert.throws(() => new WeakCache({ max: 1, ttl: '1s' }), { name: 'TypeError', message: /options\.ttl must be a positive integer/ })
  assert.throws(() => new WeakCache({ max: 1, ttl: -5 }), { name: 'TypeError', message: /options\.ttl must be a positive integer/ })
  assert.throws(() => new WeakCache({ max: 1, dispose: 'no' }), { name: 'TypeError', message: /options\.dispose must be a function/ })
  assert.throws(() => new WeakCache({ max: 1, perf: {} }), { name: 'TypeError', message: /options\.perf/ })
  assert.throws(() => new WeakCache({ max: 1 }).set('k', 1, { ttl: -1 }), { name: 'TypeError', message: /set options\.ttl/ })
  assert.equal(new WeakCache({ max: 0 }).max, 0)
})

test('keys of any type, compared as Map compares them', () => {
  const cache = new WeakCache({ max: 20 })
  const object = {}
  const keys = [object, null, undefined, true, Symbol('s'), 1n, [], () => {}, NaN, 'k', 1]
  keys.forEach((key, i) => cache.set(key, i))
  keys.forEach((key, i) => assert.equal(cache.get(key), i, String(key)))
  assert.equal(cache.get({}), undefined, 'objects by identity')
  assert.equal(cache.get(Number.NaN), keys.findIndex(Number.isNaN), 'NaN equals NaN')
  cache.set(1, 'number one').set('1', 'string one')
  assert.equal(cache.get(1), 'number one')
  assert.equal(cache.get('1'), 'string one')
  cache.set(-0, 'zero')
  assert.equal(cache.get(0), 'zero', 'keys compare as in Map (SameValueZero)')
  assert.equal(cache.delete(undefined) && cache.has(undefined), false)
})

test('methods called on something else throw a TypeError that names the method', () => {
  assert.throws(() => WeakCache.prototype.get.call({}, 'k'), { name: 'TypeError', message: /WeakCache\.prototype\.get called on incompatible receiver/ })
  assert.throws(() => Reflect.get(WeakCache.prototype, 'size', new Map()), { name: 'TypeError', message: /WeakCache\.prototype\.size/ })
})

test('Map-like basics: set returns this, get/peek/has/delete/size, set(k, undefined) deletes', () => {
  const { cache, log } = recorded({ max: 10 })
  assert.equal(cache.set('a', 1), cache)
  cache.set('b', { b: true })
  assert.equal(cache.size, 2)
  assert.equal(cache.get('a'), 1)
  assert.deepEqual(cache.peek('b'), { b: true })
  assert.equal(cache.has('a'), true)
  assert.equal(cache.has('zzz'), false)
  assert.equal(cache.get('zzz'), undefined)
  assert.equal(cache.delete('a'), true)
  assert.equal(cache.delete('a'), false)
  assert.deepEqual(log, [['delete', 'a', 1]])
  cache.set('b', undefined)
  assert.equal(cache.has('b'), false)
  assert.equal(cache.size, 0)
  assert.deepEqual(log.at(-1), ['delete', 'b', { b: true }])
  assert.equal(Object.prototype.toString.call(cache), '[object WeakCache]')
  assert.equal(WeakCache.prototype[Symbol.iterator], WeakCache.prototype.entries)
})

test('the least recently used primitive is evicted with reason evict, synchronously', () => {
  const { cache, log } = recorded({ max: 3 })
  cache.set('a', 1).set('b', 2).set('c', 3)
  cache.get('a')
  cache.set('d', 4)
  assert.deepEqual(log, [['evict', 'b', 2]], 'dispose ran before set returned')
  assert.deepEqual([...cache.keys()], ['d', 'a', 'c'])
  cache.peek('c') // peek does not refresh
  cache.set('e', 5)
  assert.deepEqual(log.at(-1), ['evict', 'c', 3])
  assert.equal(cache.size, 3)
})

test('iteration is most recent first across the pinned and the weak tier', () => {
  const values = { a: { v: 'a' }, b: { v: 'b' }, c: { v: 'c' }, d: { v: 'd' } }
  const cache = new WeakCache({ max: 2 })
  for (const key of 'abcd') cache.set(key, values[key])
  cache.get('c') // pinned hit: c is most recent
  assert.deepEqual([...cache.keys()], ['c', 'd', 'b', 'a'], 'pinned c, d, then weak b (demoted last), a')
  assert.deepEqual([...cache.values()], [values.c, values.d, values.b, values.a])
  assert.deepEqual([...cache], [...cache.entries()])
  assert.deepEqual([...cache.entries()][2], ['b', values.b])
  const seen = []
  const thisArg = {}
  cache.forEach(function (value, key, map) {
    seen.push([key, value, map, this])
  }, thisArg)
  assert.deepEqual(seen.map(([k]) => k), ['c', 'd', 'b', 'a'])
  assert.equal(seen[0][2], cache)
  assert.equal(seen[0][3], thisArg)
  assert.throws(() => cache.forEach('nope'), { name: 'TypeError' })
})

test('entries deleted during iteration are skipped', () => {
  const cache = new WeakCache({ max: 5 })
  for (const key of 'abcde') cache.set(key, key.toUpperCase())
  const seen = []
  for (const [key] of cache) {
    seen.push(key)
    if (key === 'e') cache.delete('c')
  }
  assert.deepEqual(seen, ['e', 'd', 'b', 'a'])
})

test('a demoted object value is a weak hit: same object, re-pinned, the least recent demoted', () => {
  const a = { name: 'a' }
  const b = { name: 'b' }
  const { cache, log } = recorded({ max: 1 })
  cache.set('a', a).set('b', b)
  assert.deepEqual(log, [], 'demotion is not a removal')
  assert.equal(cache.size, 2)
  assert.deepEqual(cache.stats(), { ...cache.stats(), pinned: 1, weak: 1 })
  assert.equal(cache.get('a'), a)
  const stats = cache.stats()
  assert.equal(stats.weakHits, 1)
  assert.equal(stats.pinned, 1)
  assert.equal(stats.weak, 1)
  assert.deepEqual([...cache.keys()], ['a', 'b'])
  assert.equal(cache.peek('b'), b, 'peek finds weak entries without promoting them')
  assert.deepEqual([...cache.keys()], ['a', 'b'])
})

test('max 0 is a pure weak-value map', () => {
  const held = { held: true }
  const { cache, log } = recorded({ max: 0 })
  cache.set('object', held).set('number', 42)
  assert.deepEqual(log, [['evict', 'number', 42]], 'a primitive cannot be held weakly')
  assert.equal(cache.get('object'), held)
  assert.equal(cache.get('object'), held)
  assert.deepEqual(cache.stats(), { ...cache.stats(), pinned: 0, weak: 1, weakHits: 2 })
})

test('overwriting calls dispose with reason set, in both tiers, but not for the same value', () => {
  const one = { n: 1 }
  const { cache, log } = recorded({ max: 1 })
  cache.set('k', one)
  cache.set('k', one)
  assert.deepEqual(log, [])
  cache.set('k', 2)
  assert.deepEqual(log, [['set', 'k', one]])
  cache.set('w', one).set('other', 3) // w is demoted to the weak tier
  const fresh = { n: 3 }
  cache.set('w', fresh) // replaces the weak entry, then pushes out the pinned primitive
  assert.deepEqual(log.slice(-2), [
    ['set', 'w', one],
    ['evict', 'other', 3],
  ])
  assert.equal(cache.get('w'), fresh)
})

test('delete and clear dispose with reason delete, weak entries included', () => {
  const values = [{ i: 0 }, { i: 1 }, { i: 2 }]
  const { cache, log } = recorded({ max: 1 })
  values.forEach((value, i) => cache.set(i, value))
  assert.equal(cache.delete(0), true, 'deleting a weak entry')
  assert.deepEqual(log, [['delete', 0, values[0]]])
  cache.clear()
  assert.equal(cache.size, 0)
  assert.deepEqual(log.slice(1).sort((x, y) => x[1] - y[1]), [
    ['delete', 1, values[1]],
    ['delete', 2, values[2]],
  ])
  assert.deepEqual([...cache], [])
  cache.set('after', 1)
  assert.equal(cache.get('after'), 1, 'usable after clear')
  assert.equal(cache.stats().deleted, 3)
})

test('stats count hits, weak hits, misses, sets, evictions, deletions and tier sizes', () => {
  const held = { held: true }
  const cache = new WeakCache({ max: 2 })
  cache.set('a', held).set('b', 1).set('c', 2) // a demoted
  cache.set('d', 3) // b evicted
  cache.get('c') // pinned: c, d
  cache.get('a') // weak hit: pinned a, c; d (a primitive) is evicted
  cache.get('missing')
  cache.delete('c')
  assert.deepEqual(cache.stats(), {
    hits: 1,
    weakHits: 1,
    staleHits: 0,
    misses: 1,
    sets: 4,
    evictions: 2,
    demotions: 1,
    collected: 0,
    expired: 0,
    deleted: 1,
    pinned: 1,
    weak: 0,
  })
})

test('ttl: entries expire once older than their ttl, get disposes them with reason expire, has and peek do not', () => {
  const clock = fakeClock()
  const { cache, log } = recorded({ max: 10, ttl: 100, ttlResolution: 0, perf: clock })
  cache.set('a', 1).set('b', 2, { ttl: 500 }).set('c', 3, { ttl: 0 })
  clock.t += 100
  assert.equal(cache.get('a'), 1, 'at an age of exactly its ttl an entry is fresh, as in lru-cache')
  clock.t += 1
  assert.equal(cache.has('a'), false)
  assert.equal(cache.peek('a'), undefined)
  assert.deepEqual(log, [])
  assert.deepEqual([...cache.keys()], ['c', 'b'], 'iteration skips expired entries')
  assert.equal(cache.get('a'), undefined)
  assert.deepEqual(log, [['expire', 'a', 1]])
  clock.t += 10_000
  assert.equal(cache.get('b'), undefined)
  assert.equal(cache.get('c'), 3, 'ttl 0 never expires')
  assert.equal(cache.stats().expired, 2)
})

test('ttl: updateAgeOnGet restarts the age on get, not on peek', () => {
  const clock = fakeClock()
  const cache = new WeakCache({ max: 10, ttl: 100, ttlResolution: 0, updateAgeOnGet: true, perf: clock })
  cache.set('k', 'v')
  clock.t += 80
  assert.equal(cache.get('k'), 'v')
  clock.t += 80
  assert.equal(cache.peek('k'), 'v', 'still alive: its age restarted at the get')
  clock.t += 30
  assert.equal(cache.get('k'), undefined)
})

test('ttl: a weak entry expires too, and updateAgeOnGet carries over demotion', () => {
  const clock = fakeClock()
  const value = { v: 1 }
  const { cache, log } = recorded({ max: 1, ttl: 100, ttlResolution: 0, updateAgeOnGet: true, perf: clock })
  cache.set('k', value)
  clock.t += 60
  cache.get('k') // age restarts: expires at +160
  cache.set('other', { o: 1 }) // demotes k (replays the read first)
  clock.t += 90
  assert.equal(cache.peek('k'), value, 'the restarted age applies in the weak tier')
  clock.t += 20
  assert.equal(cache.peek('k'), undefined)
  assert.equal(cache.get('k'), undefined)
  assert.deepEqual(log, [['expire', 'k', value]])
})

test('read log overflow: hits beyond its capacity are all replayed, in order', () => {
  const cache = new WeakCache({ max: 100 })
  for (let i = 0; i < 100; i++) cache.set(i, i)
  // 5000 hits overflow the read log several times; the last 100 decide the order.
  for (let round = 0; round < 50; round++) for (let i = 0; i < 100; i++) cache.get((i * 37 + round) % 100)
  const expected = []
  for (let i = 99; i >= 0; i--) expected.push((i * 37 + 49) % 100)
  assert.deepEqual([...cache.keys()], expected)
  assert.equal(cache.stats().hits, 5000)
})

test('a dispose that throws is reported as a warning and leaves the cache working', async () => {
  const warnings = await captureWarnings(async () => {
    const cache = new WeakCache({
      max: 1,
      dispose: () => {
        throw new Error('dispose failed')
      },
    })
    cache.set('a', 1).set('b', 2) // evicts a: dispose throws
    assert.equal(cache.get('b'), 2)
    assert.equal(cache.has('a'), false)
    cache.delete('b')
    assert.equal(cache.size, 0)
    await new Promise((resolve) => setImmediate(resolve))
  })
  assert.equal(warnings.length, 2)
  assert.equal(warnings[0].type, 'WeakCacheWarning')
  assert.equal(warnings[0].code, 'ERR_EPHEMERON_DISPOSE_THREW')
  assert.match(warnings[0].message, /dispose failed/)
})

test('a dispose callback may use the cache', () => {
  const seen = []
  const cache = new WeakCache({
    max: 1,
    dispose: (value, key) => {
      seen.push([key, cache.size, cache.has(key)])
      if (key === 'a') cache.set('from-dispose', value)
    },
  })
  cache.set('a', 1).set('b', 2)
  assert.deepEqual(seen[0], ['a', 1, false])
  assert.equal(cache.get('from-dispose'), 1)
})

test('regression: re-setting a weak entry to the same object does not dispose it', () => {
  const value = { v: 1 }
  const { cache, log } = recorded({ max: 1 })
  cache.set('k', value).set('other', { o: 1 }) // k is demoted
  cache.set('k', value)
  assert.deepEqual(log, [])
  assert.equal(cache.get('k'), value)
})

test('regression: -0 and 0 are one key, reported as lru-cache reports it: as first stored, or as the call gave it', () => {
  const { cache, log } = recorded({ max: 1 })
  cache.set(-0, 'a')
  assert.ok(Object.is([...cache.keys()][0], -0), 'listed as it was stored')
  cache.set(1, 'b') // evicts the primitive under key -0
  assert.ok(Object.is(log[0][1], -0), 'an eviction names the key as stored')
  cache.set(-0, { o: 1 }).set(2, 'c') // demoted, then found through -0
  assert.ok(cache.has(-0) && cache.has(0))
  cache.set(0, 'replaced')
  const replaced = log.find(([reason]) => reason === 'set')
  assert.ok(Object.is(replaced[1], 0), "a replacement names the set's key")
  cache.set('other', 'x') // two entries: a delete names the key it was given
  cache.delete(-0)
  assert.ok(Object.is(log.at(-1)[1], -0))
})
