'use strict'
// CPU overhead of the FileHandle helper (default options: stacks 'sample' at 0.1):
// 1. per handle: open + read + close in a loop, fs.promises.open against LeakRegistry.openFile,
//    CPU time (user + system, all threads) per handle, interleaved rounds;
// 2. per request of a service that opens and closes one FileHandle per request: two copies of
//    benchmark/leak-service.js (plain and tracked) take the same load in alternating rounds; each
//    reports the CPU time it spent.

const path = require('node:path')
const http = require('node:http')
const fsp = require('node:fs/promises')
const { fork } = require('node:child_process')
const { once } = require('node:events')
const { median } = require('./harness.js')
const { LeakRegistry } = require('..')

const REQUESTS = 3000
const CONCURRENCY = 8
const ROUNDS = 11
const HANDLES = 3000

async function openReadClose(open) {
  const handle = await open(__filename)
  try {
    await handle.read(Buffer.allocUnsafe(1024), 0, 1024, 0)
  } finally {
    await handle.close()
  }
}

async function perHandle() {
  const registry = new LeakRegistry({ log: '/dev/null' })
  const impls = { 'fs.promises.open': (file) => fsp.open(file), 'LeakRegistry.openFile': (file) => registry.openFile(file) }
  const samples = new Map(Object.keys(impls).map((name) => [name, []]))
  for (let round = -1; round < ROUNDS; round++) {
    for (const [name, open] of Object.entries(impls)) {
      const start = process.cpuUsage()
      for (let i = 0; i < HANDLES; i++) await openReadClose(open)
      const { user, system } = process.cpuUsage(start)
      if (round >= 0) samples.get(name).push((user + system) / HANDLES)
    }
  }
  registry.close()
  const [plain, tracked] = [...samples.values()].map(median)
  console.table([
    { scenario: 'open + read 1 KB + close, sequential', implementation: 'fs.promises.open', 'CPU µs/handle': round2(plain) },
    { scenario: '', implementation: 'LeakRegistry.openFile', 'CPU µs/handle': round2(tracked), 'extra µs': round2(tracked - plain) },
  ])
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
  const [{ cpuMicros, stats }] = await once(service.child, 'message')
  return { micros: cpuMicros / REQUESTS, stats }
}

async function main() {
  await perHandle()
  const plain = await startService('plain')
  const tracked = await startService('tracked')
  const samples = { plain: [], tracked: [] }
  let stats
  for (let round = -1; round < ROUNDS; round++) {
    const a = await cpuPerRequest(plain)
    const b = await cpuPerRequest(tracked)
    stats = b.stats
    if (round >= 0) {
      samples.plain.push(a.micros)
      samples.tracked.push(b.micros)
    }
  }
  plain.child.kill()
  tracked.child.kill()
  const base = median(samples.plain)
  const overheads = samples.plain.map((p, i) => (samples.tracked[i] - p) / p)
  console.table([
    { scenario: 'HTTP request: open + read 1 KB + close one FileHandle', service: 'fs.promises.open', 'CPU µs/request': round2(base) },
    { scenario: '', service: 'LeakRegistry.openFile', 'CPU µs/request': round2(median(samples.tracked)) },
  ])
  console.log(
    `FileHandle helper CPU overhead: median ${round2(median(overheads) * 100)} % per request ` +
      `(rounds: ${overheads.map((o) => round2(o * 100)).join(', ')} %); ` +
      `${REQUESTS} requests x ${ROUNDS} rounds, concurrency ${CONCURRENCY}; tracked service stats: ${JSON.stringify(stats)}`,
  )
}

const round2 = (n) => Math.round(n * 100) / 100

main()
