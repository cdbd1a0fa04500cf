'use strict'
// WeakEventEmitter under real garbage collection (npm test runs node --expose-gc). Every spec
// proves both directions: what became unreachable was collected (a finalization watcher saw it
// go), and what is still held keeps its listeners and keeps firing.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { WeakEventEmitter } = require('..')
const { collectGarbage, finalizationWatcher, immediate } = require('./helpers/gc.js')
const { captureWarnings } = require('./helpers/warnings.js')

const MB = 1024 * 1024

// Garbage is made in synchronous functions: an async function keeps its temporaries alive.

/** Subscribes `count` owners that nothing else holds; each listener references its owner and a 1 MB buffer. */
function subscribeDropped(emitter, count, watcher, calls, event = 'tick') {
  for (let i = 0; i < count; i++) {
    const owner = { name: `dropped${i}`, buffer: new Uint8Array(MB).fill(1) }
    watcher.watch(owner, owner.name)
    emitter.on(event, owner, () => {
      calls.push(owner.name) // the listener references its owner
      owner.buffer[0]++
    })
  }
}

/** Owners the spec keeps, each with an anonymous listener that only the emitter references. */
function subscribeHeld(emitter, count, calls, event = 'tick') {
  const held = Array.from({ length: count }, (_, i) => ({ name: `held${i}` }))
  for (const owner of held) emitter.on(event, owner, () => calls.push(owner.name))
  return held
}

test('dropped owners and their listeners are collected; held owners keep firing', async () => {
  const emitter = new WeakEventEmitter()
  const watcher = finalizationWatcher()
  const calls = []
  const first = subscribeHeld(emitter, 3, calls)
  subscribeDropped(emitter, 20, watcher, calls)
  const last = subscribeHeld(emitter, 3, calls)
  const before = process.memoryUsage().arrayBuffers
  assert.equal(emitter.listenerCount('tick'), 26)
  emitter.emit('tick')
  assert.equal(calls.length, 26)

  await collectGarbage()

  assert.equal(watcher.collected.size, 20, 'every dropped owner (and so its listener) was collected')
  assert.ok(before - process.memoryUsage().arrayBuffers >= 18 * MB, 'their buffers were freed')
  calls.length = 0
  assert.equal(emitter.emit('tick'), true)
  assert.deepEqual(calls, [...first, ...last].map((owner) => owner.name), 'the held owners fire, in order')
  assert.equal(emitter.listenerCount('tick'), 6)
  assert.deepEqual([...emitter.owners('tick')], [...first, ...last])
  assert.equal(emitter.collectedOwners, 20, 'the leak signal counts the owners that never called off()')
})

test('an anonymous listener of a live owner is never lost, over many collections', async () => {
  const emitter = new WeakEventEmitter()
  const calls = []
  const held = subscribeHeld(emitter, 50, calls)
  emitter.once('tick', held[0], () => calls.push('once'))
  for (let round = 0; round < 5; round++) {
    // Garbage between collections, so that the heap really moves.
    ;(() => {
      for (let i = 0; i < 1000; i++) emitter.on('noise', { i }, () => i)
    })()
    await collectGarbage({ rounds: 1 })
  }
  emitter.emit('tick')
  assert.deepEqual(
    calls,
    [...held.map((owner) => owner.name), 'once'],
    'every listener ran, in subscription order, though nothing but the emitter references them',
  )
  assert.equal(emitter.listenerCount('tick'), 50)
  assert.equal(emitter.listenerCount('noise'), 0, 'the noise owners were collected')
})

test('a collected owner’s listener never runs again, even in the same turn as the collection', () => {
  // Synchronous on purpose: gc() clears the weak references at once; nothing waits for a
  // finalizer or a turn of the event loop.
  const emitter = new WeakEventEmitter()
  const calls = []
  const watcher = finalizationWatcher()
  const held = subscribeHeld(emitter, 2, calls)
  subscribeDropped(emitter, 5, watcher, calls)
  emitter.emit('tick')
  assert.equal(calls.length, 7)
  globalThis.gc()
  calls.length = 0
  assert.equal(emitter.emit('tick'), true)
  assert.deepEqual(calls, held.map((owner) => owner.name))
  assert.equal(emitter.listenerCount('tick'), 2)
})

test('a listener that references its owner keeps neither alive, whatever the listener holds', async () => {
  const emitter = new WeakEventEmitter()
  const watcher = finalizationWatcher()
  ;(() => {
    for (let i = 0; i < 10; i++) {
      const owner = { i }
      const listener = () => owner // a closure over its owner...
      owner.self = listener // ...and an owner that holds its listener: a cycle through the emitter
      watcher.watch(owner, `owner${i}`)
      watcher.watch(listener, `listener${i}`)
      emitter.on('a', owner, listener).once('b', owner, listener)
    }
  })()
  await collectGarbage()
  assert.equal(watcher.collected.size, 20, 'all ten owners and their ten listeners')
  assert.equal(emitter.emit('a'), false)
  assert.equal(emitter.emit('b'), false)
  assert.deepEqual(emitter.eventNames(), [])
})

test("'error' whose only listeners were collected throws again, as with no listener", async () => {
  const emitter = new WeakEventEmitter()
  const watcher = finalizationWatcher()
  ;(() => {
    const owner = {}
    watcher.watch(owner, 'owner')
    emitter.on('error', owner, () => owner)
  })()
  assert.equal(emitter.emit('error', new Error('handled')), true)
  await collectGarbage()
  assert.equal(watcher.collected.size, 1)
  assert.throws(() => emitter.emit('error', new Error('unhandled')), /unhandled/)
})

test('an owner dropped and collected during an emit: the emit completes, then the owner is gone', async () => {
  const emitter = new WeakEventEmitter()
  const watcher = finalizationWatcher()
  const calls = []
  const held = { name: 'held' }
  const slot = { owner: null }
  emitter.on('tick', held, () => {
    calls.push('held-first')
    slot.owner = null // drop the last reference to the next owner...
    globalThis.gc() // ...and collect in the middle of the emit
  })
  ;(() => {
    const owner = { name: 'dropped' }
    watcher.watch(owner, 'dropped')
    slot.owner = owner
    emitter.on('tick', owner, () => calls.push('dropped'))
  })()
  emitter.on('tick', held, () => calls.push('held-last'))
  assert.equal(emitter.emit('tick'), true)
  // The emit walks the listeners as they were when it started, so it holds their owners until it
  // returns: the dropped owner's listener ran, and nothing was skipped or crashed.
  assert.deepEqual(calls, ['held-first', 'dropped', 'held-last'])
  await collectGarbage()
  assert.equal(watcher.collected.size, 1, 'collected once the emit was over')
  calls.length = 0
  emitter.emit('tick')
  assert.deepEqual(calls, ['held-first', 'held-last'])
})

test('owners that called off() are not counted as collected; owners that forgot are', async () => {
  const emitter = new WeakEventEmitter()
  const watcher = finalizationWatcher()
  ;(() => {
    for (let i = 0; i < 6; i++) {
      const owner = { i }
      watcher.watch(owner, i)
      emitter.on('a', owner, () => owner).on('b', owner, () => owner)
      if (i < 2) emitter.off('a', owner).off('b', owner) // unsubscribed from everything: not a leak
      else if (i < 4) emitter.off('a', owner) // still on 'b': forgot that one
    }
  })()
  await collectGarbage()
  assert.equal(watcher.collected.size, 6)
  assert.equal(emitter.collectedOwners, 4)
})

test('a dropped emitter is collected with its subscriptions, even while its owners live', async () => {
  const watcher = finalizationWatcher()
  const owners = Array.from({ length: 5 }, (_, i) => ({ i }))
  ;(() => {
    const emitter = new WeakEventEmitter()
    watcher.watch(emitter, 'emitter')
    for (const owner of owners) emitter.on('x', owner, () => emitter) // listeners reference the emitter
    emitter.emit('x')
  })()
  await collectGarbage()
  assert.deepEqual([...watcher.collected], ['emitter'])
  assert.equal(owners.length, 5)
})

/** Owners subscribed to 'a' and 'b': `forget` of them never unsubscribe, `tidy` unsubscribe from both. */
function subscribeForgetfulAndTidy(emitter, forget, tidy) {
  for (let i = 0; i < forget + tidy; i++) {
    const owner = { i }
    emitter.on('a', owner, () => owner).on('b', owner, () => owner)
    if (i >= forget) emitter.off('a', owner).off('b', owner)
  }
}

test('onCollect: owners collected while subscribed, batched on the event loop, never inside gc()', async () => {
  const reports = []
  const emitter = new WeakEventEmitter({ onCollect: (count) => reports.push(count) })
  const held = subscribeHeld(emitter, 2, [], 'a')
  subscribeForgetfulAndTidy(emitter, 7, 5)
  globalThis.gc()
  assert.deepEqual(reports, [], 'not inside gc() or synchronous code')
  await collectGarbage()
  assert.equal(reports.reduce((a, b) => a + b, 0), 7, 'the 7 that never called off(), not the 5 that did')
  assert.ok(reports.length <= 2, `in batches (${reports.length} calls)`)
  assert.equal(emitter.collectedOwners, 7)
  // Later collections are reported as they come, each owner once.
  subscribeForgetfulAndTidy(emitter, 3, 3)
  await collectGarbage()
  assert.equal(reports.reduce((a, b) => a + b, 0), 10)
  assert.equal(emitter.collectedOwners, 10)
  assert.equal(emitter.listenerCount('a'), 2, 'the held owners are still subscribed')
  assert.equal(held.length, 2)
})

test('onCollect that throws: a warning with code ERR_EPHEMERON_ON_COLLECT; later reports still arrive', async () => {
  const reports = []
  const emitter = new WeakEventEmitter({
    onCollect: (count) => {
      reports.push(count)
      if (reports.length === 1) throw new TypeError('gauge is not a function')
    },
  })
  const warnings = await captureWarnings(async () => {
    subscribeForgetfulAndTidy(emitter, 4, 0)
    await collectGarbage()
    subscribeForgetfulAndTidy(emitter, 2, 0)
    await collectGarbage()
    await immediate()
  })
  assert.deepEqual(reports, [4, 2])
  assert.deepEqual(
    warnings.map((w) => [w.type, w.code]),
    [['WeakEventEmitterWarning', 'ERR_EPHEMERON_ON_COLLECT']],
  )
  assert.match(warnings[0].message, /WeakEventEmitter onCollect threw: TypeError: gauge is not a function/)
})

test('an emitter whose onCollect and listeners reference it is collected when dropped', async () => {
  const watcher = finalizationWatcher()
  const owners = [{}, {}]
  ;(() => {
    const emitter = new WeakEventEmitter({ onCollect: () => emitter.listenerCount('x') })
    watcher.watch(emitter, 'emitter')
    for (const owner of owners) emitter.on('x', owner, () => emitter)
    emitter.emit('x')
  })()
  await collectGarbage()
  assert.deepEqual([...watcher.collected], ['emitter'])
})

test('bad options are TypeErrors with code ERR_INVALID_ARG_TYPE', () => {
  for (const options of [null, 1, 'x']) {
    assert.throws(() => new WeakEventEmitter(options), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: /WeakEventEmitter: options must be an object/ })
  }
  assert.throws(() => new WeakEventEmitter({ onCollect: 'log' }), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: /options.onCollect must be a function/ })
  assert.equal(new WeakEventEmitter({}).collectedOwners, 0)
})
