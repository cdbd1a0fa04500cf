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
  const ops = ['insert', 'replace', 'get', 'peek', 'hold', 'remove', 'pop', 'purge', 'clear', 'order', 'pushed', 'stats', 'sync', 'facts', 'injectPanic']
  for (const op of ops) assert.equal(typeof native.op[op], 'number', `op ${op}`)
  assert.deepEqual(Object.keys(native.op).sort(), [...ops].sort(), 'no op JS does not know')
  assert.equal(new Set(Object.values(native.op)).size, Object.keys(native.op).length, 'ops have distinct numbers')
  assert.equal(new Set(Object.values(native.status)).size, 4, 'statuses are distinct')
  assert.ok(!(native.io.demoted >= 0 && native.io.demoted < native.causes.length), 'the demoted fate is not a cause number')
  const flags = Object.values(native.flag)
  assert.ok(flags.every((bit) => bit > 0 && (bit & (bit - 1)) === 0), 'every flag is one bit')
  assert.equal(new Set(flags).size, flags.length, 'flags are distinct bits')
  assert.deepEqual(Object.keys(native.facts).sort(), ['size', 'start', 'stride', 'ttl'])
})

test('the io layout fits its buffer: disjoint Int32 regions, then an aligned Float64 region', () => {
  const io = weakCacheProtocol().io
  const int32End = Math.max(io.status, io.tail, io.pushedCount, io.pushed + 2 * io.pushedCapacity, io.readCount + 1, io.reads + io.readCapacity)
  assert.ok(io.pushed + 2 * io.pushedCapacity <= io.readCount)
  assert.ok(io.reads + io.readCapacity <= io.calculated * 2, 'the read log ends before the calculated size')
  assert.ok(int32End * 4 <= io.calculated * 8)
  assert.equal((io.calculated + 1) * 8, io.bytes)
})

test('the removal causes are the dispose reasons of the types, in one vocabulary', () => {
  const union = types.match(/export type WeakCacheDisposeReason = ([^\n]+)/)[1]
  const reasons = [...union.matchAll(/'(\w+)'/g)].map((match) => match[1])
  assert.deepEqual(weakCacheProtocol().causes, reasons)
  assert.deepEqual(reasons, ['evict', 'set', 'delete', 'expire', 'collect', 'fetch'], "lru-cache's reasons plus 'collect'")
})

test('stats() has exactly the fields of WeakCacheStats, in its order', () => {
  const body = types.match(/export interface WeakCacheStats \{([\s\S]*?)\n\}/)[1]
  const fields = [...body.matchAll(/^\s+(\w+): number/gm)].map((match) => match[1])
  assert.deepEqual(Object.keys(new WeakCache({ max: 1 }).stats()), fields)
})
