'use strict'
// Where a resource was tracked from: the caller's `file:line` (always) and, for the sampled
// ones, the allocation stack. Both come from V8's structured stack frames:
// `Error.captureStackTrace` with a small `Error.stackTraceLimit` and a `prepareStackTrace` that
// returns the frames themselves, so V8 never formats the default stack string. A site is turned
// into text once and then found by file and line in a cache (most services track resources from
// a few dozen lines). The frames are read at once and never kept: a captured stack holds the
// receiver of every frame (`this` of a constructor that tracks itself), which would keep the
// resource alive and hide its leak.

const path = require('node:path')
const { fileURLToPath } = require('node:url')

/** Frames read to find the site when the first one is not user code (a builtin like forEach, node: internals). */
const SITE_FRAMES = 8
/** Frames kept for a full allocation stack. */
const STACK_FRAMES = 16

const OWN_FILES = __dirname + path.sep
const UNKNOWN_SITE = '<unknown>'

const returnFrames = (_error, frames) => frames

/**
 * The call-site frames above `above` (a function on the current stack, excluded with everything
 * it called): `STACK_FRAMES` of them with `full`, else just the caller's (more only when the
 * caller is not user code). Capturing costs about 0.5 µs per frame walked, skipped ones
 * included, so call this straight from the public method named by `above`.
 */
function captureFrames(full, above) {
  const { stackTraceLimit, prepareStackTrace } = Error
  Error.prepareStackTrace = returnFrames
  try {
    Error.stackTraceLimit = full ? STACK_FRAMES : 1
    const holder = {}
    Error.captureStackTrace(holder, above)
    let frames = holder.stack
    if (!full && Array.isArray(frames) && !(frames.length === 1 && isUserFrame(frames[0]))) {
      Error.stackTraceLimit = SITE_FRAMES
      Error.captureStackTrace(holder, above)
      frames = holder.stack
    }
    return Array.isArray(frames) ? frames : []
  } finally {
    Error.prepareStackTrace = prepareStackTrace
    Error.stackTraceLimit = stackTraceLimit
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

/** Sites of one registry: `file:line` text, interned once through `intern(text) -> id`. */
class SiteCache {
  #byFile = new Map() // file -> Map(line -> site id)
  #intern
  #unknown = -1

  constructor(intern) {
    this.#intern = intern
  }

  /** The site id of the first user frame in `frames`. */
  idOf(frames) {
    for (const frame of frames) {
      if (!isUserFrame(frame)) continue
      const file = frame.getFileName()
      const line = frame.getLineNumber()
      let byLine = this.#byFile.get(file)
      if (byLine === undefined) this.#byFile.set(file, (byLine = new Map()))
      let id = byLine.get(line)
      if (id === undefined) byLine.set(line, (id = this.#intern(`${displayFile(file)}:${line}`)))
      return id
    }
    if (this.#unknown < 0) this.#unknown = this.#intern(UNKNOWN_SITE)
    return this.#unknown
  }
}

module.exports = { captureFrames, formatStack, SiteCache }
