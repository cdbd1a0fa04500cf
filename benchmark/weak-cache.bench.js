'use strict'
// WeakCache against lru-cache@11 (what users would otherwise pick), weak-lru-cache (the same
// idea in pure JS) and Map (the limit for a hit), side by side in one process. Run with
// `npm run bench -- weak-cache` (needs --expose-gc, which the npm script passes).

const { compare, median } = require('./harness.js')
const { WeakCache } = require('../index.js')
const { LRUCache } = require('lru-cache')
const { WeakLRUCache, LRFUExpirer } = require('weak-lru-cache')

const gc = globalThis.gc
if (typeof gc !== 'function') throw new Error('run with node --expose-gc')

const fs = require('node:fs')
const path = require('node:path')
const versionOf = (name) => JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'node_modules', name, 'package.json'), 'utf8')).version
const versions = ['lru-cache', 'weak-lru-cache'].map((name) => `${name}@${versionOf(name)}`)
console.log(`peers: ${versions.join(', ')}`)

/** One adapter per implementation, so every scenario runs the same code for each. */
const peers = {
  WeakCache: { create: (max) => new WeakCache({ max }), get: (c, k) => c.get(k), set: (c, k, v) => c.set(k, v) },
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

function setLoop(cache, set, keys) {
  for (let i = 0; i < keys.length; i++) set(cache, keys[i], { i }) // fresh values, dropped by the caller
  return keys.length
}

function getScenario(title, keys, max, order) {
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
  return compare(title, impls, { ops, rounds: 7, baseline: 'lru-cache' })
}

function setScenario() {
  const keys = stringKeys(100_000)
  const ops = keys.length
  const impls = Object.entries(peers).map(([name, peer]) => ({
    name,
    setup: () => {
      const cache = peer.create(1000)
      for (let i = 0; i < 1000; i++) peer.set(cache, `warm:${i}`, { i })
      gc()
      return cache
    },
    run: ((loop) => (cache) => loop(cache, peer.set, keys))(specialize(setLoop)),
  }))
  return compare('set, steady-state eviction (max 1k, 100k keys)', impls, { ops, rounds: 7, baseline: 'lru-cache' })
}

/** V8 heap bytes per entry and full-GC pause with 1M entries cached (keys and values are held
 * by the benchmark, so only the cache's own structure counts). */
function memoryScenario() {
  const n = 1_000_000
  const keys = stringKeys(n)
  const values = keys.map((_, i) => ({ i }))
  const configs = [
    ['WeakCache (max 1M: all pinned)', () => peers.WeakCache.create(n), peers.WeakCache],
    ['WeakCache (max 1k: 999k weak)', () => peers.WeakCache.create(1000), peers.WeakCache],
    ['lru-cache (max 1M)', () => peers['lru-cache'].create(n), peers['lru-cache']],
    ['weak-lru-cache (cacheSize 1M)', () => peers['weak-lru-cache'].create(n), peers['weak-lru-cache']],
    ['Map', () => peers.Map.create(), peers.Map],
  ]
  const rows = []
  for (const [name, create, peer] of configs) {
    gc()
    gc()
    const before = process.memoryUsage()
    let cache = create()
    for (let i = 0; i < n; i++) peer.set(cache, keys[i], values[i])
    gc()
    gc()
    const after = process.memoryUsage()
    const pauses = []
    for (let i = 0; i < 5; i++) {
      const start = process.hrtime.bigint()
      gc()
      pauses.push(Number(process.hrtime.bigint() - start) / 1e6)
    }
    let hits = 0
    for (let i = 0; i < n; i += 1000) if (peer.get(cache, keys[i]) === values[i]) hits++
    if (hits !== n / 1000) throw new Error(`${name}: lost entries`)
    rows.push({
      cache: name,
      'V8 heap B/entry': Math.round((after.heapUsed - before.heapUsed) / n),
      'RSS B/entry': Math.round((after.rss - before.rss) / n),
      'full GC ms (median of 5)': Math.round(median(pauses) * 10) / 10,
    })
    cache = undefined
  }
  console.table(rows)
  return rows
}

const tenThousand = Array.from({ length: 10_000 }, (_, i) => (i * 7919) % 10_000)
getScenario('get, pinned hits (10k string keys)', stringKeys(10_000), 10_000, tenThousand)
getScenario('get, pinned hits (10k number keys)', numberKeys(10_000), 10_000, tenThousand)
getScenario('get, 90% weak hits (max 1k of 10k held keys)', stringKeys(10_000), 1000, tenThousand)
setScenario()
memoryScenario()
