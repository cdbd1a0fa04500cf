'use strict'
// IterableWeakMap against the built-in WeakMap (the physical limit for get/has), the npm package
// `weakref`'s pure-JS IterableWeakMap, and the WeakMap + Set<WeakRef> + FinalizationRegistry
// pattern. Every implementation works on the same keys; checksums must agree.
// EPHEMERON_BEFORE=<dir> adds the IterableWeakMap of another checkout (built), as
// '... (before)': a change measured against what it changes, in the same run.

const path = require('node:path')
const { compare } = require('./harness.js')
const { IterableWeakMap } = require('..')
const { IterableWeakMap: WeakrefPackageMap } = require('weakref')
const { WeakRefSetMap } = require('./peers/weakref-set-map.js')

const N = 10_000
const KEYS = Array.from({ length: N }, (_, i) => ({ i }))

const iterableImpls = [
  { name: 'ephemeron IterableWeakMap', make: () => new IterableWeakMap() },
  ...(process.env.EPHEMERON_BEFORE ? [{ name: 'ephemeron IterableWeakMap (before)', make: () => new (require(path.resolve(process.env.EPHEMERON_BEFORE)).IterableWeakMap)() }] : []),
  { name: 'weakref (npm) IterableWeakMap', make: () => new WeakrefPackageMap() },
  { name: 'WeakMap+Set<WeakRef>+FinalizationRegistry', make: () => new WeakRefSetMap() },
]
const withBuiltin = [{ name: 'built-in WeakMap', make: () => new WeakMap() }, ...iterableImpls]

function filled(make) {
  const map = make()
  for (const key of KEYS) map.set(key, key.i + 1) // non-zero: the weakref package's delete misses falsy values
  return map
}

function readScenarios() {
  const maps = new Map(withBuiltin.map((impl) => [impl.name, filled(impl.make)]))
  const REPEAT = 50
  compare(
    'get (10k keys, hits)',
    withBuiltin.map((impl) => ({
      name: impl.name,
      run: () => {
        const map = maps.get(impl.name)
        let sum = 0
        for (let r = 0; r < REPEAT; r++) for (let i = 0; i < N; i++) sum += map.get(KEYS[i])
        return sum
      },
    })),
    { ops: N * REPEAT, rounds: 9 },
  )
  compare(
    'has (10k keys, hits)',
    withBuiltin.map((impl) => ({
      name: impl.name,
      run: () => {
        const map = maps.get(impl.name)
        let count = 0
        for (let r = 0; r < REPEAT; r++) for (let i = 0; i < N; i++) if (map.has(KEYS[i])) count++
        return count
      },
    })),
    { ops: N * REPEAT, rounds: 9 },
  )
}

function writeScenarios() {
  compare(
    'set (10k new keys)',
    withBuiltin.map((impl) => ({
      name: impl.name,
      setup: () => impl.make(),
      run: (map) => {
        for (let i = 0; i < N; i++) map.set(KEYS[i], i)
        return map.has(KEYS[N - 1])
      },
    })),
    { ops: N, rounds: 15 },
  )
  compare(
    'set (10k present keys, new values)',
    withBuiltin.map((impl) => ({
      name: impl.name,
      setup: () => filled(impl.make),
      run: (map) => {
        for (let i = 0; i < N; i++) map.set(KEYS[i], -i)
        return map.get(KEYS[1])
      },
    })),
    { ops: N, rounds: 15 },
  )
  compare(
    'delete (10k present keys)',
    withBuiltin.map((impl) => ({
      name: impl.name,
      setup: () => filled(impl.make),
      run: (map) => {
        let deleted = 0
        for (let i = 0; i < N; i++) if (map.delete(KEYS[i])) deleted++
        // Reading size makes every implementation finish its deletes: ephemeron hands deletes to
        // Rust in batches, and the last batch must be timed too.
        return deleted + (map.size ?? 0)
      },
    })),
    { ops: N, rounds: 15 },
  )
  const maps = new Map(iterableImpls.map((impl) => [impl.name, filled(impl.make)]))
  compare(
    'iterate entries (10k)',
    iterableImpls.map((impl) => ({
      name: impl.name,
      run: () => {
        let sum = 0
        for (let r = 0; r < 10; r++) for (const [key, value] of maps.get(impl.name)) sum += key.i + value
        return sum
      },
    })),
    { ops: N * 10, rounds: 9 },
  )
}

const DROPPED = 200_000

// Garbage is made in a synchronous function so that no async frame keeps the keys alive.
function fillWithDroppedKeys(map) {
  for (let i = 0; i < DROPPED; i++) map.set({ i }, i)
}

/** Milliseconds from "200k keys became unreachable" to `size === 0` (GC included). */
async function cleanupTime(make) {
  const map = make()
  fillWithDroppedKeys(map)
  if (map.size !== DROPPED) throw new Error('fill failed')
  const start = performance.now()
  for (let turns = 0; map.size !== 0; turns++) {
    if (turns > 10_000) throw new Error('keys were never cleaned up')
    if (turns % 10 === 0) globalThis.gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
  return performance.now() - start
}

async function cleanupScenario() {
  if (typeof globalThis.gc !== 'function') {
    console.log('cleanup scenario skipped: run with --expose-gc')
    return
  }
  const times = new Map(iterableImpls.map((impl) => [impl.name, []]))
  for (let round = 0; round < 5; round++) {
    for (const impl of iterableImpls) times.get(impl.name).push(await cleanupTime(impl.make))
  }
  const median = (values) => values.sort((a, b) => a - b)[values.length >> 1]
  const base = median(times.get(iterableImpls[0].name))
  console.table(
    iterableImpls.map((impl) => {
      const ms = median(times.get(impl.name))
      return { scenario: `cleanup of ${DROPPED / 1000}k dropped keys`, implementation: impl.name, ms: Math.round(ms), 'x ephemeron': Math.round((ms / base) * 100) / 100 }
    }),
  )
}

module.exports = async function run() {
  readScenarios()
  writeScenarios()
  await cleanupScenario()
}
