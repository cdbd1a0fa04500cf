'use strict'
// A small benchmark harness: every implementation runs the same scenario in one process,
// interleaved round by round, and is reported as a median ns/op with its ratio to a baseline.

const { performance } = require('node:perf_hooks')

/**
 * @param {string} title
 * @param {{name: string, setup?: () => any, run: (state: any) => number|void}[]} impls
 *   `run(state)` performs `ops` operations; it may return a checksum, which must agree across
 *   implementations (the scenario checks they do the same work).
 * @param {{ops: number, rounds?: number, baseline?: string, check?: boolean, rotate?: boolean}} options
 */
function compare(title, impls, options) {
  const run = new Run(impls, options)
  for (let round = -1; round < run.rounds; round++) run.round(round)
  return run.report(title)
}

/**
 * `compare`, letting the event loop turn between rounds (as it does between a server's requests),
 * so that work an implementation defers to the event loop (finalizers, cleanup timers) is done
 * between rounds instead of piling up over all of them.
 */
async function compareWithTurns(title, impls, options) {
  const run = new Run(impls, options)
  for (let round = -1; round < run.rounds; round++) {
    run.round(round)
    await new Promise((resolve) => setImmediate(resolve))
  }
  return run.report(title)
}

class Run {
  /**
   * `rotate`: each round starts with the next implementation, so that the one that runs right
   * after another does not always pay for collecting that one's garbage.
   */
  constructor(impls, { ops, rounds = 7, baseline = impls[0].name, check = true, rotate = false }) {
    Object.assign(this, { impls, ops, rounds, baseline, check, rotate })
    this.samples = new Map(impls.map((impl) => [impl.name, []]))
    this.checksums = new Map()
  }

  /** One run of each implementation; round -1 warms up and records what each one computed. */
  round(round) {
    const start = this.rotate ? (round + 1) % this.impls.length : 0
    for (const impl of [...this.impls.slice(start), ...this.impls.slice(0, start)]) {
      const state = impl.setup ? impl.setup() : undefined
      const start = performance.now()
      const checksum = impl.run(state)
      const elapsed = performance.now() - start
      if (round < 0) this.checksums.set(impl.name, checksum)
      else this.samples.get(impl.name).push((elapsed * 1e6) / this.ops)
    }
  }

  report(title) {
    const { baseline } = this
    if (this.check) {
      const expected = this.checksums.get(baseline)
      for (const [name, checksum] of this.checksums) {
        if (checksum !== expected) throw new Error(`${title}: ${name} computed ${checksum}, ${baseline} computed ${expected}`)
      }
    }
    const base = median(this.samples.get(baseline))
    const rows = this.impls.map((impl) => {
      const ns = median(this.samples.get(impl.name))
      return { scenario: title, implementation: impl.name, 'ns/op': round2(ns), [`x ${baseline}`]: round2(ns / base) }
    })
    console.table(rows)
    return rows
  }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

const round2 = (n) => Math.round(n * 100) / 100

module.exports = { compare, compareWithTurns, median }
