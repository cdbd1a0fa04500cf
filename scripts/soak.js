#!/usr/bin/env node
'use strict'
// `npm run soak -- --minutes N`: every class at once, with churn, for N minutes (default 1):
// worker threads started and terminated mid-work, files opened and forgotten, caches filled and
// dropped, registries made and dropped, log rotation. Every few seconds it waits until no worker
// is alive (one that does not exit fails the run) and samples RSS, the V8 heap, open file
// descriptors and threads after a full GC. It passes when memory plateaus after warm-up (the last
// third of the run grows less than a bound over the first third after warm-up) and descriptors
// and threads do not grow. Then, in a process of its own, the long run of WeakCache's differential
// fuzz against lru-cache (scripts/lru-differential.js; `--lru-sequences N`, default 1000 of 400
// steps), which must agree on every sequence. Exit code 0 = pass.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads')

if (isMainThread && (typeof globalThis.gc !== 'function' || process.env.MALLOC_ARENA_MAX === undefined)) {
  // Re-run with --expose-gc: samples are taken after a full collection, so they compare. And with
  // two malloc arenas (glibc reads MALLOC_ARENA_MAX at start-up; other allocators ignore it):
  // glibc gives threads arenas of their own, up to 8 per core, and the worker churn here touches
  // more of them for minutes, each keeping the pages it once used. That grew RSS by 14 MB in a
  // one-minute run on a loaded machine with nothing leaking (2.3 MB with two arenas), and would
  // hide a leak's growth or fail a run without one.
  const env = { ...process.env, MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2' }
  const result = spawnSync(process.execPath, ['--expose-gc', __filename, ...process.argv.slice(2)], { stdio: 'inherit', env })
  process.exit(result.status ?? 1)
}

const { IterableWeakMap, IterableWeakSet, WeakCache, LeakRegistry } = require('..')

const SAMPLE_MS = 3000
/** A worker terminated or ending on its own exits within this (it takes well under a second). */
const WORKER_EXIT_MS = 10_000
/** Growth allowed between the first and the last third after warm-up: this much, or this fraction. */
const RSS_SLACK_BYTES = 24 * 1024 * 1024
const RSS_SLACK_FRACTION = 0.1
const HEAP_SLACK_BYTES = 8 * 1024 * 1024

/** One round of churn over every class; `dir` for files and logs. Returns nothing: all garbage. */
async function churn(state, dir, round) {
  // IterableWeakMap / IterableWeakSet: keys come and go; the long-lived map follows them.
  const keys = Array.from({ length: 500 }, (_, i) => ({ i }))
  for (const key of keys) state.map.set(key, { key, round })
  for (const key of keys.slice(0, 250)) state.set.add(key)
  let visited = 0
  for (const [key] of state.map) if (++visited > 100) break // an abandoned iterator
  for (const key of keys.slice(0, 100)) state.map.delete(key)
  if (round % 50 === 0) state.map.clear()
  new IterableWeakMap(keys.slice(0, 50).map((key) => [key, round])) // made and dropped

  // WeakCache: a long-lived one with a weak tail, and short-lived ones filled and dropped.
  for (let i = 0; i < 500; i++) {
    const key = `k${(round * 500 + i) % 5000}`
    if (state.cache.get(key) === undefined) state.cache.set(key, { key, payload: Buffer.alloc(256) })
  }
  const shortLived = new WeakCache({ max: 50, ttl: 1000, dispose() {} })
  for (let i = 0; i < 200; i++) shortLived.set(i, { i })
  shortLived.get(3)
  // WeakCache with lru-cache's features: fetches (a tenth aborted, some failing), sizes, ttls
  // purged by timers, memo.
  const fetches = []
  for (let i = 0; i < 100; i++) {
    const controller = new AbortController()
    fetches.push(state.fetching.fetch(`f${(round * 100 + i) % 1000}`, { signal: controller.signal }).catch(() => {}))
    if (i % 10 === 0) controller.abort()
  }
  await Promise.all(fetches)
  for (let i = 0; i < 50; i++) state.fetching.memo(`m${(round * 50 + i) % 500}`)

  // LeakRegistry: track/release, leaks, held resources that get suspected, forgotten files.
  for (let i = 0; i < 200; i++) state.registry.release(state.registry.track({ i }, { type: 'Churn' }))
  for (let i = 0; i < 20; i++) state.registry.track({ i }, { type: 'Dropped' }) // leaks
  const held = state.registry.track({ round }, { type: 'Held', suspectAfter: 50 })
  state.registry.touch(held, 'soak')
  setTimeout(() => state.registry.release(held), 100).unref()
  if (state.files) {
    const file = await state.registry.openFile(path.join(dir, 'data.txt'))
    await file.read(Buffer.alloc(16), 0, 16, 0)
    if (round % 2 === 0) await file.close() // the other half is forgotten: the guard closes it
  }
  const dropped = new LeakRegistry({ log: path.join(dir, 'shared.jsonl'), suspectAfter: 10 })
  dropped.track({}) // a registry made and dropped with something to report
  if (isMainThread && round % 25 === 0) {
    fs.renameSync(path.join(dir, 'soak.jsonl'), path.join(dir, 'soak.jsonl.1'))
    state.registry.reopenLog()
    fs.rmSync(path.join(dir, 'soak.jsonl.1'), { force: true })
  }
}

/**
 * `files`: whether this thread opens files. Workers that get terminated do not: Node itself
 * leaks the descriptor of a file operation in flight when a worker is terminated, with or without
 * ephemeron (measured: 20 terminated workers that open and close files in a loop leak 4 to 6
 * descriptors with plain fs.promises), which would hide this run's own figure.
 */
function newState(dir, files) {
  return {
    files,
    map: new IterableWeakMap(),
    set: new IterableWeakSet(),
    cache: new WeakCache({ max: 200, dispose() {} }),
    fetching: new WeakCache({
      max: 300,
      maxSize: 64 * 1024,
      sizeCalculation: (value) => value.payload.length,
      ttl: 200,
      ttlAutopurge: true,
      allowStale: true,
      dispose() {},
      async fetchMethod(key) {
        await new Promise((resolve) => setImmediate(resolve))
        if (key.endsWith('7')) throw new Error('the load failed')
        return { key, payload: Buffer.alloc(256) }
      },
      memoMethod: (key) => ({ key, payload: Buffer.alloc(128) }),
    }),
    registry: new LeakRegistry({ log: path.join(dir, 'soak.jsonl'), stacks: 'sample' }),
  }
}

async function workerMain() {
  const state = newState(workerData.dir, workerData.endsOnItsOwn)
  for (let round = 1; ; round++) {
    await churn(state, workerData.dir, round)
    if (round % 10 === 0) globalThis.gc?.()
    if (round === workerData.rounds) return parentPort.postMessage('done') // natural exit
    await new Promise((resolve) => setImmediate(resolve))
  }
}

function countOf(dir) {
  try {
    return fs.readdirSync(dir).length
  } catch {
    return NaN
  }
}

async function sample() {
  for (let i = 0; i < 3; i++) {
    globalThis.gc()
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  const { rss, heapUsed } = process.memoryUsage()
  return { rss, heapUsed, fds: countOf('/proc/self/fd'), threads: countOf('/proc/self/task') }
}

/** Whether every worker in `workers` exits within `ms`. */
async function allExited(workers, ms) {
  let timer
  const timeout = new Promise((resolve) => (timer = setTimeout(resolve, ms, false)))
  const exited = Promise.all(workers.values()).then(() => true)
  const result = await Promise.race([exited, timeout])
  clearTimeout(timer)
  return result
}

const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`
const mean = (values) => values.reduce((sum, value) => sum + value, 0) / values.length

async function main() {
  const minutesArg = process.argv.indexOf('--minutes')
  const minutes = minutesArg > 0 ? Number(process.argv[minutesArg + 1]) : 1
  if (!(minutes > 0)) throw new Error(`--minutes must be a positive number; got ${process.argv[minutesArg + 1]}`)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ephemeron-soak-'))
  fs.writeFileSync(path.join(dir, 'data.txt'), 'soak data\n'.repeat(10))
  const state = newState(dir, true)
  const end = Date.now() + minutes * 60_000
  const samples = []
  /** Each live worker, with a promise of its exit. */
  const workers = new Map()
  let rounds = 0
  let workersStarted = 0
  let nextSample = Date.now() + SAMPLE_MS
  let nextWorker = Date.now()
  console.log(`soak: ${minutes} min, every class with churn, workers started and terminated; samples every ${SAMPLE_MS / 1000} s after GC`)
  while (Date.now() < end) {
    await churn(state, dir, ++rounds)
    if (Date.now() >= nextWorker && workers.size < 2) {
      nextWorker = Date.now() + 1500
      const endsOnItsOwn = workersStarted % 2 === 1
      const worker = new Worker(__filename, { workerData: { dir, rounds: endsOnItsOwn ? 20 : Infinity, endsOnItsOwn } })
      workersStarted++
      workers.set(worker, new Promise((resolve) => worker.on('exit', resolve)))
      worker.on('exit', () => workers.delete(worker))
      worker.on('error', (error) => {
        console.error('worker error:', error)
        process.exitCode = 1
      })
      if (!endsOnItsOwn) setTimeout(() => worker.terminate(), 800).unref() // terminated mid-work
    }
    if (Date.now() >= nextSample) {
      // A live worker adds its thread, descriptors and heap to the process: samples are taken
      // with none, so that they compare (and a worker that does not exit fails the run).
      if (!(await allExited(workers, WORKER_EXIT_MS))) {
        console.log(`FAIL: ${workers.size} worker(s) did not exit within ${WORKER_EXIT_MS / 1000} s`)
        process.exit(1) // a hung worker would keep the process alive
      }
      const taken = await sample()
      samples.push(taken)
      console.log(`${samples.length} samples: rss ${mb(taken.rss)}, heap ${mb(taken.heapUsed)}, fds ${taken.fds}, threads ${taken.threads}, rounds ${rounds}, workers ${workersStarted}`)
      nextSample = Date.now() + SAMPLE_MS
    }
    await new Promise((resolve) => setImmediate(resolve))
  }
  await Promise.all([...workers.keys()].map((worker) => worker.terminate()))
  // Warm-up: the first quarter of the run (JIT, arenas and pools reach their working size).
  const steady = samples.slice(Math.floor(samples.length / 4))
  const third = Math.max(1, Math.floor(steady.length / 3))
  const [first, last] = [steady.slice(0, third), steady.slice(-third)]
  const growth = (field) => mean(last.map((s) => s[field])) - mean(first.map((s) => s[field]))
  const rssBound = Math.max(RSS_SLACK_BYTES, RSS_SLACK_FRACTION * mean(first.map((s) => s.rss)))
  const checks = [
    ['RSS', 'rss', rssBound, mb],
    ['V8 heap', 'heapUsed', HEAP_SLACK_BYTES, mb],
    ['open file descriptors', 'fds', 8, (n) => n.toFixed(1)],
    ['threads', 'threads', 2, (n) => n.toFixed(1)],
  ]
  const stats = state.registry.stats()
  console.log(
    `${rounds} rounds, ${workersStarted} workers; registry: tracked ${stats.tracked}, leaked ${stats.leaked}, suspected ${stats.suspected}, ` +
      `log dropped ${stats.logDropped}; cache ${JSON.stringify(state.cache.stats())}; fetching cache ${JSON.stringify(state.fetching.stats())}`,
  )
  let failed = samples.length < 6
  if (failed) console.log(`FAIL: only ${samples.length} samples; run longer`)
  for (const [what, field, bound, format] of checks) {
    const grew = growth(field)
    const ok = grew <= bound
    failed ||= !ok
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}: ${format(mean(first.map((s) => s[field])))} after warm-up, grew ${format(grew)} by the end (bound ${format(bound)})`)
  }
  fs.rmSync(dir, { recursive: true, force: true })
  failed = !lruDifferential() || failed
  process.exitCode = failed ? 1 : process.exitCode
}

/** WeakCache against lru-cache, random operation sequences (after the samples: its memory is its own). */
function lruDifferential() {
  const sequencesArg = process.argv.indexOf('--lru-sequences')
  const sequences = sequencesArg > 0 ? process.argv[sequencesArg + 1] : '1000'
  const result = spawnSync(process.execPath, [path.join(__dirname, 'lru-differential.js'), '--sequences', sequences], { stdio: 'inherit' })
  const ok = result.status === 0
  if (!ok) console.log('FAIL: WeakCache diverged from lru-cache (above)')
  return ok
}

if (isMainThread) {
  main().catch((error) => {
    console.error(error)
    process.exit(1)
  })
} else {
  workerMain()
}
