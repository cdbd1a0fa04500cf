'use strict'
// A LeakRegistry report as an OpenTelemetry log record: the mapping only, a pure function of the
// report (lib/opentelemetry.js hands the record to a Logger). docs/opentelemetry.md lists every
// attribute.
//
// Names follow the OpenTelemetry semantic conventions where one exists: `code.file.path` and
// `code.line.number` (stable since semconv 1.30; they replace `code.filepath` and `code.lineno`),
// `code.stacktrace`, `process.pid`, `thread.id`. Everything else is under `ephemeron.*`. The
// caller's `context` value (an AsyncLocalStorage store, say) becomes `ephemeron.context.*`
// attributes, flattened: backends index flat keys, and not every one reads nested maps.

const { Array, JSON, Math, Number, Object, Set } = require('./primordials.js')

/** The log record's event name (`LogRecord.eventName`). */
const EVENT_NAME = 'ephemeron.leak'
/** SeverityNumber of the OpenTelemetry logs data model (the same numbers in every API version). */
const SEVERITY = {
  leaked: { number: 13, text: 'WARN' },
  suspected: { number: 13, text: 'WARN' },
  released: { number: 9, text: 'INFO' },
}
const CONTEXT_PREFIX = 'ephemeron.context'
const INFO_PREFIX = 'ephemeron.resource.info'
/** `info` fields that reports already carry as their own attributes (or that only configure). */
const INFO_LIFTED = new Set(['type', 'id', 'label', 'suspectAfter'])
/** Flattening stops here: deeper values become JSON text. */
const MAX_DEPTH = 4
/** Attributes one flattened value may produce; the rest are dropped and counted. */
const MAX_FLAT_ATTRIBUTES = 32
/** `file:line`, with a path that may itself hold colons (C:\...). */
const SITE = /^(.*):(\d+)$/

const { isArray } = Array
const { stringify } = JSON
const { isFinite } = Number
const { keys } = Object

/** `{ eventName, timestamp, severityNumber, severityText, body, attributes }` for `logger.emit()`. */
function logRecordOf(report) {
  const severity = SEVERITY[report.kind] ?? SEVERITY.leaked
  return {
    eventName: EVENT_NAME,
    // When it happened: collected (leaked), found suspected, or released.
    timestamp: report.trackedAt + report.ageMs,
    severityNumber: severity.number,
    severityText: severity.text,
    body: summaryOf(report),
    attributes: attributesOf(report),
  }
}

function attributesOf(report) {
  const attributes = {
    'ephemeron.leak.kind': report.kind,
    'ephemeron.resource.type': report.type,
    'ephemeron.resource.id': report.id,
  }
  if (report.label !== null && report.label !== undefined) attributes['ephemeron.resource.label'] = report.label
  const site = SITE.exec(report.site)
  if (site === null) {
    // '<unknown>' (no user frame), or '<not sampled>' (the site was not captured): no code location.
    attributes['ephemeron.leak.site'] = report.site
  } else {
    attributes['code.file.path'] = site[1]
    attributes['code.line.number'] = Number(site[2])
  }
  if (typeof report.stack === 'string') attributes['code.stacktrace'] = report.stack
  attributes['ephemeron.leak.age_ms'] = report.ageMs
  attributes['ephemeron.leak.count'] = report.count
  if (report.countEstimated === true) attributes['ephemeron.leak.count_estimated'] = true
  attributes['process.pid'] = report.pid
  attributes['thread.id'] = report.threadId
  if (typeof report.registry === 'string') attributes['ephemeron.registry.name'] = report.registry
  if (isArray(report.touches)) {
    attributes['ephemeron.leak.touches'] = report.touches.map(touchText)
    if (report.touchesDropped > 0) attributes['ephemeron.leak.touches_dropped'] = report.touchesDropped
  }
  if (report.info !== null && typeof report.info === 'object') {
    const info = {}
    for (const key of keys(report.info)) if (!INFO_LIFTED.has(key)) info[key] = report.info[key]
    flatten(attributes, INFO_PREFIX, info)
  }
  if (report.context !== undefined) flatten(attributes, CONTEXT_PREFIX, report.context)
  return attributes
}

function touchText(touch) {
  return typeof touch.hint === 'string' ? `${touch.site} ${touch.hint}` : touch.site
}

/**
 * Adds `value` (JSON data) under `prefix`: an object's fields as `prefix.field` (nested ones as
 * `prefix.a.b`), an array of strings, numbers or booleans (all of one type) as an array
 * attribute, any other array or anything deeper than MAX_DEPTH as JSON text; null is left out.
 * At most MAX_FLAT_ATTRIBUTES attributes; the number dropped goes to `prefix.dropped`.
 */
function flatten(attributes, prefix, value) {
  const state = { attributes, left: MAX_FLAT_ATTRIBUTES, dropped: 0 }
  addFlat(state, prefix, value, 0)
  if (state.dropped > 0) attributes[`${prefix}.dropped`] = state.dropped
}

function addFlat(state, key, value, depth) {
  if (value === null || value === undefined) return
  if (typeof value === 'object' && !isArray(value) && depth < MAX_DEPTH) {
    for (const field of keys(value)) addFlat(state, `${key}.${field}`, value[field], depth + 1)
    return
  }
  if (state.left === 0) {
    state.dropped++
    return
  }
  state.left--
  state.attributes[key] = attributeValue(value)
}

/** A value OpenTelemetry accepts as an attribute: a primitive, a homogeneous array of them, or JSON text. */
function attributeValue(value) {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value
    case 'number':
      return isFinite(value) ? value : stringify(value)
    default:
      return isArray(value) && isHomogeneous(value) ? value : stringify(value)
  }
}

function isHomogeneous(array) {
  if (array.length === 0) return true
  const type = typeof array[0]
  if (type !== 'string' && type !== 'number' && type !== 'boolean') return false
  for (const item of array) if (typeof item !== type || (type === 'number' && !isFinite(item))) return false
  return true
}

/**
 * One line a person reads in a log view:
 * `leaked: FileHandle 21 "/srv/data/a.csv" from /srv/app/export.js:48, collected unreleased after 30.0 s (3rd from this site)`.
 */
function summaryOf(report) {
  const label = report.label === null || report.label === undefined ? '' : ` ${stringify(report.label)}`
  const from = report.site === NOT_SAMPLED ? 'from a site not sampled' : `from ${report.site}`
  const what = `${report.type} ${report.id}${label} ${from}`
  const age = durationText(report.ageMs)
  const nth = `${report.countEstimated === true ? 'about the ' : ''}${ordinal(report.count)}`
  const count = report.site === NOT_SAMPLED ? `${nth} from sites not sampled` : `${nth} from this site`
  switch (report.kind) {
    case 'suspected':
      return `suspected: ${what}, still held after ${age} (${count})`
    case 'released':
      return `released: ${what}, released after ${age}`
    default:
      return `leaked: ${what}, collected unreleased after ${age} (${count})`
  }
}

/** The site of a report whose call site was not captured (LeakRegistry `sites: 'auto'` under load). */
const NOT_SAMPLED = '<not sampled>'

function durationText(ms) {
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`
  return `${(ms / 60_000).toFixed(1)} min`
}

function ordinal(n) {
  const tens = n % 100
  const suffix = tens >= 11 && tens <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th')
  return `${n}${suffix}`
}

module.exports = { logRecordOf, summaryOf, flatten, EVENT_NAME, SEVERITY }
