// Type definitions for ephemeron/opentelemetry: LeakRegistry reports as OpenTelemetry log records,
// registries' and caches' figures as metrics. The guide: docs/opentelemetry.md.
import type { MeterProvider } from '@opentelemetry/api'
import type { LeakRegistry, WeakCache } from './index.js'

/**
 * An OpenTelemetry LoggerProvider: the SDK's `LoggerProvider` (`@opentelemetry/sdk-logs`), or
 * what `logs.getLoggerProvider()` returns (`@opentelemetry/api` >= 1.10, or
 * `@opentelemetry/api-logs`). Only `getLogger(name, version).emit(record)` is used.
 */
export interface LoggerProviderLike {
  getLogger(name: string, version?: string, options?: object): { emit(record: any): void }
}

/** Options of `instrument()`. Every one is optional. */
export interface InstrumentOptions {
  /**
   * Where log records go.
   * @default the global LoggerProvider (`logs.getLoggerProvider()` of `@opentelemetry/api` >= 1.10,
   *   else of `@opentelemetry/api-logs`); records emitted before the SDK registers one are dropped
   *   by OpenTelemetry's proxy.
   */
  loggerProvider?: LoggerProviderLike
  /**
   * Where the metrics go.
   * @default the global MeterProvider (`metrics.getMeterProvider()` of `@opentelemetry/api`), read
   *   when `instrument()` is called: start the SDK first (OpenTelemetry's global meter is no proxy).
   */
  meterProvider?: MeterProvider
  /** Turn reports into log records. @default true */
  logs?: boolean
  /** Count reports and observe the caches' and registries' figures. @default true */
  metrics?: boolean
  /**
   * Caches to observe, by the name they get in the `ephemeron.cache.name` attribute. Held
   * weakly: instrumenting a cache never keeps it alive, and a collected cache leaves the metrics.
   */
  caches?: Record<string, WeakCache<any, any, any>>
  /**
   * Registries whose live resources are reported by type (`ephemeron.resource.live` with
   * `ephemeron.resource.type`). Held weakly. Without any, `ephemeron.resource.live` is the total of
   * every registry of the process (`LeakRegistry.processStats().live`), with no type.
   * Log records and `ephemeron.leak.reports` always cover every registry of this thread.
   */
  registries?: LeakRegistry[]
}

/** What `instrument()` returns. */
export interface Instrumentation {
  /**
   * Observes one more cache, as `options.caches` does.
   * @throws {TypeError} if `name` is not a non-empty string, is the name of another live cache,
   *   or `cache` is not a WeakCache.
   * @throws {Error} with code `ERR_EPHEMERON_CLOSED` after `close()`.
   */
  addCache(name: string, cache: WeakCache<any, any, any>): this
  /**
   * Reports one more registry's live resources by type, as `options.registries` does.
   * @throws {TypeError} if `registry` is not a LeakRegistry.
   * @throws {Error} with code `ERR_EPHEMERON_CLOSED` after `close()`.
   */
  addRegistry(registry: LeakRegistry): this
  /** Stops: no more log records, counts or observations from this instrumentation. Idempotent. */
  close(): void
  /** Same as `close()`. */
  [Symbol.dispose](): void
  /** Whether `close()` was called. */
  readonly closed: boolean
}

/**
 * Connects LeakRegistries and WeakCaches to OpenTelemetry. Every report of every LeakRegistry of
 * this thread (published on the diagnostics_channel `'ephemeron:leak'`) becomes a log record
 * (event name `ephemeron.leak`; severity WARN for `'leaked'` and `'suspected'`, INFO for
 * `'released'`; the body a one-line summary; `code.file.path` and `code.line.number` from the
 * site, `process.pid`, `thread.id`, `ephemeron.*` for the rest, the report's `context` as
 * `ephemeron.context.*` attributes) and is counted in `ephemeron.leak.reports`. When the
 * MeterProvider collects, `ephemeron.resource.live`, `ephemeron.cache.lookups`,
 * `ephemeron.cache.removals` and `ephemeron.cache.entry.count` are read from the registries' and
 * caches' `stats()`. docs/opentelemetry.md lists every attribute and metric.
 *
 * Call it in each thread that has registries (a worker's reports are published in the worker).
 *
 * @example
 * const { instrument } = require('ephemeron/opentelemetry')
 * const telemetry = instrument({ caches: { products } }) // after the OpenTelemetry SDK has started
 * // ...
 * telemetry.close()
 *
 * @throws {TypeError} if an option has the wrong type, or is not one of the options above.
 * @throws {Error} with code `ERR_EPHEMERON_OPENTELEMETRY_MISSING` if log records are wanted from
 *   the global provider and neither `@opentelemetry/api` >= 1.10 nor `@opentelemetry/api-logs` is
 *   installed. (Loading `ephemeron/opentelemetry` without `@opentelemetry/api` throws the same.)
 */
export declare function instrument(options?: InstrumentOptions): Instrumentation
