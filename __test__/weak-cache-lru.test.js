'use strict'
// WeakCache as lru-cache 11: sizes, time, fetch and memo, statuses and the diagnostics channels,
// the callbacks, the other methods and the options; and where the weak tier changes what lru-cache
// would do. Values here are held by the tests, so nothing depends on the GC (see
// weak-cache-gc.test.js for that). lru-cache's own suite is run apart (docs/weak-cache.md).

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const diagnostics = require('node:diagnostics_channel')
const path = require('node:path')
const { WeakCache } = require('..')
const { recorded, fakeClock, mockTimeouts } = require('./helpers/weak-cache.js')
const { captureWarnings } = require('./helpers/warnings.js')

const turn = () => new Promise((resolve) => setImmediate(resolve))

test('maxSize: the least recent entries go until a new one fits; objects are demoted and do not count', () => {
  const big = { name: 'big' }
  const { cache, log } = recorded({ maxSize: 10, sizeCalculation: (value) => (typeof value === 'number' ? value : 4) })
  cache.set('a', 3).set('b', big).set('c', 3)
  assert.equal(cache.calculatedSize, 10, 'exactly maxSize fits')
  cache.set('d', 5)
  assert.deepEqual(log, [['evict', 'a', 3]], 'a (least recent) is evicted; big is demoted, not disposed')
  assert.equal(cache.calculatedSize, 8, 'c and d: the demoted value does not count')
  assert.equal(cache.size, 3, 'c, d and the weak b')
  assert.equal(cache.get('b'), big, 'a weak hit: the same object')
  assert.deepEqual(log.at(-1), ['evict', 'c', 3], 'pinned again, b counts and pushes out c')
  assert.equal(cache.calculatedSize, 9)
  assert.deepEqual(cache.info('b'), { value: big, size: 4 })
  assert.equal(cache.max, 0, 'no count limit, as lru-cache reports it')
})

test('maxEntrySize: a larger value is not stored, and the old value of its key goes (reason set)', () => {
  const { cache, log } = recorded({ max: 10, maxSize: 100, maxEntrySize: 5, sizeCalculation: (value) => value.length })
  cache.set('k', 'small')
  const status = {}
  cache.set('k', 'far too large', { status })
  assert.equal(cache.has('k'), false)
  assert.deepEqual(log, [['set', 'k', 'small']])
  assert.equal(status.set, 'miss')
  assert.equal(status.maxEntrySizeExceeded, true)
  cache.set('n', 'x', { size: 2 })
  assert.equal(cache.calculatedSize, 2, 'an explicit size skips sizeCalculation')
  assert.throws(() => cache.set('z', 'x', { sizeCalculation: () => 0 }), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: /sizeCalculation return invalid/ })
  assert.throws(() => new WeakCache({ max: 1 }).set('k', 1, { size: 3 }), { name: 'TypeError', message: /cannot set size without setting maxSize or maxEntrySize/ })
  assert.throws(() => new WeakCache({ maxSize: 5 }).set('k', 1), { name: 'TypeError', message: /invalid size value/ })
})

test('caches bounded only by maxSize or ttl; nothing at all is an error', () => {
  const clock = fakeClock()
  const byTime = new WeakCache({ ttl: 10, ttlAutopurge: true, perf: clock })
  for (let i = 0; i < 50; i++) byTime.set(i, { i })
  assert.equal(byTime.stats().pinned, 50, 'no count limit: everything stays pinned')
  clock.t += 11
  assert.equal(byTime.purgeStale(), true)
  assert.equal(byTime.size, 0)
  assert.throws(() => new WeakCache({}), { name: 'TypeError', message: /At least one of max, maxSize, or ttl is required/ })
  assert.throws(() => new WeakCache({ max: 0, weak: false }), { name: 'TypeError', message: /weak: false/ })
})

test('UnboundedCacheWarning: once per process, only for a cache bounded by ttl alone without ttlAutopurge', () => {
  const script = `
    const { WeakCache } = require(${JSON.stringify(path.join(__dirname, '..'))})
    const seen = []
    process.emitWarning = (message, type, code) => seen.push([type, code, message])
    new WeakCache({ ttl: 10, ttlAutopurge: true })
    new WeakCache({ ttl: 10, max: 5 })
    new WeakCache({ ttl: 10, maxSize: 5 })
    new WeakCache({ ttl: 10 })
    new WeakCache({ ttl: 10 })
    console.log(JSON.stringify(seen))`
  const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' })
  assert.equal(child.status, 0, child.stderr)
  assert.deepEqual(JSON.parse(child.stdout), [
    ['UnboundedCacheWarning', 'LRU_CACHE_UNBOUNDED', 'TTL caching without ttlAutopurge, max, or maxSize can result in unbounded memory consumption.'],
  ])
})

test('weak: false evicts object values and disposes them at once, as lru-cache; max 0 is then no count limit', () => {
  const agents = [{ id: 1 }, { id: 2 }, { id: 3 }]
  const { cache, log } = recorded({ max: 2, weak: false })
  agents.forEach((agent) => cache.set(agent.id, agent))
  assert.deepEqual(log, [['evict', 1, agents[0]]], 'disposed with the value, synchronously')
  assert.equal(cache.get(1), undefined, 'gone, although the test still holds it')
  assert.equal(cache.size, 2)
  assert.equal(cache.weak, false)
  assert.deepEqual(cache.stats(), { ...cache.stats(), demotions: 0, weak: 0, evictions: 1 })
  const sized = new WeakCache({ max: 0, maxSize: 2, sizeCalculation: () => 1, weak: false })
  sized.set('a', {}).set('b', {}).set('c', {})
  assert.deepEqual([...sized.keys()], ['c', 'b'], 'bounded by maxSize only')
  const weakByDefault = recorded({ max: 2 })
  agents.forEach((agent) => weakByDefault.cache.set(agent.id, agent))
  assert.deepEqual(weakByDefault.log, [], 'the control: demoted, not disposed')
  assert.equal(weakByDefault.cache.get(1), agents[0])
})

test('ttl boundary, ttlResolution, noUpdateTTL, updateAgeOnHas, allowStale, noDeleteOnStaleGet, getRemainingTTL, set start', () => {
  const clock = fakeClock()
  const { cache, log } = recorded({ max: 10, ttl: 10, ttlResolution: 0, perf: clock })
  cache.set('a', 1)
  clock.t += 10
  assert.equal(cache.getRemainingTTL('a'), 0)
  assert.equal(cache.has('a'), true, 'at exactly its ttl: fresh')
  clock.t += 1
  assert.equal(cache.getRemainingTTL('a'), -1)
  assert.equal(cache.get('a', { allowStale: true, noDeleteOnStaleGet: true }), 1, 'stale, returned, kept')
  assert.equal(cache.peek('a', { allowStale: true }), 1)
  assert.equal(cache.get('a'), undefined, 'stale: removed')
  assert.deepEqual(log, [['expire', 'a', 1]])
  cache.set('b', 2, { start: clock.t - 5 })
  assert.equal(cache.getRemainingTTL('b'), 5, 'the given start')
  clock.t += 3
  cache.set('b', 3, { noUpdateTTL: true })
  assert.equal(cache.getRemainingTTL('b'), 2, 'noUpdateTTL keeps the age')
  cache.updateAgeOnHas = true
  assert.equal(cache.has('b'), true)
  assert.equal(cache.getRemainingTTL('b'), 10, 'has restarted its age')
  assert.equal(cache.getRemainingTTL('nothing'), 0)
  cache.set('forever', 1, { ttl: 0 })
  assert.equal(cache.getRemainingTTL('forever'), Infinity)

})

test('ttlResolution: a clock reading is kept until a timer of that many ms forgets it, as in lru-cache', async (t) => {
  // The cache takes the global setTimeout when it is made: here, the mock's.
  await mockTimeouts(t)
  const held = fakeClock()
  const coarse = new WeakCache({ max: 5, ttl: 10, ttlResolution: 100, perf: held })
  coarse.set('k', 'v')
  assert.equal(coarse.has('k'), true) // the clock reading at this moment is kept for 100 ms
  held.t += 50
  assert.equal(coarse.has('k'), true, 'judged at the kept reading')
  held.t += 60
  assert.equal(coarse.has('k'), true, 'still the kept reading: its timer has not fired')
  t.mock.timers.tick(100)
  assert.equal(coarse.has('k'), false, 'a new reading once the timer forgot the old one')
  const plain = new WeakCache({ max: 5, ttl: 10, perf: held })
  plain.set('k', 'v')
  held.t += 11
  assert.equal(plain.has('k'), false, 'the first reading of an entry is a fresh one')
})

test('ttlAutopurge: the timer of an entry that cannot go stale reads no clock, as in lru-cache', async (t) => {
  // An entry with a ttl and no start (`start: null`) is never stale; when its purge timer fires,
  // lru-cache reads no clock. Reading one would keep it for ttlResolution ms, and a status made
  // just after would give that older time.
  await mockTimeouts(t)
  const { LRUCache } = require('lru-cache')
  const nows = []
  for (const [name, Cache] of [['WeakCache', WeakCache], ['LRUCache', LRUCache]]) {
    const held = fakeClock()
    const cache = new Cache({ max: 4, ttlResolution: 5, ttlAutopurge: true, perf: held })
    cache.set('unstarted', 1, { ttl: 3, start: null })
    held.t += 4
    t.mock.timers.tick(4) // the purge timer of 'unstarted' fires (ttl + 1)
    held.t += 1
    const status = {}
    cache.set('later', 2, { ttl: 20, status })
    nows.push([name, status.now - held.t, status.remainingTTL, cache.has('unstarted')])
    t.mock.timers.tick(100)
  }
  assert.deepEqual(nows, [
    ['WeakCache', 0, 20, true],
    ['LRUCache', 0, 20, true],
  ])
})

test('ttlAutopurge removes an entry once its ttl passes, and its timer goes with the entry', async () => {
  const { cache, log } = recorded({ max: 10, ttl: 5, ttlAutopurge: true })
  cache.set('soon', 1).set('gone', 2)
  cache.delete('gone')
  await new Promise((resolve) => setTimeout(resolve, 40))
  assert.equal(cache.size, 0)
  assert.deepEqual(log, [['delete', 'gone', 2], ['expire', 'soon', 1]])
})

test('purgeStale() removes stale entries least recent first, weak ones too', () => {
  const clock = fakeClock()
  const objects = [{ i: 0 }, { i: 1 }]
  const { cache, log } = recorded({ max: 1, ttl: 10, perf: clock })
  cache.set('o0', objects[0]).set('o1', objects[1]).set('late', 'x', { ttl: 100 }) // o0, o1 demoted
  clock.t += 20
  assert.equal(cache.purgeStale(), true)
  assert.deepEqual(log, [['expire', 'o0', objects[0]], ['expire', 'o1', objects[1]]])
  assert.deepEqual([...cache.keys()], ['late'])
  assert.equal(cache.purgeStale(), false)
})

test('fetch: one fetchMethod call for concurrent fetches, stale while it runs, the result stored', async () => {
  const calls = []
  const clock = fakeClock()
  const cache = new WeakCache({
    max: 10,
    ttl: 10,
    ttlResolution: 0, // with a clock moved by hand, as in lru-cache: no kept readings
    perf: clock,
    fetchMethod: async (key, stale, { signal, options, context }) => {
      calls.push([key, stale, context, signal.aborted, typeof options.ttl])
      await turn()
      return `${key}@${clock.t}`
    },
  })
  const [a, b] = await Promise.all([cache.fetch('k', { context: 'ctx' }), cache.fetch('k')])
  assert.equal(a, 'k@1000')
  assert.equal(b, a, 'the same load')
  assert.deepEqual(calls, [['k', undefined, 'ctx', false, 'number']])
  const status = {}
  assert.equal(await cache.fetch('k', { status }), a, 'fresh: no load')
  assert.equal(status.fetch, 'hit')
  clock.t += 20
  assert.equal(await cache.fetch('k', { allowStale: true }), a, 'stale while revalidating')
  await turn()
  await turn()
  assert.equal(cache.get('k'), 'k@1020')
  assert.equal(calls.length, 2)
  assert.equal(calls[1][1], a, 'fetchMethod got the stale value')
  assert.equal(await cache.fetch('k', { forceRefresh: true }), 'k@1020')
  assert.equal(calls.length, 3)
  const plain = new WeakCache({ max: 1, fetchMethod: (key) => key.toUpperCase() })
  assert.equal(await plain.fetch('sync'), 'SYNC', 'a plain value (not a promise) resolves the fetch')
  await assert.rejects(new WeakCache({ max: 1, fetchMethod: () => undefined }).forceFetch('x'), { code: 'ERR_EPHEMERON_FETCH_UNDEFINED' })
  assert.equal(await new WeakCache({ max: 2 }).set('x', 1).fetch('x'), 1, 'without a fetchMethod: get')
})

test('fetch: the weak tier wins; a fetch in flight is never demoted, and is aborted when pushed out or deleted', async () => {
  let loads = 0
  const held = { v: 'held' }
  const resolvers = new Map()
  const cache = new WeakCache({
    max: 1,
    fetchMethod: (key, stale, { signal }) => {
      loads++
      return new Promise((resolve, reject) => {
        resolvers.set(key, resolve)
        signal.addEventListener('abort', () => reject(signal.reason))
      })
    },
  })
  cache.set('w', held).set('other', { o: 1 }) // w is demoted
  assert.equal(await cache.fetch('w'), held, 'a demoted value still held is a hit: no load')
  assert.equal(loads, 0)
  const pending = cache.fetch('p')
  cache.set('next', 1) // pushes the fetch out of the pinned tier
  await assert.rejects(pending, { message: 'evicted' })
  const deleted = cache.fetch('d')
  cache.delete('d')
  await assert.rejects(deleted, { message: 'deleted' })
  const signal = AbortSignal.abort(new Error('caller gave up'))
  await assert.rejects(cache.fetch('s', { signal }), { message: 'caller gave up' })
  assert.equal(loads, 3)
})

test('fetch rejections: allowStaleOnFetchRejection and noDeleteOnFetchRejection keep the stale value', async () => {
  const clock = fakeClock()
  let fail = false
  const options = { max: 5, ttl: 10, perf: clock, fetchMethod: async (key) => (fail ? Promise.reject(new Error('down')) : key) }
  const keeping = new WeakCache({ ...options, allowStaleOnFetchRejection: true })
  const dropping = recorded(options)
  for (const cache of [keeping, dropping.cache]) assert.equal(await cache.fetch('k'), 'k')
  clock.t += 20
  fail = true
  assert.equal(await keeping.fetch('k'), 'k', 'the stale value instead of the rejection')
  await assert.rejects(dropping.cache.fetch('k'), { message: 'down' })
  assert.equal(dropping.cache.has('k'), false)
  assert.deepEqual(dropping.log, [['fetch', 'k', 'k']], "removed with lru-cache's reason 'fetch'")
})

test('memo: computed once and stored, forceRefresh computes again, no memoMethod is an error', () => {
  let calls = 0
  const cache = new WeakCache({ max: 5, memoMethod: (key, stale, { context }) => `${key}:${context}:${++calls}` })
  assert.equal(cache.memo('a', { context: 'c' }), 'a:c:1')
  assert.equal(cache.memo('a'), 'a:c:1')
  assert.equal(cache.memo('a', { forceRefresh: true, context: 'd' }), 'a:d:2')
  assert.throws(() => new WeakCache({ max: 1 }).memo('x'), { code: 'ERR_EPHEMERON_NO_MEMO_METHOD' })
})

test('status objects and the lru-cache:metrics channel', () => {
  const messages = []
  // Each message names its cache, not enumerably (a copy of it does not carry it).
  const listener = (message) => messages.push({ ...message, cache: message.cache })
  diagnostics.subscribe('lru-cache:metrics', listener)
  try {
    const cache = new WeakCache({ max: 2 })
    cache.set('a', 1).set('a', 2).get('a')
    cache.get('missing')
    cache.has('a')
    cache.delete('a')
    // lru-cache 11.5 names the cache in every message (`cache`).
    assert.deepEqual(messages, [
      { op: 'set', key: 'a', value: 1, set: 'add', cache },
      { op: 'set', key: 'a', value: 2, set: 'replace', oldValue: 1, cache },
      { op: 'get', key: 'a', get: 'hit', value: 2, cache },
      { op: 'get', key: 'missing', get: 'miss', cache },
      { op: 'has', key: 'a', has: 'hit', cache },
      { op: 'delete', delete: 'delete', key: 'a', cache },
    ])
  } finally {
    diagnostics.unsubscribe('lru-cache:metrics', listener)
  }
  const status = {}
  const cache = new WeakCache({ max: 1 })
  cache.get('nothing', { status })
  assert.deepEqual(status, { op: 'get', key: 'nothing', get: 'miss' }, 'a status given is filled without subscribers too')
  assert.equal(status.cache, cache, "lru-cache 11.5's `cache`, not enumerable: a status shows lru-cache 11.3's fields")
  assert.deepEqual(Object.keys(status).sort(), ['get', 'key', 'op'])
})

test("fetch() is traced on the 'lru-cache' tracing channel", async () => {
  const events = []
  const handlers = Object.fromEntries(['start', 'end', 'asyncStart', 'asyncEnd', 'error'].map((name) => [name, (context) => events.push([name, context.op, context.key])]))
  const channel = diagnostics.tracingChannel('lru-cache')
  channel.subscribe(handlers)
  try {
    const cache = new WeakCache({ max: 2, fetchMethod: async (key) => key * 2 })
    assert.equal(await cache.fetch(21), 42)
    await turn()
  } finally {
    channel.unsubscribe(handlers)
  }
  assert.deepEqual(events.map(([name]) => name), ['start', 'end', 'asyncStart', 'asyncEnd'])
  assert.deepEqual(events[0].slice(1), ['fetch', 21])
})

test("disposeAfter runs once the operation is over; noDisposeOnSet; onInsert's reasons", () => {
  const order = []
  const cache = new WeakCache({
    max: 2,
    dispose: (value, key, reason) => order.push(`dispose ${key} ${reason} size=${cache.size}`),
    disposeAfter: (value, key, reason) => order.push(`after ${key} ${reason}`),
    onInsert: (value, key, reason) => order.push(`insert ${key} ${reason}`),
  })
  cache.set('a', 1).set('b', 2)
  order.length = 0
  cache.set('a', 3)
  cache.set('c', 4)
  assert.deepEqual(order, ['dispose a set size=2', 'insert a replace', 'after a set', 'dispose b evict size=2', 'insert c add', 'after b evict'])
  order.length = 0
  cache.set('c', 4)
  assert.deepEqual(order, ['insert c update'], 'the same value: no disposal')
  order.length = 0
  cache.set('c', 5, { noDisposeOnSet: true })
  assert.deepEqual(order, ['insert c replace'])
})

test('regression: an entry evicted by a set with noDisposeOnSet gets its disposeAfter before set returns, as in lru-cache', () => {
  for (const perCall of [false, true]) {
    const calls = []
    const cache = new WeakCache({
      max: 1,
      noDisposeOnSet: !perCall,
      dispose: (value, key, reason) => calls.push(['dispose', key, reason]),
      disposeAfter: (value, key, reason) => calls.push(['disposeAfter', key, reason]),
    })
    cache.set('a', 1)
    cache.set('b', 2, perCall ? { noDisposeOnSet: true } : undefined) // evicts a
    assert.deepEqual(calls, [['dispose', 'a', 'evict'], ['disposeAfter', 'a', 'evict']], perCall ? 'per call' : 'as an option')
    calls.length = 0
    cache.set('b', 3, perCall ? { noDisposeOnSet: true } : undefined)
    assert.deepEqual(calls, [], 'the replaced value is spared, as noDisposeOnSet says')
  }
})

test('stats() counts what happened: a fetch that loads is a miss, a fresh one a hit, a stale one a hit counted as stale; sets counts stored values once', async () => {
  // A small server: 400 requests for 20 users, each loaded once by fetch.
  const clock = fakeClock()
  const loads = []
  const users = new WeakCache({
    max: 100,
    ttl: 1000,
    ttlResolution: 0,
    perf: clock,
    fetchMethod: async (id) => {
      loads.push(id)
      await turn()
      return { id }
    },
  })
  const requests = Array.from({ length: 400 }, (_, i) => `user:${i % 20}`)
  for (let i = 0; i < requests.length; i += 40) await Promise.all(requests.slice(i, i + 40).map((id) => users.fetch(id)))
  let stats = users.stats()
  assert.equal(loads.length, 20)
  assert.deepEqual({ hits: stats.hits, misses: stats.misses, sets: stats.sets, staleHits: stats.staleHits }, { hits: 380, misses: 20, sets: 20, staleHits: 0 }, 'the 20 loads are the misses (concurrent callers join a load: hits); the code never called set, yet 20 values were stored')
  clock.t += 1001
  await users.fetch('user:1', { allowStale: true }) // stale: served while it is refreshed
  await turn()
  await users.fetch('user:2', { forceRefresh: true }) // stale too: a stale value found is a hit
  await users.fetch('user:3', { forceRefresh: true, ttl: 5000 })
  await users.fetch('user:3', { forceRefresh: true }) // fresh, and loaded anyway: a miss
  stats = users.stats()
  assert.deepEqual({ hits: stats.hits, staleHits: stats.staleHits, misses: stats.misses, sets: stats.sets }, { hits: 383, staleHits: 3, misses: 21, sets: 24 })
  const memo = new WeakCache({ max: 10, memoMethod: (key) => key.length })
  memo.memo('abc') // a get that misses, then a stored value
  memo.memo('abc') // a get that hits
  assert.deepEqual((({ hits, misses, sets }) => ({ hits, misses, sets }))(memo.stats()), { hits: 1, misses: 1, sets: 1 })
  const plain = new WeakCache({ max: 10, ttl: 10, ttlResolution: 0, perf: clock })
  plain.set('k', 'v')
  clock.t += 11
  plain.get('k', { allowStale: true, noDeleteOnStaleGet: true }) // a stale value served: a hit
  plain.get('k') // a stale value not served: a miss
  assert.deepEqual((({ hits, staleHits, misses }) => ({ hits, staleHits, misses }))(plain.stats()), { hits: 1, staleHits: 1, misses: 1 })
})

test('pop() takes the least recent entry: weak entries first, then the pinned tier', () => {
  const objects = [{ i: 0 }, { i: 1 }]
  const { cache, log } = recorded({ max: 2 })
  cache.set('o0', objects[0]).set('o1', objects[1]).set('p', 'p').set('q', 'q') // o0, o1 demoted
  assert.deepEqual([cache.pop(), cache.pop(), cache.pop(), cache.pop(), cache.pop()], [objects[0], objects[1], 'p', 'q', undefined])
  assert.deepEqual(log.map(([reason, key]) => `${reason} ${key}`), ['evict o0', 'evict o1', 'evict p', 'evict q'])
})

test('dump() and load() carry entries, ttls and sizes to another cache; info(); new WeakCache(cache) copies its options', () => {
  const clock = fakeClock()
  // dump() and load() also read the wall clock (Date.now(), captured when a cache is made): stop it,
  // so no millisecond passes between the dump and the load.
  const { Date: RealDate } = globalThis
  globalThis.Date = class extends RealDate {
    static now() {
      return 1_700_000_000_000
    }
  }
  let source
  let copy
  try {
    source = new WeakCache({ max: 5, ttl: 100, maxSize: 50, sizeCalculation: (v) => v.length, perf: clock })
    copy = new WeakCache(source)
  } finally {
    globalThis.Date = RealDate
  }
  source.set('a', 'aa').set('b', 'bbb', { ttl: 0 })
  clock.t += 40
  const dump = source.dump()
  assert.deepEqual(dump.map(([key, entry]) => [key, entry.value, entry.ttl, entry.size]), [['a', 'aa', 100, 2], ['b', 'bbb', 0, 3]])
  assert.equal(copy.size, 0, 'an empty cache')
  assert.deepEqual([copy.max, copy.maxSize, copy.ttl, copy.perf], [5, 50, 100, clock])
  copy.load(dump)
  assert.deepEqual([...copy.entries()], [['b', 'bbb'], ['a', 'aa']])
  assert.equal(copy.getRemainingTTL('a'), 60, 'the age survives the trip')
  assert.equal(copy.calculatedSize, 5)
  const info = source.info('a')
  assert.equal(info.value, 'aa')
  assert.equal(info.ttl, 60)
  assert.equal(typeof info.start, 'number')
  assert.equal(info.size, 2)
  assert.equal(source.info('nothing'), undefined)
  const weakless = new WeakCache(new WeakCache({ max: 0, weak: false, maxSize: 9, sizeCalculation: () => 1 }))
  assert.equal(weakless.weak, false)
  const pure = new WeakCache(new WeakCache({ max: 0 }))
  pure.set('x', 1)
  assert.equal(pure.size, 0, 'a copy of a pure weak-value map is one')
})

test('find, r* iterators and rforEach; fetches in flight are skipped by entries() and shown with their stale value by forEach', async () => {
  const cache = new WeakCache({ max: 5, fetchMethod: () => new Promise(() => {}) })
  cache.set(1, 'one').set(2, 'two').set(3, 'three')
  assert.deepEqual([...cache.rkeys()], [1, 2, 3])
  assert.deepEqual([...cache.rvalues()], ['one', 'two', 'three'])
  assert.deepEqual([...cache.rentries()], [[1, 'one'], [2, 'two'], [3, 'three']])
  const seen = []
  cache.rforEach((value, key) => seen.push(key))
  assert.deepEqual(seen, [1, 2, 3])
  assert.equal(cache.find((value) => value.startsWith('t')), 'three', 'most recent first')
  cache.fetch(2, { forceRefresh: true })
  cache.fetch(4)
  assert.deepEqual([...cache.keys()], [3, 1], 'fetching entries are not listed')
  const values = []
  cache.forEach((value) => values.push(value))
  assert.deepEqual(values, ['three', 'two', 'one'], 'the stale value of 2, nothing for 4')
})

test('options: fetch takes no start (a fetched value starts when it arrives); writable options are read as lru-cache reads them; perf may be Date', async () => {
  const fetching = new WeakCache({ max: 1, ttl: 100, ttlResolution: 0, perf: fakeClock(), fetchMethod: async () => 'v' })
  const warnings = await captureWarnings(async () => {
    await fetching.fetch('k', { start: 5 })
    await fetching.forceFetch('j', { start: 5 })
  })
  assert.deepEqual(
    warnings.map((w) => w.message),
    [
      "WeakCache: fetch options.start is not an option of WeakCache.prototype.fetch or lru-cache's fetch; it is ignored",
      "WeakCache: forceFetch options.start is not an option of WeakCache.prototype.forceFetch or lru-cache's forceFetch; it is ignored",
    ],
  )
  assert.equal(fetching.getRemainingTTL('j'), 100, 'its start is when it arrived')
  assert.throws(() => new WeakCache({ max: 1, fetchMethod: 'x' }), { name: 'TypeError', message: /fetchMethod must be a function/ })
  assert.throws(() => new WeakCache({ max: 1, perf: {} }), { name: 'TypeError', message: /perf option must have a now\(\) method/ })
  const cache = new WeakCache({ max: 2, ttl: 5, perf: Date })
  assert.equal(cache.perf, Date)
  cache.ttl = 50
  assert.equal(cache.ttl, 50)
  assert.throws(() => { cache.ttl = -1 }, { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' })
  cache.ttl = null
  assert.equal(cache.ttl, 0, 'a falsy ttl is none')
  cache.allowStale = 'yes'
  assert.equal(cache.allowStale, 'yes', 'a flag is kept as given (lru-cache: a plain field), and read as truthy')
  cache.backgroundFetchSize = 3
  assert.throws(() => { cache.backgroundFetchSize = -1 }, { name: 'TypeError' })
  cache.ttlResolution = 'banana'
  assert.equal(cache.ttlResolution, 1, "a bad ttlResolution means 1, as in lru-cache")
  assert.deepEqual(Object.keys(cache), [], 'options are accessors, not own fields')
})
