'use strict'
// Where a resource was tracked from: the caller's `file:line` (always) and, for the sampled
// ones, the allocation stack. Both come from V8's structured stack frames:
// `Error.captureStackTrace` with a small `Error.stackTraceLimit` and a `prepareStackTrace` that
// returns the frames themselves, so V8 never formats the default stack string. A site is turned
// into text once and then found by file and line in a cache (most services track resources from
// a few dozen lines).
//
// Frames are read as soon as they are captured and never kept: a capture holds the receivers of
// its frames (`this` of a constructor that tracks itself), and reading it later (as this module
// once did) both kept such resources alive for a while and put the reading cost, about as much
// again as the capture, on the delivery of a leak storm.

const path = require('node:path')
const { fileURLToPath } = require('node:url')
const { Array, Error, JSON, Map } = require('./primordials.js')

/** Frames kept for the site: the caller, and the next one for callers that are not user code (builtins such as forEach). */
const SITE_FRAMES = 2
/** Frames kept for a full allocation stack. */
const STACK_FRAMES = 16

const OWN_FILES = __dirname + path.sep
const UNKNOWN_SITE = '<unknown>'

const returnFrames = (_error, frames) => frames

/**
 * Captures the `STACK_FRAMES` frames above `above` (a function on the current stack, excluded
 * with everything it called) and reads them. Capturing costs about 0.5 µs per frame walked,
 * skipped ones included, so call this straight from the public method named by `above`.
 */
function captureFrames(above) {
  const { stackTraceLimit } = Error
  Error.stackTraceLimit = STACK_FRAMES
  const holder = {}
  try {
    Error.captureStackTrace(holder, above)
  } finally {
    Error.stackTraceLimit = stackTraceLimit
  }
  return readFrames(holder)
}

/** Captures and reads the caller's frames above `above` (two: see SITE_FRAMES), as captureFrames. */
function captureSite(above) {
  const { stackTraceLimit } = Error
  Error.stackTraceLimit = SITE_FRAMES
  const holder = {}
  try {
    Error.captureStackTrace(holder, above)
  } finally {
    Error.stackTraceLimit = stackTraceLimit
  }
  return readFrames(holder)
}

/** The structured frames of a capture, read once. */
function readFrames(holder) {
  const { prepareStackTrace } = Error
  Error.prepareStackTrace = returnFrames
  try {
    const frames = holder.stack
    return Array.isArray(frames) ? frames : []
  } finally {
    Error.prepareStackTrace = prepareStackTrace
  }
}

/** A user frame: JavaScript from a file that is neither Node's own nor ephemeron's. */
function isUserFrame(frame) {
  const file = frame.getFileName()
  return typeof file === 'string' && !file.startsWith('node:') && !file.startsWith(OWN_FILES) && !file.startsWith('internal/')
}

function displayFile(file) {
  return file.startsWith('file://') ? fileURLToPath(file) : file
}

/** The allocation stack of user frames, in V8's format (`    at fn (file:line:column)`). */
function formatStack(frames) {
  let stack = ''
  for (const frame of frames) {
    if (!isUserFrame(frame)) continue
    stack += (stack === '' ? '    at ' : '\n    at ') + frame.toString()
  }
  return stack
}

/** Sites of one registry: `file:line` text, interned once (as JSON text) through `intern(handle, json) -> id`. */
class SiteCache {
  #byFile = new Map() // file -> Map(line -> site id)
  #texts = [] // site id -> `file:line`
  #intern
  #handle

  constructor(intern, handle) {
    this.#intern = intern
    this.#handle = handle
  }

  /** The site id of the first user frame in `frames` (read frames). */
  idOf(frames) {
    for (const frame of frames) {
      if (!isUserFrame(frame)) continue
      const file = frame.getFileName()
      const line = frame.getLineNumber()
      let byLine = this.#byFile.get(file)
      if (byLine === undefined) this.#byFile.set(file, (byLine = new Map()))
      let id = byLine.get(line)
      if (id === undefined) byLine.set(line, (id = this.#internText(`${displayFile(file)}:${line}`)))
      return id
    }
    return this.#internText(UNKNOWN_SITE)
  }

  /** The `file:line` text of a site id this cache handed out. */
  textOf(id) {
    return this.#texts[id]
  }

  #internText(text) {
    const id = this.#intern(this.#handle, JSON.stringify(text))
    this.#texts[id] = text
    return id
  }
}

module.exports = { captureFrames, captureSite, formatStack, SiteCache }
