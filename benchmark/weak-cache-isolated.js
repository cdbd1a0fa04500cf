'use strict'
// One implementation in one WeakCache scenario, alone in a fresh process:
// `node --expose-gc benchmark/weak-cache-isolated.js <scenario> <implementation>` prints
// `{"ns": median ns/op, "checksum": n}`. weak-cache.bench.js runs each implementation in processes
// of its own, interleaved, because in one process the implementations slow each other down: after
// WeakCache and the floor had run, lru-cache's set measured 450 to 490 ns instead of 185, and its
// number-key hits 135 to 165 ns instead of about 45 (Node 20 to 26, whatever the GC and
// event-loop turns between runs), which made every ratio to it meaningless.
//
// Each round makes a new cache and fills it, settles (a full GC and event-loop turns, untimed),
// times the scenario's loop and settles again, as between a server's requests: the finalizers of
// weak references run there, paid by the implementation that made them. The median of 7 rounds,
// after 2 warm-up rounds.

const path = require('node:path')
const { performance } = require('node:perf_hooks')

const turn = () => new Promise((resolve) => setImmediate(resolve))
async function settle() {
  globalThis.gc()
  for (let i = 0; i < 4; i++) await turn()
}

const stringKeys = (n) => Array.from({ length: n }, (_, i) => `user:${i}`)
const numberKeys = (n) => Array.from({ length: n }, (_, i) => i * 7 + 1)

/** Sets of new keys in a full cache: every set pushes an entry out. */
function setScenario(keys, value, options) {
  return {
    options,
    prepare: () => ({ keys: keys(100_000) }),
    fill: (impl, cache) => {
      for (let i = 0; i < 1000; i++) impl.set(cache, `warm:${i}`, value(i))
    },
    ops: 100_000,
    loop(impl, cache, { keys: all }) {
      for (let i = 0; i < all.length; i++) impl.set(cache, all[i], value(i))
      return all.length
    },
  }
}

/** Gets of 10k keys in a scattered order; a miss reloads the value (held here) and sets it, as a
 * server would. With `max` 1k, 90% of WeakCache's gets are weak hits. */
function getScenario(keys, max) {
  return {
    options: { max },
    prepare: () => {
      const all = keys(10_000)
      return { keys: all, values: all.map((_, i) => ({ i })), order: Array.from({ length: 10_000 }, (_, i) => (i * 7919) % 10_000) }
    },
    fill: (impl, cache, { keys: all, values }) => {
      for (let i = 0; i < all.length; i++) impl.set(cache, all[i], values[i])
    },
    ops: 1_000_000,
    loop(impl, cache, { keys: all, values, order }) {
      let sum = 0
      for (let i = 0; i < 1_000_000; i++) {
        const k = order[i % order.length]
        const value = impl.get(cache, all[k]) ?? (impl.set(cache, all[k], values[k]), values[k])
        sum += value.i
      }
      return sum
    },
  }
}

/** `await fetch(key)` of 10k cached keys, with a fetchMethod that never runs. */
const fetchHits = {
  options: {
    max: 10_000,
    fetchMethod: async () => {
      throw new Error('a hit never fetches')
    },
  },
  prepare: () => getScenario(stringKeys, 10_000).prepare(),
  fill: (impl, cache, { keys, values }) => {
    for (let i = 0; i < keys.length; i++) impl.set(cache, keys[i], values[i])
  },
  ops: 200_000,
  async loop(impl, cache, { keys, order }) {
    let sum = 0
    for (let i = 0; i < 200_000; i++) sum += (await impl.fetch(cache, keys[order[i % order.length]])).i
    return sum
  },
}

const scenarios = {
  'get, pinned hits, string keys': getScenario(stringKeys, 10_000),
  'get, pinned hits, number keys': getScenario(numberKeys, 10_000),
  'get, 90% weak hits': getScenario(stringKeys, 1000),
  'set, string keys, object values': setScenario(stringKeys, (i) => ({ i }), { max: 1000 }),
  'set, number keys, object values': setScenario(numberKeys, (i) => ({ i }), { max: 1000 }),
  'set, string keys, number values': setScenario(stringKeys, (i) => i, { max: 1000 }),
  'set with maxSize, object values of sizes 1 to 4': setScenario(stringKeys, (i) => ({ i }), {
    maxSize: 2500,
    sizeCalculation: (value) => (value.i % 4) + 1,
  }),
  'fetch, hits': fetchHits,
}

/** The implementations, each `{ create(options), get(cache, key), set(cache, key, value) }`. */
const implementations = {
  WeakCache: () => cacheOf(require('../index.js').WeakCache),
  // EPHEMERON_BEFORE=<dir>: the WeakCache of another checkout (built), for a before/after.
  'WeakCache (before)': () => cacheOf(require(path.resolve(process.env.EPHEMERON_BEFORE)).WeakCache),
  'lru-cache': () => cacheOf(require('lru-cache').LRUCache),
  // The floor of WeakCache's set: lru-cache's set plus one Node-API weak reference on the value
  // (benchmark/native/: `napi_add_finalizer`, as WeakCache makes for a demoted value).
  'lru-cache + weak reference (floor)': () => {
    const { LRUCache } = require('lru-cache')
    const { weakRef } = require('./native.js')
    return {
      create: (options) => new LRUCache(options),
      set: (cache, key, value) => {
        cache.set(key, value)
        if (typeof value === 'object') weakRef(value)
      },
    }
  },
  'weak-lru-cache': () => {
    const { WeakLRUCache, LRFUExpirer } = require('weak-lru-cache')
    // It keeps about `cacheSize` entries strongly (an LRFU of 4 generations of cacheSize / 4).
    return {
      create: ({ max }) => new WeakLRUCache({ expirer: new LRFUExpirer({ lruSize: max >> 2 }) }),
      get: (cache, key) => cache.getValue(key),
      set: (cache, key, value) => cache.setValue(key, value),
    }
  },
  // The limit for a hit.
  Map: () => ({ create: () => new Map(), get: (map, key) => map.get(key), set: (map, key, value) => map.set(key, value) }),
  // Not a cache: a Map that indexes every key it is given, as WeakCache's key index does while
  // demoted values wait for the GC (what that index alone costs).
  'Map index (get + set)': () => ({
    create: () => new Map(),
    set: (map, key, value) => {
      if (map.get(key) === undefined) map.set(key, value)
    },
  }),
}

function cacheOf(Class) {
  return {
    create: (options) => new Class(options),
    get: (cache, key) => cache.get(key),
    set: (cache, key, value) => cache.set(key, value),
    fetch: (cache, key) => cache.fetch(key),
  }
}

async function main() {
  const [scenarioName, implementationName] = process.argv.slice(2)
  const scenario = scenarios[scenarioName]
  const impl = implementations[implementationName]?.()
  if (scenario === undefined || impl === undefined) throw new Error(`unknown scenario or implementation: ${process.argv.slice(2)}`)
  const data = scenario.prepare()
  const samples = []
  let checksum
  for (let round = -2; round < 7; round++) {
    const cache = impl.create(scenario.options)
    scenario.fill(impl, cache, data)
    await settle()
    const start = performance.now()
    checksum = await scenario.loop(impl, cache, data)
    const elapsed = performance.now() - start
    if (round >= 0) samples.push((elapsed * 1e6) / scenario.ops)
    await settle()
  }
  samples.sort((a, b) => a - b)
  process.stdout.write(JSON.stringify({ ns: samples[samples.length >> 1], checksum }))
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error)
    process.exit(1)
  })
}

module.exports = { scenarios, implementations }
