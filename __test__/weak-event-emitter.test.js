'use strict'
// WeakEventEmitter's behaviour without GC: order, once, off, re-entrancy, errors and input
// checks, and a seeded model test against Node's EventEmitter. The GC side is in
// weak-event-emitter-gc.test.js.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { EventEmitter } = require('node:events')
const { WeakEventEmitter } = require('..')
const { random } = require('./helpers/weak-cache.js')

/** An emitter and a log that listeners made with `record(name)` write their name and arguments to. */
function recording() {
  const emitter = new WeakEventEmitter()
  const log = []
  const record =
    (name) =>
    (...args) =>
      log.push(args.length === 0 ? name : `${name}:${args.join(',')}`)
  return { emitter, log, record }
}

test('on and once return the emitter; listeners run in subscription order across owners', () => {
  const { emitter, log, record } = recording()
  const a = {}
  const b = {}
  assert.equal(emitter.on('price', a, record('a1')), emitter)
  assert.equal(emitter.once('price', b, record('b1')), emitter)
  emitter.on('price', a, record('a2')).on('price', b, record('b2'))
  assert.equal(emitter.emit('price', 1, 2), true)
  assert.deepEqual(log, ['a1:1,2', 'b1:1,2', 'a2:1,2', 'b2:1,2'])
})

test('emit returns whether a listener ran, and calls listeners with the emitter as this', () => {
  const emitter = new WeakEventEmitter()
  const owner = {}
  let self
  assert.equal(emitter.emit('nothing'), false)
  emitter.on('x', owner, function () {
    self = this
  })
  assert.equal(emitter.emit('x'), true)
  assert.equal(self, emitter)
  assert.equal(emitter.emit('y'), false)
  emitter.off('x', owner)
  assert.equal(emitter.emit('x'), false)
})

test('off(event, owner, listener) removes the most recent matching subscription of that owner only', () => {
  const { emitter, log, record } = recording()
  const a = {}
  const b = {}
  const shared = record('shared')
  emitter.on('x', a, shared).on('x', b, shared).on('x', a, record('a')).on('x', a, shared)
  assert.equal(emitter.off('x', a, shared), emitter)
  emitter.emit('x')
  assert.deepEqual(log, ['shared', 'shared', 'a'], "a's first and b's subscriptions remain, in order")
  assert.equal(emitter.listenerCount('x'), 3)
})

test('off(event, owner) removes all of that owner’s listeners for that event, and nothing else', () => {
  const { emitter, log, record } = recording()
  const a = {}
  const b = {}
  emitter.on('x', a, record('a1')).on('x', b, record('b')).on('x', a, record('a2')).on('y', a, record('ay'))
  emitter.off('x', a)
  emitter.emit('x')
  emitter.emit('y')
  assert.deepEqual(log, ['b', 'ay'])
  assert.deepEqual([...emitter.owners('x')], [b])
  assert.deepEqual([...emitter.owners('y')], [a])
})

test('off of an owner, a listener or an event never seen is a no-op', () => {
  const { emitter, log, record } = recording()
  const a = {}
  emitter.on('x', a, record('a'))
  emitter.off('x', {}, record('other')).off('x', a, () => {}).off('nope', a).off('x', {})
  emitter.emit('x')
  assert.deepEqual(log, ['a'])
})

test('once runs once, also when a nested emit reaches it first', () => {
  const { emitter, log, record } = recording()
  const a = {}
  let depth = 0
  emitter.on('x', a, () => {
    log.push(`outer${depth}`)
    if (depth++ === 0) emitter.emit('x')
  })
  emitter.once('x', a, record('once'))
  assert.equal(emitter.emit('x'), true)
  assert.deepEqual(log, ['outer0', 'outer1', 'once'])
  assert.equal(emitter.listenerCount('x'), 1)
  assert.equal(emitter.emit('x'), true)
  assert.deepEqual(log, ['outer0', 'outer1', 'once', 'outer2'])
})

test('a once listener is removed before it runs, and off() removes it unrun', () => {
  const { emitter, log } = recording()
  const a = {}
  const listener = () => log.push(`count in listener ${emitter.listenerCount('x')}`)
  emitter.once('x', a, listener)
  emitter.emit('x')
  assert.deepEqual(log, ['count in listener 0'])
  emitter.once('x', a, listener).off('x', a, listener)
  assert.equal(emitter.emit('x'), false)
})

test('an emit uses the listeners as they were when it started (as EventEmitter)', () => {
  const { emitter, log, record } = recording()
  const a = {}
  const b = {}
  const c = {}
  const late = record('late')
  emitter.on('x', a, () => {
    log.push('a')
    emitter.on('x', c, late) // not run by this emit
    emitter.off('x', b) // still run by this emit
  })
  emitter.on('x', b, record('b'))
  emitter.emit('x')
  assert.deepEqual(log, ['a', 'b'])
  log.length = 0
  emitter.emit('x')
  assert.deepEqual(log, ['a', 'late'])
  assert.equal(emitter.listenerCount('x'), 3, 'a, late, and the late added by the second emit')
})

test('a nested emit sees the subscriptions as they are when it starts', () => {
  const { emitter, log, record } = recording()
  const a = {}
  const b = {}
  let nested = false
  emitter.on('x', a, () => {
    log.push('a')
    if (nested) return
    nested = true
    emitter.off('x', b)
    emitter.on('x', b, record('b-new'))
    emitter.emit('x')
  })
  emitter.on('x', b, record('b-old'))
  emitter.emit('x')
  assert.deepEqual(log, ['a', 'a', 'b-new', 'b-old'], 'nested: a, b-new (b-old was removed before it started); then the outer goes on with b-old')
})

test('a throwing listener propagates; later ones do not run; the emitter keeps working', () => {
  const { emitter, log, record } = recording()
  const a = {}
  const boom = new Error('boom')
  emitter.on('x', a, record('first'))
  emitter.on('x', a, () => {
    throw boom
  })
  emitter.on('x', a, record('after'))
  assert.throws(() => emitter.emit('x'), boom)
  assert.deepEqual(log, ['first'])
  emitter.off('x', a).on('x', a, record('again'))
  emitter.emit('x')
  assert.deepEqual(log, ['first', 'again'])
})

test("'error' with no listener throws as EventEmitter does; with one, the listener gets it", () => {
  const emitter = new WeakEventEmitter()
  const error = new Error('broken feed')
  assert.throws(() => emitter.emit('error', error), (thrown) => thrown === error)
  for (const value of ['broken', undefined, 42, { reason: 'x' }]) {
    let thrown
    try {
      emitter.emit('error', value)
    } catch (caught) {
      thrown = caught
    }
    let expected
    try {
      new EventEmitter().emit('error', value)
    } catch (caught) {
      expected = caught
    }
    assert.ok(thrown instanceof Error)
    assert.equal(thrown.code, 'ERR_UNHANDLED_ERROR')
    assert.equal(thrown.message, expected.message, 'the same message as EventEmitter')
    assert.equal(thrown.context, value)
  }
  const owner = {}
  const seen = []
  emitter.on('error', owner, (e) => seen.push(e))
  assert.equal(emitter.emit('error', error), true)
  assert.deepEqual(seen, [error])
  emitter.off('error', owner)
  assert.throws(() => emitter.emit('error', error), (thrown) => thrown === error, 'no listener again: throws again')
})

test('listenerCount, eventNames and owners follow subscriptions', () => {
  const { emitter, record } = recording()
  const a = {}
  const b = function ownerFunction() {}
  const tick = Symbol('tick')
  assert.equal(emitter.listenerCount('x'), 0)
  assert.deepEqual(emitter.eventNames(), [])
  assert.deepEqual([...emitter.owners('x')], [])
  emitter.on('x', a, record('1')).on(tick, b, record('2')).on('x', b, record('3')).on('x', a, record('4'))
  assert.equal(emitter.listenerCount('x'), 3)
  assert.equal(emitter.listenerCount(tick), 1)
  assert.deepEqual(emitter.eventNames(), ['x', tick])
  assert.deepEqual([...emitter.owners('x')], [a, b], 'each owner once, by its first subscription')
  emitter.off(tick, b)
  assert.deepEqual(emitter.eventNames(), ['x'])
  emitter.off('x', a)
  assert.deepEqual([...emitter.owners('x')], [b])
  assert.equal(emitter.listenerCount('x'), 1)
})

test('owners(event) is a live iterator: owners added later are visited, owners that left are not', () => {
  const emitter = new WeakEventEmitter()
  const [a, b, c, d] = [{ n: 'a' }, { n: 'b' }, { n: 'c' }, { n: 'd' }]
  for (const owner of [a, b, c]) emitter.on('x', owner, () => {})
  const owners = emitter.owners('x')
  assert.equal(owners[Symbol.iterator](), owners)
  assert.equal(Object.prototype.toString.call(owners), '[object WeakEventEmitter Owners Iterator]')
  assert.deepEqual(owners.next(), { value: a, done: false })
  emitter.off('x', b)
  emitter.on('x', d, () => {})
  emitter.on('x', a, () => {}) // a again: not yielded twice
  assert.deepEqual([...owners], [c, d])
  assert.deepEqual(owners.next(), { value: undefined, done: true })
  emitter.on('x', {}, () => {})
  assert.deepEqual(owners.next(), { value: undefined, done: true }, 'exhausted for good')
})

test('the same listener function for two owners: each owner has its own subscription', () => {
  const { emitter, log } = recording()
  const a = { name: 'a' }
  const b = { name: 'b' }
  function render(price) {
    log.push(`${this === emitter}:${price}`)
  }
  emitter.on('price', a, render).on('price', b, render)
  emitter.off('price', a, render)
  emitter.emit('price', 5)
  assert.deepEqual(log, ['true:5'])
  assert.deepEqual([...emitter.owners('price')], [b])
})

test('bad arguments are TypeErrors with code ERR_INVALID_ARG_TYPE', () => {
  const emitter = new WeakEventEmitter()
  const ok = () => {}
  for (const owner of [undefined, null, 1, 'owner', true, Symbol('s'), 10n]) {
    for (const method of ['on', 'once', 'off']) {
      assert.throws(() => emitter[method]('x', owner, ok), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: /owner must be an object or a function/ }, `${method} ${String(owner)}`)
    }
  }
  for (const listener of [undefined, null, 1, 'f', {}, Symbol('s')]) {
    for (const method of ['on', 'once']) {
      assert.throws(() => emitter[method]('x', {}, listener), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: /listener must be a function/ })
    }
    if (listener !== undefined) assert.throws(() => emitter.off('x', {}, listener), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' })
  }
  for (const event of [undefined, null, 1, {}, () => {}]) {
    for (const call of [() => emitter.on(event, {}, ok), () => emitter.off(event, {}), () => emitter.listenerCount(event), () => emitter.owners(event)]) {
      assert.throws(call, { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: /event must be a string or a symbol/ })
    }
  }
  assert.equal(emitter.emit(42), false, 'emit of an event nobody can subscribe to is just false')
  assert.deepEqual(emitter.eventNames(), [], 'failed calls subscribed nothing')
})

test('methods on something that is not a WeakEventEmitter throw a TypeError', () => {
  const { on, emit } = WeakEventEmitter.prototype
  assert.throws(() => on.call({}, 'x', {}, () => {}), TypeError)
  assert.throws(() => emit.call(new EventEmitter(), 'x'), TypeError)
  const iterator = new WeakEventEmitter().owners('x')
  assert.throws(() => iterator.next.call({}), { name: 'TypeError', code: 'ERR_INVALID_THIS' })
})

test('subclasses work, and the class has its toStringTag', () => {
  class PriceFeed extends WeakEventEmitter {
    publish(price) {
      return this.emit('price', price)
    }
  }
  const feed = new PriceFeed()
  const widget = { price: 0 }
  feed.on('price', widget, (price) => (widget.price = price))
  assert.equal(feed.publish(7), true)
  assert.equal(widget.price, 7)
  assert.equal(Object.prototype.toString.call(feed), '[object WeakEventEmitter]')
  assert.ok(feed instanceof WeakEventEmitter)
})

test('many subscribe/unsubscribe cycles keep the listener list exact', () => {
  const { emitter, log, record } = recording()
  const keep = { keep: true }
  emitter.on('x', keep, record('keep'))
  const churn = Array.from({ length: 50 }, (_, i) => ({ i }))
  for (let round = 0; round < 200; round++) {
    for (const owner of churn) emitter.on('x', owner, record('churn'))
    for (const owner of churn) emitter.off('x', owner)
  }
  assert.equal(emitter.listenerCount('x'), 1)
  emitter.emit('x')
  assert.deepEqual(log, ['keep'])
})

// The model: an EventEmitter whose listeners are wrappers, one per subscription, tagged with
// the owner and the listener. WeakEventEmitter must call the same listeners in the same order,
// with the same results, whatever listeners do re-entrantly.
class ModelEmitter {
  #ee = new EventEmitter()
  constructor() {
    this.#ee.setMaxListeners(0)
  }
  subscribe(method, event, owner, listener) {
    const wrapper = (...args) => listener(...args)
    wrapper.owner = owner
    wrapper.original = listener
    this.#ee[method](event, wrapper)
  }
  off(event, owner, listener) {
    const raw = this.#ee.rawListeners(event)
    for (let i = raw.length - 1; i >= 0; i--) {
      const wrapper = raw[i].listener ?? raw[i] // once wrappers keep the function as .listener
      if (wrapper.owner === owner && (listener === undefined || wrapper.original === listener)) {
        this.#ee.off(event, raw[i])
        if (listener !== undefined) return
      }
    }
  }
  emit(event, ...args) {
    return this.#ee.emit(event, ...args)
  }
  listenerCount(event) {
    return this.#ee.listenerCount(event)
  }
  owners(event) {
    return [...new Set(this.#ee.rawListeners(event).map((raw) => (raw.listener ?? raw).owner))]
  }
}

test('seeded model test: the same calls as an EventEmitter, with re-entrant listeners', () => {
  for (let seed = 1; seed <= 60; seed++) {
    const next = random(seed)
    const pick = (array) => array[Math.floor(next() * array.length)]
    const owners = Array.from({ length: 5 }, (_, i) => ({ owner: i }))
    const events = ['a', 'b', 'c']
    const weakLog = []
    const modelLog = []
    const weak = new WeakEventEmitter()
    const model = new ModelEmitter()
    // Each listener is shared by both emitters; when it runs it logs and may act on its own emitter.
    const listeners = Array.from({ length: 8 }, (_, n) => {
      const action = next() < 0.3 ? randomAction(next, pick, owners, events, 8) : undefined
      return { n, action }
    })
    const bound = (target, log) =>
      listeners.map(({ n, action }) => (...args) => {
        log.push(`${n}(${args.join(',')})`)
        if (action !== undefined && log.length < 400) action(target, bound(target, log))
      })
    const weakListeners = bound(weak, weakLog)
    const modelListeners = bound(model, modelLog)
    const subscribe = (target, fns, method, event, owner, n) => (target === weak ? weak[method](event, owner, fns[n]) : model.subscribe(method, event, owner, fns[n]))
    for (let step = 0; step < 120; step++) {
      const roll = next()
      const event = pick(events)
      const owner = pick(owners)
      if (roll < 0.45) {
        const method = next() < 0.25 ? 'once' : 'on'
        const n = Math.floor(next() * listeners.length)
        subscribe(weak, weakListeners, method, event, owner, n)
        subscribe(model, modelListeners, method, event, owner, n)
      } else if (roll < 0.6) {
        const n = next() < 0.5 ? undefined : Math.floor(next() * listeners.length)
        weak.off(event, owner, n === undefined ? undefined : weakListeners[n])
        model.off(event, owner, n === undefined ? undefined : modelListeners[n])
      } else {
        const weakResult = weak.emit(event, step)
        const modelResult = model.emit(event, step)
        assert.equal(weakResult, modelResult, `seed ${seed} step ${step}: emit result`)
      }
      assert.deepEqual(weakLog, modelLog, `seed ${seed} step ${step}: listener calls`)
      for (const e of events) {
        assert.equal(weak.listenerCount(e), model.listenerCount(e), `seed ${seed} step ${step}: listenerCount(${e})`)
        assert.deepEqual([...weak.owners(e)], model.owners(e), `seed ${seed} step ${step}: owners(${e})`)
      }
    }
  }
})

/** A re-entrant action for a listener: subscribe, unsubscribe or emit on the emitter it runs on. */
function randomAction(next, pick, owners, events, listenerCount) {
  const kind = pick(['on', 'once', 'off', 'offAll', 'emit'])
  const event = pick(events)
  const owner = pick(owners)
  const n = Math.floor(next() * listenerCount)
  return (target, fns) => {
    const isWeak = target instanceof WeakEventEmitter
    if (kind === 'emit') target.emit(event, 'nested')
    else if (kind === 'off') target.off(event, owner, fns[n])
    else if (kind === 'offAll') target.off(event, owner)
    else if (isWeak) target[kind](event, owner, fns[n])
    else target.subscribe(kind, event, owner, fns[n])
  }
}
