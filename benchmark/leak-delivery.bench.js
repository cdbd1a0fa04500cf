'use strict'
// Leaks, from track() to the report: 100,000 objects are tracked and dropped, then one gc();
// measured are the whole life of a leak (from the first track() until onLeak has received the
// last report) and the delivery alone (from gc() on). Against the bare FinalizationRegistry
// tracker (leak-trackers.js, no call site), whose callback builds a report object too. Each round
// starts with another implementation: the one after the previous one pays for collecting its
// garbage, and that must not always be the same one.

const diagnostics = require('node:diagnostics_channel')
const { performance } = require('node:perf_hooks')
const { LeakRegistry } = require('..')
const { JsLeakTracker } = require('./leak-trackers.js')
const { median } = require('./harness.js')

const LEAKS = 100_000
const ROUNDS = 8

function leak(tracker) {
  for (let i = 0; i < LEAKS; i++) tracker.track({ i }, { type: 'Conn', id: i })
}

/** [ms from the first track to the last report, ms from gc() to the last report] */
async function lifeOfLeaks(make) {
  let received = 0
  let done
  const all = new Promise((resolve) => (done = resolve))
  const tracker = make((report) => {
    received += report.id >= 0 ? 1 : 0
    if (received === LEAKS) done()
  })
  // Neither pipeline keeps the process alive by itself.
  const keepAlive = setInterval(() => {}, 1000)
  const start = performance.now()
  leak(tracker)
  const collect = performance.now()
  globalThis.gc()
  await all
  const end = performance.now()
  clearInterval(keepAlive)
  tracker.close?.()
  return [end - start, end - collect]
}

const impls = {
  'bare FinalizationRegistry tracker (no site)': (onLeak) => new JsLeakTracker(onLeak, { withStack: false }),
  'ephemeron onLeak, default options': (onLeak) => new LeakRegistry({ onLeak }),
  "ephemeron onLeak, stacks: 'off'": (onLeak) => new LeakRegistry({ onLeak, stacks: 'off' }),
  'ephemeron onLeak + log file': (onLeak) => new LeakRegistry({ onLeak, log: '/dev/null' }),
  "ephemeron, a subscriber of 'ephemeron:leak' (no onLeak, no log)": (onLeak) => subscribed(onLeak),
  'ephemeron log file only (no onLeak, no subscriber)': () => new LeakRegistry({ log: '/dev/null' }),
}

async function main() {
  const life = new Map(Object.keys(impls).map((name) => [name, []]))
  const delivery = new Map(Object.keys(impls).map((name) => [name, []]))
  const entries = Object.entries(impls)
  for (let round = -1; round < ROUNDS; round++) {
    const start = (round + entries.length) % entries.length
    for (const [name, make] of [...entries.slice(start), ...entries.slice(0, start)]) {
      const [whole, deliver] = name.includes('only') ? await logOnly(make) : await lifeOfLeaks(make)
      if (round >= 0) {
        life.get(name).push(whole)
        delivery.get(name).push(deliver)
      }
    }
  }
  const [baseline] = Object.keys(impls)
  const baseLife = median(life.get(baseline))
  const baseDelivery = median(delivery.get(baseline))
  console.table(
    Object.keys(impls).map((name) => ({
      scenario: `${LEAKS / 1000}k leaks: track, drop, gc(), every report delivered`,
      implementation: name,
      'ns/leak, whole life': Math.round((median(life.get(name)) * 1e6) / LEAKS),
      'x bare, whole life': round2(median(life.get(name)) / baseLife),
      'ns/leak, delivery': Math.round((median(delivery.get(name)) * 1e6) / LEAKS),
      'x bare, delivery': round2(median(delivery.get(name)) / baseDelivery),
    })),
  )
}

/** A registry without onLeak or log, whose reports reach `onLeak` through the channel. */
function subscribed(onLeak) {
  const registry = new LeakRegistry({ log: false })
  const subscriber = (report) => onLeak(report)
  diagnostics.subscribe('ephemeron:leak', subscriber)
  return {
    track: (resource, info) => registry.track(resource, info),
    close() {
      diagnostics.unsubscribe('ephemeron:leak', subscriber)
      registry.close()
    },
  }
}

/** A registry that only logs has no onLeak to wait for: it is done when its stats count every leak. */
async function logOnly(make) {
  const registry = make()
  const keepAlive = setInterval(() => {}, 1000)
  const start = performance.now()
  leak(registry)
  const collect = performance.now()
  globalThis.gc()
  while (registry.stats().leaked < LEAKS) await new Promise((resolve) => setImmediate(resolve))
  const end = performance.now()
  clearInterval(keepAlive)
  registry.close()
  return [end - start, end - collect]
}

const round2 = (n) => Math.round(n * 100) / 100

module.exports = main
