'use strict'
// CPU overhead of the FileHandle helper (default options: stacks 'sample' at 0.1):
// 0. per read: the same file read through a plain FileHandle and through a guarded one (the
//    Proxy `openFile` returns), awaited one by one, and the JS thread's share alone (reads started
//    back to back), to show what the guard adds to I/O;
// 1. per handle: open + read + close in a loop, fs.promises.open against LeakRegistry.openFile,
//    CPU time (user + system, all threads) per handle;
// 2. per request of a service that opens and closes one FileHandle per request: two copies of
//    benchmark/leak-service.js (plain and tracked) take the same load; each reports the CPU time
//    it spent.
// The machine is shared, so both run in many short alternating rounds and the overhead is the
// median of the per-round differences (slow drifts in load cancel out within a pair).

const path = require('node:path')
const http = require('node:http')
const fsp = require('node:fs/promises')
const { fork } = require('node:child_process')
const { once } = require('node:events')
const { median } = require('./harness.js')
const { LeakRegistry } = require('..')

const REQUESTS = 1000
const CONCURRENCY = 8
const ROUNDS = 21
const HANDLES = 500
const HANDLE_ROUNDS = 41

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
  const samples = { plain: [], tracked: [] }
  for (let round = -1; round < HANDLE_ROUNDS; round++) {
    for (const [name, open] of Object.entries(impls)) {
      const start = process.cpuUsage()
      for (let i = 0; i < HANDLES; i++) await openReadClose(open)
      const { user, system } = process.cpuUsage(start)
      if (round >= 0) samples[name].push((user + system) / HANDLES)
    }
  }
  registry.close()
  const extra = median(samples.plain.map((plain, i) => samples.tracked[i] - plain))
  console.table([
    { scenario: 'open + read 1 KB + close, sequential', implementation: 'fs.promises.open', 'CPU µs/handle': round2(median(samples.plain)) },
    { scenario: '', implementation: 'LeakRegistry.openFile', 'CPU µs/handle': round2(median(samples.tracked)), 'extra µs (median of pairs)': round2(extra) },
  ])
  return extra
}

async function startService(mode) {
  const child = fork(path.join(__dirname, 'leak-service.js'), [mode])
  const [{ port }] = await once(child, 'message')
  return { child, port }
}

async function load(port) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY })
  let next = 0
  async function client() {
    while (next++ < REQUESTS) {
      await new Promise((resolve, reject) => {
        http.get({ port, host: '127.0.0.1', agent }, (response) => response.resume().on('end', resolve)).on('error', reject)
      })
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, client))
  agent.destroy()
}

async function cpuPerRequest(service) {
  service.child.send('start')
  await load(service.port)
  service.child.send('stop')
  const [{ cpuMicros, stats, trackMicros }] = await once(service.child, 'message')
  return { micros: cpuMicros / REQUESTS, stats, trackMicros }
}

async function main() {
  await pairedReads('read 1 KB at offset 0 (await handle.read)', READ_ROUNDS, awaitedReads)
  await pairedReads('start a read (200 back to back, JS thread only)', START_ROUNDS, startedReads)
  const extraPerHandle = await perHandle()
  const services = { plain: 'fs.promises.open', sample: "trackFileHandle (default: stacks 'sample')", off: "trackFileHandle, stacks 'off'" }
  const running = {}
  for (const mode of Object.keys(services)) running[mode] = await startService(mode)
  const samples = { plain: [], sample: [], off: [] }
  const inside = { plain: [], sample: [], off: [] }
  let stats
  for (let round = -1; round < ROUNDS; round++) {
    for (const mode of Object.keys(services)) {
      const { micros, stats: counts, trackMicros } = await cpuPerRequest(running[mode])
      if (mode === 'sample') stats = counts
      if (round >= 0) {
        samples[mode].push(micros)
        inside[mode].push(trackMicros)
      }
    }
  }
  for (const service of Object.values(running)) service.child.kill()
  const base = median(samples.plain)
  const rows = Object.entries(services).map(([mode, service]) => {
    const extra = median(samples[mode].map((micros, i) => micros - samples.plain[i]))
    return {
      scenario: mode === 'plain' ? 'HTTP request: open + read 1 KB + close one FileHandle' : '',
      service,
      'CPU µs/request': round2(median(samples[mode])),
      'extra µs (median of pairs)': mode === 'plain' ? '' : round2(extra),
      overhead: mode === 'plain' ? '' : `${round2((extra / base) * 100)} %`,
      'µs inside trackFileHandle': mode === 'plain' ? '' : round2(median(inside[mode])),
    }
  })
  console.table(rows)
  console.log(
    `${REQUESTS} requests x ${ROUNDS} rounds per service, concurrency ${CONCURRENCY}; the default service tracked ` +
      `${stats.byType.FileHandle.tracked} handles, leaked ${stats.leaked}. At ${round2(extraPerHandle)} µs per handle, ` +
      `a service stays under 2 % if it spends at least ${Math.round(extraPerHandle / 0.02)} µs CPU per request.`,
  )
}

const round2 = (n) => Math.round(n * 100) / 100

module.exports = main
