'use strict'
// IterableWeakMap/IterableWeakSet under real garbage collection (npm test runs node --expose-gc).
// Every spec proves that collection happened and that what is still held was kept.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { IterableWeakMap, IterableWeakSet } = require('..')
const { collectGarbage, finalizationWatcher, immediate } = require('./helpers/gc.js')
const { captureWarnings } = require('./helpers/warnings.js')

const MB = 1024 * 1024

// Garbage is made in synchronous functions: an async function keeps its temporaries alive.
function addDroppedKeys(map, count, makeValue = (key) => key.i) {
  for (let i = 0; i < count; i++) {
    const key = { i }
    map.set(key, makeValue(key))
  }
}

test('unreachable keys disappear; held keys and their values are kept', async () => {
  const map = new IterableWeakMap()
  const held = Array.from({ length: 10 }, (_, i) => ({ held: i }))
  for (const key of held) map.set(key, { payload: key.held })
  addDroppedKeys(map, 1000)
  assert.equal(map.size, 1010)

  await collectGarbage()

  assert.equal(map.size, 10, 'the 1000 dropped keys were collected')
  assert.deepEqual([...map.keys()], held, 'the held keys remain, in order')
  assert.deepEqual([...map.values()].map((v) => v.payload), held.map((k) => k.held))
})

test('a value that references its key does not keep it alive (ephemeron), even a large one', async () => {
  const map = new IterableWeakMap()
  const values = finalizationWatcher()
  const before = process.memoryUsage().arrayBuffers
  ;(function fill() {
    for (let i = 0; i < 5; i++) {
      const key = { i }
      const value = { key, buffer: new ArrayBuffer(20 * MB) }
      new Uint8Array(value.buffer).fill(1) // really allocate it
      values.watch(value, i)
      map.set(key, value)
    }
  })()
  const heldKey = {}
  map.set(heldKey, { key: heldKey, buffer: new ArrayBuffer(20 * MB) })
  assert.ok(process.memoryUsage().arrayBuffers - before >= 110 * MB, 'six 20 MB buffers are allocated')

  await collectGarbage({ rounds: 3 })

  assert.equal(map.size, 1, 'only the held key remains')
  assert.equal(values.collected.size, 5, 'all five values were collected')
  const retained = process.memoryUsage().arrayBuffers - before
  assert.ok(retained < 30 * MB, `only the held 20 MB stays retained, not ${Math.round(retained / MB)} MB`)
  assert.equal(map.get(heldKey).buffer.byteLength, 20 * MB, 'the held value is intact')
})

test('iteration never yields a collected key, even before its finalizer has run', () => {
  // Synchronous on purpose: gc() clears the weak references at once, while Node runs the
  // finalizers only on a later event-loop turn, so `size` still counts the dead entries here.
  const map = new IterableWeakMap()
  const held = { held: true }
  map.set(held, 1)
  addDroppedKeys(map, 100)
  globalThis.gc()
  const seen = [...map.keys()]
  assert.deepEqual(seen, [held], 'only the live key is yielded')
  assert.equal(map.size, 101, 'size counts the dead entries until their finalizers run (README: GC timing)')
})

test('size drops once the finalizers have run', async () => {
  const map = new IterableWeakMap()
  addDroppedKeys(map, 100)
  globalThis.gc()
  await collectGarbage({ rounds: 1 })
  assert.equal(map.size, 0)
})

test('symbol keys are held weakly too', async () => {
  const map = new IterableWeakMap()
  const held = Symbol('held')
  map.set(held, 'kept')
  ;(function () {
    for (let i = 0; i < 50; i++) map.set(Symbol(`dropped ${i}`), i)
  })()
  await collectGarbage()
  assert.equal(map.size, 1)
  assert.deepEqual([...map], [[held, 'kept']])
})

test('a value stays alive as long as its key, with no other reference to it', async () => {
  const map = new IterableWeakMap()
  const key = {}
  const gc = finalizationWatcher()
  ;(function () {
    const value = { only: 'referenced by the map' }
    gc.watch(value, 'value')
    map.set(key, value)
  })()
  await collectGarbage()
  assert.equal(gc.collected.has('value'), false, 'the value was not collected')
  assert.deepEqual(map.get(key), { only: 'referenced by the map' })
  map.delete(key)
  await collectGarbage()
  assert.equal(gc.collected.has('value'), true, 'after delete the value is collectable')
})

test('IterableWeakSet members vanish when collected; held ones stay', async () => {
  const held = { held: true }
  const set = new IterableWeakSet([held])
  ;(function () {
    for (let i = 0; i < 100; i++) set.add({ i })
  })()
  assert.equal(set.size, 101)
  await collectGarbage()
  assert.equal(set.size, 1)
  assert.deepEqual([...set], [held])
})

test('churn: 100k keys over several collections end with size 0 and a bounded heap', async () => {
  const map = new IterableWeakMap()
  const heapAt = []
  for (let round = 0; round < 10; round++) {
    addDroppedKeys(map, 10_000, (key) => ({ key, data: new Array(16).fill(key.i) }))
    await collectGarbage({ rounds: 1 })
    heapAt.push(process.memoryUsage().heapUsed)
  }
  await collectGarbage()
  assert.equal(map.size, 0, 'every dropped key was cleaned up')
  assert.deepEqual([...map], [])
  const growth = heapAt[heapAt.length - 1] - heapAt[1]
  assert.ok(growth < 8 * MB, `heap grew by ${Math.round(growth / MB)} MB over 90k keys`)
})

test('clear() and deleting the dropped entries before their finalizers run is safe', async () => {
  const map = new IterableWeakMap()
  addDroppedKeys(map, 1000)
  globalThis.gc() // weak references cleared, finalizers still pending
  map.clear() // deletes the references, which cancels the pending finalizers
  const key = {}
  map.set(key, 'after clear')
  await collectGarbage()
  assert.deepEqual([...map], [[key, 'after clear']])
  assert.equal(map.size, 1)
})

test('a dropped map with live entries is collected without crashing, its keys unaffected', async () => {
  const gc = finalizationWatcher()
  const keys = Array.from({ length: 100 }, (_, i) => ({ i }))
  ;(function () {
    const map = new IterableWeakMap(keys.map((key) => [key, key.i]))
    addDroppedKeys(map, 100)
    gc.watch(map, 'map')
  })()
  await collectGarbage({ rounds: 3 })
  assert.equal(gc.collected.has('map'), true, 'the map itself was collected')
  // The next map works as before.
  const next = new IterableWeakMap(keys.map((key) => [key, -key.i]))
  await collectGarbage()
  assert.equal(next.size, 100)
})

// A regression: an iterator used to fetch the next 64 entries at once and hold them (and so
// their keys) until it passed them; an abandoned iterator pinned them for as long as it lived.
test('regression: an abandoned iterator does not pin its batched keys', async () => {
  const map = new IterableWeakMap()
  const set = new IterableWeakSet()
  const keys = finalizationWatcher()
  const held = { held: true }
  ;(function fill() {
    for (let i = 0; i < 100; i++) {
      const key = { i }
      keys.watch(key, i)
      map.set(key, i)
      set.add(key)
    }
  })()
  map.set(held, 'held')
  set.add(held)
  // Started and abandoned, but still reachable: each has yielded one key (dropped at once).
  const iterators = [map.entries(), map.keys(), map.values(), set.values(), set.entries()]
  for (const iterator of iterators) assert.equal(iterator.next().done, false)

  await collectGarbage()

  assert.equal(keys.collected.size, 100, 'every dropped key was collected, including those right after the cursors')
  assert.equal(map.size, 1)
  assert.equal(set.size, 1)
  // The abandoned iterators still work: they go on after the key they yielded, with what is live.
  assert.deepEqual(iterators[1].next(), { value: held, done: false })
  assert.deepEqual(iterators[0].next(), { value: [held, 'held'], done: false })
  assert.deepEqual(iterators[3].next(), { value: held, done: false })
  assert.deepEqual(iterators[4].next(), { value: [held, held], done: false })
  assert.equal(iterators[2].next().value, 'held')
  for (const iterator of iterators) assert.equal(iterator.next().done, true)
})

test('regression: an iterator still yields every live key in order while keys around it are collected', async () => {
  const map = new IterableWeakMap()
  const held = []
  ;(function fill() {
    for (let i = 0; i < 300; i++) {
      const key = { i }
      if (i % 3 === 0) held.push(key) // every third key stays reachable
      map.set(key, i)
    }
  })()
  const iterator = map.keys()
  const seen = []
  for (let step = 0; step < 10; step++) seen.push(iterator.next().value.i) // 0..9, the dropped ones too
  await collectGarbage()
  for (let step = iterator.next(); !step.done; step = iterator.next()) seen.push(step.value.i)
  const expected = [...Array.from({ length: 10 }, (_, i) => i), ...held.map((key) => key.i).filter((i) => i >= 10)]
  assert.deepEqual(seen, expected, 'the first ten, then exactly the held keys after them, in order')
  assert.equal(map.size, held.length)
})

test('onCollect: the number of collected keys, batched on the event loop; deleted and cleared keys do not count', async () => {
  const reports = []
  const map = new IterableWeakMap(undefined, { onCollect: (count) => reports.push(count) })
  const held = { held: true }
  map.set(held, 'held')
  ;(() => {
    const deleted = []
    for (let i = 0; i < 50; i++) {
      const key = { i }
      map.set(key, i)
      if (i % 5 === 0) deleted.push(key)
    }
    for (const key of deleted) map.delete(key) // 10 deleted: explicit, not collected
  })()
  globalThis.gc()
  assert.deepEqual(reports, [], 'never inside gc() or synchronous code')
  await collectGarbage()
  assert.equal(reports.reduce((a, b) => a + b, 0), 40, 'the 40 dropped keys, not the 10 deleted ones')
  assert.ok(reports.length <= 2, `in batches (${reports.length} calls)`)
  assert.equal(map.size, 1)

  reports.length = 0
  ;(() => {
    for (let i = 0; i < 20; i++) map.set({ i }, i)
  })()
  map.clear() // before any collection: nothing to report
  await collectGarbage()
  assert.deepEqual(reports, [])
  assert.equal(held.held, true)
})

test('onCollect on IterableWeakSet, and a map whose callback references it is still collected', async () => {
  const reports = []
  const set = new IterableWeakSet(undefined, { onCollect: (count) => reports.push(count) })
  const watcher = finalizationWatcher()
  ;(() => {
    for (let i = 0; i < 30; i++) set.add({ i })
    const selfReferencing = new IterableWeakMap(undefined, { onCollect: () => selfReferencing.size })
    selfReferencing.set(set, 1)
    watcher.watch(selfReferencing, 'map')
  })()
  await collectGarbage()
  assert.equal(reports.reduce((a, b) => a + b, 0), 30)
  assert.deepEqual([...watcher.collected], ['map'], 'the wake-up holds its map weakly')
})

test('onCollect that throws: a warning with code ERR_EPHEMERON_ON_COLLECT, and later batches still arrive', async () => {
  const reports = []
  const map = new IterableWeakMap(undefined, {
    onCollect: (count) => {
      reports.push(count)
      if (reports.length === 1) throw new Error('metrics backend down')
    },
  })
  const warnings = await captureWarnings(async () => {
    addDroppedKeys(map, 10)
    await collectGarbage()
    addDroppedKeys(map, 5)
    await collectGarbage()
    await immediate()
  })
  assert.deepEqual(reports, [10, 5])
  assert.equal(warnings.length, 1)
  assert.equal(warnings[0].type, 'IterableWeakMapWarning')
  assert.equal(warnings[0].code, 'ERR_EPHEMERON_ON_COLLECT')
  assert.match(warnings[0].message, /onCollect threw: Error: metrics backend down/)
})
