'use strict'
// IterableWeakMap/IterableWeakSet under real garbage collection (npm test runs node --expose-gc).
// Every spec proves that collection happened and that what is still held was kept.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { IterableWeakMap, IterableWeakSet } = require('..')
const { collectGarbage, finalizationWatcher } = require('./helpers/gc.js')

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
