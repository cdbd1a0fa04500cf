'use strict'
// One simulated long-running service, run as a child process by demo/index.js (one per cache
// strategy, so heaps do not mix). Every strategy gets the same seeded workload:
//
// - Requests ask for responses by key: 80% from a small hot set, 20% from an ever-growing tail
//   of new keys, and tail keys come back a while later, when the first response may still be
//   held by an open request or a session.
// - A response is held by its request for a while: most briefly, some (sessions, streams) for
//   seconds. A cache miss while another copy is still held builds a duplicate: the same
//   resource alive twice, the identity cost that a weak tail removes.
// - Connections come and go; their metadata sits in an IterableWeakMap that nobody cleans.
// - The ephemeron service also opens files through LeakRegistry and forgets to close a few.
//
// It reports a sample per tick to the parent over IPC.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { PerformanceObserver, constants } = require('node:perf_hooks')
const { LRUCache } = require('lru-cache')
const { WeakCache, IterableWeakMap, LeakRegistry } = require('..')

const [strategy, secondsArg, outDir] = process.argv.slice(2)
const seconds = Number(secondsArg)

const TICK_MS = 100
const TICKS = Math.max(10, Math.round((seconds * 1000) / TICK_MS))
const REQUESTS_PER_TICK = 1000
const HOT_KEYS = 1000
const CACHE_MAX = 2000
const LEAK_EVERY_N_FILES = 40

// A small seeded PRNG (mulberry32): every strategy sees the same sequence of requests.
function prng(seed) {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const random = prng(42)
const randomInt = (n) => Math.floor(random() * n)

function makeCache() {
  if (strategy === 'map') return { name: 'Map (unbounded)', cache: new Map() }
  if (strategy === 'lru') return { name: `lru-cache (max ${CACHE_MAX})`, cache: new LRUCache({ max: CACHE_MAX }) }
  return { name: `WeakCache (max ${CACHE_MAX})`, cache: new WeakCache({ max: CACHE_MAX }) }
}
const { name, cache } = makeCache()

// --- the service's own state -------------------------------------------------------------
const openRequests = new Map() // tick at which they finish -> responses they hold
const heldCopies = new Map() // key -> number of open requests holding a response for it
let tailKeys = 0
let hits = 0
let misses = 0
let duplicates = 0

function hold(response, forTicks, now) {
  const until = now + forTicks
  let list = openRequests.get(until)
  if (list === undefined) openRequests.set(until, (list = []))
  list.push(response)
  heldCopies.set(response.key, (heldCopies.get(response.key) ?? 0) + 1)
}

function finishRequests(now) {
  const done = openRequests.get(now)
  if (done === undefined) return
  openRequests.delete(now)
  for (const response of done) {
    const count = heldCopies.get(response.key) - 1
    if (count === 0) heldCopies.delete(response.key)
    else heldCopies.set(response.key, count)
  }
}

function buildResponse(key) {
  // About 4 KB of JS heap, like a small rendered response.
  return { key, builtAt: Date.now(), body: new Array(512).fill(key.length) }
}

function chooseKey() {
  const roll = random()
  if (roll < 0.8) return `hot:${randomInt(HOT_KEYS)}`
  if (roll < 0.9 || tailKeys === 0) return `tail:${tailKeys++}` // a brand-new key
  // A tail key from the last ~40 ticks comes back (often after a bounded LRU evicted it).
  return `tail:${Math.max(0, tailKeys - 1 - randomInt(4000))}`
}

function serve(now) {
  const key = chooseKey()
  let response = cache.get(key)
  if (response === undefined) {
    misses++
    if (heldCopies.has(key)) duplicates++ // another copy is still alive in an open request
    response = buildResponse(key)
    cache.set(key, response)
  } else {
    hits++
  }
  const long = random() < 0.3
  hold(response, long ? 20 + randomInt(60) : 1 + randomInt(3), now)
}

// --- connections: metadata in an IterableWeakMap that nobody ever deletes from --------------
const connectionMeta = new IterableWeakMap()
const liveConnections = new Map() // tick at which they close -> connections
let connectionsOpen = 0

function churnConnections(now) {
  const closing = liveConnections.get(now) ?? []
  liveConnections.delete(now)
  connectionsOpen -= closing.length // dropped: their metadata goes when the GC takes them
  const wave = Math.sin((now / TICKS) * Math.PI * 3) // load rises and falls
  const arriving = Math.max(0, Math.round(20 + 18 * wave + randomInt(5)))
  for (let i = 0; i < arriving; i++) {
    const connection = { remote: `10.0.${randomInt(256)}.${randomInt(256)}`, buffer: new Array(64).fill(0) }
    connectionMeta.set(connection, { connection, openedAt: Date.now(), requests: 0 })
    const until = now + 5 + randomInt(40)
    let list = liveConnections.get(until)
    if (list === undefined) liveConnections.set(until, (list = []))
    list.push(connection)
    connectionsOpen++
  }
}

// --- files through LeakRegistry (the ephemeron service only) --------------------------------
let registry
let filesOpened = 0
const leakLog = path.join(outDir, 'leaks.jsonl')
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ephemeron-demo-'))
if (strategy === 'weak') {
  fs.rmSync(leakLog, { force: true })
  registry = new LeakRegistry({
    name: 'demo',
    log: leakLog,
    onLeak: (report) => process.send({ leak: report }),
  })
}

async function writeAuditFile(now) {
  const file = path.join(scratch, `audit-${now}.log`)
  filesOpened++
  const handle = await registry.openFile(file, 'w')
  await handle.write(`tick ${now}\n`)
  if (filesOpened % LEAK_EVERY_N_FILES === 0) return // the bug: an early return that forgets close()
  await handle.close()
}

// --- the main loop ----------------------------------------------------------------------------
const started = Date.now()
const stats = () => (typeof cache.stats === 'function' ? cache.stats() : undefined)

// The heap right after each major collection: what the service really keeps at that moment. In
// between, heapUsed also counts garbage that V8 has not collected yet.
const majorGcs = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (entry.detail?.kind !== constants.NODE_PERFORMANCE_GC_MAJOR) continue
    process.send({ majorGc: { ms: Date.now() - started, heapMB: process.memoryUsage().heapUsed / 1048576 } })
  }
})
majorGcs.observe({ entryTypes: ['gc'] })

async function main() {
  for (let now = 0; now < TICKS; now++) {
    const tickStart = Date.now()
    finishRequests(now)
    churnConnections(now)
    for (let i = 0; i < REQUESTS_PER_TICK; i++) serve(now)
    if (registry !== undefined && now % 2 === 0) await writeAuditFile(now)
    const memory = process.memoryUsage()
    process.send({
      sample: {
        tick: now,
        ms: Date.now() - started,
        heapMB: memory.heapUsed / 1048576,
        hits,
        misses,
        duplicates,
        cacheSize: cache.size,
        weakHits: stats()?.weakHits,
        connectionsOpen,
        connectionMetaSize: connectionMeta.size,
        leaks: registry?.stats().leaked,
      },
    })
    // Pace the run like a server that sees a steady request rate; the event loop turns between
    // ticks, so GC notifications and finalizers run as they would in production.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, TICK_MS - (Date.now() - tickStart))))
  }
  majorGcs.disconnect()
  registry?.close()
  fs.rmSync(scratch, { recursive: true, force: true })
  // What the service really retains: the heap after full collections (the parent starts this
  // process with --expose-gc only for this measurement; GC ran on its own during the run).
  for (let i = 0; i < 3; i++) {
    globalThis.gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
  const retainedMB = process.memoryUsage().heapUsed / 1048576
  process.send({ done: { name, ticks: TICKS, requests: TICKS * REQUESTS_PER_TICK, filesOpened, retainedMB, stats: stats() } })
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
