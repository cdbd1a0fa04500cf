'use strict'
// Delivery throughput: 100k tracked objects die at once; time from gc() until onLeak has
// received every report.

const { performance } = require('node:perf_hooks')
const { LeakRegistry } = require('..')
const { JsLeakTracker } = require('./leak-trackers.js')
const { median } = require('./harness.js')

const LEAKS = 100_000
const ROUNDS = 8

function leak(tracker) {
  for (let i = 0; i < LEAKS; i++) tracker.track({ i }, { type: 'Conn', id: i })
}

async function deliver(make) {
  let received = 0
  let done
  const all = new Promise((resolve) => (done = resolve))
  const tracker = make((report) => {
    received += report.id >= 0 ? 1 : 0
    if (received === LEAKS) done()
  })
  leak(tracker)
  // Neither pipeline keeps the process alive by itself.
  const keepAlive = setInterval(() => {}, 1000)
  const start = performance.now()
  globalThis.gc()
  await all
  const elapsed = performance.now() - start
  clearInterval(keepAlive)
  tracker.close?.()
  return elapsed
}

const impls = {
  'js FinalizationRegistry + new Error().stack': (onLeak) => new JsLeakTracker(onLeak),
  "ephemeron onLeak, stacks 'off'": (onLeak) => new LeakRegistry({ onLeak, stacks: 'off' }),
  'ephemeron onLeak, default options': (onLeak) => new LeakRegistry({ onLeak }),
  "ephemeron onLeak + log file, stacks 'off'": (onLeak) => new LeakRegistry({ onLeak, stacks: 'off', log: '/dev/null' }),
}

async function main() {
  const samples = new Map(Object.keys(impls).map((name) => [name, []]))
  const entries = Object.entries(impls)
  for (let round = -1; round < ROUNDS; round++) {
    // Each round starts with another implementation: the one after the previous one pays for
    // collecting its garbage, and that must not always be the same one.
    const start = (round + entries.length) % entries.length
    for (const [name, make] of [...entries.slice(start), ...entries.slice(0, start)]) {
      const ms = await deliver(make)
      if (round >= 0) samples.get(name).push(ms)
    }
  }
  const base = median(samples.get(Object.keys(impls)[0]))
  console.table(
    [...samples].map(([name, values]) => ({
      scenario: `deliver ${LEAKS / 1000}k leaks (gc -> last onLeak)`,
      implementation: name,
      'ms': Math.round(median(values)),
      'ns/leak': Math.round((median(values) * 1e6) / LEAKS),
      'x js': Math.round((median(values) / base) * 100) / 100,
    })),
  )
}

module.exports = main
