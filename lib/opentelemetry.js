'use strict'
// `ephemeron/opentelemetry`: LeakRegistry reports become OpenTelemetry log records, and
// registries' and caches' figures become metrics. docs/opentelemetry.md is the user's guide.
//
// Reports arrive on the diagnostics_channel 'ephemeron:leak', where every LeakRegistry of this
// thread publishes each report it delivers: nothing here touches a registry, and a registry
// made after instrument() is covered too. Each report is mapped (lib/opentelemetry-logs.js),
// emitted to the Logger and counted (lib/opentelemetry-metrics.js) synchronously in the
// publisher's call, which runs on the event loop, never inside track() or release(). Whatever
// OpenTelemetry throws there is caught: a failing exporter or provider costs a warning, never a
// report to the registry's own onLeak or log, and never the process.

const diagnostics = require('node:diagnostics_channel')
const { loadApi, loadLogsApi, missing, API_LOGS } = require('./opentelemetry-api.js')
const { logRecordOf } = require('./opentelemetry-logs.js')
const { createInstruments, countReport, Observed } = require('./opentelemetry-metrics.js')
const { invalidType, invalidValue, makeError, warnCallbackThrew } = require('./errors.js')
const { Array, JSON, Object, Set, SymbolDispose } = require('./primordials.js')
const { version } = require('../package.json')

// Loaded now, so that requiring the subpath without its peer dependency fails at once, with
// ERR_EPHEMERON_OPENTELEMETRY_MISSING and what to install.
const api = loadApi()

/** The diagnostics_channel LeakRegistry publishes its reports on. */
const LEAK_CHANNEL = 'ephemeron:leak'
/** Instrumentation scope of the Logger and the Meter. */
const SCOPE = 'ephemeron'
const OPTIONS = new Set(['loggerProvider', 'meterProvider', 'logs', 'metrics', 'caches', 'registries'])
const WARNING = 'OpenTelemetryWarning'

const { isArray } = Array
const { keys } = Object

/**
 * Connects this thread's LeakRegistries and the given caches to OpenTelemetry. See index.d.ts
 * of the subpath (opentelemetry.d.ts) for the options.
 */
function instrument(options = {}) {
  if (options === null || typeof options !== 'object') throw invalidType('instrument: options', 'an object', options)
  for (const key of keys(options)) {
    if (!OPTIONS.has(key)) throw invalidValue(`instrument: option ${JSON.stringify(key)}`, `one of ${[...OPTIONS].join(', ')}`, key)
  }
  const { loggerProvider, meterProvider, logs = true, metrics = true, caches, registries } = options
  if (typeof logs !== 'boolean') throw invalidType('instrument: options.logs', 'a boolean', logs)
  if (typeof metrics !== 'boolean') throw invalidType('instrument: options.metrics', 'a boolean', metrics)
  checkProvider(loggerProvider, 'loggerProvider', 'getLogger')
  checkProvider(meterProvider, 'meterProvider', 'getMeter')
  if (caches !== undefined && (caches === null || typeof caches !== 'object' || isArray(caches))) {
    throw invalidType('instrument: options.caches', 'an object of WeakCaches by name', caches)
  }
  if (registries !== undefined && !isArray(registries)) throw invalidType('instrument: options.registries', 'an array of LeakRegistries', registries)

  let logger
  if (logs) {
    const provider = loggerProvider ?? loadLogsApi(api)?.getLoggerProvider()
    if (provider === undefined) {
      throw missing(API_LOGS, 'is not installed, and @opentelemetry/api is older than 1.10 (which has the logs API); or pass loggerProvider, or logs: false')
    }
    logger = provider.getLogger(SCOPE, version)
  }
  let meter
  if (metrics) meter = (meterProvider ?? api.metrics.getMeterProvider()).getMeter(SCOPE, version)
  const instrumentation = new Instrumentation(logger, meter)
  try {
    for (const name of keys(caches ?? {})) instrumentation.addCache(name, caches[name])
    for (const registry of registries ?? []) instrumentation.addRegistry(registry)
  } catch (error) {
    instrumentation.close()
    throw error
  }
  return instrumentation
}

function checkProvider(provider, option, method) {
  if (provider !== undefined && typeof provider?.[method] !== 'function') {
    throw invalidType(`instrument: options.${option}`, `an OpenTelemetry ${option[0].toUpperCase()}${option.slice(1)} (with ${method}())`, provider)
  }
}

/** What instrument() returns: `addCache`, `addRegistry`, `close`. */
class Instrumentation {
  #logger
  #meter
  #instruments
  #observed
  #observables
  #closed = false
  #warned = false

  constructor(logger, meter) {
    this.#logger = logger
    this.#meter = meter
    if (meter !== undefined) {
      this.#instruments = createInstruments(meter)
      this.#observed = new Observed(this.#instruments, this.#warnOnce)
      const { live, lookups, removals, entries } = this.#instruments
      this.#observables = [live, lookups, removals, entries]
      meter.addBatchObservableCallback(this.#observed.observe, this.#observables)
    }
    diagnostics.subscribe(LEAK_CHANNEL, this.#onReport)
  }

  /** Reports `cache`'s figures under `ephemeron.cache.name` = `name`; returns this. */
  addCache(name, cache) {
    this.#checkOpen('addCache')
    this.#observed?.addCache(name, cache, 'Instrumentation.addCache')
    return this
  }

  /** Counts `registry`'s live resources by type in `ephemeron.resource.live`; returns this. */
  addRegistry(registry) {
    this.#checkOpen('addRegistry')
    this.#observed?.addRegistry(registry, 'Instrumentation.addRegistry')
    return this
  }

  /** Stops: no more log records, counts or observations from this instrumentation. Idempotent. */
  close() {
    if (this.#closed) return
    this.#closed = true
    diagnostics.unsubscribe(LEAK_CHANNEL, this.#onReport)
    if (this.#observed !== undefined) this.#meter.removeBatchObservableCallback(this.#observed.observe, this.#observables)
  }

  [SymbolDispose]() {
    this.close()
  }

  get closed() {
    return this.#closed
  }

  #checkOpen(method) {
    if (this.#closed) throw makeError('ERR_EPHEMERON_CLOSED', `Instrumentation.${method}: this instrumentation was closed`)
  }

  #onReport = (report) => {
    if (report === null || typeof report !== 'object') return
    if (this.#logger !== undefined) {
      try {
        this.#logger.emit(logRecordOf(report))
      } catch (error) {
        this.#warnOnce('a leak report could not be emitted as a log record', error)
      }
    }
    if (this.#instruments !== undefined) {
      try {
        countReport(this.#instruments, report)
      } catch (error) {
        this.#warnOnce('a leak report could not be counted', error)
      }
    }
  }

  /** One warning per instrumentation: a broken exporter would otherwise warn on every report. */
  #warnOnce = (what, error) => {
    if (this.#warned) return
    this.#warned = true
    warnCallbackThrew(WARNING, 'ERR_EPHEMERON_OPENTELEMETRY', `ephemeron/opentelemetry: ${what} (later failures are not reported)`, error)
  }
}

module.exports = { instrument }
