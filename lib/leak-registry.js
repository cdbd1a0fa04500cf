'use strict'
// LeakRegistry: reports resources that the garbage collector collects without `release()`
// ('leaked'), and resources still held `suspectAfter` milliseconds after `track()`
// ('suspected', then 'released' if they are released after all).
//
// The records, deadlines, touches, counts, sampling and report formatting live in Rust
// (src/leak_registry.rs and src/core/leak_*.rs). This class validates input, keeps
// `resource -> record id` in a WeakMap (so `release` finds the record without pinning the
// resource), captures call sites (call-sites.js), runs one timer per registry (deadlines, the
// log's health) and hands reports to `onLeak` on the event loop.
//
// A registry that tracks something is kept alive by its native side (it has leaks to report);
// otherwise nothing the process keeps for it references it strongly (the native wake-up, its
// timer and the exit listener go through a WeakRef), so a registry dropped without close() is
// collected once it tracks nothing, and its native side freed. Strings go to Rust as JSON text (JSON.stringify), so a
// lone surrogate or a deep `info` reaches the report exactly as `track()` accepted it.

const diagnostics = require('node:diagnostics_channel')
const fsp = require('node:fs/promises')
const fs = require('node:fs')
const { isMainThread, threadId } = require('node:worker_threads')
const native = require('./native.js')
const { captureFrames, captureSite, formatStack, SiteCache } = require('./call-sites.js')
const { guardFileHandle, onClose, realHandleOf } = require('./file-handle-guard.js')
const { describe, incompatibleReceiver, invalidType, invalidValue, makeError, outOfRange, warn, warnCallbackThrew } = require('./errors.js')
const { Date, FinalizationRegistry, Float64Array, JSON, Map, Math, Number, Object, Set, String, Symbol, WeakMap, WeakRef } = require('./primordials.js')
const { clearTimeout, process, setImmediate, setTimeout, SymbolDispose } = require('./primordials.js')

const {
  leakCreate,
  leakTrack,
  leakDeliver,
  leakDue,
  leakRelease,
  leakIsTracked,
  leakTouch,
  leakIntern,
  leakSampleGap,
  leakStats,
  leakLogFailure,
  leakReopenLog,
  leakOpen,
  leakExitInventory,
  leakClose,
  leakFlushLogs,
  leakProcessTotals,
} = native

const STACKS = ['off', 'sample', 'all']
const FILE_HANDLE_TYPE = 'FileHandle'
const DEFAULT_SAMPLE_RATE = 0.1
const DEFAULT_MAX_TOUCHES = 4
const MAX_TOUCHES_LIMIT = 1000
const TYPE = 0
const SITE = 1
/** After reports went to the log, its health (write errors) is checked this much later. */
const LOG_CHECK_MS = 1000
/** Node's longest timer; longer waits are done in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1
/** How long the exit listener waits for the logs to be written (process.exit() skips teardown). */
const EXIT_FLUSH_MS = 2000
/** Report kinds by their number in Rust's batches (src/core/leak_report.rs ReportKind). */
const KINDS = ['leaked', 'suspected', 'released']
const LEAKED = 0
/** Numbers and JSON values per report in a batch (src/core/leak_report.rs BATCH_NUMBERS/VALUES). */
const BATCH_NUMBERS = 7
const BATCH_VALUES = 6
/** Every report of every registry is published here while anyone subscribes (README: "Errors and warnings" lists the channels). */
const leakChannel = diagnostics.channel('ephemeron:leak')
/** leakRelease results. */
const RELEASED_WITH_REPORT = 2

const { now } = Date
const { stringify, parse } = JSON
const { isFinite } = Number

let handleOf // (registry, method) => native handle; throws on a foreign receiver or a closed registry
let internals // { deliver, housekeep, atExit } for the module-level callbacks below

class LeakRegistry {
  #handle
  #self = new WeakRef(this)
  #ids = new WeakMap() // resource -> record id
  #types = new Map() // type name -> type id
  #typeNames = [] // type id -> type name
  #sites
  #stacks // index into STACKS
  #untilSample // tracks until the next sampled stack ('sample' mode)
  #onLeak
  #context // options.context, or undefined
  #contextFailed = false // the one warning about a failing context() was given
  #name
  #suspectAfter
  #maxTouches
  #logs
  #reportOnExit
  #timer = undefined // the one timer: deadlines, log health
  #timerAt = Infinity
  #deliveryQueued = false
  #closed = false

  static {
    handleOf = (registry, method) => {
      let closed
      try {
        closed = registry.#closed
      } catch {
        throw incompatibleReceiver(`LeakRegistry.prototype.${method}`, registry)
      }
      if (closed) throw closedError(method)
      return registry.#handle
    }
    internals = {
      deliver: (registry) => registry.#deliver(),
      housekeep: (registry) => registry.#housekeep(),
      atExit: (registry) => registry.#atExit(),
      releaseId: (registry, id) => registry?.#releaseId(id),
    }
  }

  /**
   * @param {object} [options] see index.d.ts (LeakRegistryOptions).
   */
  constructor(options = {}) {
    if (options === null || typeof options !== 'object') throw invalidType('LeakRegistry: options', 'an object', options)
    const {
      onLeak,
      log,
      stacks = 'sample',
      sampleRate = DEFAULT_SAMPLE_RATE,
      reportOnExit = false,
      name,
      suspectAfter = 0,
      maxTouches = DEFAULT_MAX_TOUCHES,
      context,
    } = options
    if (onLeak !== undefined && typeof onLeak !== 'function') throw invalidType('LeakRegistry: options.onLeak', 'a function', onLeak)
    if (context !== undefined && typeof context !== 'function') throw invalidType('LeakRegistry: options.context', 'a function', context)
    if (log !== undefined && log !== false && (typeof log !== 'string' || log === '')) {
      throw invalidType('LeakRegistry: options.log', "'stderr', a file path or false", log)
    }
    const stackMode = STACKS.indexOf(stacks)
    if (stackMode < 0) throw invalidValue('LeakRegistry: options.stacks', "'off', 'sample' or 'all'", stacks)
    if (typeof sampleRate !== 'number') throw invalidType('LeakRegistry: options.sampleRate', 'a number', sampleRate)
    if (!(sampleRate >= 0 && sampleRate <= 1)) throw outOfRange('LeakRegistry: options.sampleRate', 'between 0 and 1', sampleRate)
    if (typeof reportOnExit !== 'boolean') throw invalidType('LeakRegistry: options.reportOnExit', 'a boolean', reportOnExit)
    if (name !== undefined && typeof name !== 'string') throw invalidType('LeakRegistry: options.name', 'a string', name)
    this.#suspectAfter = checkSuspectAfter(suspectAfter, 'LeakRegistry: options.suspectAfter')
    if (typeof maxTouches !== 'number') throw invalidType('LeakRegistry: options.maxTouches', 'a number', maxTouches)
    if (!Number.isInteger(maxTouches) || maxTouches < 0 || maxTouches > MAX_TOUCHES_LIMIT) {
      throw outOfRange('LeakRegistry: options.maxTouches', `an integer from 0 to ${MAX_TOUCHES_LIMIT}`, maxTouches)
    }
    // Without onLeak, reports go to stderr unless the log is turned off explicitly.
    const destination = log === false ? undefined : (log ?? (onLeak === undefined ? 'stderr' : undefined))
    this.#onLeak = onLeak
    this.#context = context
    this.#name = name
    this.#logs = destination !== undefined
    this.#maxTouches = maxTouches
    this.#reportOnExit = reportOnExit
    const nameJson = name === undefined ? undefined : stringify(name)
    this.#handle = leakCreate(this, wakeFor(this.#self), threadId, nameJson, destination, sampleRate, maxTouches)
    this.#stacks = stackMode
    this.#untilSample = leakSampleGap(this.#handle)
    this.#sites = new SiteCache(internSite, this.#handle)
    watchExit(this.#self)
  }

  /**
   * Tracks `resource` until `release(resource)`; if it is collected first, that is a leak.
   * Tracking a resource that is already tracked changes nothing.
   */
  track(resource, info = undefined) {
    const handle = handleOf(this, 'track')
    if (resource === null || (typeof resource !== 'object' && typeof resource !== 'function')) {
      throw invalidType('LeakRegistry.track: resource', 'an object or a function', resource)
    }
    if (this.#isTrackedId(this.#ids.get(resource))) return resource
    const typeId = this.#typeId(resource, info)
    const identity = identityOf(info, this.#contextJson())
    const suspectAfter = info?.suspectAfter === undefined ? this.#suspectAfter : checkSuspectAfter(info.suspectAfter, 'LeakRegistry.track: info.suspectAfter')
    const full = this.#wantsStack()
    const frames = full ? captureFrames(LeakRegistry.prototype.track) : captureSite(LeakRegistry.prototype.track)
    this.#record(handle, resource, typeId, identity, frames, full, suspectAfter)
    return resource
  }

  /** Stops tracking `resource`: true the first time, false if it is not tracked. */
  release(resource) {
    const handle = handleOf(this, 'release')
    const id = this.#ids.get(resource)
    if (id === undefined) return false
    this.#ids.delete(resource)
    const released = leakRelease(handle, id)
    // A suspected resource released after all: its follow-up report goes out on the event loop.
    if (released === RELEASED_WITH_REPORT) this.#queueDelivery()
    return released !== 0
  }

  /**
   * Records an access to a tracked resource (the caller's site, the time and `hint`): reports
   * carry the first and the most recent ones. Untracked objects are returned untouched.
   */
  touch(resource, hint = undefined) {
    const handle = handleOf(this, 'touch')
    if (resource === null || (typeof resource !== 'object' && typeof resource !== 'function')) {
      throw invalidType('LeakRegistry.touch: resource', 'an object or a function', resource)
    }
    if (hint !== undefined && typeof hint !== 'string') throw invalidType('LeakRegistry.touch: hint', 'a string', hint)
    const id = this.#ids.get(resource)
    if (id === undefined || this.#maxTouches === 0) return resource
    const site = this.#sites.idOf(captureSite(LeakRegistry.prototype.touch))
    leakTouch(handle, id, site, hint === undefined ? undefined : stringify(hint))
    return resource
  }

  /** Whether `resource` is tracked and not released. */
  isTracked(resource) {
    handleOf(this, 'isTracked')
    return this.#isTrackedId(this.#ids.get(resource))
  }

  /** The still-tracked resources, oldest first: `{ type, id, label, site, trackedAt, ageMs, suspected }[]`. */
  open() {
    return parse(leakOpen(handleOf(this, 'open')))
  }

  /** `{ tracked, live, released, leaked, suspected, byType, logDropped }`; still readable after `close()`. */
  stats() {
    try {
      this.#closed
    } catch {
      throw incompatibleReceiver('LeakRegistry.prototype.stats', this)
    }
    this.#checkLog()
    return parse(leakStats(this.#handle))
  }

  /** Counts of every registry in the process, worker threads included. */
  static processStats() {
    return parse(leakProcessTotals())
  }

  /**
   * Opens a file with `fs.promises.open` and returns a guarded FileHandle, tracked (type
   * `'FileHandle'`, `fd`, `path`) until it is closed. The site is the line that called `openFile`.
   */
  async openFile(path, flags = undefined, mode = undefined) {
    handleOf(this, 'openFile')
    const context = this.#contextJson() // in the caller's async context, before the first await
    const full = this.#wantsStack()
    const frames = full ? captureFrames(LeakRegistry.prototype.openFile) : captureSite(LeakRegistry.prototype.openFile)
    const guarded = guardFileHandle(await fsp.open(path, flags, mode))
    // A registry closed while the file was opening no longer tracks anything.
    if (!this.#closed) this.#trackFileHandle(guarded, path, frames, full, context)
    return guarded
  }

  /**
   * Tracks a FileHandle opened elsewhere until it is closed, and returns the guarded handle to
   * use instead of it from now on (the registry keeps the original).
   */
  trackFileHandle(fileHandle, path = undefined) {
    handleOf(this, 'trackFileHandle')
    if (!isFileHandle(fileHandle)) throw invalidType('LeakRegistry.trackFileHandle: fileHandle', 'an open fs.promises FileHandle', fileHandle)
    if (fileHandle.fd === -1) {
      throw makeError('ERR_EPHEMERON_FILE_HANDLE_CLOSED', 'LeakRegistry.trackFileHandle: the FileHandle is already closed; there is nothing to track')
    }
    if (this.#isTrackedId(this.#ids.get(fileHandle))) return fileHandle
    // A handle another registry guards already is tracked here as it is: one guard is enough.
    const guarded = realHandleOf(fileHandle) === undefined ? guardFileHandle(fileHandle) : fileHandle
    const full = this.#wantsStack()
    const frames = full ? captureFrames(LeakRegistry.prototype.trackFileHandle) : captureSite(LeakRegistry.prototype.trackFileHandle)
    this.#trackFileHandle(guarded, path, frames, full, this.#contextJson())
    return guarded
  }

  /**
   * Reopens the log file at its path, for every registry of the process that logs there: call
   * it after log rotation moved or deleted the file (on SIGHUP, say).
   */
  reopenLog() {
    leakReopenLog(handleOf(this, 'reopenLog'))
  }

  /** Stops tracking everything and flushes the log; later calls (except `stats()`) throw. */
  close() {
    try {
      if (this.#closed) return
    } catch {
      throw incompatibleReceiver('LeakRegistry.prototype.close', this)
    }
    // Leaks that were collected but not delivered yet are not lost: their lines reach the log
    // before it is flushed, and onLeak gets them on the next turn of the event loop.
    this.#closed = true
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    const delivered = leakClose(this.#handle, this.#wantsReports())
    this.#checkLog()
    if (delivered !== undefined && typeof delivered !== 'number') setImmediate(publish, this.#onLeak, this.#reportsOf(delivered))
  }

  /** Whether `close()` was called. */
  get closed() {
    try {
      return this.#closed
    } catch {
      throw incompatibleReceiver('LeakRegistry.prototype.closed', this)
    }
  }

  /** `frames`: the caller's frames; 16 of them (a full stack for the report) with `full`. */
  #record(handle, resource, typeId, identity, frames, full, suspectAfter) {
    const stack = full ? stringify(formatStack(frames)) : undefined
    const id = leakTrack(handle, resource, typeId, this.#sites.idOf(frames), identity, stack, suspectAfter)
    this.#ids.set(resource, id)
    if (suspectAfter > 0) this.#armTimer(now() + suspectAfter)
    return id
  }

  /** `#ids` of a closed guarded FileHandle stays until the handle is collected: ask the table. */
  #isTrackedId(id) {
    return id !== undefined && leakIsTracked(this.#handle, id)
  }

  /** On the event loop: the reports made since the last delivery. */
  #deliver() {
    this.#deliveryQueued = false
    if (this.#closed) return
    let delivered // undefined: no report; a number: that many, for the log only; else a batch for onLeak
    try {
      delivered = leakDeliver(this.#handle, this.#wantsReports())
    } catch (error) {
      // Not expected; but an exception here would reach the event loop as an uncaught one.
      warn('LeakRegistryWarning', 'ERR_EPHEMERON_INTERNAL', 'LeakRegistry could not deliver reports', error)
      return
    }
    if (delivered === undefined) return
    if (this.#logs) this.#armTimer(now() + LOG_CHECK_MS)
    if (typeof delivered !== 'number') publish(this.#onLeak, this.#reportsOf(delivered))
  }

  /** Whether report objects are wanted: by `onLeak`, or by a subscriber of the channel. */
  #wantsReports() {
    return this.#onLeak !== undefined || leakChannel.hasSubscribers
  }

  /**
   * The value of `options.context()` as JSON text, called now (in the caller's async context),
   * or undefined without one. A context() that throws or returns what JSON cannot represent
   * gives no context, and one warning per registry; `track()` never fails because of it.
   */
  #contextJson() {
    const context = this.#context
    if (context === undefined) return undefined
    let json
    try {
      json = stringify(context())
    } catch (error) {
      if (!this.#contextFailed) {
        this.#contextFailed = true
        warnCallbackThrew('LeakRegistryWarning', 'ERR_EPHEMERON_CONTEXT', 'LeakRegistry context() failed; reports of resources tracked while it fails have no context (this warning is given once per registry)', error)
      }
      return undefined
    }
    return json
  }

  /**
   * Report objects from the batch Rust delivers (src/core/leak_report.rs ReportBatch: numbers in
   * a Float64Array, the JSON values as one array): the fields of a log line, in its order, with
   * the type and site names this side interned. A spec checks they equal the log's lines.
   */
  #reportsOf([buffer, json]) {
    const numbers = new Float64Array(buffer)
    const values = parse(json)
    const count = values.length / BATCH_VALUES
    const reports = new Array(count)
    const name = this.#name
    for (let i = 0, n = 0, v = 0; i < count; i++, n += BATCH_NUMBERS, v += BATCH_VALUES) {
      const kind = numbers[n]
      const report = { kind: KINDS[kind], type: this.#typeNames[numbers[n + 1]], id: values[v], label: values[v + 1], info: values[v + 2] }
      if (values[v + 3] !== null) report.context = values[v + 3]
      report.site = this.#sites.textOf(numbers[n + 2])
      if (values[v + 4] !== null) report.stack = values[v + 4]
      const trackedAt = numbers[n + 3]
      const at = numbers[n + 4]
      report.trackedAt = trackedAt
      if (kind === LEAKED) report.collectedAt = at
      report.ageMs = at - trackedAt
      report.count = numbers[n + 5]
      report.pid = process.pid
      report.threadId = threadId
      if (name !== undefined) report.registry = name
      if (values[v + 5] !== null) {
        report.touches = values[v + 5].map((touch) => this.#touchOf(touch))
        report.touchesDropped = numbers[n + 6]
      }
      reports[i] = report
    }
    return reports
  }

  #touchOf([site, at, hint]) {
    return hint === null ? { site: this.#sites.textOf(site), at } : { site: this.#sites.textOf(site), at, hint }
  }

  #queueDelivery() {
    if (this.#deliveryQueued) return
    this.#deliveryQueued = true
    setImmediate(deliverLater, this.#self)
  }

  /** The timer: suspect what is overdue, deliver, check the log. */
  #housekeep() {
    this.#timer = undefined
    this.#timerAt = Infinity
    if (this.#closed) return
    let next = Infinity
    try {
      const deadline = leakDue(this.#handle)
      if (deadline >= 0) next = deadline
    } catch (error) {
      warn('LeakRegistryWarning', 'ERR_EPHEMERON_INTERNAL', 'LeakRegistry could not check deadlines', error)
    }
    this.#deliver()
    this.#checkLog()
    if (next !== Infinity) this.#armTimer(next)
  }

  /** Makes the timer fire at `at` (epoch ms) at the latest. It never keeps the process alive. */
  #armTimer(at) {
    if (at >= this.#timerAt) return
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timerAt = at
    this.#timer = setTimeout(housekeepLater, Math.min(Math.max(at - now(), 0), MAX_TIMER_MS), this.#self)
    this.#timer.unref()
  }

  /** One warning when the log writer could not write this registry's reports. */
  #checkLog() {
    if (!this.#logs) return
    const failure = leakLogFailure(this.#handle)
    if (failure !== undefined) {
      warn(
        'LeakRegistryWarning',
        'ERR_EPHEMERON_LOG_WRITE',
        `LeakRegistry: the log could not write reports (${failure}); they are counted in stats().logDropped`,
      )
    }
  }

  /** At process exit: collections not delivered yet go to the log; the inventory to stderr. */
  #atExit() {
    if (this.#closed) return
    leakDeliver(this.#handle, false)
    if (this.#reportOnExit) {
      const text = leakExitInventory(this.#handle)
      if (text !== '') writeToStderrNow(text)
    }
  }

  #trackFileHandle(guarded, path, frames, full, context) {
    if (this.#isTrackedId(this.#ids.get(guarded))) return
    const fd = realHandleOf(guarded).fd
    // Built by hand: cheaper than JSON.stringify of an info object, once per opened file.
    const where = path === undefined ? 'null' : stringify(String(path))
    const identity = `{"type":"FileHandle","id":${fd},"label":${where},"fd":${fd},"path":${where}}\n${fd}\n${where}\n${context ?? ''}`
    const id = this.#record(this.#handle, guarded, this.#typeIdOf(FILE_HANDLE_TYPE), identity, frames, full, this.#suspectAfter)
    // Released when its user closes it (not when the guard closes a collected one: that is the
    // leak). The callback is kept by the real handle, so it names the record, not the handle.
    onClose(guarded, releaseWhenClosed(this.#self, id))
  }

  /** A closed FileHandle's record, by id; its `#ids` entry goes when the handle is collected. */
  #releaseId(id) {
    if (this.#closed) return
    if (leakRelease(this.#handle, id) === RELEASED_WITH_REPORT) this.#queueDelivery()
  }

  #wantsStack() {
    if (this.#stacks !== 1) return this.#stacks === 2
    if (--this.#untilSample > 0) return false
    this.#untilSample = leakSampleGap(this.#handle)
    return true
  }

  #typeId(resource, info) {
    let type = info?.type
    if (type === undefined) type = constructorName(resource)
    else if (typeof type !== 'string') throw invalidType('LeakRegistry.track: info.type', 'a string', type)
    return this.#typeIdOf(type)
  }

  #typeIdOf(type) {
    let id = this.#types.get(type)
    if (id === undefined) {
      id = leakIntern(this.#handle, TYPE, stringify(type))
      this.#types.set(type, id)
      this.#typeNames[id] = type
    }
    return id
  }
}

if (SymbolDispose !== undefined) {
  Object.defineProperty(LeakRegistry.prototype, SymbolDispose, {
    value: function dispose() {
      this.close()
    },
    writable: true,
    configurable: true,
  })
}
Object.defineProperty(LeakRegistry.prototype, Symbol.toStringTag, { value: 'LeakRegistry', configurable: true })

// The callbacks the process keeps for a registry hold it only through a WeakRef: a registry
// nobody references any more is collected, not kept alive by its own wake-up or timer.
function wakeFor(self) {
  return () => {
    const registry = self.deref()
    if (registry !== undefined) internals.deliver(registry)
  }
}

function releaseWhenClosed(self, id) {
  return () => internals.releaseId(self.deref(), id)
}

function deliverLater(self) {
  const registry = self.deref()
  if (registry !== undefined) internals.deliver(registry)
}

function housekeepLater(self) {
  const registry = self.deref()
  if (registry !== undefined) internals.housekeep(registry)
}

function internSite(handle, json) {
  return leakIntern(handle, SITE, json)
}

// One process 'exit' listener for every registry (of this thread): it writes out what was
// collected but not delivered yet, prints the `reportOnExit` inventories, and waits (bounded)
// for the log writers, which `process.exit()` would otherwise cut off.
const registries = new Set() // WeakRef of every registry of this thread
const forgetRegistry = new FinalizationRegistry((self) => registries.delete(self))
let exitWatched = false

function watchExit(self) {
  registries.add(self)
  forgetRegistry.register(self.deref(), self)
  if (exitWatched) return
  exitWatched = true
  process.on('exit', onExit)
}

function onExit() {
  for (const self of registries) {
    const registry = self.deref()
    if (registry === undefined) continue
    try {
      internals.atExit(registry)
    } catch {
      // Exiting: one registry's failure must not stop the others' reports.
    }
  }
  leakFlushLogs(EXIT_FLUSH_MS)
}

/**
 * Writes at exit. A worker's process.stderr forwards to the main thread asynchronously, and what
 * is still in flight when the worker ends can be lost: workers write to the descriptor itself.
 */
function writeToStderrNow(text) {
  if (isMainThread) process.stderr.write(text)
  else fs.writeSync(2, text)
}

/**
 * Gives each report to `onLeak` (one that throws becomes a warning and the rest still arrive) and
 * publishes it on the 'ephemeron:leak' channel while anyone subscribes: the same object to both.
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

/**
 * `info` and the context as JSON texts (`info\nid\nlabel\ncontext`), taken now: later changes
 * to them do not show, and they cannot keep anything alive. JSON.stringify escapes line breaks,
 * so '\n' separates safely.
 */
function identityOf(info, context) {
  if (info === undefined) return context === undefined ? undefined : `\n\n\n${context}`
  if (info === null || typeof info !== 'object') throw invalidType('LeakRegistry.track: info', 'an object', info)
  let json
  try {
    json = stringify(info)
  } catch (cause) {
    throw makeError('ERR_INVALID_ARG_VALUE', `LeakRegistry.track: info must be JSON-serializable: ${describeCause(cause)}`, cause)
  }
  return `${json}\n${jsonOrEmpty(info.id)}\n${jsonOrEmpty(info.label)}${context === undefined ? '' : `\n${context}`}`
}

function jsonOrEmpty(value) {
  return value === undefined || value === null ? '' : (stringify(value) ?? '')
}

function describeCause(cause) {
  try {
    return typeof cause?.message === 'string' ? cause.message : describe(cause)
  } catch {
    return describe(cause)
  }
}

function checkSuspectAfter(value, what) {
  if (typeof value !== 'number') throw invalidType(what, 'a number of milliseconds (0 = off)', value)
  if (!(value >= 0) || !isFinite(value)) throw outOfRange(what, 'a finite number of milliseconds >= 0 (0 = off)', value)
  return value
}

/** The resource's class name (its prototype chain's first `constructor`), read without running a getter. */
function constructorName(resource) {
  try {
    for (let proto = Object.getPrototypeOf(resource); proto !== null; proto = Object.getPrototypeOf(proto)) {
      const constructor = Object.getOwnPropertyDescriptor(proto, 'constructor')?.value
      if (constructor === undefined) continue
      const name = typeof constructor === 'function' ? Object.getOwnPropertyDescriptor(constructor, 'name')?.value : undefined
      return typeof name === 'string' && name !== '' ? name : 'Object'
    }
  } catch {
    // A Proxy whose getPrototypeOf trap throws: it has no name to give.
  }
  return 'Object'
}

/** An fs.promises FileHandle (or a guarded one): duck-typed, as Node offers no class to test. */
function isFileHandle(value) {
  if (value === null || typeof value !== 'object') return false
  if (realHandleOf(value) !== undefined) return true
  try {
    return typeof value.fd === 'number' && typeof value.close === 'function' && typeof value.on === 'function' && typeof value.read === 'function'
  } catch {
    return false
  }
}

function closedError(method) {
  return makeError('ERR_EPHEMERON_CLOSED', `LeakRegistry.${method}: the registry is closed`)
}

module.exports = { LeakRegistry }
