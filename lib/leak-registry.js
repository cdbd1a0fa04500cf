'use strict'
// LeakRegistry: reports resources that the garbage collector collects without `release()`
// ('leaked'), and resources still held `suspectAfter` milliseconds after `track()`
// ('suspected', then 'released' if they are released after all).
//
// docs/architecture.md has the whole picture; in short:
// - `track()` and `release()` make no native call. This side keeps `resource -> record id` in a
//   WeakMap and watches each resource with one FinalizationRegistry per registry (held value: the
//   id; unregister token: the resource), and appends what happened to the event log
//   (leak-events.js), which Rust replays into its table at the next native call.
// - Rust (src/leak_registry.rs, src/core/leak_*.rs) owns the records, deadlines, counts,
//   touches, the site sampling policy, the report formatting and the log writer.
// - A collection appends a COLLECTED event from the FinalizationRegistry's callback, and a
//   delivery on the event loop replays the log and hands the reports to `onLeak`, the
//   'ephemeron:leak' channel (leak-reports.js) and the JSON-lines log.
// - A registry that tracks something is held by this module (its FinalizationRegistry would be
//   collected with it, and nothing reported); otherwise nothing the process keeps for it
//   references it strongly (its timer and the exit listener go through a WeakRef).

const fsp = require('node:fs/promises')
const fs = require('node:fs')
const { isMainThread, threadId } = require('node:worker_threads')
const native = require('./native.js')
const { captureSite, captureStack, OWN_FILES } = require('./call-sites.js')
const { EventLog, FULL_STACK, SAMPLED_SITE } = require('./leak-events.js')
const { wantsReports, reportsOf, publish } = require('./leak-reports.js')
const { guardFileHandle, isGuarded, lookNow, realHandleOf, watch, watcherOf } = require('./file-handle-guard.js')
const { incompatibleReceiver, invalidType, invalidValue, makeError, outOfRange, warn, warnCallbackThrew } = require('./errors.js')
const { checkSuspectAfter, closedError, constructorName, infoJson, isFileHandle } = require('./leak-input.js')
const { Date, Error, FinalizationRegistry, JSON, Map, Math, Number, Object, Set, String, Symbol, WeakMap, WeakRef } = require('./primordials.js')
const { clearTimeout, process, queueMicrotask, setImmediate, setTimeout, SymbolDispose } = require('./primordials.js')

const { leakProcessTotals, leakFlushLogs } = native

const STACKS = ['off', 'sample', 'all']
const SITES = ['auto', 'all']
const FILE_HANDLE_TYPE = 'FileHandle'
const DEFAULT_SAMPLE_RATE = 0.1
const DEFAULT_MAX_TOUCHES = 4
const MAX_TOUCHES_LIMIT = 1000
/** After reports went to the log, its health (write errors) is checked this much later. */
const LOG_CHECK_MS = 1000
/** Events wait at most about this long to be replayed (so process-wide counts stay current). */
const REPLAY_WITHIN_MS = 1000
/** A registry that tracks nothing is let go this long after it became idle (if it still is). */
const IDLE_CHECK_MS = 1000
/** How long a closed registry waits for collections the GC made before close() (see close()). */
const CLOSE_GRACE_MS = 100
/** Node's longest timer; longer waits are done in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1
/** How long the exit listener waits for the logs to be written (process.exit() skips teardown). */
const EXIT_FLUSH_MS = 2000

const { now } = Date
const { stringify, parse } = JSON

let internals // this module's access to registries' private members (below the class)

class LeakRegistry {
  #log // EventLog: the event log and the native side
  #native
  #self = new WeakRef(this)
  /** What the Cells of its guarded FileHandles call back through: the registry until it stops
   * tracking (while a file is open the registry is held anyway, in `working`), then nothing. */
  #port = { registry: this }
  #ids = new WeakMap() // resource -> record id (a guarded FileHandle's record is a Cell its guard keeps)
  #finalization = new FinalizationRegistry((id) => this.#collected(id))
  #types = new Map() // type name -> type id
  #typeNames = [] // type id -> type name
  #protoTypes = new WeakMap() // prototype -> type id of its constructor's name
  // The last type looked up (most registries track one or a few types, from a few lines).
  #lastType = undefined
  #lastTypeId = -1
  #lastProto = undefined
  #lastProtoTypeId = -1
  #sites
  #onLeak
  #context // options.context, or undefined
  #contextFailed = false // the one warning about a failing context() was given
  #name
  #suspectAfter
  #maxTouches
  #logs
  #reportOnExit
  #live = 0 // tracked and neither released nor collected
  #held = false // in `working`, so the registry lives while it tracks something
  #idleCheckArmed = false // the timer will see whether the registry is idle
  #suspected = new Set() // ids reported as suspected and still tracked
  #timer = undefined // the one timer: deadlines, replays, log health
  #timerAt = Infinity
  #deliveryQueued = false
  #batchEndQueued = false
  #closed = false
  #grace = undefined // after close(): the timer that ends the wait for collections made before it

  static {
    internals = {
      deliver: (registry) => registry.#deliver(),
      housekeep: (registry) => registry.#housekeep(),
      atExit: (registry) => registry.#atExit(),
      replay: (registry) => registry.#replay(),
      releaseCell: (registry, cell) => registry?.#releaseCell(cell),
      collectedCell: (registry, cell) => registry?.#collectedCell(cell),
      finishClose: (registry) => registry.#finishClose(),
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
      sites = 'auto',
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
    if (!STACKS.includes(stacks)) throw invalidValue('LeakRegistry: options.stacks', "'off', 'sample' or 'all'", stacks)
    if (!SITES.includes(sites)) throw invalidValue('LeakRegistry: options.sites', "'auto' or 'all'", sites)
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
    this.#log = new EventLog({ threadId, nameJson, sites, stacks, sampleRate, maxTouches, ownFiles: OWN_FILES, seed: Math.random() })
    this.#native = this.#log.native
    if (destination !== undefined) {
      const failure = this.#native.openLog(destination)
      if (typeof failure === 'string') throw makeError('ERR_EPHEMERON_LOG', `LeakRegistry: cannot open the log '${destination}': ${failure}`)
    }
    this.#sites = this.#log.sites
    this.#native.markGc()
    watchExit(this, this.#self, this.#log)
  }

  /**
   * Tracks `resource` until `release(resource)`; if it is collected first, that is a leak.
   * Tracking a resource that is already tracked changes nothing.
   */
  track(resource, info = undefined) {
    if (!(#log in this)) throw incompatibleReceiver('LeakRegistry.prototype.track', this)
    if (this.#closed) throw closedError('track')
    if (resource === null || (typeof resource !== 'object' && typeof resource !== 'function')) {
      throw invalidType('LeakRegistry.track: resource', 'an object or a function', resource)
    }
    const known = this.#known(resource)
    if (known !== undefined && isOpen(known)) return resource
    let typeId
    let json
    let suspectAfter = this.#suspectAfter
    if (info === undefined) {
      typeId = this.#typeOfResource(resource)
    } else {
      if (info === null || typeof info !== 'object') throw invalidType('LeakRegistry.track: info', 'an object', info)
      const { type } = info
      typeId = type === undefined ? this.#typeOfResource(resource) : this.#typeNamed(type)
      json = infoJson(info)
      if (info.suspectAfter !== undefined) suspectAfter = checkSuspectAfter(info.suspectAfter, 'LeakRegistry.track: info.suspectAfter')
    }
    const context = this.#context === undefined ? undefined : this.#contextJson()
    const at = now()
    const decision = this.#log.decide(at)
    let capture
    if (decision !== 0) {
      // Read when the log is replayed (if the resource is still tracked then). A stack is
      // `new Error()` itself: its top frame (this method) is dropped then.
      capture = (decision & FULL_STACK) === 0 ? captureSite(LeakRegistry.prototype.track) : new Error()
    }
    const stacked = (decision & FULL_STACK) !== 0
    const id = this.#append(resource, true, typeId, capture, stacked, (decision & SAMPLED_SITE) !== 0, at, suspectAfter, json, context)
    this.#ids.set(resource, id)
    return resource
  }

  /** Stops tracking `resource`: true the first time, false if it is not tracked. */
  release(resource) {
    if (!(#log in this)) throw incompatibleReceiver('LeakRegistry.prototype.release', this)
    if (this.#closed) throw closedError('release')
    const known = this.#known(resource)
    if (known === undefined) return false
    if (typeof known === 'number') {
      this.#ids.delete(resource)
      this.#finalization.unregister(resource)
      this.#released(known)
      return true
    }
    if (!known.open) return false
    this.#releaseCell(known)
    return true
  }

  /**
   * Records an access to a tracked resource (the caller's site, the time and `hint`): reports
   * carry the first and the most recent ones. Untracked objects are returned untouched.
   */
  touch(resource, hint = undefined) {
    if (!(#log in this)) throw incompatibleReceiver('LeakRegistry.prototype.touch', this)
    if (this.#closed) throw closedError('touch')
    if (resource === null || (typeof resource !== 'object' && typeof resource !== 'function')) {
      throw invalidType('LeakRegistry.touch: resource', 'an object or a function', resource)
    }
    if (hint !== undefined && typeof hint !== 'string') throw invalidType('LeakRegistry.touch: hint', 'a string', hint)
    const known = this.#known(resource)
    if (known === undefined || this.#maxTouches === 0 || !isOpen(known)) return resource
    const site = this.#sites.idOf(captureSite(LeakRegistry.prototype.touch)) // read now: touches go to Rust by site id
    this.#log.touch(idOf(known), site, now(), hint)
    return resource
  }

  /** Whether `resource` is tracked and not released. */
  isTracked(resource) {
    if (!(#log in this)) throw incompatibleReceiver('LeakRegistry.prototype.isTracked', this)
    if (this.#closed) throw closedError('isTracked')
    const known = this.#known(resource)
    return known !== undefined && isOpen(known)
  }

  /** The still-tracked resources, oldest first (see index.d.ts OpenResource). */
  open() {
    if (!(#log in this)) throw incompatibleReceiver('LeakRegistry.prototype.open', this)
    if (this.#closed) throw closedError('open')
    this.#replay()
    return parse(this.#native.open())
  }

  /** `{ tracked, live, released, leaked, suspected, byType, logDropped }`; still readable after `close()`. */
  stats() {
    if (!(#log in this)) throw incompatibleReceiver('LeakRegistry.prototype.stats', this)
    if (!this.#closed) this.#replay()
    this.#checkLog()
    return parse(this.#native.stats())
  }

  /** Counts of every registry in the process, worker threads included. */
  static processStats() {
    for (const self of registries) {
      const registry = self.deref()
      if (registry !== undefined) internals.replay(registry)
    }
    return parse(leakProcessTotals())
  }

  /**
   * Opens a file with `fs.promises.open` and returns a guarded FileHandle, tracked (type
   * `'FileHandle'`, `fd`, `path`) until it is closed. The site is the line that called `openFile`.
   */
  async openFile(path, flags = undefined, mode = undefined) {
    if (!(#log in this)) throw incompatibleReceiver('LeakRegistry.prototype.openFile', this)
    if (this.#closed) throw closedError('openFile')
    // The context and the site are the caller's: taken now, before the first await.
    const context = this.#context === undefined ? undefined : this.#contextJson()
    const at = now()
    const where = this.#capture(LeakRegistry.prototype.openFile, at)
    const real = await fsp.open(path, flags, mode)
    const guarded = guardFileHandle(real)
    // A registry closed while the file was opening no longer tracks anything.
    if (!this.#closed) this.#trackGuarded(guarded, real.fd, path, where, context, at)
    return guarded
  }

  /**
   * Tracks a FileHandle opened elsewhere until it is closed, and returns the guarded handle to
   * use instead of it from now on (the registry keeps the original).
   */
  trackFileHandle(fileHandle, path = undefined) {
    if (!(#log in this)) throw incompatibleReceiver('LeakRegistry.prototype.trackFileHandle', this)
    if (this.#closed) throw closedError('trackFileHandle')
    if (!isFileHandle(fileHandle)) throw invalidType('LeakRegistry.trackFileHandle: fileHandle', 'an open fs.promises FileHandle', fileHandle)
    if (fileHandle.fd === -1) {
      throw makeError('ERR_EPHEMERON_FILE_HANDLE_CLOSED', 'LeakRegistry.trackFileHandle: the FileHandle is already closed; there is nothing to track')
    }
    const known = this.#known(fileHandle)
    if (known !== undefined && isOpen(known)) return fileHandle
    // A handle another registry guards already is tracked here as it is: one guard is enough.
    const guarded = realHandleOf(fileHandle) === undefined ? guardFileHandle(fileHandle) : fileHandle
    const context = this.#context === undefined ? undefined : this.#contextJson()
    const at = now()
    this.#trackFileHandle(guarded, path, this.#capture(LeakRegistry.prototype.trackFileHandle, at), context, at)
    return guarded
  }

  /**
   * Reopens the log file at its path, for every registry of the process that logs there: call
   * it after log rotation moved or deleted the file (on SIGHUP, say).
   */
  reopenLog() {
    if (!(#log in this)) throw incompatibleReceiver('LeakRegistry.prototype.reopenLog', this)
    if (this.#closed) throw closedError('reopenLog')
    const failure = this.#native.reopenLog()
    if (typeof failure === 'string') throw makeError('ERR_EPHEMERON_LOG', `LeakRegistry.reopenLog: ${failure}`)
  }

  /** Stops tracking everything and flushes the log; later calls (except `stats()`) throw. */
  close() {
    if (!(#log in this)) throw incompatibleReceiver('LeakRegistry.prototype.close', this)
    if (this.#closed) return
    // Guarded FileHandles the GC collected before now are told now, so reported; one collected
    // later was alive when the registry closed, and is not (see #collectedCell).
    if (this.#live !== 0) lookNow()
    this.#closed = true
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    try {
      this.#log.replay()
    } catch (error) {
      warn('LeakRegistryWarning', 'ERR_EPHEMERON_INTERNAL', 'LeakRegistry could not replay its events', error)
    }
    let delivered
    if (this.#live !== 0 && this.#native.gcSinceMark()) {
      // The GC ran since the FinalizationRegistry last called back: it may have collected
      // tracked resources whose callbacks have not run yet (V8 runs them in a later task, all of
      // one registry's at once). They are reported when they come, or the wait ends after
      // CLOSE_GRACE_MS; what is known now goes to the log now.
      this.#grace = setTimeout(internals.finishClose, CLOSE_GRACE_MS, this)
      this.#grace.unref()
      delivered = this.#native.deliver(wantsReports(this.#onLeak))
      this.#native.flushLog()
    } else {
      delivered = this.#native.close(wantsReports(this.#onLeak))
      this.#stopTracking()
    }
    this.#checkLog()
    // Reports are never delivered inside close(): onLeak gets them on the next turn.
    if (delivered?.numbers != null) setImmediate(publish, this.#onLeak, this.#reportsOf(delivered))
  }

  /** Whether `close()` was called. */
  get closed() {
    if (!(#log in this)) throw incompatibleReceiver('LeakRegistry.prototype.closed', this)
    return this.#closed
  }

  /**
   * Records a track in the log and, with `watched`, watches `resource` with the registry's
   * FinalizationRegistry (guarded FileHandles are watched by their guard); returns its id.
   */
  #append(resource, watched, typeId, capture, stacked, sampled, at, suspectAfter, json, context) {
    const log = this.#log
    const wasEmpty = log.empty
    const id = log.track(typeId, this.#sites.notSampled, capture, stacked, sampled, at, suspectAfter, json, context)
    if (watched) this.#finalization.register(resource, id, resource)
    if (this.#live++ === 0 && !this.#held) {
      this.#held = true
      working.add(this)
    }
    if (suspectAfter > 0) this.#armTimer(at + suspectAfter)
    else if (wasEmpty) this.#armTimer(at + REPLAY_WITHIN_MS)
    return id
  }

  /** The site decision and capture for the caller of `above` (for the methods that are not `track`). */
  #capture(above, at) {
    const decision = this.#log.decide(at)
    if (decision === 0) return NO_CAPTURE
    const sampled = (decision & SAMPLED_SITE) !== 0
    if ((decision & FULL_STACK) !== 0) return { capture: captureStack(above), stacked: true, sampled }
    return { capture: captureSite(above), stacked: false, sampled }
  }

  #trackFileHandle(guarded, path, where, context, at) {
    const known = this.#known(guarded)
    if (known !== undefined && isOpen(known)) return
    this.#trackGuarded(guarded, realHandleOf(guarded).fd, path, where, context, at)
  }

  /** Tracks a guarded handle this registry does not track (one just made, for `openFile`) as of `at`. */
  #trackGuarded(guarded, fd, path, { capture, stacked, sampled }, context, at) {
    // The record is named by a cell that the guard tells of a close by the user (a release) or
    // of a collection (a leak); the guard keeps it from the real handle, so it must never hold
    // the guarded handle. The cell is the record's info too: its text is made only if the file
    // is still open when the log is replayed (most are closed before).
    const cell = new Cell(this.#port, fd, path === undefined ? undefined : String(path))
    cell.id = this.#append(guarded, false, this.#typeNamed(FILE_HANDLE_TYPE), capture, stacked, sampled, at, this.#suspectAfter, cell, context)
    watch(guarded, cell)
  }

  /** The record of a resource: its id, or the Cell of a guarded FileHandle; undefined if none. */
  #known(resource) {
    const id = this.#ids.get(resource)
    if (id !== undefined || !isGuarded(resource)) return id
    const port = this.#port
    return watcherOf(resource, (watcher) => watcher instanceof Cell && watcher.isOf(port))
  }

  #releaseCell(cell) {
    if (this.#closed || !cell.open) return
    cell.open = false
    this.#released(cell.id)
  }

  /** The guard found a guarded FileHandle collected unclosed (it tells of each one at once, not
   * in a batch of callbacks as the FinalizationRegistry does). */
  #collectedCell(cell) {
    if (!cell.open) return
    cell.open = false
    // close() looked at the guarded handles before it closed: one told of after that was alive
    // when the registry closed, so it is not a leak of this registry's.
    if (this.#closed) return
    this.#logCollected(cell.id)
    this.#queueDelivery()
  }

  #released(id) {
    // A suspected resource gets its 'released' report, on the event loop, with the time now.
    if (this.#suspected.size !== 0 && this.#suspected.delete(id)) {
      this.#log.release(id, now())
      this.#queueDelivery()
    } else {
      this.#log.release(id, 0)
    }
    if (--this.#live === 0) this.#queueIdleCheck()
  }

  /** The FinalizationRegistry's callback: the resource of record `id` was collected unreleased. */
  #collected(id) {
    if (this.#closed && this.#grace === undefined) return
    this.#logCollected(id)
    // V8 calls back once per resource in one task: one delivery for the batch, after it.
    if (!this.#batchEndQueued) {
      this.#batchEndQueued = true
      queueMicrotask(() => this.#batchEnd())
    }
  }

  /** Record `id`'s resource was collected unreleased: its leak is reported at the next delivery. */
  #logCollected(id) {
    if (this.#suspected.size !== 0) this.#suspected.delete(id)
    this.#log.collected(id, now())
    if (--this.#live === 0) this.#queueIdleCheck()
  }

  #batchEnd() {
    this.#batchEndQueued = false
    if (this.#grace !== undefined) {
      // The collections close() waited for came (all of them: V8 calls back for every one a
      // registry has in one task).
      clearTimeout(this.#grace)
      this.#finishClose()
      return
    }
    // No collection of this batch is pending any more: close() needs no grace unless the GC runs again.
    this.#native.markGc()
    this.#queueDelivery()
  }

  /** Replays the event log into the table (a bug there becomes a warning, never an exception). */
  #replay() {
    if (this.#closed) return
    try {
      this.#log.replay()
    } catch (error) {
      warn('LeakRegistryWarning', 'ERR_EPHEMERON_INTERNAL', 'LeakRegistry could not replay its events', error)
    }
  }

  /** On the event loop: the reports made since the last delivery. */
  #deliver() {
    this.#deliveryQueued = false
    if (this.#closed) return
    let delivered
    try {
      this.#log.replay()
      delivered = this.#native.deliver(wantsReports(this.#onLeak))
    } catch (error) {
      // Not expected; but an exception here would reach the event loop as an uncaught one.
      warn('LeakRegistryWarning', 'ERR_EPHEMERON_INTERNAL', 'LeakRegistry could not deliver reports', error)
      return
    }
    if (delivered == null) return
    if (this.#logs) this.#armTimer(now() + LOG_CHECK_MS)
    if (delivered.numbers != null) publish(this.#onLeak, this.#reportsOf(delivered))
  }

  #reportsOf(delivered) {
    return reportsOf(delivered, this.#typeNames, this.#sites, this.#name)
  }

  #queueDelivery() {
    if (this.#deliveryQueued) return
    this.#deliveryQueued = true
    setImmediate(deliverLater, this.#self)
  }

  /**
   * Nothing is tracked any more: unless something is tracked again before the timer fires (a
   * registry of a busy service goes from 1 to 0 tracked and back all the time), let the
   * registry go then.
   */
  #queueIdleCheck() {
    if (this.#idleCheckArmed || !this.#held) return
    this.#idleCheckArmed = true
    this.#armTimer(now() + IDLE_CHECK_MS)
  }

  #checkIdle() {
    this.#idleCheckArmed = false
    if (this.#live !== 0 || !this.#held) return
    this.#held = false
    working.delete(this)
  }

  #finishClose() {
    this.#grace = undefined
    let delivered
    try {
      this.#log.replay()
      delivered = this.#native.close(wantsReports(this.#onLeak))
    } catch (error) {
      warn('LeakRegistryWarning', 'ERR_EPHEMERON_INTERNAL', 'LeakRegistry could not close', error)
    }
    this.#stopTracking()
    this.#checkLog()
    if (delivered?.numbers != null) publish(this.#onLeak, this.#reportsOf(delivered))
  }

  #stopTracking() {
    this.#port.registry = undefined
    this.#finalization = undefined
    this.#ids = new WeakMap()
    this.#suspected.clear()
    this.#live = 0
    if (this.#held) {
      this.#held = false
      working.delete(this)
    }
  }

  /** The timer: suspect what is overdue, deliver, check the log. */
  #housekeep() {
    this.#timer = undefined
    this.#timerAt = Infinity
    if (this.#closed) return
    if (this.#idleCheckArmed) this.#checkIdle()
    let next = Infinity
    try {
      this.#log.replay()
      const due = this.#native.due()
      for (const id of due.suspected) this.#suspected.add(id)
      if (due.next >= 0) next = due.next
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
    const failure = this.#native.logFailure()
    if (typeof failure === 'string') {
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
    this.#log.replay()
    this.#native.deliver(false)
    if (this.#reportOnExit) {
      const text = this.#native.exitInventory()
      if (text !== '') writeToStderrNow(text)
    }
  }

  /**
   * The value of `options.context()` as JSON text, called now (in the caller's async context),
   * or undefined. A context() that throws or returns what JSON cannot represent gives no
   * context, and one warning per registry; `track()` never fails because of it.
   */
  #contextJson() {
    let json
    try {
      json = stringify(this.#context())
    } catch (error) {
      if (!this.#contextFailed) {
        this.#contextFailed = true
        warnCallbackThrew('LeakRegistryWarning', 'ERR_EPHEMERON_CONTEXT', 'LeakRegistry context() failed; reports of resources tracked while it fails have no context (this warning is given once per registry)', error)
      }
      return undefined
    }
    return json
  }

  /** The type id of `info.type`. */
  #typeNamed(type) {
    if (type === this.#lastType) return this.#lastTypeId
    let id = this.#types.get(type)
    if (id === undefined) {
      if (typeof type !== 'string') throw invalidType('LeakRegistry.track: info.type', 'a string', type)
      id = this.#native.defineType(stringify(type))
      this.#types.set(type, id)
      this.#typeNames[id] = type
    }
    this.#lastType = type
    this.#lastTypeId = id
    return id
  }

  /** The type id of a resource's constructor name, found once per prototype. */
  #typeOfResource(resource) {
    let proto
    try {
      proto = Object.getPrototypeOf(resource)
    } catch {
      return this.#typeNamed('Object') // a Proxy whose getPrototypeOf trap throws
    }
    if (proto === this.#lastProto) return this.#lastProtoTypeId
    if (proto === null) return this.#typeNamed('Object')
    let id = this.#protoTypes.get(proto)
    if (id === undefined) {
      id = this.#typeNamed(constructorName(proto))
      this.#protoTypes.set(proto, id)
    }
    this.#lastProto = proto
    this.#lastProtoTypeId = id
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

/**
 * A guarded FileHandle's record, watched by the guard: its id, and whether it is still open
 * (released when its user closes it, leaked when it is collected unclosed).
 */
class Cell {
  id = 0
  open = true
  #port // the registry's port
  #fd
  #path // a string, or undefined
  constructor(port, fd, path) {
    this.#port = port
    this.#fd = fd
    this.#path = path
  }

  isOf(port) {
    return this.#port === port
  }

  closed() {
    internals.releaseCell(this.#port.registry, this)
  }

  collected() {
    internals.collectedCell(this.#port.registry, this)
  }

  /** The file's info as JSON text (what `track()` would make of `{ type, id, label, fd, path }`): built by hand, cheaper than JSON.stringify. */
  infoJson() {
    const fd = this.#fd
    const path = this.#path === undefined ? 'null' : stringify(this.#path)
    return `{"type":"FileHandle","id":${fd},"label":${path},"fd":${fd},"path":${path}}`
  }
}

function isOpen(known) {
  return typeof known === 'number' || known.open
}

function idOf(known) {
  return typeof known === 'number' ? known : known.id
}

/** The capture of a file opened without a site. */
const NO_CAPTURE = Object.freeze({ capture: undefined, stacked: false, sampled: false })

/** Registries that track something: held here so that their FinalizationRegistry lives on. */
const working = new Set()

// The callbacks the process keeps for a registry hold it only through a WeakRef: a registry
// nobody references any more is collected, not kept alive by its own wake-up or timer.
function deliverLater(self) {
  const registry = self.deref()
  if (registry !== undefined) internals.deliver(registry)
}

function housekeepLater(self) {
  const registry = self.deref()
  if (registry !== undefined) internals.housekeep(registry)
}


// One process 'exit' listener for every registry (of this thread): it writes out what was
// collected but not delivered yet, prints the `reportOnExit` inventories, and waits (bounded)
// for the log writers, which `process.exit()` would otherwise cut off. A registry that is
// collected gets its last events replayed (so the process-wide counts keep them).
const registries = new Set() // WeakRef of every registry of this thread
const forgetRegistry = new FinalizationRegistry(({ self, log }) => {
  registries.delete(self)
  try {
    log.replay()
  } catch {
    // Nothing to report to: the registry is gone.
  }
})
let exitWatched = false

function watchExit(registry, self, log) {
  registries.add(self)
  forgetRegistry.register(registry, { self, log })
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

module.exports = { LeakRegistry }
