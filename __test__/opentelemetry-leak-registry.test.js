'use strict'
// ephemeron/opentelemetry with a real LeakRegistry, end to end: a resource tracked inside a
// request (an AsyncLocalStorage store read by the registry's `context`) leaks, another is held
// past `suspectAfter` and released; the OpenTelemetry SDK exports the log records and metrics
// over OTLP/HTTP to a loopback receiver, and the spec asserts what arrived: severity, the
// tracking line as code.file.path/code.line.number, the request, and the counts.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { AsyncLocalStorage } = require('node:async_hooks')
const { LoggerProvider, BatchLogRecordProcessor } = require('@opentelemetry/sdk-logs')
const { MeterProvider, PeriodicExportingMetricReader } = require('@opentelemetry/sdk-metrics')
const { OTLPLogExporter } = require('@opentelemetry/exporter-logs-otlp-http')
const { OTLPMetricExporter } = require('@opentelemetry/exporter-metrics-otlp-http')
const { LeakRegistry } = require('ephemeron')
const { instrument } = require('ephemeron/opentelemetry')
const { collectGarbage, eventually, finalizationWatcher } = require('./helpers/gc.js')
const { startOtlpReceiver } = require('./helpers/otlp-receiver.js')

let receiver
let loggerProvider
let meterProvider

before(async () => {
  receiver = await startOtlpReceiver()
  loggerProvider = new LoggerProvider({ processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: receiver.logsUrl }) })] })
  const reader = new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter({ url: receiver.metricsUrl }), exportIntervalMillis: 3_600_000 })
  meterProvider = new MeterProvider({ readers: [reader] })
})

after(async () => {
  await loggerProvider.shutdown()
  await meterProvider.shutdown()
  await receiver.close()
})

/** The line this is called from. */
function lineHere() {
  const holder = {}
  Error.captureStackTrace(holder, lineHere)
  return Number(/:(\d+):\d+\)?$/m.exec(holder.stack.split('\n')[1])[1])
}

test('a leaked and a suspected resource arrive as log records with their line and request, and are counted', async () => {
  const requests = new AsyncLocalStorage()
  const delivered = []
  const registry = new LeakRegistry({ name: 'spec', log: false, onLeak: (report) => delivered.push(report), context: () => requests.getStore() })
  const telemetry = instrument({ loggerProvider, meterProvider, registries: [registry] })
  const { collected, watch } = finalizationWatcher()
  try {
    // Request 1 forgets a resource: tracked, then dropped.
    const leakLine = requests.run({ requestId: 'req-1', route: '/export' }, () => {
      const resource = { buffer: 'x' }
      watch(resource, 'leaked')
      registry.track(resource, { type: 'Export', label: 'a.csv' }); return lineHere() // prettier-ignore
    })
    // Request 2 holds one past suspectAfter, then releases it; request 3 releases in time.
    const held = { socket: 1 }
    const heldLine = requests.run({ requestId: 'req-2', route: '/report' }, () => {
      registry.track(held, { type: 'Conn', suspectAfter: 20 }); return lineHere() // prettier-ignore
    })
    const quick = requests.run({ requestId: 'req-3', route: '/ok' }, () => registry.track({}, { type: 'Conn', suspectAfter: 20 }))
    registry.release(quick)

    await collectGarbage()
    assert.ok(collected.has('leaked'), 'the forgotten resource was collected')
    await eventually(() => delivered.some((report) => report.kind === 'suspected'), { message: 'no suspected report' })
    registry.release(held)
    await eventually(() => delivered.some((report) => report.kind === 'released'), { message: 'no released report' })
    await loggerProvider.forceFlush()
    await meterProvider.forceFlush()
    assert.deepEqual(receiver.errors, [])

    const byKind = Object.fromEntries(receiver.logs.map((record) => [record.attributes['ephemeron.leak.kind'], record]))
    assert.deepEqual(Object.keys(byKind).sort(), ['leaked', 'released', 'suspected'], 'one record per report, none for the resource released in time')
    assert.equal(receiver.logs.length, 3)
    const { leaked, suspected, released } = byKind
    assert.deepEqual([leaked.severityText, suspected.severityText, released.severityText], ['WARN', 'WARN', 'INFO'])
    assert.equal(leaked.attributes['code.file.path'], __filename)
    assert.equal(leaked.attributes['code.line.number'], leakLine)
    assert.equal(leaked.attributes['ephemeron.context.requestId'], 'req-1')
    assert.equal(leaked.attributes['ephemeron.context.route'], '/export')
    assert.equal(leaked.attributes['ephemeron.resource.type'], 'Export')
    assert.equal(leaked.attributes['ephemeron.resource.label'], 'a.csv')
    assert.equal(leaked.attributes['ephemeron.registry.name'], 'spec')
    assert.equal(leaked.attributes['process.pid'], process.pid)
    assert.equal(leaked.attributes['thread.id'], 0)
    assert.match(leaked.body, new RegExp(`^leaked: Export \\d+ "a\\.csv" from .*opentelemetry-leak-registry\\.test\\.js:${leakLine}, collected unreleased after`))
    for (const record of [suspected, released]) {
      assert.equal(record.attributes['code.line.number'], heldLine)
      assert.equal(record.attributes['ephemeron.context.requestId'], 'req-2')
    }
    // The records say what the registry's own reports say.
    const leakedReport = delivered.find((report) => report.kind === 'leaked')
    assert.equal(leaked.timeUnixNano, BigInt(leakedReport.trackedAt + leakedReport.ageMs) * 1_000_000n)
    assert.equal(leaked.attributes['ephemeron.leak.age_ms'], leakedReport.ageMs)

    const reports = receiver.latest('ephemeron.leak.reports').points.map(({ attributes, value }) => [attributes['ephemeron.leak.kind'], attributes['ephemeron.resource.type'], value])
    assert.deepEqual(reports.sort(), [
      ['leaked', 'Export', 1],
      ['released', 'Conn', 1],
      ['suspected', 'Conn', 1],
    ])
    const live = receiver.latest('ephemeron.resource.live').points.map(({ attributes, value }) => [attributes['ephemeron.resource.type'], value])
    assert.deepEqual(live.sort(), [
      ['Conn', 0],
      ['Export', 0],
    ])
  } finally {
    telemetry.close()
    registry.close()
  }
})
