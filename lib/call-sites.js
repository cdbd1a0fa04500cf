'use strict'
// Where a resource was tracked from: the caller's `file:line` and, for some, the allocation
// stack. Both are V8 captures (`Error.captureStackTrace` with a small `Error.stackTraceLimit`,
// called straight from the public method (`above`) so V8 walks as few frames as it can; or an
// eager `new Error()`), which are cheap to take and about as costly again to read:
//
// - They are read when the event log is replayed (leak-events.js), not when they are taken: most
//   resources are released before that, and their captures are never read at all.
// - Until then a capture holds the receivers and functions of its frames (`this` of a
//   constructor that tracks itself), so such a resource stays alive until the next replay: at
//   most 256 tracks or about a second later. Its leak is reported then.
// - A site is read from V8's structured frames (a `prepareStackTrace` that returns the frames
//   themselves, so V8 never formats a stack string) and found by file and line in a cache: its
//   text is made and named to Rust once per site.
// - A full stack is V8's own text; Rust (src/core/leak_texts.rs) keeps the user frames, names the
//   site from them and escapes it.

const path = require('node:path')
const { fileURLToPath } = require('node:url')
const { Array, Error, JSON, Map } = require('./primordials.js')

/** Frames kept for the site: the caller, and the next one for callers that are not user code (builtins such as forEach). */
const SITE_FRAMES = 2
/** Frames of a full allocation stack taken by `captureStack` (`new Error().stack` has as many by default). */
const STACK_FRAMES = 10

/** The folder of ephemeron's own JS files, whose frames are never a site. */
const OWN_FILES = __dirname + path.sep
const UNKNOWN_SITE = '<unknown>'
/** The site of a resource whose site was not captured (sampling above the rate: see docs/leak-registry.md). */
const NOT_SAMPLED_SITE = '<not sampled>'

const returnFrames = (_error, frames) => frames

/** The caller's frames above `above` (a function on the current stack, excluded with everything it called), captured, not read. */
function captureSite(above) {
  const { stackTraceLimit } = Error
  Error.stackTraceLimit = SITE_FRAMES
  const holder = {}
  Error.captureStackTrace(holder, above)
  Error.stackTraceLimit = stackTraceLimit
  return holder
}

/** The allocation stack above `above` (`STACK_FRAMES` frames), captured, not read: read its `stack` for V8's text. */
function captureStack(above) {
  const { stackTraceLimit } = Error
  Error.stackTraceLimit = STACK_FRAMES
  const holder = {}
  Error.captureStackTrace(holder, above)
  Error.stackTraceLimit = stackTraceLimit
  return holder
}

/** The structured frames of a site capture. */
function readFrames(holder) {
  const { prepareStackTrace } = Error
  Error.prepareStackTrace = returnFrames
  let frames
  try {
    frames = holder.stack
  } finally {
    Error.prepareStackTrace = prepareStackTrace
  }
  return Array.isArray(frames) ? frames : []
}

/** The text of a stack capture, as V8 (or the application's `Error.prepareStackTrace`) formats it. */
function stackText(capture) {
  const stack = capture.stack
  return typeof stack === 'string' ? stack : ''
}

/** A user frame: JavaScript from a file that is neither Node's own nor ephemeron's. */
function isUserFrame(frame) {
  const file = frame.getFileName()
  return typeof file === 'string' && !file.startsWith('node:') && !file.startsWith(OWN_FILES) && !file.startsWith('internal/')
}

function displayFile(file) {
  return file.startsWith('file://') ? fileURLToPath(file) : file
}

/** Sites of one registry: `file:line` texts, each named to Rust once (`define(json) -> id`). */
class SiteCache {
  #byFile = new Map() // file -> Map(line -> site id)
  #texts = [] // site id -> `file:line`
  #native // the registry's NativeLeakRegistry
  /** The ids of the two sites that are not a place. */
  unknown
  notSampled

  constructor(native) {
    this.#native = native
    this.unknown = this.#define(UNKNOWN_SITE)
    this.notSampled = this.#define(NOT_SAMPLED_SITE)
  }

  /** The site id of a site capture: its first user frame. */
  idOf(capture) {
    for (const frame of readFrames(capture)) {
      if (!isUserFrame(frame)) continue
      const file = frame.getFileName()
      const line = frame.getLineNumber()
      let byLine = this.#byFile.get(file)
      if (byLine === undefined) this.#byFile.set(file, (byLine = new Map()))
      let id = byLine.get(line)
      if (id === undefined) byLine.set(line, (id = this.#define(`${displayFile(file)}:${line}`)))
      return id
    }
    return this.unknown
  }

  /** The `file:line` text of a site id (one Rust named from a stack is asked for once). */
  textOf(id) {
    let text = this.#texts[id]
    if (text === undefined) {
      const json = this.#native.siteText(id)
      text = json === null || json === undefined ? UNKNOWN_SITE : JSON.parse(json)
      this.#texts[id] = text
    }
    return text
  }

  #define(text) {
    const id = this.#native.defineSite(JSON.stringify(text))
    this.#texts[id] = text
    return id
  }
}

module.exports = { captureSite, captureStack, stackText, SiteCache, OWN_FILES, NOT_SAMPLED_SITE }
