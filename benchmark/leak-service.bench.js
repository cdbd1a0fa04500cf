'use strict'
// `npm run bench -- service`: what leak detection costs a whole HTTP service. Three copies of
// benchmark/leak-service.js (each request opens, reads and closes a file; with a registry, through
// `openFile`, and each connection's socket tracked) take the same load from autocannon over
// loopback: registry off, default options, `sites: 'all'`. Each round runs each service once, in a
// rotating order, for a bounded time and number of requests; the table gives the median
// throughput and p99 latency over the rounds, and the throughput each registry costs.
//
// The machine has two cores: the service and the load generator take one each, so absolute
// figures depend on what else runs; the ratios come from rounds interleaved in one run.

const path = require('node:path')
const { fork } = require('node:child_process')
const { once } = require('node:events')
const autocannon = require('autocannon')
const { median } = require('./harness.js')

const MODES = { off: 'registry off', default: 'LeakRegistry, default options', 'sites-all': "LeakRegistry, sites: 'all'" }
const ROUNDS = 9
const SECONDS = 3
const MAX_REQUESTS = 400_000
const CONNECTIONS = 8

async function startService(mode) {
  const child = fork(path.join(__dirname, 'leak-service.js'), [mode])
  const [{ port }] = await once(child, 'message')
  return { child, url: `http://127.0.0.1:${port}/` }
}

/** One bounded load: requests per second and p99 latency (ms), and the service's CPU per request. */
async function load(service) {
  service.child.send('start')
  const result = await autocannon({ url: service.url, connections: CONNECTIONS, duration: SECONDS, maxOverallRequests: MAX_REQUESTS })
  service.child.send('stop')
  const [{ cpuMicros }] = await once(service.child, 'message')
  if (result.errors > 0 || result.non2xx > 0) throw new Error(`leak-service: ${result.errors} errors, ${result.non2xx} non-2xx responses`)
  return { rps: result.requests.average, p99: result.latency.p99, cpu: cpuMicros / result.requests.total }
}

async function main() {
  const services = {}
  for (const mode of Object.keys(MODES)) services[mode] = await startService(mode)
  try {
    for (const service of Object.values(services)) {
      await autocannon({ url: service.url, connections: CONNECTIONS, duration: 1 }) // warm up
    }
    const samples = Object.fromEntries(Object.keys(MODES).map((mode) => [mode, []]))
    const modes = Object.keys(MODES)
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of [...modes.slice(round % modes.length), ...modes.slice(0, round % modes.length)]) {
        samples[mode].push(await load(services[mode]))
      }
    }
    const base = median(samples.off.map((s) => s.rps))
    console.table(
      modes.map((mode) => {
        const rps = median(samples[mode].map((s) => s.rps))
        return {
          scenario: `HTTP: open + read 1 KB + close a file per request, ${CONNECTIONS} connections, ${ROUNDS} x ${SECONDS} s`,
          service: MODES[mode],
          'requests/s': Math.round(rps),
          'p99 ms': median(samples[mode].map((s) => s.p99)),
          'CPU µs/request': round2(median(samples[mode].map((s) => s.cpu))),
          'throughput cost': mode === 'off' ? '' : `${round2((1 - rps / base) * 100)} %`,
        }
      }),
    )
    const { stats } = await statsOf(services.default)
    console.log(`the default service tracked ${stats.byType.FileHandle.tracked} files and ${stats.byType.Socket?.tracked ?? 0} sockets; ${stats.leaked} leaked`)
  } finally {
    for (const service of Object.values(services)) service.child.kill()
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
