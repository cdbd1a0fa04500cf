'use strict'
// WeakEventEmitter: an event emitter whose listeners live exactly as long as their owners.
//
// Every subscription names an owner (an object). The owner's subscriptions are the value of an
// IterableWeakMap under the owner, so they live in V8's ephemeron table: a listener that
// references its owner keeps neither alive, and a live owner never loses a listener. That map is
// the one GC mechanism: it is what finds the live owners, and what counts the collected ones.
//
// Emitting must not walk that map (one call into Rust per owner). Each event has a dispatch
// list, a plain array of its subscriptions in subscription order, which an emit walks as
// EventEmitter walks its listeners. The lists hold subscriptions, and so owners, strongly, so
// the emitter must not: they sit in one Map (the dispatch) whose only holder is another
// IterableWeakMap, as its only key. The next GC collects the dispatch, and with it every owner
// nothing else holds; the first emit after that rebuilds the dispatch from the owners' map.
// An owner is therefore never kept alive by the emitter, except during an emit that reaches it.
//
// Lists are append-only while they are in the dispatch: on() appends, off() only marks the
// subscription removed (stamped with a clock), and an emit that meets removed subscriptions
// replaces the list with a compacted copy. An emit walks the list as long as it was when it
// started, and runs what was not removed before it started: the list as it was when the emit
// began, as EventEmitter does.

const { inspect } = require('node:util')
const { IterableWeakMap, deleteEntry, insertEntry, onCollectOption, tableOf, valuesOf, watchCollections } = require('./iterable-weak-map.js')
const { Error, Map, Object, Reflect, SafeWeakMap, Symbol } = require('./primordials.js')
const { incompatibleReceiver, invalidType, makeError, warnCallbackThrew } = require('./errors.js')

const { apply } = Reflect
const { defineProperty, getPrototypeOf, setPrototypeOf } = Object
const SymbolIterator = Symbol.iterator

/** `Subscription.once` states. */
const EVERY_TIME = 0
const ONCE = 1
const FIRED = 2

/** One `on()` or `once()`: what an emit calls, and what `off()` and the GC remove. */
class Subscription {
  constructor(event, owner, listener, once, seq) {
    this.event = event
    this.owner = owner
    this.listener = listener
    this.once = once
    this.seq = seq // subscription order, across owners
    this.removed = 0 // the emitter's clock when off() (or a once() firing) removed it
  }
}

const bySeq = (a, b) => a.seq - b.seq

/** The dispatch is compacted when removed subscriptions outnumber the others and this many. */
const COMPACT_AFTER = 64
/** Idle owners (no subscriptions) kept registered at least, however few owners are subscribed. */
const IDLE_MIN = 64

let ownersOf // (emitter, event, after) => the first live subscription to `event` after subscription number `after` (for the iterator)

class WeakEventEmitter {
  /**
   * owner -> its live subscriptions, oldest first. An owner that unsubscribed from everything
   * stays (with none) while there are few such idle owners, so that subscribing again is cheap;
   * beyond that it leaves.
   */
  #owners = new IterableWeakMap()
  #ownersTable = tableOf(this.#owners)
  /** The map's own `owner -> subscriptions` WeakMap, read directly on the hot paths (it stays the same: #owners is never cleared). */
  #subscriptionsOf = valuesOf(this.#owners)
  /** Holds the dispatch (event -> Subscription[]) as its only key: weakly (see the top). */
  #cell = new IterableWeakMap()
  #cellTable = tableOf(this.#cell)
  /** False once a look found the dispatch collected, until a rebuild: on() then need not look. */
  #dispatchMayLive = false
  #seq = 0
  /** Orders emits and removals: an emit skips what was removed before it started. */
  #clock = 0
  /** Owners with at least one subscription, as of the last rebuild and the changes since. */
  #subscribedOwners = 0
  /** Owners in #owners without subscriptions (idle), as of the last rebuild and the changes since. */
  #idleOwners = 0
  /** Subscriptions on() made, minus those removed, as of the last rebuild and the changes since. */
  #subscriptions = 0
  /** Removed subscriptions the dispatch may still list (compacted when they outnumber the rest). */
  #stale = 0
  /** Owners the GC collected while they had subscriptions. */
  #collected = 0
  #onCollect = undefined
  /** What onCollect was told of so far. */
  #reported = 0

  static {
    ownersOf = (emitter, event, after) => emitter.#liveAfter(event, after)
  }

  constructor(options = undefined) {
    const onCollect = onCollectOption('WeakEventEmitter', options)
    if (onCollect !== undefined) {
      this.#onCollect = onCollect
      // The owners' map wakes us on the event loop after the GC collected owners (any: idle ones
      // too); the rebuild that #dispatch() does then tells which of them were still subscribed.
      watchCollections(this.#owners, () => this.#deliverCollected())
    }
  }

  on(event, owner, listener) {
    this.#subscribe('on', event, owner, listener, EVERY_TIME)
    return this
  }

  once(event, owner, listener) {
    this.#subscribe('once', event, owner, listener, ONCE)
    return this
  }

  off(event, owner, listener = undefined) {
    checkEvent('off', event)
    checkOwner('off', owner)
    if (listener !== undefined) checkListener('off', listener)
    const subscriptions = this.#subscriptionsOf.get(owner)
    if (subscriptions === undefined) return this
    // As EventEmitter: the most recent matching subscription goes (all of them without a listener).
    for (let i = subscriptions.length - 1; i >= 0; i--) {
      const subscription = subscriptions[i]
      if (subscription.event === event && (listener === undefined || subscription.listener === listener)) {
        this.#remove(subscriptions, i)
        if (listener !== undefined) break
      }
    }
    return this
  }

  emit(event, ...args) {
    const dispatch = this.#dispatch()
    const list = dispatch.get(event)
    if (list !== undefined) {
      const start = ++this.#clock
      const length = list.length // what on() appends during this emit waits for the next one
      let ran = false
      let stale = 0
      for (let i = 0; i < length; i++) {
        const subscription = list[i]
        const removed = subscription.removed
        if (removed !== 0 && removed < start) {
          stale++
          continue
        }
        if (subscription.once !== EVERY_TIME) {
          if (subscription.once === FIRED) continue
          subscription.once = FIRED
          if (removed === 0) this.#removeSubscription(subscription)
        }
        ran = true
        apply(subscription.listener, this, args)
      }
      if (stale !== 0) compact(dispatch, event, list)
      if (ran) return true
    }
    if (event === 'error') throw unhandledError(args)
    return false
  }

  listenerCount(event) {
    checkEvent('listenerCount', event)
    const list = this.#dispatch().get(event)
    let count = 0
    if (list !== undefined) for (let i = 0; i < list.length; i++) if (list[i].removed === 0) count++
    return count
  }

  eventNames() {
    const names = []
    for (const [event, list] of this.#dispatch()) {
      for (let i = 0; i < list.length; i++) {
        if (list[i].removed === 0) {
          names.push(event)
          break
        }
      }
    }
    return names
  }

  owners(event) {
    checkEvent('owners', event)
    return new OwnersIterator(this, event)
  }

  /** Owners the GC collected while they still had listeners (they never called off()). */
  get collectedOwners() {
    this.#dispatch() // a GC since the last rebuild is counted by the next one
    return this.#collected
  }

  #deliverCollected() {
    this.#dispatch()
    const count = this.#collected - this.#reported
    if (count <= 0) return
    this.#reported = this.#collected
    try {
      apply(this.#onCollect, undefined, [count])
    } catch (thrown) {
      warnCallbackThrew('WeakEventEmitterWarning', 'ERR_EPHEMERON_ON_COLLECT', 'WeakEventEmitter onCollect threw', thrown)
    }
  }

  #subscribe(method, event, owner, listener, once) {
    checkEvent(method, event)
    checkOwner(method, owner)
    checkListener(method, listener)
    let subscriptions = this.#subscriptionsOf.get(owner)
    if (subscriptions === undefined) {
      subscriptions = []
      insertEntry(this.#owners, owner, subscriptions)
    } else if (subscriptions.length === 0) {
      this.#idleOwners--
    }
    const subscription = new Subscription(event, owner, listener, once, ++this.#seq)
    if (subscriptions.push(subscription) === 1) this.#subscribedOwners++
    this.#subscriptions++
    // A dispatch the GC already collected is rebuilt from the owners by the next emit.
    const dispatch = this.#liveDispatch()
    if (dispatch !== undefined) {
      const list = dispatch.get(event)
      if (list === undefined) dispatch.set(event, [subscription])
      else list.push(subscription)
    }
  }

  /**
   * Removes `subscriptions[index]` from its owner's subscriptions. The dispatch keeps listing it
   * (marked removed) until an emit or a compaction drops it: off() never needs the dispatch.
   */
  #remove(subscriptions, index) {
    const subscription = subscriptions[index]
    subscription.removed = ++this.#clock
    if (index === subscriptions.length - 1) subscriptions.pop()
    else subscriptions.splice(index, 1)
    if (subscriptions.length === 0) {
      this.#subscribedOwners--
      // Registering an owner costs a weak reference: keep as many idle owners as subscribed ones.
      if (this.#idleOwners < IDLE_MIN || this.#idleOwners < this.#subscribedOwners) this.#idleOwners++
      else deleteEntry(this.#owners, subscription.owner)
    }
    this.#subscriptions--
    if (++this.#stale > COMPACT_AFTER && this.#stale > this.#subscriptions) this.#compactAll()
  }

  #compactAll() {
    this.#stale = 0
    const dispatch = this.#liveDispatch()
    if (dispatch !== undefined) for (const [event, list] of dispatch) compact(dispatch, event, list)
  }

  #removeSubscription(subscription) {
    const subscriptions = this.#subscriptionsOf.get(subscription.owner)
    this.#remove(subscriptions, subscriptions.lastIndexOf(subscription))
  }

  /** The dispatch if the GC has not collected it, else undefined. */
  #liveDispatch() {
    if (!this.#dispatchMayLive) return undefined
    const entry = this.#cellTable.next(0)
    if (entry !== undefined) return entry.key
    this.#dispatchMayLive = false
    return undefined
  }

  /** The dispatch, rebuilt from the owners' subscriptions if the GC collected it. */
  #dispatch() {
    const live = this.#liveDispatch()
    if (live !== undefined) return live
    const all = []
    let subscribedOwners = 0
    let idleOwners = 0
    const table = this.#ownersTable
    for (let owner = table.next(0); owner !== undefined; owner = table.next(owner.id)) {
      const subscriptions = this.#subscriptionsOf.get(owner.key)
      if (subscriptions.length === 0) idleOwners++
      else subscribedOwners++
      for (let i = 0; i < subscriptions.length; i++) all.push(subscriptions[i])
    }
    this.#idleOwners = idleOwners
    // While a dispatch lives it holds every subscribed owner: those missing now were collected
    // with the last one, or since (owners that subscribed while there was none).
    this.#collected += this.#subscribedOwners - subscribedOwners
    this.#subscribedOwners = subscribedOwners
    this.#subscriptions = all.length
    this.#stale = 0
    all.sort(bySeq)
    const dispatch = new Map()
    for (let i = 0; i < all.length; i++) {
      const subscription = all[i]
      const list = dispatch.get(subscription.event)
      if (list === undefined) dispatch.set(subscription.event, [subscription])
      else list.push(subscription)
    }
    insertEntry(this.#cell, dispatch, undefined)
    this.#dispatchMayLive = true
    return dispatch
  }

  /** The first live subscription to `event` after subscription number `after`, or undefined. */
  #liveAfter(event, after) {
    const list = this.#dispatch().get(event)
    if (list === undefined) return undefined
    // Lists are in subscription order: find the first one after the cursor.
    let low = 0
    let high = list.length
    while (low < high) {
      const middle = (low + high) >>> 1
      if (list[middle].seq <= after) low = middle + 1
      else high = middle
    }
    for (let i = low; i < list.length; i++) if (list[i].removed === 0) return list[i]
    return undefined
  }
}

/** Replaces `list` (if it is still the event's list) with a copy that keeps what was not removed. */
function compact(dispatch, event, list) {
  if (dispatch.get(event) !== list) return
  const kept = []
  for (let i = 0; i < list.length; i++) if (list[i].removed === 0) kept.push(list[i])
  if (kept.length === 0) dispatch.delete(event)
  else dispatch.set(event, kept)
}

/**
 * The live owners of an event, each once, in the order of their first subscription to it. It
 * holds the emitter and the number of the last subscription it passed, never an owner it has
 * not yielded: an abandoned iterator keeps no owner alive. Owners that subscribe later are
 * visited; owners that leave (off or GC) before they are reached are not.
 */
class OwnersIterator {
  #emitter
  #event
  #after = 0
  #seen = new SafeWeakMap()

  constructor(emitter, event) {
    this.#emitter = emitter
    this.#event = event
  }

  next() {
    if (this === null || typeof this !== 'object' || !(#seen in this)) {
      throw incompatibleReceiver('WeakEventEmitter owners iterator next', this)
    }
    const emitter = this.#emitter
    while (emitter !== undefined) {
      const subscription = ownersOf(emitter, this.#event, this.#after)
      if (subscription === undefined) break
      this.#after = subscription.seq
      if (!this.#seen.has(subscription.owner)) {
        this.#seen.set(subscription.owner, true)
        return { value: subscription.owner, done: false }
      }
    }
    this.#emitter = undefined
    return { value: undefined, done: true }
  }
}

const IteratorPrototype = getPrototypeOf(getPrototypeOf([][SymbolIterator]()))
setPrototypeOf(OwnersIterator.prototype, IteratorPrototype)
defineProperty(OwnersIterator.prototype, Symbol.toStringTag, { value: 'WeakEventEmitter Owners Iterator', configurable: true })
defineProperty(WeakEventEmitter.prototype, Symbol.toStringTag, { value: 'WeakEventEmitter', configurable: true })

function checkEvent(method, event) {
  if (typeof event !== 'string' && typeof event !== 'symbol') {
    throw invalidType(`WeakEventEmitter.prototype.${method}: event`, 'a string or a symbol', event)
  }
}

function checkOwner(method, owner) {
  if (owner === null || (typeof owner !== 'object' && typeof owner !== 'function')) {
    throw invalidType(`WeakEventEmitter.prototype.${method}: owner`, 'an object or a function', owner)
  }
}

function checkListener(method, listener) {
  if (typeof listener !== 'function') {
    throw invalidType(`WeakEventEmitter.prototype.${method}: listener`, 'a function', listener)
  }
}

/** What EventEmitter throws for an 'error' nobody listens to: the error itself, or ERR_UNHANDLED_ERROR. */
function unhandledError(args) {
  const error = args.length > 0 ? args[0] : undefined
  if (error instanceof Error) return error
  let shown
  try {
    shown = inspect(error)
  } catch {
    shown = error
  }
  const unhandled = makeError('ERR_UNHANDLED_ERROR', `Unhandled error. (${shown})`)
  unhandled.context = error
  return unhandled
}

module.exports = { WeakEventEmitter }
