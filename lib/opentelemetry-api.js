'use strict'
// The OpenTelemetry API packages, optional peer dependencies of ephemeron: loaded only by
// `ephemeron/opentelemetry`, never by `require('ephemeron')`, and resolved from where ephemeron
// is installed (next to the application's own copy, so both share the API's global providers).
//
// Metrics come from `@opentelemetry/api`. The logs API moved into it in 1.10 (SDK 3, Node >= 22);
// before that it is the separate `@opentelemetry/api-logs` (SDK 2, which still runs on Node 20).
// The two keep their global logger provider in different places, so the one to use is the one
// the application's SDK registered with: `@opentelemetry/api`'s when it has logs, else
// `@opentelemetry/api-logs`.

const { makeError } = require('./errors.js')

const API = '@opentelemetry/api'
const API_LOGS = '@opentelemetry/api-logs'

/** `require(name)`, or undefined when that package (not something it requires) is not installed. */
function optionalRequire(name) {
  try {
    return require(name)
  } catch (error) {
    if (error?.code === 'MODULE_NOT_FOUND' && typeof error.message === 'string' && error.message.includes(`'${name}'`)) return undefined
    throw error
  }
}

/** The error for a peer dependency that is needed and missing (`problem`: 'is not installed', ...). */
function missing(name, problem, cause = undefined) {
  return makeError(
    'ERR_EPHEMERON_OPENTELEMETRY_MISSING',
    `ephemeron/opentelemetry: ${name} ${problem}; it is an optional peer dependency of ephemeron: install it in your project (npm install ${name})`,
    cause,
  )
}

/** `@opentelemetry/api`, which the subpath cannot work without: throws ERR_EPHEMERON_OPENTELEMETRY_MISSING. */
function loadApi() {
  let api
  try {
    api = optionalRequire(API)
  } catch (error) {
    throw missing(API, 'could not be loaded', error)
  }
  if (api === undefined) throw missing(API, 'is not installed')
  return api
}

/**
 * The logs API with the global logger provider: `@opentelemetry/api`'s (1.10 and later) or
 * `@opentelemetry/api-logs`; undefined when neither is installed.
 */
function loadLogsApi(api) {
  if (typeof api.logs?.getLoggerProvider === 'function') return api.logs
  return optionalRequire(API_LOGS)?.logs
}

module.exports = { loadApi, loadLogsApi, missing, API_LOGS }
