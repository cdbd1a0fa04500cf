'use strict'
// An HTTP service whose leak reports and cache figures go to OpenTelemetry. Each request runs in
// an AsyncLocalStorage store with its request id and route, and the LeakRegistry's `context`
// reads that store at track(): every report then says which request leaked the resource. Two
// bugs: /export forgets to close a file, and /report holds a socket to an upstream longer than
// `suspectAfter`. The reports become OpenTelemetry log records (WARN for the forgotten file and
// the held socket, INFO when the socket is finally released), and the metrics count them and
// read the page cache's hits and misses.
//
//   node --expose-gc examples/opentelemetry-service.js
//   (--expose-gc only so that this short run can force the collection that reveals the forgotten
//   file; a server does not need it: the report comes when V8 collects the handle)
//
// OpenTelemetry is set up here to print what it exports and need no collector: log records
// through the SDK's console exporter, metrics read once at the end and printed one series a line
// (what a dashboard plots). A service exports both over OTLP instead (docs/opentelemetry.md):
// OTLPLogExporter and OTLPMetricExporter from @opentelemetry/exporter-{logs,metrics}-otlp-http.
// The registry also writes its own JSON lines to stderr: what one instance logs.

const { AsyncLocalStorage } = require('node:async_hooks')
const { once } = require('node:events')
const fs = require('node:fs')
const http = require('node:http')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const { LoggerProvider, SimpleLogRecordProcessor, ConsoleLogRecordExporter } = require('@opentelemetry/sdk-logs')
const { MeterProvider, MetricReader } = require('@opentelemetry/sdk-metrics')
const { LeakRegistry, WeakCache } = require('ephemeron')
const { instrument } = require('ephemeron/opentelemetry')

// OpenTelemetry, as the service's telemetry setup makes it (a NodeSDK would register these
// globally, and instrument() would find them without being told).
const loggerProvider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter: new ConsoleLogRecordExporter() })] })
class PullReader extends MetricReader {
  async onForceFlush() {}
  async onShutdown() {}
}
const metricReader = new PullReader() // read when the run ends (a Prometheus scrape would read it)
const meterProvider = new MeterProvider({ readers: [metricReader] })

// The service.
const requests = new AsyncLocalStorage() // { requestId, route } of the request being served
const leaks = new LeakRegistry({
  name: 'api',
  log: 'stderr', // one JSON line per report, as without OpenTelemetry
  context: () => requests.getStore(), // which request tracked it
})
const pages = new WeakCache({ max: 100 })
const telemetry = instrument({ loggerProvider, meterProvider, caches: { pages }, registries: [leaks] })

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ephemeron-otel-example-'))
fs.writeFileSync(path.join(dataDir, 'orders.csv'), 'id,total\n1,30\n2,12\n')
let upstream // a TCP server standing in for a database

const routes = {
  async '/page'(id) {
    let page = pages.get(id)
    if (page === undefined) pages.set(id, (page = { id, html: `<h1>page ${id}</h1>` }))
    return page.html
  },
  async '/export'() {
    const file = await leaks.openFile(path.join(dataDir, 'orders.csv')) // reported with this line
    const csv = await file.readFile('utf8')
    return `${csv.split('\n').length - 2} orders` // the bug: file.close() is forgotten
  },
  async '/report'() {
    // Held longer than 300 ms, a connection is suspected (30 s in a real service).
    const socket = leaks.track(net.connect(upstream.address().port, '127.0.0.1'), { type: 'net.Socket', label: 'upstream', suspectAfter: 300 })
    socket.once('close', () => leaks.release(socket))
    await new Promise((resolve) => setTimeout(resolve, 600)) // the bug: a slow path holds the connection too long
    socket.destroy()
    await once(socket, 'close') // released before the response goes out
    return 'report done'
  },
}

let nextRequestId = 1
const server = http.createServer((request, response) => {
  const [, route, argument] = request.url.split('/')
  const handler = routes[`/${route}`]
  if (handler === undefined) return response.writeHead(404).end()
  const store = { requestId: `req-${nextRequestId++}`, route: `/${route}` }
  requests.run(store, async () => {
    response.end(await handler(argument))
  })
})

/** One collection, printed as `name{attribute=value,...} value` lines. */
async function printMetrics() {
  const { resourceMetrics } = await metricReader.collect()
  for (const { metrics } of resourceMetrics.scopeMetrics) {
    for (const { descriptor, dataPoints } of metrics) {
      for (const { attributes, value } of dataPoints) {
        const labels = Object.entries(attributes).map(([key, text]) => `${key}=${text}`)
        console.log(`${descriptor.name}{${labels.join(',')}} ${value}`)
      }
    }
  }
}

async function get(url) {
  const response = await fetch(url)
  return response.text()
}

async function main() {
  upstream = net.createServer((socket) => socket.on('error', () => {})).listen(0, '127.0.0.1')
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${server.address().port}`
  for (const url of ['/page/1', '/page/1', '/page/2', '/export', '/report']) console.log(`GET ${url}: ${await get(base + url)}`)

  if (typeof globalThis.gc === 'function') {
    // What V8 does by itself in a server, sooner or later: collect the forgotten file handle.
    for (let i = 0; i < 50 && leaks.stats().leaked === 0; i++) {
      globalThis.gc()
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  } else {
    console.log('(run with --expose-gc to see the forgotten file reported now: a server sees it when V8 collects it)')
  }
  await new Promise((resolve) => setImmediate(resolve)) // reports are delivered on the event loop

  const stats = leaks.stats()
  console.log(`LeakRegistry: tracked ${stats.tracked}, released ${stats.released}, leaked ${stats.leaked}, suspected ${stats.suspected}`)
  await loggerProvider.forceFlush()
  await printMetrics()

  telemetry.close()
  leaks.close()
  server.close()
  upstream.close()
  await loggerProvider.shutdown()
  await meterProvider.shutdown()
  fs.rmSync(dataDir, { recursive: true, force: true })
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
