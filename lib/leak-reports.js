'use strict'
// LeakRegistry's report objects: made from what Rust delivers (src/core/leak_report.rs
// ReportBatch: the numbers in a Float64Array, types and sites by id, only the JSON values as
// one JSON text), with the fields of a log line in its order (a spec checks that they equal the
// log's lines), and handed to `onLeak` and to the diagnostics channel 'ephemeron:leak'.

const diagnostics = require('node:diagnostics_channel')
const { threadId } = require('node:worker_threads')
const { warnCallbackThrew } = require('./errors.js')
const { Array, JSON, process } = require('./primordials.js')

/** Every report of every registry is published here while anyone subscribes. */
const leakChannel = diagnostics.channel('ephemeron:leak')

/** Report kinds by their number in Rust's batches (src/core/leak_model.rs ReportKind). */
const KINDS = ['leaked', 'suspected', 'released']
const LEAKED = 0
/** Numbers and JSON values per report in a batch (src/core/leak_report.rs BATCH_NUMBERS/VALUES). */
const BATCH_NUMBERS = 8
const BATCH_VALUES = 6

/** Whether report objects are wanted: by `onLeak`, or by a subscriber of the channel. */
function wantsReports(onLeak) {
  return onLeak !== undefined || leakChannel.hasSubscribers
}

/**
 * Report objects from a delivery (`numbers`, `values`), with the names of types (`typeNames[id]`)
 * and sites (`sites.textOf(id)`) this side knows, and the registry's `name`.
 */
function reportsOf({ numbers, values: json }, typeNames, sites, name) {
  const values = JSON.parse(json)
  const count = values.length / BATCH_VALUES
  const reports = new Array(count)
  const { pid } = process
  for (let i = 0, n = 0, v = 0; i < count; i++, n += BATCH_NUMBERS, v += BATCH_VALUES) {
    const kind = numbers[n]
    const report = { kind: KINDS[kind], type: typeNames[numbers[n + 1]], id: values[v], label: values[v + 1], info: values[v + 2] }
    if (values[v + 3] !== null) report.context = values[v + 3]
    report.site = sites.textOf(numbers[n + 2])
    if (values[v + 4] !== null) report.stack = values[v + 4]
    const trackedAt = numbers[n + 3]
    const at = numbers[n + 4]
    report.trackedAt = trackedAt
    if (kind === LEAKED) report.collectedAt = at
    report.ageMs = at - trackedAt
    report.count = numbers[n + 5]
    if (numbers[n + 6] !== 0) report.countEstimated = true
    report.pid = pid
    report.threadId = threadId
    if (name !== undefined) report.registry = name
    if (values[v + 5] !== null) {
      report.touches = values[v + 5].map(([site, at, hint]) => (hint === null ? { site: sites.textOf(site), at } : { site: sites.textOf(site), at, hint }))
      report.touchesDropped = numbers[n + 7]
    }
    reports[i] = report
  }
  return reports
}

/**
 * Gives each report to `onLeak` (one that throws becomes a warning and the rest still arrive) and
 * publishes it on 'ephemeron:leak' while anyone subscribes: the same object to both.
 */
function publish(onLeak, reports) {
  for (const report of reports) {
    if (onLeak !== undefined) {
      try {
        onLeak(report)
      } catch (error) {
        warnCallbackThrew('LeakRegistryWarning', 'ERR_EPHEMERON_ON_LEAK', `LeakRegistry onLeak threw for a '${report.kind}' report`, error)
      }
    }
    if (leakChannel.hasSubscribers) leakChannel.publish(report)
  }
}

module.exports = { wantsReports, reportsOf, publish }
