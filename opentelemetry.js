'use strict'
// ephemeron/opentelemetry: LeakRegistry reports as OpenTelemetry log records, registries' and
// caches' figures as metrics. Needs @opentelemetry/api (an optional peer dependency). See
// docs/opentelemetry.md and opentelemetry.d.ts.

module.exports = require('./lib/opentelemetry.js')
