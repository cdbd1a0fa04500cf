'use strict'
// The metrics of `ephemeron/opentelemetry`: one counter that lib/opentelemetry.js adds each
// report to, and asynchronous instruments read when the MeterProvider collects. One batch
// callback reads each cache's stats() and each registry's stats() once per collection and
// feeds every instrument from that read.
//
// Names follow the OpenTelemetry naming guidelines: dot namespaces under `ephemeron.`, units in
// the unit field ({report}, {lookup}, {entry}, {resource}), counters of countable things in
// the plural without `_total`, UpDownCounters (current amounts, additive across attributes:
// exported to Prometheus as gauges) never plural. docs/opentelemetry.md lists them.
//
// Caches and registries are held through WeakRefs: instrumenting one never keeps it alive, and
// one that is collected (or closed) leaves the collection.

const { LeakRegistry } = require('./leak-registry.js')
const { WeakCache } = require('./weak-cache.js')
const { invalidType, invalidValue } = require('./errors.js')
const { loadApi } = require('./opentelemetry-api.js')
const { JSON, Map, Object, WeakRef } = require('./primordials.js')

const { keys } = Object
const { stringify } = JSON

const { ValueType } = loadApi()
const INT = { valueType: ValueType.INT } // exported as integers (asInt)

/** The instruments, made on `meter`. */
function createInstruments(meter) {
  return {
    reports: meter.createCounter('ephemeron.leak.reports', {
      ...INT,
      unit: '{report}',
      description: 'LeakRegistry reports, by kind (leaked, suspected, released) and resource type',
    }),
    live: meter.createObservableUpDownCounter('ephemeron.resource.live', {
      ...INT,
      unit: '{resource}',
      description: 'Resources tracked by LeakRegistries and neither released nor reported yet',
    }),
    lookups: meter.createObservableCounter('ephemeron.cache.lookups', {
      ...INT,
      unit: '{lookup}',
      description: 'WeakCache get() calls, by result: hit (pinned tier), weak_hit (weak tier), miss',
    }),
    removals: meter.createObservableCounter('ephemeron.cache.removals', {
      ...INT,
      unit: '{entry}',
      description: 'WeakCache entries removed, by reason: evict, collect (by the GC), expire, delete',
    }),
    entries: meter.createObservableUpDownCounter('ephemeron.cache.entry.count', {
      ...INT,
      unit: '{entry}',
      description: 'WeakCache entries, by tier: pinned, weak',
    }),
  }
}

/** Adds one report to the `ephemeron.leak.reports` counter. */
function countReport(instruments, report) {
  instruments.reports.add(1, { 'ephemeron.leak.kind': report.kind, 'ephemeron.resource.type': report.type })
}

/** The caches and registries a collection reads, held weakly, and the callback that reads them. */
class Observed {
  #caches = new Map() // name -> WeakRef(cache)
  #registries = [] // WeakRef(registry)
  #instruments
  #warn // (what, error) => void

  constructor(instruments, warn) {
    this.#instruments = instruments
    this.#warn = warn
  }

  /** The batch observable callback: bound, for `meter.addBatchObservableCallback`. */
  observe = (result) => {
    this.#observeLive(result)
    this.#observeCaches(result)
  }

  addCache(name, cache, what = 'addCache') {
    if (typeof name !== 'string' || name === '') throw invalidType(`${what}: the cache name`, 'a non-empty string', name)
    if (!(cache instanceof WeakCache)) throw invalidType(`${what}: cache ${stringify(name)}`, 'a WeakCache', cache)
    if (this.#caches.get(name)?.deref() !== undefined) throw invalidValue(`${what}: the cache name`, 'a name not given to another cache', name)
    this.#caches.set(name, new WeakRef(cache))
  }

  addRegistry(registry, what = 'addRegistry') {
    if (!(registry instanceof LeakRegistry)) throw invalidType(`${what}: registry`, 'a LeakRegistry', registry)
    this.#registries.push(new WeakRef(registry))
  }

  /** Live resources by type, summed over the given registries; else the process total. */
  #observeLive(result) {
    const { live } = this.#instruments
    if (this.#registries.length === 0) {
      result.observe(live, LeakRegistry.processStats().live)
      return
    }
    const byType = new Map() // type -> live resources
    this.#registries = this.#registries.filter((ref) => {
      const registry = ref.deref()
      if (registry === undefined) return false
      try {
        const counts = registry.stats().byType
        for (const type of keys(counts)) byType.set(type, (byType.get(type) ?? 0) + counts[type].live)
      } catch (error) {
        this.#warn('the stats of a LeakRegistry could not be read', error)
      }
      return true
    })
    for (const [type, count] of byType) result.observe(live, count, { 'ephemeron.resource.type': type })
  }

  #observeCaches(result) {
    const { lookups, removals, entries } = this.#instruments
    for (const [name, ref] of this.#caches) {
      const cache = ref.deref()
      if (cache === undefined) {
        this.#caches.delete(name)
        continue
      }
      let stats
      try {
        stats = cache.stats()
      } catch (error) {
        this.#warn(`the stats of the cache ${stringify(name)} could not be read`, error) // a broken cache (ERR_EPHEMERON_BROKEN)
        continue
      }
      const cacheName = { 'ephemeron.cache.name': name }
      result.observe(lookups, stats.hits, { ...cacheName, 'ephemeron.cache.lookup.result': 'hit' })
      result.observe(lookups, stats.weakHits, { ...cacheName, 'ephemeron.cache.lookup.result': 'weak_hit' })
      result.observe(lookups, stats.misses, { ...cacheName, 'ephemeron.cache.lookup.result': 'miss' })
      result.observe(removals, stats.evictions, { ...cacheName, 'ephemeron.cache.removal.reason': 'evict' })
      result.observe(removals, stats.collected, { ...cacheName, 'ephemeron.cache.removal.reason': 'collect' })
      result.observe(removals, stats.expired, { ...cacheName, 'ephemeron.cache.removal.reason': 'expire' })
      result.observe(removals, stats.deleted, { ...cacheName, 'ephemeron.cache.removal.reason': 'delete' })
      result.observe(entries, stats.pinned, { ...cacheName, 'ephemeron.cache.tier': 'pinned' })
      result.observe(entries, stats.weak, { ...cacheName, 'ephemeron.cache.tier': 'weak' })
    }
  }
}

module.exports = { createInstruments, countReport, Observed }
