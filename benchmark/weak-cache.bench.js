'use strict'
// WeakCache against lru-cache@11 (what users would otherwise pick), weak-lru-cache (the same
// idea in pure JS) and Map (the limit for a hit), side by side in one process. Run with
// `npm run bench -- weak-cache` (needs --expose-gc, which the npm script passes).
// EPHEMERON_BEFORE=<dir> adds the WeakCache of another checkout (built: its addon beside its
// index.js) to every scenario, as 'WeakCache (before)': a change measured against what it changes,
// in the same run.
//
// Each speed row is the median of interleaved rounds, with its ratio to the peer the WeakCache
// targets compare against (lru-cache, or weak-lru-cache for weak hits). A full GC and turns of the
// event loop follow each implementation's run (weak-cache-harness.js), as between a server's
// requests: the finalizers of weak references run there, paid by the implementation that made
// them. Memory and GC pauses are measured in a fresh
// process per config (weak-cache-memory.js), rounds interleaved, medians.

const { spawnSync } = require('node:child_process')
const { performance } = require('node:perf_hooks')
const fs = require('node:fs')
const path = require('node:path')
const { median } = require('./harness.js')
const { compareSettled } = require('./weak-cache-harness.js')
const { WeakCache } = require('../index.js')
const { LRUCache } = require('lru-cache')
const { WeakLRUCache, LRFUExpirer } = require('weak-lru-cache')
const { configs: memoryConfigs } = require('./weak-cache-memory.js')
const { weakRef } = require('./native.js')

const before = process.env.EPHEMERON_BEFORE ? require(path.resolve(process.env.EPHEMERON_BEFORE)).WeakCache : undefined

const gc = globalThis.gc
if (typeof gc !== 'function') throw new Error('run with node --expose-gc')

const versionOf = (name) => JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'node_modules', name, 'package.json'), 'utf8')).version
const versions = ['lru-cache', 'weak-lru-cache'].map((name) => `${name}@${versionOf(name)}`)
console.log(`peers: ${versions.join(', ')}`)

/** One adapter per implementation, so every scenario runs the same code for each. */
const peers = {
  WeakCache: { create: (max) => new WeakCache({ max }), get: (c, k) => c.get(k), set: (c, k, v) => c.set(k, v) },
  ...(before && { 'WeakCache (before)': { create: (max) => new before({ max }), get: (c, k) => c.get(k), set: (c, k, v) => c.set(k, v) } }),
  'lru-cache': { create: (max) => new LRUCache({ max }), get: (c, k) => c.get(k), set: (c, k, v) => c.set(k, v) },
  // weak-lru-cache keeps about `cacheSize` entries strongly (an LRFU of 4 generations of cacheSize/4).
  'weak-lru-cache': {
    create: (max) => new WeakLRUCache({ expirer: new LRFUExpirer({ lruSize: Math.max(1, max >> 2) }) }),
    get: (c, k) => c.getValue(k),
    set: (c, k, v) => c.setValue(k, v),
  },
  Map: { create: () => new Map(), get: (c, k) => c.get(k), set: (c, k, v) => c.set(k, v) },
}

/**
 * A fresh copy of `fn` (which must not close over anything): each implementation gets its own
 * copy of a loop, so V8's inline caches in it stay monomorphic, as in a real program that uses
 * one cache class. Sharing one loop would make every peer pay for a megamorphic call site.
 */
const specialize = (fn) => new Function(`return (${fn})`)()

const stringKeys = (n) => Array.from({ length: n }, (_, i) => `user:${i}`)
const numberKeys = (n) => Array.from({ length: n }, (_, i) => i * 7 + 1)

function getLoop(cache, peer, keys, values, order, ops) {
  const { get, set } = peer
  let sum = 0
  for (let i = 0; i < ops; i++) {
    const k = order[i % order.length]
    // A miss reloads from the source, as a server would (only lru-cache misses here).
    const value = get(cache, keys[k]) ?? (set(cache, keys[k], values[k]), values[k])
    sum += value.i
  }
  return sum
}

function setObjectsLoop(cache, set, keys) {
  for (let i = 0; i < keys.length; i++) set(cache, keys[i], { i }) // fresh values, dropped by the caller
  return keys.length
}

function setNumbersLoop(cache, set, keys) {
  for (let i = 0; i < keys.length; i++) set(cache, keys[i], i)
  return keys.length
}

function getScenario(title, keys, max, order, baseline) {
  const values = keys.map((_, i) => ({ i })) // held here: weak entries stay alive
  const ops = 1_000_000
  const impls = Object.entries(peers).map(([name, peer]) => ({
    name,
    setup: () => {
      const cache = peer.create(max)
      for (let i = 0; i < keys.length; i++) peer.set(cache, keys[i], values[i])
      return cache
    },
    run: ((loop) => (cache) => loop(cache, peer, keys, values, order, ops))(specialize(getLoop)),
  }))
  return compareSettled(title, impls, { ops, rounds: 9, baseline })
}

/** Not a cache: a `Map` that indexes every key it is given (a get, then a set of a new key), as
 * WeakCache's index does while demoted values wait for the GC. It shows what that index alone
 * costs in the set scenarios. */
const growingIndex = {
  create: () => new Map(),
  set: (c, k, v) => {
    if (c.get(k) === undefined) c.set(k, v)
  },
}

/** The floor of WeakCache's set with eviction: lru-cache's set plus one Node-API weak reference
 * on the same value (`weakRef`, benchmark/native/: `napi_add_finalizer`, as WeakCache makes the
 * handle of a demoted value), in the same raw kind of call. */
const lruCacheWithWeakRef = {
  create: (max) => new LRUCache({ max }),
  set: (c, k, v) => {
    c.set(k, v)
    weakRef(v)
  },
}

function setScenario(title, loop, keys = stringKeys(100_000), floor = false) {
  const ops = keys.length
  const setPeers = { ...peers, ...(floor && { 'lru-cache + weak reference (floor)': lruCacheWithWeakRef }), 'Map index (get + set)': growingIndex }
  const impls = Object.entries(setPeers).map(([name, peer]) => ({
    name,
    setup: () => {
      const cache = peer.create(1000)
      for (let i = 0; i < 1000; i++) peer.set(cache, `warm:${i}`, { i })
      gc()
      return cache
    },
    run: ((copy) => (cache) => copy(cache, peer.set, keys))(specialize(loop)),
  }))
  return compareSettled(title, impls, { ops, rounds: 9, baseline: 'lru-cache' })
}

/** set with maxSize: steady-state eviction by size (fresh object values of sizes 1 to 4, about
 * 1000 of them fit), against lru-cache (the peers without sizes are left out). */
function setMaxSizeScenario() {
  const keys = stringKeys(100_000)
  const ops = keys.length
  const options = { maxSize: 2500, sizeCalculation: (value) => (value.i % 4) + 1 }
  const sized = {
    WeakCache: { create: () => new WeakCache(options), set: (c, k, v) => c.set(k, v) },
    ...(before && { 'WeakCache (before)': { create: () => new before(options), set: (c, k, v) => c.set(k, v) } }),
    'lru-cache': { create: () => new LRUCache(options), set: (c, k, v) => c.set(k, v) },
  }
  const impls = Object.entries(sized).map(([name, peer]) => ({
    name,
    setup: () => {
      const cache = peer.create()
      for (let i = 0; i < 1000; i++) peer.set(cache, `warm:${i}`, { i })
      gc()
      return cache
    },
    run: ((copy) => (cache) => copy(cache, peer.set, keys))(specialize(setObjectsLoop)),
  }))
  return compareSettled('set with maxSize, steady-state eviction (100k keys, fresh object values, sizes 1-4)', impls, {
    ops,
    rounds: 9,
    baseline: 'lru-cache',
  })
}

async function fetchLoop(cache, keys, order, ops) {
  let sum = 0
  for (let i = 0; i < ops; i++) sum += (await cache.fetch(keys[order[i % order.length]])).i
  return sum
}

/**
 * fetch hits: `await cache.fetch(key)` of a fresh key, with a fetchMethod that never runs (10k
 * string keys, all cached). An async loop, so it has its own interleaved rounds, reported as the
 * harness reports (median ns/op, ratio to lru-cache).
 */
async function fetchHitScenario(rounds = 9) {
  const keys = stringKeys(10_000)
  const values = keys.map((_, i) => ({ i }))
  const order = Array.from({ length: 10_000 }, (_, i) => (i * 7919) % 10_000)
  const ops = 200_000
  const fetchMethod = async () => {
    throw new Error('a hit never fetches')
  }
  const impls = {
    WeakCache: () => new WeakCache({ max: 10_000, fetchMethod }),
    ...(before && { 'WeakCache (before)': () => new before({ max: 10_000, fetchMethod }) }),
    'lru-cache': () => new LRUCache({ max: 10_000, fetchMethod }),
  }
  const loops = Object.fromEntries(Object.keys(impls).map((name) => [name, specialize(fetchLoop)]))
  const samples = Object.fromEntries(Object.keys(impls).map((name) => [name, []]))
  const checksums = new Set()
  for (let round = -1; round < rounds; round++) {
    for (const [name, create] of Object.entries(impls)) {
      const cache = create()
      keys.forEach((key, i) => cache.set(key, values[i]))
      const start = performance.now()
      const checksum = await loops[name](cache, keys, order, ops)
      const ns = ((performance.now() - start) * 1e6) / ops
      if (round < 0) checksums.add(checksum)
      else samples[name].push(ns)
      await new Promise((resolve) => setImmediate(resolve))
    }
  }
  if (checksums.size !== 1) throw new Error(`fetch hits: the implementations computed ${[...checksums]}`)
  const base = median(samples['lru-cache'])
  const rows = Object.entries(samples).map(([name, ns]) => ({
    scenario: 'fetch, hits (await fetch(key), 10k string keys, all cached)',
    implementation: name,
    'ns/op': Math.round(median(ns) * 100) / 100,
    'x lru-cache': Math.round((median(ns) / base) * 100) / 100,
  }))
  console.table(rows)
  return rows
}

function memoryScenario(rounds = 3) {
  const script = path.join(__dirname, 'weak-cache-memory.js')
  const samples = new Map(Object.keys(memoryConfigs).map((name) => [name, []]))
  for (let round = 0; round < rounds; round++) {
    for (const name of samples.keys()) {
      const child = spawnSync(process.execPath, ['--expose-gc', script, name], { encoding: 'utf8' })
      if (child.status !== 0) throw new Error(`${name}: ${child.stderr}`)
      samples.get(name).push(JSON.parse(child.stdout))
    }
  }
  const base = medians(samples.get('lru-cache, max 1M'))
  const rows = [...samples].map(([name, runs]) => {
    const m = medians(runs)
    return {
      cache: name,
      'V8 heap B/entry': Math.round(m.heap),
      'RSS B/entry': Math.round(m.rss),
      'full GC ms': Math.round(m.gcMs * 10) / 10,
      'heap x lru': round2(m.heap / base.heap),
      'RSS x lru': round2(m.rss / base.rss),
      'GC x lru': round2(m.gcMs / base.gcMs),
    }
  })
  console.log(`memory: 1M entries, median of ${rounds} fresh processes per config`)
  console.table(rows)
  return rows
}

const medians = (runs) => ({
  heap: median(runs.map((r) => r.heap)),
  rss: median(runs.map((r) => r.rss)),
  gcMs: median(runs.map((r) => r.gcMs)),
})
const round2 = (n) => Math.round(n * 100) / 100

/** WEAK_CACHE_BENCH=<regexp>: only the scenarios whose name matches (e.g. 'set|weak hits'). */
const only = process.env.WEAK_CACHE_BENCH ? new RegExp(process.env.WEAK_CACHE_BENCH) : undefined
const wanted = (name) => only === undefined || only.test(name)

module.exports = async function weakCacheBench() {
  const tenThousand = Array.from({ length: 10_000 }, (_, i) => (i * 7919) % 10_000)
  const scenarios = [
    ['get, pinned hits (10k string keys)', (t) => getScenario(t, stringKeys(10_000), 10_000, tenThousand, 'lru-cache')],
    ['get, pinned hits (10k number keys)', (t) => getScenario(t, numberKeys(10_000), 10_000, tenThousand, 'lru-cache')],
    ['get, 90% weak hits (max 1k of 10k held keys)', (t) => getScenario(t, stringKeys(10_000), 1000, tenThousand, 'weak-lru-cache')],
    ['set, steady-state eviction (max 1k, 100k string keys, fresh object values)', (t) => setScenario(t, setObjectsLoop, stringKeys(100_000), true)],
    ['set, steady-state eviction (max 1k, 100k number keys, fresh object values)', (t) => setScenario(t, setObjectsLoop, numberKeys(100_000), true)],
    ['set, steady-state eviction (max 1k, 100k keys, number values: no weak reference)', (t) => setScenario(t, setNumbersLoop)],
    ['set with maxSize', () => setMaxSizeScenario()],
    ['fetch, hits', () => fetchHitScenario()],
    ['memory', () => memoryScenario()],
  ]
  for (const [name, run] of scenarios) if (wanted(name)) await run(name)
}
