'use strict'
// One memory measurement of benchmark/weak-cache.bench.js, in a process of its own (a config
// measured after another would reuse the heap pages and malloc arenas the other freed, and look
// smaller than it is). Prints one JSON line: V8 heap and RSS growth per entry after filling the
// cache with 1M entries (keys and values held by the benchmark, so only the cache's own structure
// counts) and two full GCs, and the median pause of 5 forced full GCs with the cache alive.
//
// Usage: node --expose-gc benchmark/weak-cache-memory.js <config>

const { WeakCache } = require('..')
const { LRUCache } = require('lru-cache')
const { WeakLRUCache, LRFUExpirer } = require('weak-lru-cache')
const { median } = require('./harness.js')

const gc = globalThis.gc
if (typeof gc !== 'function') throw new Error('run with node --expose-gc')

const N = 1_000_000
const configs = {
  'WeakCache, max 1M (all pinned)': () => new WeakCache({ max: N }),
  'WeakCache, max 1k (999k weak)': () => new WeakCache({ max: 1000 }),
  'lru-cache, max 1M': () => new LRUCache({ max: N }),
  'weak-lru-cache, 1M': () => new WeakLRUCache({ expirer: new LRFUExpirer({ lruSize: N >> 2 }) }),
  Map: () => new Map(),
}
const set = (cache, key, value) => (cache instanceof WeakLRUCache ? cache.setValue(key, value) : cache.set(key, value))
const get = (cache, key) => (cache instanceof WeakLRUCache ? cache.getValue(key) : cache.get(key))

function measure(name) {
  const keys = Array.from({ length: N }, (_, i) => `user:${i}`)
  const values = keys.map((_, i) => ({ i }))
  gc()
  gc()
  const before = process.memoryUsage()
  const cache = configs[name]()
  for (let i = 0; i < N; i++) set(cache, keys[i], values[i])
  gc()
  gc()
  const after = process.memoryUsage()
  const pauses = []
  for (let i = 0; i < 5; i++) {
    const start = process.hrtime.bigint()
    gc()
    pauses.push(Number(process.hrtime.bigint() - start) / 1e6)
  }
  for (let i = 0; i < N; i += 1000) if (get(cache, keys[i]) !== values[i]) throw new Error(`${name}: lost entry ${i}`)
  return {
    heap: (after.heapUsed - before.heapUsed) / N,
    rss: (after.rss - before.rss) / N,
    gcMs: median(pauses),
  }
}

if (require.main === module) console.log(JSON.stringify(measure(process.argv[2])))

module.exports = { configs }
