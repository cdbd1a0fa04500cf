#!/usr/bin/env node
'use strict'
// The long run of the differential fuzz of WeakCache against lru-cache 11.5
// (__test__/helpers/weak-cache-differential.js): `node scripts/lru-differential.js [--sequences N]
// [--steps N] [--seed S]`. Runs N random sequences of operations (default 1000 of 400 steps) on
// both caches and stops at the first divergence, which it prints with its seed; `--seed S` replays
// one sequence. Exit code 0: every sequence agreed. `npm run soak` runs it.

const { parseArgs } = require('node:util')
const { LRUCache } = require('lru-cache')
const { WeakCache } = require('..')
const { runSequence, formatDivergence } = require('../__test__/helpers/weak-cache-differential.js')

async function main() {
  // The sequences pass options lru-cache ignores (WeakCache warns once per name) and make caches
  // bounded only by a ttl (both warn): counted, not printed.
  const warnings = new Map()
  process.removeAllListeners('warning')
  process.on('warning', (warning) => warnings.set(warning.code ?? warning.name, (warnings.get(warning.code ?? warning.name) ?? 0) + 1))
  const { values } = parseArgs({ options: { sequences: { type: 'string', default: '1000' }, steps: { type: 'string', default: '400' }, seed: { type: 'string' }, first: { type: 'string', default: '1' } } })
  const steps = Number(values.steps)
  const seeds = values.seed !== undefined ? [Number(values.seed)] : Array.from({ length: Number(values.sequences) }, (_, i) => Number(values.first) + i)
  const started = Date.now()
  for (const seed of seeds) {
    const divergence = await runSequence(seed, { steps, WeakCache, LRUCache })
    if (divergence !== undefined) {
      console.log(`lru-differential: DIVERGED\n${formatDivergence(divergence)}`)
      process.exitCode = 1
      return
    }
  }
  console.log(`lru-differential: ${seeds.length} sequences of ${steps} steps agree with lru-cache (${((Date.now() - started) / 1000).toFixed(1)} s, Node ${process.version}; process warnings: ${JSON.stringify(Object.fromEntries(warnings))})`)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
