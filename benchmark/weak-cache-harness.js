'use strict'
// The WeakCache benchmark's rounds: like harness.js's, interleaved round by round, reported as
// medians with a ratio to a baseline, but each implementation's run is followed by a full GC and
// turns of the event loop, untimed, before the next one starts. Weak references (WeakCache's,
// weak-lru-cache's WeakRefs, the floor's) leave work behind them: global handles to scan at every
// GC until their finalizers run on the event loop. Settled between implementations, that work is
// paid by the one that made it, not by the one that happens to run next (in one synchronous round,
// lru-cache's set measured 1.9x slower after the weak references of the floor and of WeakCache).

const { performance } = require('node:perf_hooks')
const { median } = require('./harness.js')

const turn = () => new Promise((resolve) => setImmediate(resolve))

/** A full GC, then enough turns of the event loop for deferred finalizers and their deliveries. */
async function settle() {
  globalThis.gc()
  for (let i = 0; i < 4; i++) await turn()
}

/**
 * @param {string} title
 * @param {{name: string, setup?: () => any, run: (state: any) => number|void}[]} impls `run`
 *   performs `ops` operations and may return a checksum, which must agree across implementations.
 * @param {{ops: number, rounds?: number, baseline: string}} options
 */
async function compareSettled(title, impls, { ops, rounds = 9, baseline }) {
  const samples = new Map(impls.map((impl) => [impl.name, []]))
  const checksums = new Map()
  for (let round = -1; round < rounds; round++) {
    for (const impl of impls) {
      const state = impl.setup ? impl.setup() : undefined
      await settle()
      const start = performance.now()
      const checksum = impl.run(state)
      const elapsed = performance.now() - start
      if (round < 0) checksums.set(impl.name, checksum)
      else samples.get(impl.name).push((elapsed * 1e6) / ops)
      await settle()
    }
  }
  const expected = checksums.get(baseline)
  for (const [name, checksum] of checksums) {
    if (checksum !== expected) throw new Error(`${title}: ${name} computed ${checksum}, ${baseline} computed ${expected}`)
  }
  const base = median(samples.get(baseline))
  const rows = impls.map((impl) => {
    const ns = median(samples.get(impl.name))
    return { scenario: title, implementation: impl.name, 'ns/op': round2(ns), [`x ${baseline}`]: round2(ns / base) }
  })
  console.table(rows)
  return rows
}

const round2 = (n) => Math.round(n * 100) / 100

module.exports = { compareSettled }
