'use strict'
// The protocols between JS and Rust are declared once, in Rust (src/core/protocol.rs), and JS
// builds its adapters from the description the addon exports (lib/native-protocol.js). These
// specs check the description and send every op of every protocol across both sides: a new op
// without a round trip here fails, and so does an op that no JS call site uses.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const binding = require('../binding.js')
const { adapterClass } = require('../lib/native-protocol.js')

const libSources = fs
  .readdirSync(path.join(__dirname, '..', 'lib'))
  .filter((file) => file.endsWith('.js'))
  .map((file) => fs.readFileSync(path.join(__dirname, '..', 'lib', file), 'utf8'))
  .join('\n')

/** What every description must be: ops numbered 0..n-1 in order, distinct names, named arguments. */
function checkDescription(ops) {
  assert.ok(ops.length > 0)
  ops.forEach((op, i) => {
    assert.equal(op.number, i, `${op.name} is numbered in declaration order`)
    assert.match(op.name, /^[a-z][A-Za-z]*$/)
    for (const arg of op.args) assert.match(arg, /^[a-z][A-Za-z]*$/, `${op.name}'s argument ${arg}`)
    assert.equal(new Set(op.args).size, op.args.length, `${op.name}'s arguments are distinct`)
  })
  assert.equal(new Set(ops.map((op) => op.name)).size, ops.length, 'op names are distinct')
}

test('an adapter has one method per op, taking its declared arguments', () => {
  const ops = binding.weakTableProtocol()
  const Adapter = adapterClass('test', ops)
  const calls = []
  const adapter = new Adapter((...args) => calls.push(args))
  for (const op of ops) {
    assert.equal(typeof adapter[op.name], 'function', op.name)
    assert.equal(adapter[op.name].length, op.args.length, `${op.name} takes ${op.args.join(', ')}`)
    const values = op.args.map((arg) => `${op.name}.${arg}`)
    adapter[op.name](...values)
  }
  assert.deepEqual(
    calls,
    ops.map((op) => [op.number, ...op.args.map((arg) => `${op.name}.${arg}`)]),
    'each method passes its op number, then its arguments in their declared order',
  )
})

test('IterableWeakMap table: the description, and every op across both sides', () => {
  const ops = binding.weakTableProtocol()
  checkDescription(ops)
  const Table = adapterClass('IterableWeakMap table', ops)
  const entries = [{ key: {} }, { key: {} }, { key: {} }]
  let table
  const roundTrips = {
    add() {
      table = new Table(binding.weakTableCreate())
      for (const entry of entries) entry.id = table.add(entry)
      assert.deepEqual(
        entries.map((entry) => entry.id),
        [1, 2, 3],
        'ids in insertion order',
      )
    },
    size() {
      assert.equal(table.size(), 3)
    },
    next() {
      assert.equal(table.next(0), entries[0])
      assert.equal(table.next(entries[0].id), entries[1])
      assert.equal(table.next(entries[2].id), undefined)
    },
    shareRemoved() {
      const removed = new Float64Array(4)
      table.shareRemoved(removed)
      removed[0] = 1
      removed[1] = entries[1].id
      assert.equal(table.next(entries[0].id), entries[2], 'a shared removal applies at the next call')
      assert.equal(removed[0], 0, 'and the count is reset')
      assert.throws(() => table.shareRemoved(new Float64Array(4)), { code: 'ERR_EPHEMERON_INTERNAL' }, 'shared once')
      removed[0] = 1
      removed[1] = entries[2].id
    },
    drain() {
      assert.equal(table.drain(), undefined)
      assert.equal(table.size(), 1, 'drain applied the pending removal')
    },
    collected() {
      assert.equal(table.collected(), 0, 'deleted entries are not collected ones')
    },
    watchCollected() {
      assert.equal(table.watchCollected(() => {}), undefined)
      assert.throws(() => table.watchCollected(() => {}), { code: 'ERR_EPHEMERON_INTERNAL' }, 'watched once')
      assert.throws(() => new Table(binding.weakTableCreate()).watchCollected(42), { code: 'ERR_EPHEMERON_INVALID_HANDLE' })
    },
    clear() {
      table.clear()
      assert.equal(table.size(), 0)
      assert.equal(table.next(0), undefined)
    },
  }
  assert.deepEqual(Object.keys(roundTrips).sort(), ops.map((op) => op.name).sort(), 'a round trip for every op')
  for (const name of Object.keys(roundTrips)) roundTrips[name]()
  for (const { name } of ops) assert.ok(libSources.includes(`.${name}(`), `lib/ calls the op ${name}`)
  const raw = binding.weakTableCreate()
  assert.throws(() => raw(ops.length), { code: 'ERR_EPHEMERON_INTERNAL', message: /unknown op/ })
  assert.throws(() => raw(0, 1), { code: 'ERR_EPHEMERON_INTERNAL' }, 'a table checks what it is given')
})
