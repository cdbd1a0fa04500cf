'use strict'
// The WeakCache protocol (src/core/cache_protocol.rs) is defined once, on the Rust side, and read
// by lib/weak-cache.js at load. These specs check that the two sides agree: the layout JS maps
// its views onto, the numbers it reads, the removal causes it turns into dispose reasons, and the
// stats names, against the types (index.d.ts).

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { weakCacheProtocol } = require('../binding.js')
const { WeakCache, forSpecs } = require('../lib/weak-cache.js')

const types = fs.readFileSync(path.join(__dirname, '..', 'index.d.ts'), 'utf8')

test('JS reads the protocol the addon defines, and every number it needs is there', () => {
  const native = weakCacheProtocol()
  assert.deepEqual(forSpecs.protocol, native)
  for (const op of ['insert', 'replace', 'get', 'peek', 'remove', 'clear', 'order', 'stats', 'sync', 'timing', 'injectPanic']) {
    assert.equal(typeof native.op[op], 'number', `op ${op}`)
  }
  assert.equal(new Set(Object.values(native.op)).size, Object.keys(native.op).length, 'ops have distinct numbers')
  assert.equal(new Set(Object.values(native.status)).size, 3, 'statuses are distinct')
  assert.ok(!(native.io.demoted >= 0 && native.io.demoted < native.causes.length), 'the demoted fate is not a cause number')
})

test('the io layout fits its buffer: disjoint Int32 regions, then an aligned Float64 region', () => {
  const io = weakCacheProtocol().io
  const int32End = Math.max(io.status, io.pushedCount, io.pushed + 2 * io.pushedCapacity, io.readCount + 1, io.reads + io.readCapacity)
  assert.ok(io.pushed + 2 * io.pushedCapacity <= io.readCount)
  assert.ok(io.reads + io.readCapacity <= io.readTimes * 2, 'the read log ends before the read times')
  assert.ok(int32End * 4 <= io.readTimes * 8)
  assert.equal((io.readTimes + io.readCapacity) * 8, io.bytes)
})

test('the removal causes are the dispose reasons of the types, in one vocabulary', () => {
  const union = types.match(/export type WeakCacheDisposeReason = ([^\n]+)/)[1]
  const reasons = [...union.matchAll(/'(\w+)'/g)].map((match) => match[1])
  assert.deepEqual(weakCacheProtocol().causes, reasons)
  assert.deepEqual(reasons, ['evict', 'set', 'delete', 'expire', 'collect'])
})

test('stats() has exactly the fields of WeakCacheStats, in its order', () => {
  const body = types.match(/export interface WeakCacheStats \{([\s\S]*?)\n\}/)[1]
  const fields = [...body.matchAll(/^\s+(\w+): number/gm)].map((match) => match[1])
  assert.deepEqual(Object.keys(new WeakCache({ max: 1 }).stats()), fields)
})
