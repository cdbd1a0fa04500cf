'use strict'
// LeakRegistry against a bare FinalizationRegistry tracker (benchmark/leak-trackers.js: register
// with an unregister token, unregister on release, no call site), in one process, interleaved:
// 1. track + release, each object released at once (a pool's checkout and return), for the
//    plausible shapes of `info` and each option that costs something (sites, stacks, context,
//    a subscriber of 'ephemeron:leak'); `stacks: 'all'` against the tracker that takes an
//    eager `new Error().stack`;
// 2. the same with many objects held at a time (track 10,000, then release them);
// (leak-delivery.bench.js measures the delivery of leaks, leak-file-handle.bench.js guarded
// FileHandles, leak-service.bench.js a whole HTTP service.)
// The event loop turns between rounds, as between a server's requests, so that deferred work
// (FinalizationRegistry callbacks, replays, timers) is paid inside the measurement, and each
// round starts with another implementation (the one that runs after another pays for
// collecting its garbage).

const diagnostics = require('node:diagnostics_channel')
const { AsyncLocalStorage } = require('node:async_hooks')
const { compareWithTurns } = require('./harness.js')
const { LeakRegistry } = require('..')
const { JsLeakTracker } = require('./leak-trackers.js')

const OPS = 50_000
const HELD = 10_000
const ROUNDS = 21
const INFO = { type: 'Conn', id: 7, label: 'upstream' }
const TYPE_ONLY = { type: 'Conn' }

/** A service-like call path: the resource is acquired two frames below a request handler. */
function trackRelease(tracker, info, ops = OPS) {
  let released = 0
  for (let i = 0; i < ops; i++) {
    const resource = acquire(tracker, info)
    if (tracker.release(resource)) released++
  }
  return released
}

function acquire(tracker, info) {
  return tracker.track({ acquired: true }, info)
}

/** Many held at once: the registry's table holds them before they are released. */
function trackThenRelease(tracker, info) {
  let released = 0
  for (let done = 0; done < OPS; done += HELD) {
    const held = new Array(HELD)
    for (let i = 0; i < HELD; i++) held[i] = acquire(tracker, info)
    for (let i = 0; i < HELD; i++) if (tracker.release(held[i])) released++
  }
  return released
}

const registries = []
function registry(options) {
  const created = new LeakRegistry({ onLeak() {}, ...options })
  registries.push(created)
  return created
}

const bare = new JsLeakTracker(() => {}, { withStack: false })
const als = new AsyncLocalStorage()

async function main() {
  // One registry per row, as a service has one per kind of resource.
  const defaults = registry({})
  const shapes = [
    ['bare FinalizationRegistry tracker (no site)', bare, INFO],
    ['ephemeron, default options, info { type, id, label }', defaults, INFO],
    ['ephemeron, default options, info { type }', registry({}), TYPE_ONLY],
    ['ephemeron, default options, no info', registry({}), undefined],
    ["ephemeron, stacks: 'off'", registry({ stacks: 'off' }), INFO],
    ['ephemeron, context: () => als.getStore()', registry({ context: () => als.getStore() }), INFO],
    ["ephemeron, sites: 'all'", registry({ sites: 'all' }), INFO],
  ]
  const impls = (run) => shapes.map(([name, tracker, info]) => ({ name, run: () => run(tracker, info) }))
  await als.run({ requestId: 'r-1', route: '/export' }, () => compareWithTurns(`track + release, ${OPS} objects`, impls(trackRelease), { ops: OPS, rounds: ROUNDS, rotate: true }))
  await compareWithTurns(`track ${HELD} then release them, ${OPS} objects`, impls(trackThenRelease), { ops: OPS, rounds: ROUNDS, rotate: true })

  const subscriber = () => {}
  diagnostics.subscribe('ephemeron:leak', subscriber)
  await compareWithTurns(
    "track + release with a subscriber of 'ephemeron:leak'",
    [
      { name: 'bare FinalizationRegistry tracker (no site)', run: () => trackRelease(bare, INFO) },
      { name: 'ephemeron, default options', run: () => trackRelease(defaults, INFO) },
    ],
    { ops: OPS, rounds: ROUNDS, rotate: true },
  )
  diagnostics.unsubscribe('ephemeron:leak', subscriber)

  const stacked = new JsLeakTracker(() => {})
  const stacks = registry({ stacks: 'all' })
  await compareWithTurns(
    'track + release, a full stack for every object',
    [
      { name: 'FinalizationRegistry tracker + new Error().stack', run: () => trackRelease(stacked, INFO, OPS / 10) },
      { name: "ephemeron, stacks: 'all'", run: () => trackRelease(stacks, INFO, OPS / 10) },
    ],
    { ops: OPS / 10, rounds: ROUNDS, rotate: true },
  )
  for (const created of registries) created.close()
}

module.exports = main
