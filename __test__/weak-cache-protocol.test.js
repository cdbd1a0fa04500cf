'use strict'
// The WeakCache protocol is declared once, in Rust (src/core/cache_protocol.rs); JS builds its
// adapter from the addon's description at load (lib/weak-cache-native.js). These specs check the
// description, that each adapter method sends its op number (flags folded in) and its arguments
// in their declared order, and send every op across both sides on a real cache, each with an
// argument whose position shows in the answer: a new op without a round trip here fails, and so
// does an op that no JS call site uses. The layout, causes and stats are checked against the types.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { weakCacheProtocol } = require('../binding.js')
const { CacheNative, IO, FACTS, STATUS, FLAG, CAUSE, REASONS } = require('../lib/weak-cache-native.js')
const { WeakCache } = require('../lib/weak-cache.js')

const types = fs.readFileSync(path.join(__dirname, '..', 'index.d.ts'), 'utf8')
const libDir = path.join(__dirname, '..', 'lib')
const weakCacheSources = fs
  .readdirSync(libDir)
  .filter((file) => file.startsWith('weak-cache') && file !== 'weak-cache-native.js')
  .map((file) => fs.readFileSync(path.join(libDir, file), 'utf8'))
  .join('\n')

const { ops } = weakCacheProtocol()
const takesFlags = (op) => op.args[0] === 'flags'

test('the description: ops numbered in declaration order, named, with named arguments; flags first or not at all', () => {
  assert.ok(ops.length > 0)
  ops.forEach((op, i) => {
    assert.equal(op.number, i, `${op.name} is numbered in declaration order`)
    assert.match(op.name, /^[a-z][A-Za-z]*$/)
    for (const arg of op.args) assert.match(arg, /^[a-z][A-Za-z]*$/, `${op.name}'s argument ${arg}`)
    assert.equal(op.args.indexOf('flags', 1), -1, `${op.name}: flags come first or not at all`)
  })
  assert.equal(new Set(ops.map((op) => op.name)).size, ops.length, 'op names are distinct')
  assert.ok(ops.length < 2 ** IO.opFlagsShift, 'every op number fits below the flags')
  const flags = Object.values(FLAG)
  assert.ok(flags.every((bit) => bit > 0 && (bit & (bit - 1)) === 0), 'every flag is one bit')
  assert.equal(new Set(flags).size, flags.length, 'flags are distinct bits')
  assert.ok(Math.max(...flags) * 2 ** IO.opFlagsShift < 2 ** 31, 'every flag fits in the Int32 op number')
})

test('each adapter method sends its op number, with its flags folded in, and its arguments in their declared order', () => {
  const sent = []
  const recorder = { native: (...args) => sent.push(args) }
  for (const op of ops) {
    const method = CacheNative.prototype[op.name]
    assert.equal(typeof method, 'function', op.name)
    assert.equal(method.length, op.args.length, `${op.name} takes ${op.args.join(', ')}`)
    const values = op.args.map((arg) => (arg === 'flags' ? FLAG.keepStale : `${op.name}.${arg}`))
    method.apply(recorder, values)
  }
  assert.deepEqual(
    sent.map((args) => args.filter((value) => value !== undefined)),
    ops.map((op) => {
      const flags = takesFlags(op) ? FLAG.keepStale << IO.opFlagsShift : 0
      return [op.number | flags, ...op.args.filter((arg) => arg !== 'flags').map((arg) => `${op.name}.${arg}`)]
    }),
  )
})

/** A native cache of `max` pinned entries on its own buffer, and views of it. */
function nativeCache(max, { maxSize = 0, sizes = false } = {}) {
  const buffer = new ArrayBuffer(IO.bytes)
  const broken = []
  const native = new CacheNative(buffer, max, maxSize, FLAG.weak | (sizes ? FLAG.trackSizes : 0), () => {}, () => broken.push(true))
  return { native, io: new Int32Array(buffer), calculated: new Float64Array(buffer, IO.calculated * 8, 1), broken }
}

test('every op crosses both sides on a real cache, each argument read where it is declared', () => {
  const { native, io, calculated, broken } = nativeCache(2, { maxSize: 100, sizes: true })
  const values = []
  let facts
  const tail = () => values[io[IO.tail]]
  const roundTrips = {
    facts() {
      facts = new Float64Array(native.facts(FLAG.clock))
      assert.ok(facts.length >= 3 * FACTS.stride)
    },
    insert() {
      assert.equal(native.insert(FLAG.strong, undefined, 0, 0, 3, values, tail()), undefined, 'the slot is in the reply')
      const fetching = io[IO.slot]
      assert.equal(fetching, 0, 'a strong entry (a fetch in flight)')
      values[1] = { v: 1 }
      native.insert(0, values[1], 50, 1000, 7, values, tail())
      assert.equal(io[IO.slot], 1)
      assert.deepEqual([facts[3 + FACTS.start], facts[3 + FACTS.ttl], facts[3 + FACTS.size]], [1000, 50, 7], 'ttl, start and size where declared')
      assert.equal(calculated[0], 10)
      native.insert(0, 'c', 0, 0, 1, values, tail())
      const c = io[IO.slot]
      assert.deepEqual([io[IO.pushedCount], io[IO.pushed], io[IO.pushed + 1]], [1, fetching, CAUSE.evict], 'the strong entry was evicted, not demoted')
      assert.equal(c, fetching, "a full cache's new entry takes the slot its eviction freed, as in lru-cache")
      values[0] = { v: 0 }
    },
    replace() {
      const old = native.replace(FLAG.changed | FLAG.updateTtl, 1, 30, 2000, 4, values, tail())
      assert.equal(old, undefined, 'a pinned entry: its value stays in JS')
      assert.equal(io[IO.status], STATUS.live)
      assert.deepEqual([facts[3 + FACTS.start], facts[3 + FACTS.ttl], facts[3 + FACTS.size]], [2000, 30, 4])
    },
    get() {
      assert.equal(native.get(FLAG.updateAge, 1, 2010, 2020, values, tail()), undefined)
      assert.equal(io[IO.status], STATUS.live)
      assert.equal(facts[3 + FACTS.start], 2020, '`fresh` is where the age restarts, `now` what it is judged at')
      native.get(FLAG.keepStale, 1, 3000, 3000, values, tail())
      assert.equal(io[IO.status], STATUS.stale, 'keepStale: stale and kept')
    },
    peek() {
      native.peek(0, 1, 2020, 0)
      assert.equal(io[IO.status], STATUS.live)
      native.peek(0, 1, 3000, 0)
      assert.equal(io[IO.status], STATUS.stale)
    },
    hold() {
      assert.equal(native.hold(FLAG.strong, 0, values, tail()), undefined)
      assert.equal(io[IO.status], STATUS.live)
      assert.equal(native.hold(0, 0, values, tail()), undefined, 'and plain again')
    },
    order() {
      assert.deepEqual(native.order(FLAG.allowStale, 2020), [1, 0], 'most recent first')
      assert.deepEqual(native.order(FLAG.allowStale | FLAG.reverse, 2020), [0, 1], 'reverse')
      assert.deepEqual(native.order(0, 3000), [0], 'stale entries left out')
    },
    pushed() {
      values[2] = { v: 2 }
      native.insert(0, values[2], 0, 0, 1, values, tail()) // demotes the least recent
      assert.equal(io[IO.slot], 2)
      assert.deepEqual(native.pushed(), [0, IO.demoted])
      values[0] = undefined
    },
    stats() {
      const stats = native.stats()
      assert.equal(stats.sets, 4, 'every stored value once: not the fetch in flight')
      assert.equal(stats.evictions, 1)
      assert.equal(stats.demotions, 1)
    },
    sync() {
      io[IO.reads] = 1
      io[IO.readCount] = 1
      assert.equal(native.sync(), undefined)
      assert.equal(io[IO.readCount], 0, 'the read log was replayed')
      assert.equal(native.stats().hits, 1)
    },
    remove() {
      assert.equal(native.remove(2, CAUSE.delete), undefined)
      assert.equal(native.stats().deleted, 1, 'the cause where declared')
    },
    purge() {
      native.insert(0, 'short', 5, 2000, 1, values, tail())
      const short = io[IO.slot]
      assert.deepEqual(native.purge(2010).filter((_, i) => i % 2 === 0), [short], '`now` where declared')
    },
    pop() {
      const popped = native.pop()
      assert.equal(popped.length, 2)
      assert.equal(native.stats().evictions, 2)
    },
    clear() {
      assert.equal(native.clear().length % 2, 0)
      assert.deepEqual(native.order(FLAG.allowStale, 0), [])
    },
    injectPanic() {
      values[0] = { v: 'again' }
      native.insert(0, values[0], 0, 0, 1, values, tail())
      assert.throws(() => native.injectPanic(), { code: 'ERR_EPHEMERON_BROKEN' })
      assert.deepEqual(broken, [true], 'the adapter reports the cache broken')
      assert.throws(() => native.stats(), { code: 'ERR_EPHEMERON_BROKEN' })
    },
  }
  assert.deepEqual(Object.keys(roundTrips).sort(), ops.map((op) => op.name).sort(), 'a round trip for every op')
  for (const run of Object.values(roundTrips)) run()
  for (const { name } of ops) {
    if (name === 'injectPanic') continue // its call site is the specs' (forSpecs)
    assert.ok(weakCacheSources.includes(`.${name}(`), `lib/weak-cache*.js calls the op ${name}`)
  }
})

test('the native function refuses what no adapter sends: an unknown op, a slot that is no entry', () => {
  const { native } = nativeCache(2)
  assert.throws(() => native.native(ops.length), { code: 'ERR_EPHEMERON_INTERNAL', message: /unknown op/ })
  assert.throws(() => native.remove(5, CAUSE.delete), { code: 'ERR_EPHEMERON_INTERNAL', message: /slot 5 is not an entry/ })
  assert.throws(() => native.remove(0, 99), { code: 'ERR_EPHEMERON_INTERNAL' })
})

test('the io layout fits its buffer: disjoint Int32 regions, then an aligned Float64 region', () => {
  const int32End = Math.max(IO.status, IO.tail, IO.slot, IO.pushedCount, IO.pushed + 2 * IO.pushedCapacity, IO.readCount + 1, IO.reads + IO.readCapacity)
  assert.ok(IO.pushed + 2 * IO.pushedCapacity <= IO.readCount)
  assert.ok(IO.reads + IO.readCapacity <= IO.calculated * 2, 'the read log ends before the calculated size')
  assert.ok(int32End * 4 <= IO.calculated * 8)
  assert.equal((IO.calculated + 1) * 8, IO.bytes)
  assert.ok(!(IO.demoted >= 0 && IO.demoted < REASONS.length), 'the demoted fate is not a cause number')
  assert.equal(new Set(Object.values(STATUS)).size, 4, 'statuses are distinct')
})

test('the removal causes are the dispose reasons of the types, in one vocabulary', () => {
  const union = types.match(/export type WeakCacheDisposeReason = ([^\n]+)/)[1]
  const reasons = [...union.matchAll(/'(\w+)'/g)].map((match) => match[1])
  assert.deepEqual(REASONS, reasons)
  assert.deepEqual(reasons, ['evict', 'set', 'delete', 'expire', 'collect', 'fetch'], "lru-cache's reasons plus 'collect'")
})

test('stats() has exactly the fields of WeakCacheStats, in its order', () => {
  const body = types.match(/export interface WeakCacheStats \{([\s\S]*?)\n\}/)[1]
  const fields = [...body.matchAll(/^\s+(\w+): number/gm)].map((match) => match[1])
  assert.deepEqual(Object.keys(new WeakCache({ max: 1 }).stats()), fields)
})
