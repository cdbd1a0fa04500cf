'use strict'
// LeakRegistry in worker threads: each worker has its own registry and reports with its
// threadId; the process-wide counts include every thread.

const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { once } = require('node:events')
const { Worker } = require('node:worker_threads')
const { LeakRegistry } = require('..')

test('a registry in a worker reports its leaks with the worker threadId and counts process-wide', async () => {
  const before = LeakRegistry.processStats()
  const workers = [0, 1].map(() => new Worker(path.join(__dirname, 'fixtures', 'leak-registry-worker.js')))
  const messages = await Promise.all(workers.map((worker) => once(worker, 'message').then(([message]) => message)))
  for (const [i, { report, stats }] of messages.entries()) {
    assert.equal(report.id, 'in-worker', 'the kept resource is not reported')
    assert.equal(report.threadId, workers[i].threadId)
    assert.equal(report.registry, 'worker')
    assert.match(report.site, /fixtures[/\\]leak-registry-worker\.js:\d+$/)
    assert.deepEqual({ ...stats, byType: undefined }, { tracked: 2, live: 1, released: 0, leaked: 1, suspected: 0, logDropped: 0, byType: undefined })
  }
  const after = LeakRegistry.processStats()
  assert.equal(after.leaked - before.leaked, 2, 'both workers counted in the process figure')
  assert.equal(after.tracked - before.tracked, 4)
  for (const worker of workers) worker.postMessage('done')
  const exits = await Promise.all(workers.map((worker) => once(worker, 'exit')))
  assert.deepEqual(exits, [[0], [0]])
})
