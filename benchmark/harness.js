'use strict'
// A small benchmark harness: every implementation runs the same scenario in one process,
// interleaved round by round, and is reported as a median ns/op with its ratio to a baseline.

const { performance } = require('node:perf_hooks')

/**
 * @param {string} title
 * @param {{name: string, setup?: () => any, run: (state: any) => number|void}[]} impls
 *   `run(state)` performs `ops` operations; it may return a checksum, which must agree across
 *   implementations (the scenario checks they do the same work).
 * @param {{ops: number, rounds?: number, baseline?: string, check?: boolean}} options
 */
function compare(title, impls, { ops, rounds = 7, baseline = impls[0].name, check = true }) {
  const samples = new Map(impls.map((impl) => [impl.name, []]))
  const checksums = new Map()
  for (let round = -1; round < rounds; round++) {
    for (const impl of impls) {
      const state = impl.setup ? impl.setup() : undefined
      const start = performance.now()
      const checksum = impl.run(state)
      const elapsed = performance.now() - start
      if (round < 0) {
        checksums.set(impl.name, checksum) // round -1 warms up and records what each one computed
        continue
      }
      samples.get(impl.name).push((elapsed * 1e6) / ops)
    }
  }
  if (check) {
    const expected = checksums.get(baseline)
    for (const [name, checksum] of checksums) {
      if (checksum !== expected) throw new Error(`${title}: ${name} computed ${checksum}, ${baseline} computed ${expected}`)
    }
  }
  const base = median(samples.get(baseline))
  const rows = impls.map((impl) => {
    const ns = median(samples.get(impl.name))
    return { scenario: title, implementation: impl.name, 'ns/op': round2(ns), [`x ${baseline}`]: round2(ns / base) }
  })
  console.table(rows)
  return rows
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

const round2 = (n) => Math.round(n * 100) / 100

module.exports = { compare, median }
