'use strict'
// Guarded FileHandles (what LeakRegistry.openFile returns), default options:
// 1. per read: the same file read through a plain FileHandle and through a guarded one, awaited
//    one by one, and the JS thread's share alone (reads started back to back);
// 2. per file: open + read 1 KB + close in a loop, fs.promises.open against
//    LeakRegistry.openFile: the CPU time of the process (all threads) and the JS thread's busy
//    time (event loop utilization) per file.
// The machine is shared, so both run in many short alternating rounds and the overhead is the
// median of the per-round differences (slow drifts in load cancel out within a pair). Per file,
// a third loop tracks each plain handle with a bare FinalizationRegistry tracker (register at
// open, unregister at close): what the least a leak detector can do costs in the same loop.
// Every thread of the process runs on one CPU meanwhile (cpu-placement.js), where it can.
// (leak-service.bench.js measures a whole HTTP service.)

const fsp = require('node:fs/promises')
const { performance } = require('node:perf_hooks')
const { median } = require('./harness.js')
const { placement, pin } = require('./cpu-placement.js')
const { LeakRegistry } = require('..')

const HANDLES = 200
const HANDLE_ROUNDS = 101

async function openReadClose({ open, close }) {
  const handle = await open(__filename)
  try {
    await handle.read(Buffer.allocUnsafe(1024), 0, 1024, 0)
  } finally {
    await close(handle)
  }
}

/** A bare tracker of plain handles: a FinalizationRegistry cell and a WeakMap entry per open file. */
function bareTracker() {
  const finalization = new FinalizationRegistry(() => {})
  const tracked = new WeakMap()
  let next = 0
  return {
    async open(file) {
      const handle = await fsp.open(file)
      const id = ++next
      finalization.register(handle, id, handle)
      tracked.set(handle, id)
      return handle
    },
    close(handle) {
      finalization.unregister(handle)
      tracked.delete(handle)
      return handle.close()
    },
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
  const close = (handle) => handle.close()
  const impls = { plain: { open: (file) => fsp.open(file), close }, bare: bareTracker(), tracked: { open: (file) => registry.openFile(file), close } }
  const cpu = { plain: [], bare: [], tracked: [] }
  const busy = { plain: [], bare: [], tracked: [] }
  const names = Object.keys(impls)
  for (let round = -5; round < HANDLE_ROUNDS; round++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + round + 5) % names.length] // each round starts with another one
      const start = process.cpuUsage()
      const loop = performance.eventLoopUtilization()
      for (let i = 0; i < HANDLES; i++) await openReadClose(impls[name])
      const { user, system } = process.cpuUsage(start)
      const { active } = performance.eventLoopUtilization(loop)
      if (round >= 0) {
        cpu[name].push((user + system) / HANDLES)
        busy[name].push((active * 1000) / HANDLES)
      }
    }
  }
  registry.close()
  const extra = (samples, name) => median(samples.plain.map((plain, i) => samples[name][i] - plain))
  const row = (name, implementation) => ({
    scenario: '',
    implementation,
    'CPU µs/file': round2(median(cpu[name])),
    'JS thread µs/file': round2(median(busy[name])),
    'extra CPU µs (median of pairs)': round2(extra(cpu, name)),
    'x CPU': round2(1 + extra(cpu, name) / median(cpu.plain)),
    'extra JS thread µs': round2(extra(busy, name)),
  })
  console.table([
    { scenario: 'open + read 1 KB + close, sequential', implementation: 'fs.promises.open', 'CPU µs/file': round2(median(cpu.plain)), 'JS thread µs/file': round2(median(busy.plain)) },
    row('bare', 'fs.promises.open + a bare FinalizationRegistry tracker'),
    row('tracked', 'LeakRegistry.openFile'),
  ])
}

async function main() {
  const where = placement()
  console.log(where === undefined ? 'threads not pinned (needs Linux, taskset and 2 CPUs)' : `every thread pinned to CPU ${where.service}`)
  if (where !== undefined) pin(process.pid, where.service)
  try {
    await pairedReads('read 1 KB at offset 0 (await handle.read)', READ_ROUNDS, awaitedReads)
    await pairedReads('start a read (200 back to back, JS thread only)', START_ROUNDS, startedReads)
    await perHandle()
  } finally {
    if (where !== undefined) pin(process.pid, where.restore) // (later benchmarks of this run)
  }
}

const round2 = (n) => Math.round(n * 100) / 100

module.exports = main
