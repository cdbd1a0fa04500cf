'use strict'
// `npm run bench -- service`: what leak detection costs a whole HTTP service. Three copies of
// benchmark/leak-service.js (each request opens, reads and closes a file; with a registry, through
// `openFile`, and each connection's socket tracked) take the same load from autocannon over
// loopback: registry off, default options, `sites: 'all'`. Each round runs each service once, in a
// rotating order, for a bounded time and number of requests, twice: flat out (throughput and p99
// latency), and at a fixed rate well below it (the service's CPU time per request, which says
// what the registry costs a service that is not saturated, and p99). The table gives the medians
// over the rounds, and what each registry costs: the median over the rounds of its ratio to the
// service without a registry in the same round.
//
// The machine has two cores: the service and the load generator take one each, and the file
// reads run on libuv's threads, so flat-out throughput depends on how the cores are shared;
// the CPU time per request at a fixed rate is the steadier measure. Ratios come from rounds
// interleaved in one run.
//
// Where the kernel places a service's threads matters more than anything measured here: unpinned,
// a service process settles, often for its lifetime, into one of two regimes (about 8 or about
// 25 µs of libuv CPU per request on the 2-vCPU VM of docs/benchmarks.md, for the same code; most
// likely where its libuv threads run against its JS thread), so three services could differ by
// nearly 2 times before any of them ran a registry. On Linux with `taskset`, every thread of each
// service is therefore pinned to the last CPU and this process (autocannon) to the others: the
// same placement for all three.

const path = require('node:path')
const { fork } = require('node:child_process')
const { once } = require('node:events')
const autocannon = require('autocannon')
const { median } = require('./harness.js')
const { placement, pin } = require('./cpu-placement.js')

const MODES = { off: 'registry off', default: 'LeakRegistry, default options', 'sites-all': "LeakRegistry, sites: 'all'" }
const ROUNDS = 9
const SECONDS = 3
const MAX_REQUESTS = 400_000
const CONNECTIONS = 8
/** The fixed rate: requests per second, well below what the service does flat out here. */
const RATE = 4000

async function startService(mode, placement) {
  const child = fork(path.join(__dirname, 'leak-service.js'), [mode])
  const [{ port }] = await once(child, 'message')
  // Threads a service makes later (libuv's, on its first file) inherit its JS thread's CPUs.
  if (placement !== undefined) pin(child.pid, placement.service)
  return { child, url: `http://127.0.0.1:${port}/` }
}

/** One bounded load (flat out, or at `rate`): requests per second and p99 latency (ms), and the service's CPU per request. */
async function load(service, rate = undefined) {
  service.child.send('start')
  const result = await autocannon({ url: service.url, connections: CONNECTIONS, duration: SECONDS, maxOverallRequests: MAX_REQUESTS, overallRate: rate })
  service.child.send('stop')
  const [{ cpuMicros }] = await once(service.child, 'message')
  if (result.errors > 0 || result.non2xx > 0) throw new Error(`leak-service: ${result.errors} errors, ${result.non2xx} non-2xx responses`)
  return { rps: result.requests.average, p99: result.latency.p99, cpu: cpuMicros / result.requests.total }
}

async function main() {
  const where = placement()
  console.log(where === undefined ? 'threads not pinned (needs Linux, taskset and 2 CPUs)' : `services pinned to CPU ${where.service}, autocannon to CPU ${where.load}`)
  if (where !== undefined) pin(process.pid, where.load)
  const services = {}
  for (const mode of Object.keys(MODES)) services[mode] = await startService(mode, where)
  try {
    for (const service of Object.values(services)) {
      await autocannon({ url: service.url, connections: CONNECTIONS, duration: 1 }) // warm up
    }
    const samples = Object.fromEntries(Object.keys(MODES).map((mode) => [mode, []]))
    const modes = Object.keys(MODES)
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of [...modes.slice(round % modes.length), ...modes.slice(0, round % modes.length)]) {
        const flatOut = await load(services[mode])
        const paced = await load(services[mode], RATE)
        samples[mode].push({ flatOut, paced })
      }
    }
    const medianOf = (mode, pick) => median(samples[mode].map(pick))
    // A cost is the median over the rounds of the ratio to the service without a registry in the
    // same round: the three ran back to back, so a drift of the machine over the run cancels out.
    const pairedRatio = (mode, pick) => median(samples[mode].map((sample, round) => pick(sample) / pick(samples.off[round])))
    console.table(
      modes.map((mode) => {
        const rps = medianOf(mode, (s) => s.flatOut.rps)
        const cpu = medianOf(mode, (s) => s.paced.cpu)
        return {
          scenario: `HTTP: open + read 1 KB + close a file per request, ${CONNECTIONS} connections, ${ROUNDS} x ${SECONDS} s`,
          service: MODES[mode],
          'requests/s flat out': Math.round(rps),
          'throughput cost': mode === 'off' ? '' : `${round2((1 - pairedRatio(mode, (s) => s.flatOut.rps)) * 100)} %`,
          'p99 ms flat out': medianOf(mode, (s) => s.flatOut.p99),
          [`CPU µs/request at ${RATE}/s`]: round2(cpu),
          'CPU cost': mode === 'off' ? '' : `${round2((pairedRatio(mode, (s) => s.paced.cpu) - 1) * 100)} %`,
          [`p99 ms at ${RATE}/s`]: medianOf(mode, (s) => s.paced.p99),
        }
      }),
    )
    const { stats } = await statsOf(services.default)
    console.log(`the default service tracked ${stats.byType.FileHandle.tracked} files and ${stats.byType.Socket?.tracked ?? 0} sockets; ${stats.leaked} leaked`)
  } finally {
    for (const service of Object.values(services)) service.child.kill()
    if (where !== undefined) pin(process.pid, where.restore) // (later benchmarks of this run)
  }
}

async function statsOf(service) {
  service.child.send('start')
  service.child.send('stop')
  const [message] = await once(service.child, 'message')
  return message
}

const round2 = (n) => Math.round(n * 100) / 100

module.exports = main
