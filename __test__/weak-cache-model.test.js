'use strict'
// Model-based test: random operation sequences (a seeded generator, so a failure names its seed
// and replays) run against WeakCache and against a plain reference model, comparing every
// observable result: return values (object identity included), dispose calls, size, iteration
// order and stats. Object values stay referenced by the test, so the GC never takes one and the
// outcome is deterministic; collection is covered by weak-cache-gc.test.js.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { WeakCache } = require('..')

/** mulberry32: a small seeded PRNG. */
function random(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const isObject = (value) => (typeof value === 'object' && value !== null) || typeof value === 'function'

/** The specification, written for clarity: two arrays, most recent first. */
class Model {
  pinned = []
  weak = []
  log = []
  stats = { hits: 0, weakHits: 0, misses: 0, sets: 0, evictions: 0, expired: 0, deleted: 0 }

  constructor({ max, ttl, updateAgeOnGet, clock }) {
    Object.assign(this, { max, ttl, updateAgeOnGet, clock })
  }

  #find(key) {
    for (const tier of [this.pinned, this.weak]) {
      const index = tier.findIndex((entry) => Object.is(entry.key, key) || (entry.key === 0 && key === 0))
      if (index >= 0) return { tier, index, entry: tier[index] }
    }
    return undefined
  }

  #expired(entry) {
    return entry.expires <= this.clock.t
  }

  #pinFront(entry) {
    this.pinned.unshift(entry)
    while (this.pinned.length > this.max) {
      const victim = this.pinned.pop()
      if (isObject(victim.value)) this.weak.unshift(victim)
      else {
        this.stats.evictions++
        this.log.push(['evict', victim.key, victim.value])
      }
    }
  }

  get(key) {
    const found = this.#find(key)
    if (found === undefined) {
      this.stats.misses++
      return undefined
    }
    const { tier, index, entry } = found
    tier.splice(index, 1)
    if (this.#expired(entry)) {
      this.stats.expired++
      this.stats.misses++
      this.log.push(['expire', entry.key, entry.value])
      return undefined
    }
    if (tier === this.pinned) this.stats.hits++
    else this.stats.weakHits++
    if (this.updateAgeOnGet && entry.ttl > 0) entry.expires = this.clock.t + entry.ttl
    this.#pinFront(entry)
    return entry.value
  }

  peek(key) {
    const found = this.#find(key)
    return found === undefined || this.#expired(found.entry) ? undefined : found.entry.value
  }

  has(key) {
    return this.peek(key) !== undefined
  }

  set(key, value, ttl = this.ttl) {
    if (key === 0) key = 0 // as in Map, -0 is stored (and reported) as 0
    if (value === undefined) {
      this.delete(key)
      return
    }
    this.stats.sets++
    const entry = { key, value, ttl, expires: ttl > 0 ? this.clock.t + ttl : Infinity }
    const found = this.#find(key)
    if (found !== undefined) {
      found.tier.splice(found.index, 1)
      if (found.entry.value !== value) this.log.push(['set', key, found.entry.value])
      if (found.tier === this.pinned) {
        this.pinned.unshift(entry) // an overwrite in place never pushes anything out
        return
      }
    }
    this.#pinFront(entry)
  }

  delete(key) {
    if (key === 0) key = 0
    const found = this.#find(key)
    if (found === undefined) return false
    found.tier.splice(found.index, 1)
    this.stats.deleted++
    this.log.push(['delete', found.entry.key, found.entry.value])
    return true
  }

  clear() {
    for (const entry of [...this.pinned, ...this.weak]) {
      this.stats.deleted++
      this.log.push(['delete', entry.key, entry.value])
    }
    this.pinned = []
    this.weak = []
  }

  get size() {
    return this.pinned.length + this.weak.length
  }

  keys() {
    return [...this.pinned, ...this.weak].filter((entry) => !this.#expired(entry)).map((entry) => entry.key)
  }
}

function runSequence(seed, length) {
  const rand = random(seed)
  const pick = (items) => items[Math.floor(rand() * items.length)]
  const clock = { t: 1000, now: () => clock.t }
  const options = { max: pick([0, 1, 2, 3, 5, 8]), ttl: pick([0, 0, 20, 50]), updateAgeOnGet: rand() < 0.5 }
  const model = new Model({ ...options, clock })
  const actualLog = []
  const cache = new WeakCache({ ...options, perf: clock, dispose: (value, key, reason) => actualLog.push([reason, key, value]) })
  const objects = Array.from({ length: 6 }, (_, id) => ({ id }))
  const keys = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 0, 1, 2, -0, 'x'.repeat(200), '\uD800', '\uD801']
  const values = () => (rand() < 0.6 ? pick(objects) : rand() < 0.9 ? Math.floor(rand() * 5) : undefined)
  const trace = []
  const check = (what, actual, expected) => assert.equal(actual, expected, `${what} (seed ${seed})\n${trace.join('\n')}`)

  for (let step = 0; step < length; step++) {
    const key = pick(keys)
    const op = pick(['get', 'get', 'get', 'set', 'set', 'set', 'peek', 'has', 'delete', 'tick', 'tick', 'clear', 'iterate'])
    if (op === 'clear' && rand() < 0.8) continue
    trace.push(`${step}: ${op} ${String(key).slice(0, 10)}`)
    switch (op) {
      case 'get':
      case 'peek':
      case 'has':
      case 'delete':
        check(op, cache[op](key), model[op](key))
        break
      case 'set': {
        const value = values()
        const ttl = rand() < 0.3 ? pick([0, 10, 30]) : undefined
        trace[trace.length - 1] += ` ${isObject(value) ? `obj${value.id}` : value} ttl=${ttl}`
        check('set returns the cache', ttl === undefined ? cache.set(key, value) : cache.set(key, value, { ttl }), cache)
        model.set(key, value, ttl)
        break
      }
      case 'tick':
        clock.t += Math.floor(rand() * 30)
        break
      case 'clear':
        cache.clear()
        model.clear()
        actualLog.sort(byKey)
        model.log.sort(byKey)
        break
      case 'iterate':
        assert.deepEqual([...cache.keys()], model.keys(), `keys() (seed ${seed})\n${trace.join('\n')}`)
        break
    }
    assert.deepEqual(actualLog, model.log, `dispose calls (seed ${seed})\n${trace.join('\n')}`)
    actualLog.length = 0
    model.log.length = 0
    check('size', cache.size, model.size)
  }
  const { hits, weakHits, misses, sets, evictions, expired, deleted, pinned, weak } = cache.stats()
  assert.deepEqual(
    { hits, weakHits, misses, sets, evictions, expired, deleted, pinned, weak },
    { ...model.stats, pinned: model.pinned.length, weak: model.weak.length },
    `stats (seed ${seed})`,
  )
}

const byKey = (x, y) => String(x[1]).localeCompare(String(y[1]))

test('random operation sequences agree with the reference model', () => {
  const seeds = Number(process.env.WEAK_CACHE_MODEL_SEEDS ?? 300)
  for (let seed = 1; seed <= seeds; seed++) runSequence(seed, 300)
})
