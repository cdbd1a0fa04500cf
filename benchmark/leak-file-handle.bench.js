'use strict'
// Guarded FileHandles (what LeakRegistry.openFile returns), default options:
// 1. per read: the same file read through a plain FileHandle and through a guarded one, awaited
//    one by one, and the JS thread's share alone (reads started back to back);
// 2. per file: open + read 1 KB + close in a loop, fs.promises.open against
//    LeakRegistry.openFile: the CPU time of the process (all threads) and the JS thread's busy
//    time (event loop utilization) per file.
// The machine is shared, so both run in many short alternating rounds and the overhead is the
// median of the per-round differences (slow drifts in load cancel out within a pair).
// (leak-service.bench.js measures a whole HTTP service.)

const fsp = require('node:fs/promises')
const { performance } = require('node:perf_hooks')
const { median } = require('./harness.js')
const { LeakRegistry } = require('..')

const HANDLES = 200
const HANDLE_ROUNDS = 101

async function openReadClose(open) {
  const handle = await open(__filename)
  try {
    await handle.read(Buffer.allocUnsafe(1024), 0, 1024, 0)
  } finally {
    await handle.close()
  }
}

const READS = 2000
const READ_ROUNDS = 41
const STARTS = 200
const START_ROUNDS = 301

/**
 * Paired rounds over a plain and a guarded handle of the same file: `round(handle, buffers)`
 * returns ns per read; prints the medians and the median of the per-round differences.
 */
async function pairedReads(scenario, rounds, round) {
  const registry = new LeakRegistry({ log: '/dev/null' })
  const handles = { plain: await fsp.open(__filename), guarded: await registry.openFile(__filename) }
  const buffers = Array.from({ length: STARTS }, () => Buffer.allocUnsafe(1024))
  const samples = { plain: [], guarded: [] }
  for (let i = -1; i < rounds; i++) {
    for (const [name, handle] of Object.entries(handles)) {
      const ns = await round(handle, buffers)
      if (i >= 0) samples[name].push(ns)
    }
  }
  for (const handle of Object.values(handles)) await handle.close()
  registry.close()
  const plain = median(samples.plain)
  const pairs = samples.plain.map((ns, i) => samples.guarded[i] - ns)
  const spread = median(pairs.map((extra) => Math.abs(extra - median(pairs))))
  console.table([
    { scenario, handle: 'fs.promises FileHandle', 'ns/read': Math.round(plain) },
    {
      scenario: '',
      handle: 'guarded (LeakRegistry.openFile)',
      'ns/read': Math.round(median(samples.guarded)),
      'extra ns (median of pairs)': Math.round(median(pairs)),
      'pairs spread (MAD)': Math.round(spread),
      'x plain': round2(median(samples.guarded) / plain),
    },
  ])
}

/** A whole read, awaited: what a caller waits for (the thread pool's round trip included). */
async function awaitedReads(handle, [buffer]) {
  const start = process.hrtime.bigint()
  for (let i = 0; i < READS; i++) await handle.read(buffer, 0, 1024, 0)
  return Number(process.hrtime.bigint() - start) / READS
}

/** Only the JS thread's share of a read: the time to start 200 of them back to back (the method
 * lookup, the guard and Node's own work up to the thread pool), far less noisy than a round trip. */
async function startedReads(handle, buffers) {
  const reads = new Array(STARTS)
  const start = process.hrtime.bigint()
  for (let i = 0; i < STARTS; i++) reads[i] = handle.read(buffers[i], 0, 1024, 0)
  const ns = Number(process.hrtime.bigint() - start) / STARTS
  await Promise.all(reads)
  return ns
}

async function perHandle() {
  const registry = new LeakRegistry({ log: '/dev/null' })
  const impls = { plain: (file) => fsp.open(file), tracked: (file) => registry.openFile(file) }
  const cpu = { plain: [], tracked: [] }
  const busy = { plain: [], tracked: [] }
  for (let round = -5; round < HANDLE_ROUNDS; round++) {
    for (const [name, open] of Object.entries(impls)) {
      const start = process.cpuUsage()
      const loop = performance.eventLoopUtilization()
      for (let i = 0; i < HANDLES; i++) await openReadClose(open)
      const { user, system } = process.cpuUsage(start)
      const { active } = performance.eventLoopUtilization(loop)
      if (round >= 0) {
        cpu[name].push((user + system) / HANDLES)
        busy[name].push((active * 1000) / HANDLES)
      }
    }
  }
  registry.close()
  const extra = (samples) => median(samples.plain.map((plain, i) => samples.tracked[i] - plain))
  console.table([
    { scenario: 'open + read 1 KB + close, sequential', implementation: 'fs.promises.open', 'CPU µs/file': round2(median(cpu.plain)), 'JS thread µs/file': round2(median(busy.plain)) },
    {
      scenario: '',
      implementation: 'LeakRegistry.openFile',
      'CPU µs/file': round2(median(cpu.tracked)),
      'JS thread µs/file': round2(median(busy.tracked)),
      'extra CPU µs (median of pairs)': round2(extra(cpu)),
      'x CPU': round2(1 + extra(cpu) / median(cpu.plain)),
      'extra JS thread µs': round2(extra(busy)),
    },
  ])
}

async function main() {
  await pairedReads('read 1 KB at offset 0 (await handle.read)', READ_ROUNDS, awaitedReads)
  await pairedReads('start a read (200 back to back, JS thread only)', START_ROUNDS, startedReads)
  await perHandle()
}

const round2 = (n) => Math.round(n * 100) / 100

module.exports = main
