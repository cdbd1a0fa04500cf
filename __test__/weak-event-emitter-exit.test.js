'use strict'
// WeakEventEmitter (and IterableWeakMap's onCollect, which it uses) where environments end: a
// worker thread terminated in the middle of emits and collections, one that exits by itself,
// and a process that exits with live owners and a collection notification possibly in flight.
// None may crash, hang or report the live owners as collected.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const { Worker } = require('node:worker_threads')

const entry = JSON.stringify(require.resolve('..'))

// Emitters with onCollect, owners dropped and kept, emits, forced collections.
const workload = `
const { WeakEventEmitter, IterableWeakMap } = require(${entry})
const reported = []
const emitter = new WeakEventEmitter({ onCollect: (count) => reported.push(count) })
const map = new IterableWeakMap(null, { onCollect: (count) => reported.push(-count) })
const kept = []
function round(n) {
  for (let i = 0; i < n; i++) {
    const owner = { i }
    if (i % 10 === 0) kept.push(owner)
    emitter.on('tick', owner, () => owner)
    map.set(owner, i)
  }
  emitter.emit('tick')
  if (typeof globalThis.gc === 'function') globalThis.gc()
}
`

function worker(forever) {
  const source = `${workload}
const { parentPort } = require('node:worker_threads')
round(500)
setImmediate(() => {
  parentPort.postMessage({ listeners: emitter.listenerCount('tick'), kept: kept.length })
  if (${forever}) {
    const again = () => { round(500); setImmediate(again) }
    again()
  }
})
`
  return new Worker(source, { eval: true }) // gc() is there when this process has --expose-gc
}

test('a worker with emitters exits by itself; another is terminated in the middle of its work', async () => {
  const natural = worker(false)
  const [message, code] = await Promise.all([new Promise((resolve) => natural.once('message', resolve)), new Promise((resolve) => natural.once('exit', resolve))])
  assert.equal(code, 0)
  assert.ok(message.listeners >= message.kept, `the kept owners are subscribed (${message.listeners} >= ${message.kept})`)

  for (let i = 0; i < 3; i++) {
    const busy = worker(true)
    await new Promise((resolve) => busy.once('message', resolve))
    await new Promise((resolve) => setTimeout(resolve, 20 + 30 * i))
    assert.equal(await busy.terminate(), 1)
  }
})

test('a process that exits with live owners and pending notifications exits cleanly', () => {
  const source = `${workload}
round(2000)
let turns = 0
const spin = () => {
  round(200)
  if (++turns < 5) setImmediate(spin)
  else console.log('live', emitter.listenerCount('tick') >= kept.length, 'reported', reported.length > 0)
}
setImmediate(spin)
`
  const result = spawnSync(process.execPath, ['--expose-gc', '-e', source], { encoding: 'utf8', timeout: 30_000 })
  assert.equal(result.status, 0, result.stderr)
  assert.equal(result.stderr, '')
  assert.match(result.stdout, /^live true reported true\n$/)
})
