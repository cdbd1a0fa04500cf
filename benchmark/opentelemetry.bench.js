'use strict'
// The cost of ephemeron/opentelemetry, with the real OpenTelemetry SDK (logs and metrics SDKs)
// and exporters that drop what they get, so that only the JS thread's work is timed:
// 1. per report: a report published on 'ephemeron:leak' (as LeakRegistry publishes it) with no
//    subscriber, with instrument() (log record + count), log records only, the count only, and the
//    mapping alone (report -> log record object);
// 2. per metric collection: a MeterProvider's collect() with instrument() observing 1 and 10
//    caches and one registry, against the same collect() with nothing of ephemeron's.

const diagnostics = require('node:diagnostics_channel')
const { performance } = require('node:perf_hooks')
const { LoggerProvider, BatchLogRecordProcessor } = require('@opentelemetry/sdk-logs')
const { MeterProvider, MetricReader } = require('@opentelemetry/sdk-metrics')
const { compareWithTurns, median } = require('./harness.js')
const { LeakRegistry, WeakCache } = require('..')
const { instrument } = require('../opentelemetry.js')
const { logRecordOf } = require('../lib/opentelemetry-logs.js')

const REPORTS = 5_000
const COLLECTIONS = 200
const channel = diagnostics.channel('ephemeron:leak')

/** An exporter that drops everything: the export itself is not timed. */
const dropping = { export: (_items, done) => done({ code: 0 }), forceFlush: async () => {}, shutdown: async () => {} }

class PullReader extends MetricReader {
  async onForceFlush() {}
  async onShutdown() {}
}

/** A report as LeakRegistry publishes it: a leaked FileHandle with a request's context. */
function reportOf(i) {
  return {
    kind: 'leaked',
    type: 'FileHandle',
    id: i,
    label: '/srv/data/orders.csv',
    info: { type: 'FileHandle', id: i, label: '/srv/data/orders.csv', fd: i, path: '/srv/data/orders.csv' },
    site: '/srv/app/routes/export.js:48',
    trackedAt: 1_796_000_000_000,
    collectedAt: 1_796_000_030_009,
    ageMs: 30_009,
    count: i + 1,
    pid: 4242,
    threadId: 0,
    registry: 'api',
    context: { requestId: `req-${i}`, route: '/export', tenant: 'acme' },
  }
}

const reports = Array.from({ length: REPORTS }, (_, i) => reportOf(i))

function publishAll() {
  for (const report of reports) channel.publish(report)
  return reports.length
}

async function perReport() {
  // Batching as in production; the queue holds every round's records until the end (a larger
  // queue than the default 2048, which would drop records and time less work).
  const processor = new BatchLogRecordProcessor({ exporter: dropping, maxQueueSize: 1 << 20, scheduledDelayMillis: 3_600_000 })
  const loggerProvider = new LoggerProvider({ processors: [processor] })
  const meterProvider = new MeterProvider({ readers: [new PullReader()] })
  const variants = {
    'no subscriber': undefined,
    'instrument(): log record + count': { loggerProvider, meterProvider },
    'log records only': { loggerProvider, metrics: false },
    'count only': { meterProvider, logs: false },
  }
  const impls = Object.entries(variants).map(([name, options]) => ({
    name,
    setup: () => (options === undefined ? undefined : instrument(options)),
    run: (telemetry) => {
      const published = publishAll()
      telemetry?.close()
      return published
    },
  }))
  impls.push({ name: 'the mapping alone (report -> record)', run: () => reports.reduce((n, report) => n + (logRecordOf(report).body.length > 0 ? 1 : 0), 0) })
  await compareWithTurns(`a report on 'ephemeron:leak', ${REPORTS} reports`, impls, { ops: REPORTS, rounds: 9 })
  await loggerProvider.shutdown()
  await meterProvider.shutdown()
}

/** Median µs of one collect(), each variant in turn per round (interleaved). */
async function perCollection() {
  const registry = new LeakRegistry({ onLeak() {}, log: false })
  const held = Array.from({ length: 100 }, (_, i) => registry.track({}, { type: `T${i % 5}` }))
  const caches = Array.from({ length: 10 }, () => {
    const cache = new WeakCache({ max: 100 })
    for (let i = 0; i < 200; i++) cache.set(i, { i })
    for (let i = 0; i < 300; i++) cache.get(i)
    return cache
  })
  const variant = (options) => {
    const reader = new PullReader()
    const meterProvider = new MeterProvider({ readers: [reader] })
    // Something of the application's own, so that the baseline collects one instrument too.
    meterProvider.getMeter('app').createObservableGauge('app.queue.depth').addCallback((result) => result.observe(3))
    const telemetry = options === undefined ? undefined : instrument({ meterProvider, logs: false, ...options })
    return { reader, meterProvider, telemetry }
  }
  const variants = {
    'without ephemeron': variant(undefined),
    'instrument(), no cache, process total': variant({}),
    'instrument(), 1 registry by type': variant({ registries: [registry] }),
    'instrument(), 1 cache': variant({ caches: { c0: caches[0] } }),
    'instrument(), 10 caches + 1 registry': variant({ registries: [registry], caches: Object.fromEntries(caches.map((cache, i) => [`c${i}`, cache])) }),
  }
  const samples = new Map(Object.keys(variants).map((name) => [name, []]))
  for (let round = -1; round < 9; round++) {
    for (const [name, { reader }] of Object.entries(variants)) {
      const start = performance.now()
      for (let i = 0; i < COLLECTIONS; i++) await reader.collect()
      const us = ((performance.now() - start) * 1000) / COLLECTIONS
      if (round >= 0) samples.get(name).push(us)
    }
  }
  const base = median(samples.get('without ephemeron'))
  console.table(
    [...samples].map(([name, values]) => ({
      scenario: `one metric collection (collect()), ${COLLECTIONS} per round`,
      implementation: name,
      'µs/collection': Math.round(median(values) * 10) / 10,
      'µs over the baseline': Math.round((median(values) - base) * 10) / 10,
    })),
  )
  for (const { telemetry, meterProvider } of Object.values(variants)) {
    telemetry?.close()
    await meterProvider.shutdown()
  }
  registry.close()
  void held
}

module.exports = async function run() {
  await perReport()
  await perCollection()
}

if (require.main === module) run()
