'use strict'
// WeakCache and the garbage collector: what is pinned survives, what is weak survives exactly as
// long as something else holds it, and 'collect' arrives batched on the event loop. Garbage is
// made in separate synchronous functions (an async function keeps its temporaries alive).

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const path = require('node:path')
const { WeakCache } = require('..')
const { recorded } = require('./helpers/weak-cache.js')
const { captureWarnings } = require('./helpers/warnings.js')
const { collectGarbage, eventually, immediate, finalizationWatcher } = require('./helpers/gc.js')

/** Sets `count` fresh objects of about `bytes` each that nothing else references. */
function fillUnheld(cache, prefix, count, bytes = 64) {
  for (let i = 0; i < count; i++) cache.set(`${prefix}${i}`, { i, payload: new Uint8Array(bytes) })
}

test('pinned entries survive GC even when nothing else holds their values', async () => {
  const cache = new WeakCache({ max: 50 })
  fillUnheld(cache, 'p', 50)
  const probe = new WeakRef(cache.peek('p0'))
  await collectGarbage()
  for (let i = 0; i < 50; i++) assert.equal(cache.get(`p${i}`)?.i, i)
  assert.ok(probe.deref(), 'the value behind the probe is alive')
  assert.deepEqual(cache.stats(), { ...cache.stats(), pinned: 50, weak: 0, collected: 0 })
})

test('weak entries survive while held elsewhere (same object) and vanish after the last reference is dropped', async () => {
  const { cache, log } = recorded({ max: 0 })
  const held = Array.from({ length: 20 }, (_, i) => ({ held: i }))
  held.forEach((value, i) => cache.set(`held${i}`, value))
  fillUnheld(cache, 'dropped', 200)
  assert.equal(cache.size, 220)
  await eventually(() => cache.size === 20, { message: `size stayed ${cache.size}` })
  for (let i = 0; i < 20; i++) assert.equal(cache.get(`held${i}`), held[i], 'the very same object')
  for (let i = 0; i < 200; i++) assert.equal(cache.has(`dropped${i}`), false)
  const collected = log.filter(([reason]) => reason === 'collect')
  assert.equal(collected.length, 200)
  assert.ok(collected.every(([, key, value]) => key.startsWith('dropped') && value === undefined))
  assert.equal(cache.stats().collected, 200)
  assert.deepEqual([...cache.keys()].sort(), held.map((_, i) => `held${i}`).sort())
})

test('a demoted value is collectable even in the middle of a long synchronous loop', () => {
  // JS WeakRefs keep their targets alive until the current job ends; native references do not.
  const cache = new WeakCache({ max: 0 })
  fillUnheld(cache, 'k', 10)
  const jsRefs = makeWeakRefs(10)
  globalThis.gc()
  globalThis.gc()
  let found = 0
  for (let i = 0; i < 10; i++) if (cache.get(`k${i}`) !== undefined) found++
  assert.equal(found, 0, 'the GC took the demoted values without waiting for the job to end')
  assert.equal(jsRefs.filter((ref) => ref.deref() !== undefined).length, 10, 'control: WeakRef targets are kept until the job ends')
})

function makeWeakRefs(count) {
  return Array.from({ length: count }, () => new WeakRef({ payload: new Uint8Array(64) }))
}

test("'collect' never arrives inside synchronous code, only later on the event loop", async () => {
  let synchronous = false
  const reasons = []
  const cache = new WeakCache({
    max: 0,
    dispose: (value, key, reason) => reasons.push([reason, synchronous]),
  })
  synchronous = true
  fillUnheld(cache, 'k', 10)
  globalThis.gc()
  for (let i = 0; i < 10; i++) cache.get(`k${i}`) // finds them collected (the deferred window)
  for (let i = 0; i < 1000; i++) cache.set(`x${i}`, 1) // evictions: synchronous by design
  synchronous = false
  assert.equal(reasons.filter(([reason]) => reason === 'collect').length, 0)
  await eventually(() => reasons.filter(([reason]) => reason === 'collect').length === 10)
  assert.ok(reasons.every(([reason, sync]) => (reason === 'collect') === !sync))
})

test('set again before the finalizer: the late collection event leaves the new value alone', async () => {
  for (const wait of [false, true]) {
    const { cache, log } = recorded({ max: 0 })
    fillUnheld(cache, 'k', 1)
    globalThis.gc() // the old value is gone; its finalizer has not run yet
    if (wait) await immediate() // now the finalizer ran and its event is queued
    const fresh = { fresh: true }
    cache.set('k0', fresh)
    await collectGarbage()
    assert.equal(cache.get('k0'), fresh, `wait=${wait}`)
    assert.equal(cache.size, 1)
    assert.deepEqual(
      log.filter(([reason]) => reason === 'collect'),
      [['collect', 'k0', undefined]],
      `the old value is reported collected exactly once (wait=${wait})`,
    )
  }
})

test('delete and clear of values collected before their finalizer ran: no delete, one collect each', async () => {
  const { cache, log } = recorded({ max: 0 })
  fillUnheld(cache, 'k', 4)
  const held = { held: true }
  cache.set('held', held)
  globalThis.gc() // k0..k3 are gone; their finalizers have not run yet
  assert.equal(cache.delete('k0'), false, 'a collected value cannot be deleted')
  cache.clear()
  assert.deepEqual(log, [['delete', 'held', held]])
  await eventually(() => log.length === 5)
  assert.deepEqual(log.slice(1).map(([reason, key]) => `${reason} ${key}`).sort(), ['collect k0', 'collect k1', 'collect k2', 'collect k3'])
  assert.equal(cache.size, 0)
})

test('churn: 200k sets with max 1000 and dropped values end with bounded size and heap', async () => {
  const cache = new WeakCache({ max: 1000 })
  const churn = (round) => {
    for (let i = 0; i < 100_000; i++) cache.set(`r${round}-${i}`, { i, payload: new Array(8).fill(i) })
  }
  churn(0)
  await collectGarbage()
  const heapAfterFirst = process.memoryUsage().heapUsed
  churn(1)
  await eventually(() => cache.size === 1000, { message: `size stayed ${cache.size}` })
  await collectGarbage()
  const growth = process.memoryUsage().heapUsed - heapAfterFirst
  assert.equal(cache.stats().pinned, 1000)
  assert.equal(cache.stats().weak, 0)
  assert.equal(cache.stats().collected, 199_000)
  assert.ok(growth < 8 * 1024 * 1024, `heap grew by ${growth} bytes over the second 100k sets`)
})

test('a dispose that throws during collect delivery is warned about, and later events still arrive', async () => {
  let cache
  const warnings = await captureWarnings(async () => {
    let calls = 0
    cache = new WeakCache({
      max: 0,
      dispose: () => {
        calls++
        throw new Error(`dispose ${calls} failed`)
      },
    })
    fillUnheld(cache, 'a', 5)
    await eventually(() => calls === 5)
    fillUnheld(cache, 'b', 5)
    await eventually(() => calls === 10, { message: `only ${calls} dispose calls` })
    await immediate()
  })
  assert.equal(warnings.filter((w) => w.code === 'ERR_EPHEMERON_DISPOSE_THREW').length, 10)
  assert.deepEqual(warnings.filter((w) => w.code !== 'ERR_EPHEMERON_DISPOSE_THREW'), [])
  assert.equal(cache.size, 0)
})

test('a cache nobody references is itself collected, with its weak entries', async () => {
  const gc = finalizationWatcher()
  ;(() => {
    const cache = new WeakCache({ max: 1, dispose: () => {} })
    fillUnheld(cache, 'k', 10)
    gc.watch(cache, 'cache')
  })()
  await eventually(() => gc.collected.has('cache'), { message: 'the cache was never collected' })
})

const fixture = path.join(__dirname, 'fixtures', 'weak-cache-exit.js')

test('process exit with live weak entries reports no collect and does not crash', () => {
  const result = spawnSync(process.execPath, ['--expose-gc', fixture, 'exit'], { encoding: 'utf8' })
  assert.equal(result.status, 0, result.stderr)
  assert.equal(result.stdout.trim(), 'done', 'no dispose call after done')
})

test('worker threads terminated mid-operation do not crash the process or disturb its cache', () => {
  const result = spawnSync(process.execPath, ['--expose-gc', fixture, 'workers'], { encoding: 'utf8' })
  assert.equal(result.status, 0, result.stderr)
  assert.equal(result.stdout.trim(), 'done')
})

test('regression: a dispose that throws odd values in the middle of a collect batch does not lose the rest of the batch', async () => {
  const revoked = Proxy.revocable({}, {})
  revoked.revoke()
  const throwables = [revoked.proxy, Object.create(null), 'a string', undefined]
  const collected = []
  let cache
  const warnings = await captureWarnings(async () => {
    cache = new WeakCache({
      max: 0,
      dispose: (value, key, reason) => {
        collected.push(key)
        throw throwables[collected.length % throwables.length]
      },
    })
    fillUnheld(cache, 'k', 40)
    await eventually(() => collected.length === 40, { message: `${collected.length} of 40 collect calls` })
    await immediate()
  })
  assert.deepEqual(collected.sort(), Array.from({ length: 40 }, (_, i) => `k${i}`).sort())
  assert.equal(warnings.filter((w) => w.code === 'ERR_EPHEMERON_DISPOSE_THREW').length, 40)
  assert.equal(cache.size, 0)
})

test('regression: caches whose pinned values point back at the cache are collected (1,000 of them), and a referenced one is not', async () => {
  const gc = finalizationWatcher()
  const count = 1000
  let kept
  ;(() => {
    for (let i = 0; i < count; i++) {
      const cache = new WeakCache({ max: 2, ttl: i % 2 ? 60_000 : 0, dispose: () => {} })
      cache.set('field', { cache, payload: new Uint8Array(256) }) // a field pointing back
      cache.set('closure', { read: () => cache.get('field') }) // a closure pointing back
      cache.set('weak', { cache }) // pushes 'field' out: a weak value pointing back
      gc.watch(cache, `cache ${i}`)
      if (i === 0) kept = cache
    }
  })()
  await eventually(() => gc.collected.size === count - 1, { timeoutMs: 20_000, message: `${gc.collected.size} of ${count - 1} caches collected` })
  assert.equal(gc.collected.has('cache 0'), false, 'the cache still referenced is alive')
  assert.equal(kept.peek('weak').cache, kept)
  assert.equal(typeof kept.peek('closure').read, 'function')
})

/** Sets `count` objects under `prefix`, watched by `gc`, that nothing else references. */
function fillWatched(cache, gc, prefix, count, options) {
  for (let i = 0; i < count; i++) {
    const value = { i, payload: new Uint8Array(64) }
    gc.watch(value, `${prefix}${i}`)
    cache.set(`${prefix}${i}`, value, options)
  }
}

test('weak: false: a value pushed out is disposed with itself and then collectable; with the weak tier it stays while held', async () => {
  const gc = finalizationWatcher()
  const { cache, log } = recorded({ max: 2, weak: false })
  fillWatched(cache, gc, 'e', 10)
  assert.deepEqual(log.map(([reason, key, value]) => [reason, key, value.i]), Array.from({ length: 8 }, (_, i) => ['evict', `e${i}`, i]))
  log.length = 0
  await eventually(() => gc.collected.size === 8, { message: `${gc.collected.size} of 8 evicted values collected` })
  assert.equal(gc.collected.has('e8') || gc.collected.has('e9'), false, 'the pinned ones are not')
  assert.deepEqual(log, [], "no 'collect': nothing was weak")
  const weak = recorded({ max: 2 })
  const held = Array.from({ length: 10 }, (_, i) => ({ i }))
  held.forEach((value, i) => weak.cache.set(i, value))
  await collectGarbage()
  assert.equal(weak.cache.get(0), held[0], 'the control: the default demotes, and a held value is a weak hit')
})

test('maxSize demotes too: a value pushed out by size is a weak hit while held and a collect once dropped', async () => {
  const held = { held: true, payload: new Uint8Array(64) }
  const { cache, log } = recorded({ maxSize: 4, sizeCalculation: () => 2 })
  cache.set('held', held)
  fillUnheld(cache, 'd', 3) // pushes held, then d0 out by size
  assert.equal(cache.calculatedSize, 4)
  await eventually(() => log.length === 1, { message: `log ${JSON.stringify(log)}` })
  assert.deepEqual(log, [['collect', 'd0', undefined]])
  assert.equal(cache.get('held'), held, 'pinned again, counting again')
  assert.equal(cache.calculatedSize, 4)
})

test('a refresh holds its stale value strongly while it runs; once it settles the old value is disposed and collectable', async () => {
  const gc = finalizationWatcher()
  let resolve
  const { cache, log } = recorded({ max: 2, ttl: 1, fetchMethod: () => new Promise((r) => (resolve = r)) })
  ;(() => {
    const stale = { stale: true }
    gc.watch(stale, 'stale')
    cache.set('k', stale)
  })()
  await new Promise((r) => setTimeout(r, 5)) // k is stale now
  const refreshed = cache.fetch('k')
  cache.set('other', 1)
  await collectGarbage()
  assert.equal(gc.collected.has('stale'), false, 'held by the fetch in flight, although nothing else holds it')
  assert.equal(cache.get('k', { allowStale: true }).stale, true)
  resolve({ fresh: true })
  assert.equal((await refreshed).fresh, true)
  assert.deepEqual(log.map(([reason, key, value]) => [reason, key, value?.stale]), [['set', 'k', true]])
  log.length = 0
  await eventually(() => gc.collected.has('stale'), { message: 'the replaced stale value was never collected' })
})
