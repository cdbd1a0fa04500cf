'use strict'
// WeakEventEmitter against Node's EventEmitter (strong listeners: the speed to match) and the
// WeakRef-per-listener emitter (benchmark/peers/weakref-emitter.js: the usual first try, which
// loses listeners nothing else references). Every implementation gets the same owners and
// listeners and must make the same listener calls (checksums). Each implementation has its own
// loop calling its own methods, so no shared call site blurs the figures.

const { EventEmitter } = require('node:events')
const { compareWithTurns } = require('./harness.js')
const { WeakEventEmitter } = require('..')
const { WeakRefEmitter } = require('./peers/weakref-emitter.js')

let calls = 0

/** `count` widgets, each with the listener that writes the price into it. */
function widgets(count, first = 0) {
  return Array.from({ length: count }, (_, i) => {
    const widget = { id: first + i, price: 0 }
    widget.listener = (price) => {
      widget.price = price
      calls++
    }
    return widget
  })
}

const makers = {
  EventEmitter: (owners) => {
    const emitter = new EventEmitter().setMaxListeners(0)
    for (const widget of owners) emitter.on('price', widget.listener)
    return emitter
  },
  WeakEventEmitter: (owners) => {
    const emitter = new WeakEventEmitter()
    for (const widget of owners) emitter.on('price', widget, widget.listener)
    return emitter
  },
  'WeakRef per listener': (owners) => {
    const emitter = new WeakRefEmitter()
    for (const widget of owners) emitter.on('price', widget, widget.listener)
    return emitter
  },
}

/** Runs `emit` on each implementation's emitter `emits` times; returns the listener calls. */
function emitRun(emitter, emits) {
  calls = 0
  for (let i = 0; i < emits; i++) emitter.emit('price', i)
  return calls
}

async function emitScenario(ownerCount, emits) {
  const owners = widgets(ownerCount)
  const impls = Object.entries(makers).map(([name, make]) => {
    const emitter = make(owners)
    // A copy of the loop per implementation (new Function would hide it from profiles).
    const run = {
      EventEmitter: () => emitRun(emitter, emits),
      WeakEventEmitter: () => emitRun(emitter, emits),
      'WeakRef per listener': () => emitRun(emitter, emits),
    }[name]
    return { name, run }
  })
  await compareWithTurns(`emit to ${ownerCount.toLocaleString('en')} live owners (one listener each), per emit`, impls, { ops: emits, rounds: 15 })
  return owners.length
}

const PAIRS = 100_000

/**
 * on + off pairs next to 1,000 subscribers. `pairOwners` are the owners of the pairs (pair i
 * uses pairOwners[i % length]; a fresh array per round when they must be new owners).
 */
async function onOffScenario(title, pairOwnersForRound) {
  const others = widgets(1000)
  let pairOwners
  const setup = (name) => () => {
    pairOwners = pairOwnersForRound(others)
    const emitter = makers[name](others)
    emitter.emit('price', 0) // an emitter in use: WeakEventEmitter has built its dispatch lists
    return emitter
  }
  const check = (emitter) => {
    calls = 0
    emitter.emit('price', 1) // the 1,000 others, and nothing the pairs left behind
    return calls
  }
  await compareWithTurns(
    title,
    [
      {
        name: 'EventEmitter',
        setup: setup('EventEmitter'),
        run: (emitter) => {
          const owners = pairOwners
          for (let i = 0; i < PAIRS; i++) {
            const { listener } = owners[i % owners.length]
            emitter.on('price', listener)
            emitter.off('price', listener)
          }
          return check(emitter)
        },
      },
      {
        name: 'WeakEventEmitter',
        setup: setup('WeakEventEmitter'),
        run: (emitter) => {
          const owners = pairOwners
          for (let i = 0; i < PAIRS; i++) {
            const owner = owners[i % owners.length]
            emitter.on('price', owner, owner.listener)
            emitter.off('price', owner, owner.listener)
          }
          return check(emitter)
        },
      },
      {
        name: 'WeakRef per listener',
        setup: setup('WeakRef per listener'),
        run: (emitter) => {
          const owners = pairOwners
          for (let i = 0; i < PAIRS; i++) {
            const owner = owners[i % owners.length]
            emitter.on('price', owner, owner.listener)
            emitter.off('price', owner, owner.listener)
          }
          return check(emitter)
        },
      },
    ],
    { ops: PAIRS, rounds: 15 },
  )
  return others.length
}

module.exports = async function run() {
  await emitScenario(1000, 1000)
  await emitScenario(10, 100_000)
  await onOffScenario('on + off by an owner that stays subscribed (1,000 subscribers)', (others) => others)
  const returning = widgets(1000, 1000)
  await onOffScenario('on + off by an owner that subscribed before (its only listener)', () => returning)
  await onOffScenario('on + off by a new owner each time (its first subscription)', () => widgets(PAIRS, 2000))
}
