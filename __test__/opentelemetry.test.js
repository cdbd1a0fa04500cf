'use strict'
// ephemeron/opentelemetry end to end: the real OpenTelemetry JS SDK (logs and metrics SDKs, the
// OTLP/HTTP exporters, which send JSON) exports to an OTLP/HTTP receiver on loopback
// (helpers/otlp-receiver.js); the specs decode what arrived and assert on it. Flushes are forced
// (forceFlush), so nothing waits for an export interval.

const { test, before, after, beforeEach, afterEach } = require('node:test')
const assert = require('node:assert/strict')
const diagnostics = require('node:diagnostics_channel')
const { LoggerProvider, BatchLogRecordProcessor } = require('@opentelemetry/sdk-logs')
const { MeterProvider, PeriodicExportingMetricReader } = require('@opentelemetry/sdk-metrics')
const { OTLPLogExporter } = require('@opentelemetry/exporter-logs-otlp-http')
const { OTLPMetricExporter, AggregationTemporalityPreference } = require('@opentelemetry/exporter-metrics-otlp-http')
const { resourceFromAttributes } = require('@opentelemetry/resources')
const { LeakRegistry, WeakCache } = require('ephemeron')
const { instrument } = require('ephemeron/opentelemetry')
const { collectGarbage, finalizationWatcher } = require('./helpers/gc.js')
const { startOtlpReceiver } = require('./helpers/otlp-receiver.js')
const { captureWarnings } = require('./helpers/warnings.js')

const leakChannel = diagnostics.channel('ephemeron:leak')
const { version } = require('../package.json')

const resource = resourceFromAttributes({ 'service.name': 'ephemeron-spec' })
let receiver
let loggerProvider
let meterProvider

/**
 * A MeterProvider exporting to the receiver: one export per forceFlush (the interval is never
 * reached). Cumulative temporality by default, as the exporter's own default.
 */
function exportingMeterProvider(temporalityPreference = AggregationTemporalityPreference.CUMULATIVE) {
  const exporter = new OTLPMetricExporter({ url: receiver.metricsUrl, temporalityPreference })
  return new MeterProvider({ resource, readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })] })
}

before(async () => {
  receiver = await startOtlpReceiver()
  loggerProvider = new LoggerProvider({ resource, processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: receiver.logsUrl }) })] })
})

after(async () => {
  await loggerProvider.shutdown()
  await receiver.close()
})

// Each spec gets its own MeterProvider: the SDK keeps exporting every series it has seen (with
// cumulative temporality), so series of one spec would show up in the next.
beforeEach(() => {
  receiver.logs.length = 0
  receiver.metrics.length = 0
  meterProvider = exportingMeterProvider()
})

afterEach(() => meterProvider.shutdown())

async function flush(provider = meterProvider) {
  await loggerProvider.forceFlush()
  await provider.forceFlush()
  assert.deepEqual(receiver.errors, [], 'the receiver decoded every request')
}

/** A report as LeakRegistry publishes it on 'ephemeron:leak' (index.d.ts LeakReport). */
function report(fields) {
  const trackedAt = Date.now() - 30_009
  return {
    kind: 'leaked',
    type: 'FileHandle',
    id: 21,
    label: '/srv/data/a.csv',
    info: { type: 'FileHandle', id: 21, label: '/srv/data/a.csv', fd: 21, path: '/srv/data/a.csv' },
    site: '/srv/app/routes/export.js:48',
    trackedAt,
    collectedAt: trackedAt + 30_009,
    ageMs: 30_009,
    count: 3,
    pid: process.pid,
    threadId: 0,
    ...fields,
  }
}

/** The points of metric `name` in the latest export, as `{ 'attribute=value,...': value }`. */
function points(name) {
  const metric = receiver.latest(name)
  assert.ok(metric !== undefined, `${name} was exported`)
  return Object.fromEntries(metric.points.map(({ attributes, value }) => [Object.entries(attributes).map(([k, v]) => `${k}=${v}`).join(','), value]))
}

test('a report published on ephemeron:leak arrives as a WARN log record with semantic-convention attributes', async () => {
  const telemetry = instrument({ loggerProvider, meterProvider })
  try {
    const published = report({ context: { requestId: 'req-7', route: '/export', user: { id: 42, roles: ['admin', 'ops'] } } })
    leakChannel.publish(published)
    await flush()
    assert.equal(receiver.logs.length, 1)
    const [record] = receiver.logs
    assert.equal(record.eventName, 'ephemeron.leak')
    assert.equal(record.severityNumber, 13)
    assert.equal(record.severityText, 'WARN')
    assert.deepEqual(record.scope, { name: 'ephemeron', version })
    assert.equal(record.resource['service.name'], 'ephemeron-spec')
    assert.equal(record.timeUnixNano, BigInt(published.collectedAt) * 1_000_000n, 'the record is timed when the resource was collected')
    assert.equal(record.body, 'leaked: FileHandle 21 "/srv/data/a.csv" from /srv/app/routes/export.js:48, collected unreleased after 30.0 s (3rd from this site)')
    assert.deepEqual(record.attributes, {
      'ephemeron.leak.kind': 'leaked',
      'ephemeron.resource.type': 'FileHandle',
      'ephemeron.resource.id': 21,
      'ephemeron.resource.label': '/srv/data/a.csv',
      'code.file.path': '/srv/app/routes/export.js',
      'code.line.number': 48,
      'ephemeron.leak.age_ms': 30_009,
      'ephemeron.leak.count': 3,
      'process.pid': process.pid,
      'thread.id': 0,
      'ephemeron.resource.info.fd': 21,
      'ephemeron.resource.info.path': '/srv/data/a.csv',
      'ephemeron.context.requestId': 'req-7',
      'ephemeron.context.route': '/export',
      'ephemeron.context.user.id': 42,
      'ephemeron.context.user.roles': ['admin', 'ops'],
    })
    assert.deepEqual(points('ephemeron.leak.reports'), { 'ephemeron.leak.kind=leaked,ephemeron.resource.type=FileHandle': 1 })
  } finally {
    telemetry.close()
  }
})

test('suspected is WARN and released INFO; optional fields map to their attributes', async () => {
  const telemetry = instrument({ loggerProvider, meterProvider })
  try {
    const common = { type: 'net.Socket', id: 'db-1', label: null, info: null, site: 'C:\\srv\\app\\db.js:12', count: 1, threadId: 3, registry: 'sockets' }
    leakChannel.publish(report({ ...common, kind: 'suspected', ageMs: 2000, collectedAt: undefined, stack: '    at connect (C:\\srv\\app\\db.js:12:5)' }))
    leakChannel.publish(report({ ...common, kind: 'released', ageMs: 7250, collectedAt: undefined, touches: [{ site: '/srv/app/q.js:3', at: 1, hint: 'query' }, { site: '/srv/app/q.js:9', at: 2 }], touchesDropped: 5 }))
    leakChannel.publish(report({ site: '<unknown>', context: 'tenant-9' }))
    leakChannel.publish(report({ site: '<not sampled>', count: 40 }))
    leakChannel.publish(report({ count: 28, countEstimated: true }))
    await flush()
    const [suspected, released, unknown, notSampled, estimated] = receiver.logs
    assert.deepEqual([suspected.severityText, suspected.severityNumber, released.severityText, released.severityNumber], ['WARN', 13, 'INFO', 9])
    assert.equal(suspected.body, 'suspected: net.Socket db-1 from C:\\srv\\app\\db.js:12, still held after 2.0 s (1st from this site)')
    assert.equal(released.body, 'released: net.Socket db-1 from C:\\srv\\app\\db.js:12, released after 7.3 s')
    assert.equal(suspected.attributes['code.file.path'], 'C:\\srv\\app\\db.js', 'a path with a colon keeps it')
    assert.equal(suspected.attributes['code.line.number'], 12)
    assert.equal(suspected.attributes['code.stacktrace'], '    at connect (C:\\srv\\app\\db.js:12:5)')
    assert.equal(suspected.attributes['thread.id'], 3)
    assert.equal(suspected.attributes['ephemeron.registry.name'], 'sockets')
    assert.equal(suspected.attributes['ephemeron.resource.id'], 'db-1')
    assert.equal('ephemeron.resource.label' in suspected.attributes, false, 'a null label is left out')
    assert.deepEqual(released.attributes['ephemeron.leak.touches'], ['/srv/app/q.js:3 query', '/srv/app/q.js:9'])
    assert.equal(released.attributes['ephemeron.leak.touches_dropped'], 5)
    assert.equal(unknown.attributes['ephemeron.leak.site'], '<unknown>', 'a site that is not file:line is kept as it is')
    assert.equal('code.file.path' in unknown.attributes, false)
    assert.equal(unknown.attributes['ephemeron.context'], 'tenant-9', 'a context that is not an object is one attribute')
    assert.equal(notSampled.body, 'leaked: FileHandle 21 "/srv/data/a.csv" from a site not sampled, collected unreleased after 30.0 s (40th from sites not sampled)')
    assert.equal(notSampled.attributes['ephemeron.leak.site'], '<not sampled>')
    assert.equal('code.file.path' in notSampled.attributes, false, 'a site not sampled is no code location')
    assert.equal('ephemeron.leak.count_estimated' in notSampled.attributes, false)
    assert.equal(estimated.body, 'leaked: FileHandle 21 "/srv/data/a.csv" from /srv/app/routes/export.js:48, collected unreleased after 30.0 s (about the 28th from this site)')
    assert.equal(estimated.attributes['ephemeron.leak.count_estimated'], true)
    assert.equal(estimated.attributes['ephemeron.leak.count'], 28)
    assert.deepEqual(points('ephemeron.leak.reports'), {
      'ephemeron.leak.kind=suspected,ephemeron.resource.type=net.Socket': 1,
      'ephemeron.leak.kind=released,ephemeron.resource.type=net.Socket': 1,
      'ephemeron.leak.kind=leaked,ephemeron.resource.type=FileHandle': 3,
    })
  } finally {
    telemetry.close()
  }
})

test('context is flattened with bounds: deep values and non-uniform arrays become JSON, at most 32 attributes', async () => {
  const telemetry = instrument({ loggerProvider, metrics: false })
  try {
    const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, i]))
    leakChannel.publish(report({ context: { a: { b: { c: { d: { e: 1 } } } }, mixed: [1, 'two'], objects: [{ x: 1 }], empty: null } }))
    leakChannel.publish(report({ context: many }))
    await flush()
    const [nested, wide] = receiver.logs
    const context = (record) => Object.fromEntries(Object.entries(record.attributes).filter(([key]) => key.startsWith('ephemeron.context')))
    assert.deepEqual(context(nested), {
      'ephemeron.context.a.b.c.d': '{"e":1}',
      'ephemeron.context.mixed': '[1,"two"]',
      'ephemeron.context.objects': '[{"x":1}]',
    })
    const flat = context(wide)
    assert.equal(Object.keys(flat).length, 33)
    assert.equal(flat['ephemeron.context.k31'], 31)
    assert.equal(flat['ephemeron.context.dropped'], 8)
    assert.equal('ephemeron.context.k32' in flat, false)
  } finally {
    telemetry.close()
  }
})

test('cache metrics: lookups by result, removals by reason and entries by tier equal each cache stats()', async () => {
  const products = new WeakCache({ max: 2 })
  const sessions = new WeakCache({ max: 1, ttl: 1 })
  const telemetry = instrument({ loggerProvider, meterProvider, caches: { products } }).addCache('sessions', sessions)
  try {
    const held = [{ id: 1 }, { id: 2 }, { id: 3 }]
    for (const value of held) products.set(value.id, value) // the first is demoted to the weak tier: still held here
    products.get(1) // weak hit (re-pinned; 2 is demoted)
    products.get(3) // hit
    products.get(9) // miss
    products.set('n', 1) // pushes 2 (an object) out to the weak tier: no eviction
    products.set('m', 2) // pushes 3 out... and a primitive pushed out is evicted
    products.set('o', 3)
    products.delete('o')
    sessions.set('s', 's')
    await flush()
    const stats = products.stats()
    assert.ok(stats.hits >= 1 && stats.weakHits >= 1 && stats.misses >= 1 && stats.evictions >= 1 && stats.deleted >= 1, JSON.stringify(stats))
    const lookups = points('ephemeron.cache.lookups')
    assert.equal(lookups['ephemeron.cache.name=products,ephemeron.cache.lookup.result=hit'], stats.hits)
    assert.equal(lookups['ephemeron.cache.name=products,ephemeron.cache.lookup.result=weak_hit'], stats.weakHits)
    assert.equal(lookups['ephemeron.cache.name=products,ephemeron.cache.lookup.result=miss'], stats.misses)
    assert.equal(lookups['ephemeron.cache.name=sessions,ephemeron.cache.lookup.result=miss'], 0)
    const removals = points('ephemeron.cache.removals')
    assert.equal(removals['ephemeron.cache.name=products,ephemeron.cache.removal.reason=evict'], stats.evictions)
    assert.equal(removals['ephemeron.cache.name=products,ephemeron.cache.removal.reason=delete'], stats.deleted)
    assert.equal(removals['ephemeron.cache.name=products,ephemeron.cache.removal.reason=collect'], 0)
    const entries = points('ephemeron.cache.entry.count')
    assert.equal(entries['ephemeron.cache.name=products,ephemeron.cache.tier=pinned'], stats.pinned)
    assert.equal(entries['ephemeron.cache.name=products,ephemeron.cache.tier=weak'], stats.weak)
    assert.equal(entries['ephemeron.cache.name=sessions,ephemeron.cache.tier=pinned'], 1)
    const metric = receiver.latest('ephemeron.cache.lookups')
    assert.deepEqual([metric.type, metric.isMonotonic, metric.unit, metric.points.every((point) => point.isInt)], ['sum', true, '{lookup}', true])
    const gauge = receiver.latest('ephemeron.cache.entry.count')
    assert.deepEqual([gauge.type, gauge.isMonotonic, gauge.unit], ['sum', false, '{entry}'], 'an UpDownCounter: a non-monotonic sum')
    void held
  } finally {
    telemetry.close()
  }
})

test('cache metrics count collections, and instrumenting a cache never keeps it alive', async () => {
  const { collected, watch } = finalizationWatcher()
  const kept = new WeakCache({ max: 0 }) // a pure weak-value map
  // Delta temporality: a series that is no longer observed is no longer exported (with
  // cumulative temporality, the SDK keeps exporting its last values).
  await meterProvider.shutdown()
  meterProvider = exportingMeterProvider(AggregationTemporalityPreference.DELTA)
  const telemetry = instrument({ meterProvider, logs: false, caches: { kept } })
  try {
    // Values held by nothing else: the GC takes them, and the cache says 'collect'.
    ;(() => {
      for (let i = 0; i < 3; i++) kept.set(i, { i })
    })()
    // A cache referenced only by the instrumentation.
    ;(() => {
      const dropped = new WeakCache({ max: 1 })
      dropped.set('x', 'y')
      telemetry.addCache('dropped', dropped)
      watch(dropped, 'dropped')
    })()
    await flush()
    assert.equal(points('ephemeron.cache.entry.count')['ephemeron.cache.name=dropped,ephemeron.cache.tier=pinned'], 1, 'observed while alive')
    await collectGarbage()
    assert.ok(collected.has('dropped'), 'the instrumented cache was collected')
    assert.equal(kept.stats().collected, 3, 'the three values were collected')
    receiver.metrics.length = 0
    await flush()
    assert.equal(points('ephemeron.cache.removals')['ephemeron.cache.name=kept,ephemeron.cache.removal.reason=collect'], 3, 'delta: the 3 collections since the last export')
    assert.equal(points('ephemeron.cache.entry.count')['ephemeron.cache.name=kept,ephemeron.cache.tier=weak'], 0)
    assert.equal(points('ephemeron.cache.lookups')['ephemeron.cache.name=kept,ephemeron.cache.lookup.result=miss'], 0, 'delta: still observed, no change')
    assert.equal(
      Object.keys(points('ephemeron.cache.lookups')).some((key) => key.includes('dropped')),
      false,
      'a collected cache is no longer observed',
    )
  } finally {
    telemetry.close()
  }
})

test('ephemeron.resource.live: by type for the given registries, else the process total', async () => {
  const files = new LeakRegistry({ onLeak: () => {} })
  const sockets = new LeakRegistry({ onLeak: () => {} })
  const held = [files.track({}, { type: 'FileHandle' }), files.track({}, { type: 'FileHandle' }), sockets.track({}, { type: 'net.Socket' }), sockets.track({}, { type: 'FileHandle' })]
  const released = files.track({}, { type: 'FileHandle' })
  files.release(released)
  try {
    const byType = instrument({ meterProvider, logs: false, registries: [files, sockets] })
    try {
      await flush()
      assert.deepEqual(points('ephemeron.resource.live'), { 'ephemeron.resource.type=FileHandle': 3, 'ephemeron.resource.type=net.Socket': 1 })
    } finally {
      byType.close()
    }
    await meterProvider.shutdown()
    meterProvider = exportingMeterProvider()
    const total = instrument({ meterProvider, logs: false })
    try {
      receiver.metrics.length = 0
      await flush()
      assert.deepEqual(points('ephemeron.resource.live'), { '': LeakRegistry.processStats().live })
      assert.ok(LeakRegistry.processStats().live >= 4)
    } finally {
      total.close()
    }
    void held
  } finally {
    files.close()
    sockets.close()
  }
})

test('close() stops log records, counts and observations; addCache after close() is ERR_EPHEMERON_CLOSED', async () => {
  const cache = new WeakCache({ max: 1 })
  const telemetry = instrument({ loggerProvider, meterProvider, caches: { closing: cache } })
  telemetry.close()
  telemetry.close()
  assert.equal(telemetry.closed, true)
  leakChannel.publish(report({ type: 'AfterClose' }))
  await flush()
  assert.equal(receiver.logs.length, 0)
  assert.equal(leakChannel.hasSubscribers, false, 'unsubscribed')
  const exported = receiver.metrics.flatMap((metric) => metric.points.map((point) => JSON.stringify(point.attributes)))
  assert.equal(exported.some((attributes) => attributes.includes('closing') || attributes.includes('AfterClose')), false)
  assert.throws(() => telemetry.addCache('late', cache), { name: 'Error', code: 'ERR_EPHEMERON_CLOSED' })
  const disposed = instrument({ loggerProvider })
  disposed[Symbol.dispose]()
  assert.equal(disposed.closed, true)
})

test('a logger that throws costs one warning, never the report: counting goes on', async () => {
  let emits = 0
  const throwing = { getLogger: () => ({ emit: () => { emits++; throw new Error('exporter down') } }) }
  const telemetry = instrument({ loggerProvider: throwing, meterProvider })
  try {
    const warnings = await captureWarnings(() => {
      leakChannel.publish(report({ type: 'Throwing' }))
      leakChannel.publish(report({ type: 'Throwing' }))
    })
    assert.equal(emits, 2, 'each report was tried')
    assert.deepEqual(
      warnings.map(({ type, code, message }) => [type, code, message]),
      [['OpenTelemetryWarning', 'ERR_EPHEMERON_OPENTELEMETRY', 'ephemeron/opentelemetry: a leak report could not be emitted as a log record (later failures are not reported): Error: exporter down']],
    )
    await flush()
    assert.equal(points('ephemeron.leak.reports')['ephemeron.leak.kind=leaked,ephemeron.resource.type=Throwing'], 2)
  } finally {
    telemetry.close()
  }
})

test('bad options are TypeErrors that name the option', () => {
  const cases = [
    [null, /instrument: options must be an object/],
    [{ cache: {} }, /instrument: option "cache" must be one of loggerProvider, meterProvider, logs, metrics, caches, registries/],
    [{ logs: 'yes' }, /options\.logs must be a boolean/],
    [{ loggerProvider: {} }, /options\.loggerProvider must be an OpenTelemetry LoggerProvider \(with getLogger\(\)\)/],
    [{ meterProvider: 1 }, /options\.meterProvider must be an OpenTelemetry MeterProvider/],
    [{ caches: [new WeakCache({ max: 1 })] }, /options\.caches must be an object of WeakCaches by name/],
    [{ caches: { m: new Map() } }, /cache "m" must be a WeakCache; got an instance of Map/],
    [{ registries: {} }, /options\.registries must be an array of LeakRegistries/],
    [{ registries: [{}] }, /registry must be a LeakRegistry; got an object/],
  ]
  for (const [options, message] of cases) {
    assert.throws(() => instrument(options), { name: 'TypeError', message }, JSON.stringify(options))
  }
  const telemetry = instrument({ meterProvider, logs: false })
  try {
    const cache = new WeakCache({ max: 1 })
    telemetry.addCache('one', cache)
    assert.throws(() => telemetry.addCache('one', new WeakCache({ max: 1 })), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: /a name not given to another cache/ })
    assert.throws(() => telemetry.addCache('', cache), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' })
  } finally {
    telemetry.close()
  }
  assert.equal(leakChannel.hasSubscribers, false, 'a failed instrument() leaves no subscriber behind')
})
