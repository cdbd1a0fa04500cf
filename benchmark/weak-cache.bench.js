'use strict'
// WeakCache against lru-cache@11 (what users would otherwise pick), weak-lru-cache (the same
// idea in pure JS) and Map (the limit for a hit). Run with `npm run bench -- weak-cache`.
// EPHEMERON_BEFORE=<dir> adds the WeakCache of another checkout (built: its addon beside its
// index.js) to every scenario, as 'WeakCache (before)': a change measured against what it changes,
// in the same run. WEAK_CACHE_BENCH=<regexp> runs only the scenarios whose name matches.
//
// Every implementation runs each scenario in fresh processes of its own (weak-cache-isolated.js
// says why), `rounds` of them interleaved; each row is the median of the processes' medians, with
// its range, and its ratio to the peer the WeakCache targets compare against (lru-cache, or
// weak-lru-cache for weak hits) and, in the set scenarios with object values, to the floor of
// WeakCache's set: lru-cache's set plus one Node-API weak reference on the value. Memory and GC
// pauses are measured in a fresh process per config (weak-cache-memory.js), rounds interleaved.

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { median } = require('./harness.js')
const { configs: memoryConfigs } = require('./weak-cache-memory.js')

const versionOf = (name) => JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'node_modules', name, 'package.json'), 'utf8')).version
const versions = ['lru-cache', 'weak-lru-cache'].map((name) => `${name}@${versionOf(name)}`)
console.log(`peers: ${versions.join(', ')}`)

const FLOOR = 'lru-cache + weak reference (floor)'
const INDEX = 'Map index (get + set)'
/** WeakCache (and the one before, if given), then `names`. */
const withWeakCache = (...names) => ['WeakCache', ...(process.env.EPHEMERON_BEFORE ? ['WeakCache (before)'] : []), ...names]

/** `scenario` of weak-cache-isolated.js for each implementation, each in processes of its own. */
function isolatedScenario(scenario, names, baseline, rounds = 5) {
  const script = path.join(__dirname, 'weak-cache-isolated.js')
  const samples = new Map(names.map((name) => [name, []]))
  const checksums = new Map()
  for (let round = 0; round < rounds; round++) {
    for (const name of names) {
      const child = spawnSync(process.execPath, ['--expose-gc', script, scenario, name], { encoding: 'utf8' })
      if (child.status !== 0) throw new Error(`${scenario}, ${name}: ${child.stderr}`)
      const { ns, checksum } = JSON.parse(child.stdout)
      samples.get(name).push(ns)
      checksums.set(name, checksum)
    }
  }
  // The same work: every implementation computed what the baseline computed.
  for (const [name, checksum] of checksums) {
    if (checksum !== checksums.get(baseline)) throw new Error(`${scenario}: ${name} computed ${checksum}, ${baseline} ${checksums.get(baseline)}`)
  }
  const base = median(samples.get(baseline))
  const floor = samples.has(FLOOR) ? median(samples.get(FLOOR)) : undefined
  const rows = [...samples].map(([name, ns]) => ({
    scenario,
    implementation: name,
    'ns/op': round2(median(ns)),
    range: `${Math.round(Math.min(...ns))}-${Math.round(Math.max(...ns))}`,
    [`x ${baseline}`]: round2(median(ns) / base),
    ...(floor !== undefined && { 'x floor': round2(median(ns) / floor) }),
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
  const scenarios = [
    ['get, pinned hits, string keys', withWeakCache('lru-cache', 'weak-lru-cache', 'Map'), 'lru-cache'],
    ['get, pinned hits, number keys', withWeakCache('lru-cache', 'weak-lru-cache', 'Map'), 'lru-cache'],
    ['get, 90% weak hits', withWeakCache('lru-cache', 'weak-lru-cache', 'Map'), 'weak-lru-cache'],
    ['set, string keys, object values', withWeakCache('lru-cache', FLOOR, 'weak-lru-cache', INDEX), 'lru-cache'],
    ['set, number keys, object values', withWeakCache('lru-cache', FLOOR, INDEX), 'lru-cache'],
    ['set, string keys, number values', withWeakCache('lru-cache', 'weak-lru-cache'), 'lru-cache'],
    ['set with maxSize, object values of sizes 1 to 4', withWeakCache('lru-cache'), 'lru-cache'],
    ['fetch, hits', withWeakCache('lru-cache'), 'lru-cache'],
  ]
  for (const [name, names, baseline] of scenarios) if (wanted(name)) isolatedScenario(name, names, baseline)
  if (wanted('memory')) memoryScenario()
}
