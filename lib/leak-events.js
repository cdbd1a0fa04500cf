'use strict'
// The JS half of LeakRegistry's event log (the protocol is defined once, in
// src/core/leak_events.rs; its numbers come from `leakProtocol()` at load). `track()` and
// `release()` make no native call: they append to a Float64Array shared with Rust, which
// replays it into the leak table at the next native call (`replay()`), and when a section is
// full. The same buffer's header carries the site sampling policy's numbers
// (src/core/site_sampler.rs): the token bucket and the lists of gaps, spent here per track.
// A track's call-site capture is read only when the log is replayed (call-sites.js), and not at
// all when its resource was released before that.

const native = require('./native.js')
const { SiteCache, stackText } = require('./call-sites.js')
const { Float64Array, Math } = require('./primordials.js')

const P = native.leakProtocol()
const { TRACKS, TRACK_STRIDE, TRACK_CAPACITY, EVENTS, EVENT_STRIDE, EVENT_CAPACITY, TEXTS, HINTS, FLAG_SHIFT } = P
const { INFO, CONTEXT, STACK, SAMPLED, RELEASED, RELEASE, COLLECTED, TOUCH, TOUCH_HINT, GAPS, NO_SITE } = P

/** What `decide()` answers, as bits: capture the site; it was sampled (it stands for more); capture a full stack. */
const SITE = 1
const SAMPLED_SITE = 2
const FULL_STACK = 4

class EventLog {
  /** The registry's native side (src/leak_registry.rs), made here with the buffer it replays. */
  native
  /** The registry's sites (call-sites.js). */
  sites
  #io = new Float64Array(P.LENGTH)
  #first = 1 // the id of the first track in the log
  #tracks = 0
  #events = 0
  // The texts of the track in each slot (undefined: none). Only the tracks that are not
  // released by the time of the replay send theirs, with their lengths at TEXTS.
  #infos = [] // (made anew at each replay, so that it stays young: cheaper stores)
  #contexts = []
  #captures = [] // a site capture (its site is read at the replay), or a stack capture (STACK)
  #hints = [] // the hints of the events, in order; their lengths are in #io at HINTS
  // The sampling policy's numbers, read from the header after every replay.
  #tokens = 0
  #refillAt = 0
  #siteGap = 0
  #stackGap = 0
  #siteGapIndex = 0
  #stackGapIndex = 0

  /** `options`: src/leak_registry.rs NativeLeakOptions. */
  constructor(options) {
    this.native = new native.NativeLeakRegistry(this.#io, options)
    this.sites = new SiteCache(this.native)
    this.#readHeader()
    this.#siteGap = this.#nextSiteGap()
    this.#stackGap = this.#nextStackGap()
  }

  /** Whether nothing waits to be replayed. */
  get empty() {
    return this.#tracks === 0 && this.#events === 0
  }

  /** The id the next track gets. */
  get nextId() {
    return this.#first + this.#tracks
  }

  /**
   * Whether this track captures its site (SITE, with SAMPLED_SITE when it was sampled) and a
   * full stack (FULL_STACK): below the rate every site, above it a sampled fraction; stacks for
   * a fraction of the sites captured at full rate (the numbers come from Rust, which owns the
   * policy: src/core/site_sampler.rs). 0: neither.
   */
  decide(now) {
    if (this.#tokens >= 1 || (now >= this.#refillAt && this.#refill())) {
      this.#tokens--
      if (--this.#stackGap > 0) return SITE
      this.#stackGap = this.#nextStackGap()
      return SITE | FULL_STACK
    }
    if (--this.#siteGap > 0) return 0
    this.#siteGap = this.#nextSiteGap()
    return SITE | SAMPLED_SITE
  }

  /**
   * Appends a track and returns its id. `capture` is undefined (`site` is then the site id), a
   * site capture, or a stack capture (`stacked`); `info` and `context` are JSON text or
   * undefined, and `info` may also be an object whose `infoJson()` makes that text (called only
   * if the record is still tracked at the replay).
   */
  track(typeId, site, capture, stacked, sampled, at, suspectAfter, info, context) {
    if (this.#tracks === TRACK_CAPACITY) this.replay()
    const index = this.#tracks
    const slot = TRACKS + index * TRACK_STRIDE
    const io = this.#io
    let flags = sampled ? SAMPLED : 0
    if (info !== undefined) {
      flags |= INFO
      this.#infos[index] = info
    }
    if (context !== undefined) {
      flags |= CONTEXT
      this.#contexts[index] = context
    }
    if (capture !== undefined) {
      this.#captures[index] = capture
      if (stacked) flags |= STACK
    }
    io[slot] = typeId + flags * FLAG_SHIFT
    io[slot + 1] = stacked ? NO_SITE : site
    io[slot + 2] = at
    io[slot + 3] = suspectAfter
    io[slot + 4] = 0
    return this.#first + this.#tracks++
  }

  /**
   * A release, at `at` (0 when the time does not matter: the record was never suspected). A
   * record whose track is still in the log is only marked: it never reaches the table as live,
   * and its texts are never sent.
   */
  release(id, at) {
    const index = id - this.#first
    if (index >= 0) {
      this.#io[TRACKS + index * TRACK_STRIDE + 4] = 1
      // Let go of its texts and capture now: garbage while young is cheap garbage.
      this.#infos[index] = undefined
      this.#captures[index] = undefined
      return
    }
    this.#event(RELEASE, id, at, 0)
  }

  /** The GC collected the resource of record `id` (a FinalizationRegistry callback). */
  collected(id, at) {
    this.#event(COLLECTED, id, at, 0)
  }

  /** An access to record `id` from site `site`; `hint` is raw text or undefined. */
  touch(id, site, at, hint) {
    if (hint === undefined) {
      this.#event(TOUCH, id, site, at)
    } else {
      this.#event(TOUCH_HINT, id, site, at)
      this.#io[HINTS + this.#hints.length] = hint.length
      this.#hints.push(hint)
    }
  }

  /** Replays the log into the table; true when reports wait for a delivery. */
  replay() {
    const io = this.#io
    io[P.TOKENS] = this.#tokens
    const tracks = this.#tracks
    const texts = this.#textsToSend(tracks)
    const hints = this.#hints
    const events = this.#events
    this.#first += tracks
    this.#tracks = 0
    this.#events = 0
    this.#hints = []
    // Reset first: if Rust refuses the log (a bug), it is dropped rather than sent again forever.
    const pending = this.native.replay(tracks, events, texts.length, hints.length, join(texts), join(hints))
    this.#readHeader()
    return pending
  }

  /**
   * The texts of the tracks not released yet, in order, with their lengths at TEXTS, and their
   * sites read from their captures; the released ones get their RELEASED flag (release() only
   * marked them, in slot + 4) and their captures are never read.
   */
  #textsToSend(tracks) {
    const io = this.#io
    const texts = []
    const infos = this.#infos
    const contexts = this.#contexts
    const captures = this.#captures
    this.#infos = []
    this.#contexts = []
    this.#captures = []
    for (let index = 0, slot = TRACKS; index < tracks; index++, slot += TRACK_STRIDE) {
      if (io[slot + 4] === 1) {
        io[slot] += RELEASED * FLAG_SHIFT
        continue
      }
      const flags = Math.floor(io[slot] / FLAG_SHIFT)
      if ((flags & INFO) !== 0) this.#send(texts, textOf(infos[index]))
      if ((flags & CONTEXT) !== 0) this.#send(texts, contexts[index])
      const capture = captures[index]
      if ((flags & STACK) !== 0) this.#send(texts, stackText(capture))
      else if (capture !== undefined) io[slot + 1] = this.sites.idOf(capture)
    }
    return texts
  }

  #send(texts, text) {
    this.#io[TEXTS + texts.length] = text.length
    texts.push(text)
  }

  #event(kind, id, a, b) {
    if (this.#events === EVENT_CAPACITY) this.replay()
    const slot = EVENTS + this.#events++ * EVENT_STRIDE
    const io = this.#io
    io[slot] = kind
    io[slot + 1] = id
    io[slot + 2] = a
    io[slot + 3] = b
  }

  #readHeader() {
    const io = this.#io
    this.#tokens = io[P.TOKENS]
    this.#refillAt = io[P.REFILL_AT]
    this.#siteGapIndex = 0
    this.#stackGapIndex = 0
  }

  /** Asks Rust for more tokens (a replay refills the bucket); whether there is one now. */
  #refill() {
    this.replay()
    return this.#tokens >= 1
  }

  #nextSiteGap() {
    if (this.#siteGapIndex === GAPS) this.replay()
    return this.#io[P.SITE_GAPS + this.#siteGapIndex++]
  }

  #nextStackGap() {
    if (this.#stackGapIndex === GAPS) this.replay()
    return this.#io[P.STACK_GAPS + this.#stackGapIndex++]
  }
}

/** Info text as it was given, or made now by the object given for it. */
function textOf(info) {
  return typeof info === 'string' ? info : info.infoJson()
}

function join(texts) {
  return texts.length === 0 ? '' : texts.join('')
}

module.exports = { EventLog, SITE, SAMPLED_SITE, FULL_STACK }
