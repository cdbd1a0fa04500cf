'use strict'
// Worker threads load the addon into their own environment. Natural exit and terminate() in the
// middle of operations must neither crash the process nor disturb the main thread's maps.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { Worker } = require('node:worker_threads')
const { IterableWeakMap } = require('..')
const { collectGarbage } = require('./helpers/gc.js')

const workerSource = `
const { parentPort, workerData } = require('node:worker_threads')
const { IterableWeakMap, IterableWeakSet } = require(${JSON.stringify(require.resolve('..'))})
const held = []
const map = new IterableWeakMap()
const set = new IterableWeakSet()
function churn(n) {
  for (let i = 0; i < n; i++) {
    const key = { i }
    if (i % 10 === 0) held.push(key)
    map.set(key, { key })
    set.add(key)
  }
}
churn(1000)
parentPort.postMessage({ size: map.size, members: [...set].length })
if (workerData.forever) {
  // Keep mutating until terminated: terminate() lands in the middle of operations.
  for (let round = 0; ; round++) {
    churn(1000)
    map.clear()
    if (round % 5 === 0) parentPort.postMessage({ round })
  }
}
`

function runWorker(workerData) {
  return new Worker(workerSource, { eval: true, workerData })
}

test('a worker uses the classes and exits naturally', async () => {
  const worker = runWorker({ forever: false })
  const [message] = await Promise.all([
    new Promise((resolve) => worker.once('message', resolve)),
    new Promise((resolve) => worker.once('exit', resolve)),
  ])
  assert.equal(message.size, 1000)
  assert.equal(message.members, 1000)
})

test('workers terminated mid-operation do not crash the process or touch the main map', async () => {
  const key = {}
  const main = new IterableWeakMap([[key, 'main']])
  for (let i = 0; i < 4; i++) {
    const worker = runWorker({ forever: true })
    await new Promise((resolve) => worker.on('message', (m) => m.round >= 5 && resolve()))
    const code = await worker.terminate()
    assert.equal(code, 1, 'terminated, not crashed')
  }
  await collectGarbage()
  assert.deepEqual([...main], [[key, 'main']])
  assert.equal(main.size, 1)
})
