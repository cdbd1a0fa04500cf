'use strict'
// Model-based test: random operation sequences (a seeded generator, so a failure names its seed
// and replays) run against WeakCache and against a plain reference model, comparing every
// observable result: return values (object identity included), dispose calls, size, iteration
// order and stats, through demotions, weak hits, ttl expiry and garbage collection.
//
// Collections stay deterministic enough to model: a sequence runs in rounds, one job each. Some
// values are *droppable*: the test keeps only a WeakRef to them. At the start of a round the GC
// may run, and then the model dereferences every droppable value it still has, which keeps those
// alive until the round (the job) ends. So a droppable value dies only between rounds, its death
// is read from its WeakRef (the same fact the cache's weak reference sees), and its 'collect'
// arrives at some later await, where the model matches it.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { WeakCache } = require('..')
const { collectGarbage, eventually, immediate } = require('./helpers/gc.js')
const { random } = require('./helpers/weak-cache.js')
const { captureWarnings } = require('./helpers/warnings.js')

const isObject = (value) => (typeof value === 'object' && value !== null) || typeof value === 'function'

/** A value the test does not hold: the model keeps only a WeakRef to it. */
class Droppable {
  constructor(value) {
    this.ref = new WeakRef(value)
  }
}

/** The specification, written for clarity: two arrays, most recent first. */
class Model {
  pinned = []
  weak = []
  /** Keys of entries found collected: their 'collect' is still to come, oldest first. */
  noticed = []
  log = []
  stats = { hits: 0, weakHits: 0, misses: 0, sets: 0, evictions: 0, demotions: 0, collected: 0, expired: 0, deleted: 0 }

  constructor({ max, ttl, updateAgeOnGet, maxSize = 0, weak = true, clock }) {
    // max 0 with a ttl or maxSize is lru-cache's "no count limit"; alone, a pure weak-value map.
    const unlimited = max === undefined || (max === 0 && (ttl > 0 || maxSize > 0))
    Object.assign(this, { max: unlimited ? Infinity : max, ttl, updateAgeOnGet, maxSize, demotes: weak, clock })
  }

  /** The total size of the pinned entries (calculatedSize). */
  get calculatedSize() {
    return this.maxSize ? this.pinned.reduce((total, entry) => total + entry.size, 0) : 0
  }

  /** The entry's value, or undefined once the GC has taken it. */
  static valueOf(entry) {
    return entry.value instanceof Droppable ? entry.value.ref.deref() : entry.value
  }

  #find(key) {
    for (const tier of [this.pinned, this.weak]) {
      const index = tier.findIndex((entry) => Object.is(entry.key, key) || (entry.key === 0 && key === 0))
      if (index >= 0) return { tier, index, entry: tier[index] }
    }
    return undefined
  }

  /** Like #find, but a weak entry whose value is gone is noticed (it leaves now, its 'collect'
   * comes later) and not found. */
  #findLive(key) {
    const found = this.#find(key)
    if (found === undefined || found.tier === this.pinned || Model.valueOf(found.entry) !== undefined) return found
    found.tier.splice(found.index, 1)
    this.noticed.push(found.entry.key)
    return { collected: true }
  }

  #expired(entry) {
    return entry.ttl > 0 && this.clock.t - entry.start > entry.ttl // stale once older than its ttl
  }

  #pinFront(entry) {
    this.pinned.unshift(entry)
    while (this.pinned.length > this.max) this.#pushOut(this.pinned.pop())
    this.#enforceSize()
  }

  /** maxSize: the least recent pinned entries go, never the newest. */
  #enforceSize() {
    while (this.maxSize && this.calculatedSize > this.maxSize && this.pinned.length > 1) this.#pushOut(this.pinned.pop())
  }

  #pushOut(victim) {
    if (this.demotes && (victim.value instanceof Droppable || isObject(victim.value))) {
      this.stats.demotions++
      this.weak.unshift(victim)
    } else {
      this.stats.evictions++
      this.log.push(['evict', victim.key, Model.valueOf(victim)])
    }
  }

  get(key) {
    const found = this.#findLive(key)
    if (found === undefined || found.collected) {
      this.stats.misses++
      return undefined
    }
    const { tier, index, entry } = found
    const value = Model.valueOf(entry)
    tier.splice(index, 1)
    if (this.#expired(entry)) {
      this.stats.expired++
      this.stats.misses++
      this.log.push(['expire', this.#reported(key, entry), value])
      return undefined
    }
    if (tier === this.pinned) this.stats.hits++
    else this.stats.weakHits++
    if (this.updateAgeOnGet && entry.ttl > 0) entry.start = this.clock.t
    this.#pinFront(entry)
    return value
  }

  peek(key) {
    const found = this.#findLive(key)
    return found === undefined || found.collected || this.#expired(found.entry) ? undefined : Model.valueOf(found.entry)
  }

  has(key) {
    return this.peek(key) !== undefined
  }

  /** lru-cache names a removed entry by the key the call gave, but by the key as first stored when
   * it was the only entry (-0 or 0). */
  #reported(key, entry) {
    return this.pinned.length + this.weak.length === 0 ? entry.key : key
  }

  set(key, value, ttl = this.ttl, size = 0) {
    if (value === undefined) {
      this.delete(key)
      return
    }
    this.stats.sets++
    const entry = { key, value, ttl, start: this.clock.t, size }
    const found = this.#findLive(key)
    if (found !== undefined && !found.collected) {
      entry.key = found.entry.key // the key as first stored stays (lru-cache)
      found.tier.splice(found.index, 1)
      const old = Model.valueOf(found.entry)
      if (old !== Model.valueOf(entry)) this.log.push(['set', key, old])
      if (found.tier === this.pinned) {
        this.pinned.unshift(entry) // an overwrite in place pushes out only by size
        this.#enforceSize()
        return
      }
    }
    this.#pinFront(entry)
  }

  delete(key) {
    const found = this.#findLive(key)
    if (found === undefined || found.collected) return false
    found.tier.splice(found.index, 1)
    this.stats.deleted++
    this.log.push(['delete', this.#reported(key, found.entry), Model.valueOf(found.entry)])
    return true
  }

  clear() {
    for (const entry of [...this.pinned, ...this.weak]) {
      const value = Model.valueOf(entry)
      if (value === undefined) {
        this.noticed.push(entry.key)
        continue
      }
      this.stats.deleted++
      this.log.push(['delete', entry.key, value])
    }
    this.pinned = []
    this.weak = []
  }

  get size() {
    return this.pinned.length + this.weak.length
  }

  keys() {
    const keys = []
    for (const entry of [...this.pinned, ...this.weak]) {
      if (this.#findLive(entry.key)?.entry !== entry) continue // noticed collected: skipped
      if (!this.#expired(entry)) keys.push(entry.key)
    }
    return keys
  }

  /** Keeps every droppable value still alive until the current job ends. */
  keepAlive() {
    for (const entry of [...this.pinned, ...this.weak]) Model.valueOf(entry)
  }

  /** A 'collect' the cache delivered: an entry noticed earlier, or else a weak entry whose value
   * is gone. Returns false if there is no such entry. */
  collected(key) {
    const noticed = this.noticed.findIndex((k) => Object.is(k, key))
    if (noticed >= 0) this.noticed.splice(noticed, 1)
    else {
      const index = this.weak.findIndex((entry) => Object.is(entry.key, key) && Model.valueOf(entry) === undefined)
      if (index < 0) return false
      this.weak.splice(index, 1)
    }
    this.stats.collected++
    return true
  }

  /** True when every droppable value is gone and every 'collect' has been matched. */
  settled() {
    return this.noticed.length === 0 && this.weak.every((entry) => !(entry.value instanceof Droppable))
  }
}

async function runSequence(seed, rounds, roundLength) {
  const rand = random(seed)
  const pick = (items) => items[Math.floor(rand() * items.length)]
  const clock = { t: 1000, now: () => clock.t }
  const options = { max: pick([0, 1, 2, 3, 5, 8]), ttl: pick([0, 0, 20, 50]), updateAgeOnGet: rand() < 0.5 }
  if (rand() < 0.25) {
    // Bounded by size too (sizes 1 to 3, from the value), or by size alone.
    options.maxSize = pick([4, 6, 9])
    options.sizeCalculation = sizeOf
    options.max = pick([undefined, 2, 5])
  }
  if (rand() < 0.2) {
    options.weak = false // lru-cache's eviction: no weak tier
    if (options.max === 0) options.max = 1
  }
  const model = new Model({ ...options, clock })
  const actualLog = []
  const cache = new WeakCache({ ...options, ttlResolution: 0, perf: clock, dispose: (value, key, reason) => actualLog.push([reason, key, value]) })
  const objects = Array.from({ length: 6 }, (_, id) => ({ id }))
  const keys = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 0, 1, 2, -0, 'x'.repeat(200), '\uD800', '\uD801']
  let dropped = 0
  const trace = []
  const where = () => `(seed ${seed})\n${trace.slice(-40).join('\n')}`
  const check = (what, actual, expected) => assert.equal(actual, expected, `${what} ${where()}`)

  /** Matches the 'collect' calls delivered since the last look against the model. */
  const matchCollects = () => {
    for (let i = 0; i < actualLog.length; i++) {
      const [reason, key, value] = actualLog[i]
      assert.equal(reason, 'collect', `only 'collect' arrives between rounds ${where()}`)
      assert.equal(value, undefined)
      assert.ok(model.collected(key), `'collect' of ${String(key).slice(0, 10)} matches a collected entry ${where()}`)
      trace.push(`   collect ${String(key).slice(0, 10)}`)
    }
    actualLog.length = 0
  }

  // Each round runs in a synchronous function of its own: an async function keeps its temporaries
  // (the last droppable value, say) alive across await.
  const playRound = (round) => {
    for (let step = 0; step < roundLength; step++) {
      const key = pick(keys)
      const op = pick(['get', 'get', 'get', 'set', 'set', 'set', 'peek', 'has', 'delete', 'tick', 'tick', 'clear', 'iterate'])
      if (op === 'clear' && rand() < 0.8) continue
      trace.push(`${round}.${step}: ${op} ${JSON.stringify(key).slice(0, 10)}`)
      switch (op) {
        case 'get':
        case 'peek':
        case 'has':
        case 'delete':
          check(op, cache[op](key), model[op](key))
          break
        case 'set': {
          const kind = rand()
          const ttl = rand() < 0.3 ? pick([0, 10, 30]) : undefined
          if (kind < 0.3) {
            const value = { dropped: dropped++ } // held by nothing but the cache from the next round on
            trace[trace.length - 1] += ` drop${value.dropped} ttl=${ttl}`
            check('set returns the cache', ttl === undefined ? cache.set(key, value) : cache.set(key, value, { ttl }), cache)
            model.set(key, new Droppable(value), ttl, options.maxSize ? sizeOf(value) : 0)
          } else {
            const value = kind < 0.7 ? pick(objects) : kind < 0.95 ? Math.floor(rand() * 5) : undefined
            trace[trace.length - 1] += ` ${isObject(value) ? `obj${value.id}` : value} ttl=${ttl}`
            check('set returns the cache', ttl === undefined ? cache.set(key, value) : cache.set(key, value, { ttl }), cache)
            model.set(key, value, ttl, options.maxSize && value !== undefined ? sizeOf(value) : 0)
          }
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
          assert.deepEqual([...cache.keys()], model.keys(), `keys() ${where()}`)
          break
      }
      assert.deepEqual(actualLog, model.log, `dispose calls ${where()}`)
      actualLog.length = 0
      model.log.length = 0
      check('size', cache.size, model.size)
      check('calculatedSize', cache.calculatedSize, model.calculatedSize)
    }
  }

  for (let round = 0; round < rounds; round++) {
    await immediate() // the last round's job ends: the droppable values it kept alive may die now
    if (rand() < 0.3) {
      globalThis.gc()
      trace.push('-- gc')
    }
    matchCollects()
    model.keepAlive()
    check('size after the collects delivered between rounds', cache.size, model.size)
    playRound(round)
  }
  // Every droppable value dies now, and each 'collect' arrives (usually within a few turns of the
  // event loop after one full GC; collecting harder only if not).
  const settled = () => {
    matchCollects()
    return model.settled()
  }
  await immediate()
  globalThis.gc()
  for (let turn = 0; turn < 20 && !settled(); turn++) await immediate()
  await eventually(settled, { message: `the last collections never arrived (seed ${seed})` })
  check('size at the end', cache.size, model.size)
  const { hits, weakHits, misses, sets, evictions, demotions, collected, expired, deleted, pinned, weak } = cache.stats()
  assert.deepEqual(
    { hits, weakHits, misses, sets, evictions, demotions, collected, expired, deleted, pinned, weak },
    { ...model.stats, pinned: model.pinned.length, weak: model.weak.length },
    `stats (seed ${seed})`,
  )
  return model.stats
}

const byKey = (x, y) => String(x[1]).localeCompare(String(y[1]))

/** The size of a value, 1 to 3, the same for the cache (sizeCalculation) and the model. */
function sizeOf(value) {
  return ((typeof value === 'number' ? value : (value.dropped ?? value.id)) % 3) + 1
}

test('random operation sequences agree with the reference model, through demotions, weak hits, ttl and collections', async () => {
  const seeds = Number(process.env.WEAK_CACHE_MODEL_SEEDS ?? 300)
  const totals = { demotions: 0, weakHits: 0, expired: 0, collected: 0 }
  const warnings = await captureWarnings(async () => {
    for (let seed = 1; seed <= seeds; seed++) {
      const stats = await runSequence(seed, 6, 50)
      for (const name of Object.keys(totals)) totals[name] += stats[name]
    }
  })
  // Caches bounded by ttl alone get lru-cache's warning (once per process); nothing else warns.
  assert.deepEqual(warnings.filter((w) => w.code !== 'LRU_CACHE_UNBOUNDED'), [])
  // The sequences must exercise what they claim to (a model test that never collects proves nothing).
  for (const [name, total] of Object.entries(totals)) assert.ok(total > seeds, `${name}: ${total} over ${seeds} seeds`)
  await collectGarbage()
})
