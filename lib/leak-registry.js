'use strict'
// LeakRegistry: reports resources that the garbage collector collects without `release()`.
//
// The records, counts, sampling and report formatting live in Rust (src/leak_registry.rs and
// src/core/leak_*.rs). This class validates input, keeps `resource -> record id` in a WeakMap
// (so `release` finds the record without pinning the resource), captures the call site (see
// call-sites.js: read late, only for resources that live a while or leak) and hands reports to
// `onLeak` on the event loop.

const fsp = require('node:fs/promises')
const { threadId } = require('node:worker_threads')
const native = require('./native.js')
const { captureFrames, captureSite, formatStack, SiteCache } = require('./call-sites.js')
const { describe, incompatibleReceiver } = require('./weak-keys.js')

const {
  leakCreate,
  leakTrack,
  leakDeliver,
  leakSetSite,
  leakRelease,
  leakIntern,
  leakSampleGap,
  leakStats,
  leakOpen,
  leakExitInventory,
  leakClose,
  leakProcessTotals,
} = native

const STACKS = ['off', 'sample', 'all']
const FILE_HANDLE_INFO = { type: 'FileHandle' }
const DEFAULT_SAMPLE_RATE = 0.1
const TYPE = 0
const SITE = 1
/** Site id of a record whose capture is not read yet (src/core/leak_table.rs UNKNOWN_SITE). */
const UNREAD_SITE = 0
/** Unread site captures are read at least this often (they may hold their frames' receivers). */
const SITE_READ_MS = 1000
let handleOf // (registry, method) => native handle; throws on a foreign receiver or a closed registry

/** Calls `onLeak` with each report; one that throws becomes a warning and the rest still arrive. */
function callOnLeak(onLeak, lines) {
  for (const line of lines) {
    try {
      onLeak(JSON.parse(line))
    } catch (error) {
      // A throwing onLeak must not lose later reports nor crash the service.
      warn(`LeakRegistry onLeak threw: ${error instanceof Error ? error.message : String(error)}`, 'ERR_EPHEMERON_ON_LEAK', error)
    }
  }
}

class LeakRegistry {
  #handle
  #ids = new WeakMap() // resource -> record id
  #types = new Map() // type name -> type id
  #sites
  #stacks // index into STACKS
  #untilSample // tracks until the next sampled stack ('sample' mode)
  #pending = new Map() // record id -> unread site capture
  #onLeak
  #delivery // { registry }: what the native wake-up reaches; emptied by close(), so a closed registry can be collected
  #siteReader // interval that reads pending site captures
  #exitListener
  #closed = false
  #onFileHandleClose

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
  }

  /**
   * @param {object} [options] see index.d.ts (LeakRegistryOptions).
   */
  constructor(options = {}) {
    if (options === null || typeof options !== 'object') {
      throw argError(TypeError, 'ERR_INVALID_ARG_TYPE', `LeakRegistry: options must be an object; got ${describe(options)}`)
    }
    const { onLeak, log, stacks = 'sample', sampleRate = DEFAULT_SAMPLE_RATE, reportOnExit = false, name } = options
    if (onLeak !== undefined && typeof onLeak !== 'function') {
      throw argError(TypeError, 'ERR_INVALID_ARG_TYPE', `LeakRegistry: options.onLeak must be a function; got ${describe(onLeak)}`)
    }
    if (log !== undefined && log !== false && (typeof log !== 'string' || log === '')) {
      throw argError(TypeError, 'ERR_INVALID_ARG_TYPE', `LeakRegistry: options.log must be 'stderr', a file path or false; got ${describe(log)}`)
    }
    const stackMode = STACKS.indexOf(stacks)
    if (stackMode < 0) {
      throw argError(TypeError, 'ERR_INVALID_ARG_VALUE', `LeakRegistry: options.stacks must be 'off', 'sample' or 'all'; got ${describe(stacks)}`)
    }
    if (typeof sampleRate !== 'number') {
      throw argError(TypeError, 'ERR_INVALID_ARG_TYPE', `LeakRegistry: options.sampleRate must be a number; got ${describe(sampleRate)}`)
    }
    if (!(sampleRate >= 0 && sampleRate <= 1)) {
      throw argError(RangeError, 'ERR_OUT_OF_RANGE', `LeakRegistry: options.sampleRate must be between 0 and 1; got ${sampleRate}`)
    }
    if (typeof reportOnExit !== 'boolean') {
      throw argError(TypeError, 'ERR_INVALID_ARG_TYPE', `LeakRegistry: options.reportOnExit must be a boolean; got ${describe(reportOnExit)}`)
    }
    if (name !== undefined && typeof name !== 'string') {
      throw argError(TypeError, 'ERR_INVALID_ARG_TYPE', `LeakRegistry: options.name must be a string; got ${describe(name)}`)
    }
    // Without onLeak, reports go to stderr unless the log is turned off explicitly.
    const destination = log === false ? undefined : (log ?? (onLeak === undefined ? 'stderr' : undefined))
    this.#onLeak = onLeak
    const delivery = { registry: this }
    this.#delivery = delivery
    this.#handle = leakCreate(() => delivery.registry?.#deliver(), threadId, name, destination, sampleRate, onLeak !== undefined)
    this.#stacks = stackMode
    this.#untilSample = leakSampleGap(this.#handle)
    this.#sites = new SiteCache((text) => leakIntern(this.#handle, SITE, text))
    this.#siteReader = setInterval(() => this.#readSites(), SITE_READ_MS).unref()
    if (reportOnExit) {
      this.#exitListener = () => {
        this.#readSites()
        const text = leakExitInventory(this.#handle)
        if (text !== '') process.stderr.write(text)
      }
      process.on('exit', this.#exitListener)
    }
    // One listener for every FileHandle: EventEmitter calls it with the handle as `this`.
    const registry = this
    this.#onFileHandleClose = function onFileHandleClose() {
      if (!registry.#closed) registry.release(this)
    }
  }

  /**
   * Tracks `resource` until `release(resource)`; if it is collected first, that is a leak.
   * Tracking a resource that is already tracked changes nothing.
   */
  track(resource, info = undefined) {
    const handle = handleOf(this, 'track')
    if (resource === null || (typeof resource !== 'object' && typeof resource !== 'function')) {
      throw argError(TypeError, 'ERR_INVALID_ARG_TYPE', `LeakRegistry.track: resource must be an object or a function; got ${describe(resource)}`)
    }
    if (this.#ids.has(resource)) return resource
    const typeId = this.#typeId(resource, info)
    const infoJson = snapshot(info)
    const full = this.#wantsStack()
    const capture = full ? captureFrames(LeakRegistry.prototype.track) : captureSite(LeakRegistry.prototype.track)
    return this.#record(handle, resource, typeId, infoJson, capture, full)
  }

  /** Stops tracking `resource`: true the first time, false if it is not tracked. */
  release(resource) {
    const handle = handleOf(this, 'release')
    const id = this.#ids.get(resource)
    if (id === undefined) return false
    this.#ids.delete(resource)
    this.#pending.delete(id)
    return leakRelease(handle, id)
  }

  /** Whether `resource` is tracked and not released. */
  isTracked(resource) {
    handleOf(this, 'isTracked')
    return this.#ids.has(resource)
  }

  /** The still-tracked resources, oldest first: `{ type, id, label, site, trackedAt, ageMs }[]`. */
  open() {
    const handle = handleOf(this, 'open')
    this.#readSites()
    return JSON.parse(leakOpen(handle))
  }

  /** `{ tracked, live, released, leaked, byType }`; still readable after `close()`. */
  stats() {
    try {
      this.#closed
    } catch {
      throw incompatibleReceiver('LeakRegistry.prototype.stats', this)
    }
    return JSON.parse(leakStats(this.#handle))
  }

  /** Counts of every registry in the process, worker threads included. */
  static processStats() {
    return JSON.parse(leakProcessTotals())
  }

  /**
   * Opens a file with `fs.promises.open` and tracks the FileHandle (type `'FileHandle'`,
   * `fd`, `path`) until it is closed. The site is the line that called `openFile`.
   */
  async openFile(path, flags = undefined, mode = undefined) {
    handleOf(this, 'openFile')
    const full = this.#wantsStack()
    const capture = full ? captureFrames(LeakRegistry.prototype.openFile) : captureSite(LeakRegistry.prototype.openFile)
    const fileHandle = await fsp.open(path, flags, mode)
    // A registry closed while the file was opening no longer tracks anything.
    if (!this.#closed) this.#trackFileHandle(fileHandle, path, capture, full)
    return fileHandle
  }

  /** Tracks a FileHandle opened elsewhere until it is closed; returns it. */
  trackFileHandle(fileHandle, path = undefined) {
    handleOf(this, 'trackFileHandle')
    if (fileHandle === null || typeof fileHandle !== 'object' || typeof fileHandle.fd !== 'number' || typeof fileHandle.on !== 'function') {
      throw argError(TypeError, 'ERR_INVALID_ARG_TYPE', `LeakRegistry.trackFileHandle: expected an fs.promises FileHandle; got ${describe(fileHandle)}`)
    }
    const full = this.#wantsStack()
    const capture = full ? captureFrames(LeakRegistry.prototype.trackFileHandle) : captureSite(LeakRegistry.prototype.trackFileHandle)
    return this.#trackFileHandle(fileHandle, path, capture, full)
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
    this.#readSites()
    this.#closed = true
    this.#delivery.registry = undefined
    this.#pending.clear()
    clearInterval(this.#siteReader)
    if (this.#exitListener !== undefined) process.off('exit', this.#exitListener)
    const lines = leakClose(this.#handle)
    const onLeak = this.#onLeak
    if (onLeak !== undefined && lines.length > 0) setImmediate(callOnLeak, onLeak, lines)
  }

  /** Whether `close()` was called. */
  get closed() {
    try {
      return this.#closed
    } catch {
      throw incompatibleReceiver('LeakRegistry.prototype.closed', this)
    }
  }

  /** `capture`: read frames with `full`, else an unread site capture. */
  #record(handle, resource, typeId, infoJson, capture, full) {
    let id
    if (full) {
      id = leakTrack(handle, resource, typeId, this.#sites.idOf(capture), infoJson, formatStack(capture))
    } else {
      id = leakTrack(handle, resource, typeId, UNREAD_SITE, infoJson, undefined)
      this.#pending.set(id, capture)
    }
    this.#ids.set(resource, id)
    return resource
  }

  /** Names the sites of the records whose capture is not read yet. */
  #readSites() {
    if (this.#pending.size === 0 || this.#closed) return
    for (const [id, capture] of this.#pending) leakSetSite(this.#handle, id, this.#sites.idOfCapture(capture))
    this.#pending.clear()
  }

  /** On the event loop after collections: sites first, then the reports. */
  #deliver() {
    let lines
    try {
      this.#readSites()
      lines = leakDeliver(this.#handle)
    } catch (error) {
      // Not expected; but an exception here would reach the event loop as an uncaught one.
      warn(`LeakRegistry could not deliver reports: ${error.message}`, 'ERR_EPHEMERON_INTERNAL', error)
      return
    }
    if (this.#onLeak !== undefined) callOnLeak(this.#onLeak, lines)
  }

  #trackFileHandle(fileHandle, path, capture, full) {
    if (this.#ids.has(fileHandle)) return fileHandle
    const fd = fileHandle.fd
    // Built by hand: cheaper than JSON.stringify of an info object, once per opened file.
    const where = path === undefined ? 'null' : JSON.stringify(String(path))
    const infoJson = `{"type":"FileHandle","id":${fd},"label":${where},"fd":${fd},"path":${where}}`
    this.#record(this.#handle, fileHandle, this.#fileHandleType(), infoJson, capture, full)
    fileHandle.on('close', this.#onFileHandleClose)
    return fileHandle
  }

  #fileHandleType() {
    return this.#typeId(undefined, FILE_HANDLE_INFO)
  }

  #wantsStack() {
    if (this.#stacks !== 1) return this.#stacks === 2
    if (--this.#untilSample > 0) return false
    this.#untilSample = leakSampleGap(this.#handle)
    return true
  }

  #typeId(resource, info) {
    let type = info?.type
    if (type === undefined) type = typeof resource.constructor === 'function' ? resource.constructor.name || 'Object' : 'Object'
    else if (typeof type !== 'string') {
      throw argError(TypeError, 'ERR_INVALID_ARG_TYPE', `LeakRegistry.track: info.type must be a string; got ${describe(type)}`)
    }
    let id = this.#types.get(type)
    if (id === undefined) this.#types.set(type, (id = leakIntern(this.#handle, TYPE, type)))
    return id
  }
}

if (typeof Symbol.dispose === 'symbol') {
  Object.defineProperty(LeakRegistry.prototype, Symbol.dispose, {
    value: function dispose() {
      this.close()
    },
    writable: true,
    configurable: true,
  })
}
Object.defineProperty(LeakRegistry.prototype, Symbol.toStringTag, { value: 'LeakRegistry', configurable: true })

/** `info` as JSON, taken now: later changes to it do not show, and it cannot keep anything alive. */
function snapshot(info) {
  if (info === undefined) return undefined
  if (info === null || typeof info !== 'object') {
    throw argError(TypeError, 'ERR_INVALID_ARG_TYPE', `LeakRegistry.track: info must be an object; got ${describe(info)}`)
  }
  try {
    return JSON.stringify(info)
  } catch (cause) {
    throw argError(TypeError, 'ERR_INVALID_ARG_VALUE', `LeakRegistry.track: info must be JSON-serializable: ${cause.message}`, cause)
  }
}

function warn(message, code, error) {
  process.emitWarning(message, { type: 'LeakRegistryWarning', code, detail: error instanceof Error ? error.stack : undefined })
}

function argError(Class, code, message, cause = undefined) {
  const error = cause === undefined ? new Class(message) : new Class(message, { cause })
  error.code = code
  return error
}

function closedError(method) {
  const error = new Error(`LeakRegistry.${method}: the registry is closed`)
  error.code = 'ERR_EPHEMERON_CLOSED'
  return error
}

module.exports = { LeakRegistry }
