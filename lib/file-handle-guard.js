'use strict'
// Guarded FileHandles: what `LeakRegistry.openFile` and `trackFileHandle` hand out.
//
// Since Node 25, a FileHandle that the GC collects while it is still open ends the process
// (an uncaught ERR_INVALID_STATE; Node 20-24 close it with a DEP0137 warning). So the user holds
// a guarded handle and this module holds the real one. When the guarded handle is collected
// unclosed, the real one is closed here, so Node never closes it during GC, and a registry that
// tracked the guarded handle reports the leak. The guard lives in this module, not in a
// registry, so it keeps working after a registry is closed or dropped.
//
// A guarded handle is a plain object whose prototype chain ends in FileHandle.prototype (so it is
// `instanceof FileHandle`): a GuardedFileHandle with the real handle in a private field. Its
// prototype (made once, from the first real handle seen) has
// - the single-operation methods (read, write, stat, ...) running on the real handle: one
//   private-field read and a call more than the real handle's own, no Proxy in between;
// - an accessor for each own property of a real handle (Node's internal symbols: kHandle, kFd,
//   kRefs, ...; and `close`, an arrow function bound to it), so Node's own code that runs with
//   the guarded handle as `this` (streams, readLines(), readFile(handle), Symbol.asyncDispose)
//   reads and writes the real handle's state;
// - EventEmitter methods that act on an emitter only the guarded handle references (below).
// The real handle itself is never changed, so Node's fs code sees the FileHandles it made.
//
// The rule that makes this work: nothing reachable from the real handle may reference the
// guarded one, or the guarded handle would live as long as the real one is kept (forever).
// Node's own code registers 'close' listeners through the handle it is given (streams from
// createReadStream() and readLines(), readableWebStream()), and those listeners hold the guarded
// handle: so they go to the guarded handle's own emitter (an ephemeron entry keyed by it), which
// the real handle's 'close' reaches through a WeakRef. An operation in flight holds its guarded
// handle (a method runs with it as `this`, or its promise holds it), so the guarded handle is
// collected only when no code can use it any more.
//
// How the guard learns that a guarded handle was collected: a WeakRef to it, looked at after
// garbage collections (one FinalizationRegistry cell for the whole module tells of each
// collection; the guarded handles not closed yet are looked at then, at most every 100 ms). A
// FinalizationRegistry cell per file cost a busy HTTP service about 10 µs per request, more than
// everything else here together; a WeakRef costs a fraction of that.
//
// Registries watch a guarded handle through the guard (`watch`): it tells them when its user
// closes it (its `close()`, which streams' autoClose and `Symbol.asyncDispose` call too) and
// when it was collected unclosed: a tracked file costs no weak reference of its own and no
// listener on the real handle.

const { EventEmitter } = require('node:events')
const { Date, FinalizationRegistry, Object, Reflect, Set, WeakMap, WeakRef, clearTimeout, setTimeout } = require('./primordials.js')

const { now } = Date

/** guarded handle -> the emitter of the listeners added through it, reachable from it alone */
const userEmitters = new WeakMap()
/**
 * The Watch of every guarded handle not closed yet (it keeps the real handle until it is closed):
 * a list threaded through the Watches themselves, not a Set. A service opens and closes files all
 * the time, so a Set's table would be replaced again and again as it grows and shrinks; once the
 * Set's table is in the old generation, V8 allocates the tables that replace it there too, and a
 * replaced table keeps its entries (and a link to the table that replaced it) until the next full
 * GC. The scavenger takes whatever an old-generation object references as alive, dead or not: so
 * the Watches in those tables, with their real and guarded handles, survived scavenges and were
 * promoted. In a busy HTTP service on Node 22 to 26 that was most of what the registry cost
 * (docs/benchmarks.md). A Watch taken off the list forgets its neighbours, so a dead one keeps
 * none of them alive, and adding or removing one allocates nothing.
 */
let watched // the first Watch on the list, or undefined
/** Tells of garbage collections: a new object is registered after each, while anything is watched. */
const collections = new FinalizationRegistry(afterCollection)
/** Guarded handles are looked at this long after the last look at the soonest. */
const LOOK_MS = 100
let noticeArmed = false
let lastLook = 0
let lookTimer

/**
 * FileHandle methods that are one asynchronous operation on the file and return a promise of
 * plain data: called on a guarded handle they run on the real one, and the returned promise
 * holds the guarded handle, which so lives at least until the operation settles. The others
 * (streams, readLines(), readableWebStream()) run on the guarded handle itself, so what they
 * return holds it.
 */
const DIRECT_METHODS = [
  'appendFile',
  'chmod',
  'chown',
  'datasync',
  'read',
  'readFile',
  'readv',
  'stat',
  'sync',
  'truncate',
  'utimes',
  'write',
  'writeFile',
  'writev',
]

const EMITTER_METHODS = [
  'addListener',
  'emit',
  'eventNames',
  'getMaxListeners',
  'listenerCount',
  'listeners',
  'off',
  'on',
  'once',
  'prependListener',
  'prependOnceListener',
  'rawListeners',
  'removeAllListeners',
  'removeListener',
  'setMaxListeners',
]

let realOf // (guarded) => its real handle; throws for anything else
let watchOf // (guarded) => its Watch
let isGuarded // (value) => whether it is a guarded handle

/** A guarded FileHandle: its methods and state are the real handle's (see above). */
class GuardedFileHandle {
  #real
  #watch
  constructor(real, watch) {
    this.#real = real
    this.#watch = watch
  }

  static {
    realOf = (guarded) => guarded.#real
    watchOf = (guarded) => guarded.#watch
    isGuarded = (value) => value !== null && typeof value === 'object' && #real in value
  }
}

/**
 * What the guard knows of one real handle, and who watches it: held by the guarded handle and,
 * until it is closed, by `watched`; it references the guarded handle only weakly.
 */
class Watch {
  real
  /** A WeakRef to the guarded handle. */
  guarded
  /** `{ closed(), collected() }` of the registries that track the handle: usually one. */
  watcher = undefined
  others = undefined
  /** Set once the user closed it, or the guard did. */
  done = false
  /** Its neighbours in `watched` while it is on it. */
  previous = undefined
  next = undefined
  constructor(real) {
    this.real = real
  }

  /** Tells its watchers that the user closed it (`closed`) or that it was collected, once. */
  tell(closed) {
    const { watcher, others } = this
    if (watcher === undefined) return
    this.watcher = this.others = undefined
    if (closed) watcher.closed()
    else watcher.collected()
    if (others === undefined) return
    for (const other of others) {
      if (closed) other.closed()
      else other.collected()
    }
  }
}

/** Puts `watch` (new, on no list) first on `watched`. */
function addWatched(watch) {
  watch.next = watched
  if (watched !== undefined) watched.previous = watch
  watched = watch
}

/** Takes `watch` off `watched`: once, when it is done (closed by its user, or collected). */
function removeWatched(watch) {
  const { previous, next } = watch
  if (previous === undefined) watched = next
  else previous.next = next
  if (next !== undefined) next.previous = previous
  watch.previous = watch.next = undefined
}

let prototypeReady = false

/** A guarded handle over `real` (an open fs.promises FileHandle). */
function guardFileHandle(real) {
  if (!prototypeReady) completePrototype(real)
  const watch = new Watch(real)
  const guarded = new GuardedFileHandle(real, watch)
  watch.guarded = new WeakRef(guarded)
  addWatched(watch)
  armNotice()
  return guarded
}

/** Asks to hear of the next garbage collection (one cell at a time). */
function armNotice() {
  if (noticeArmed || watched === undefined) return
  noticeArmed = true
  collections.register({}, 0)
}

/** A garbage collection happened: look at the guarded handles (at most every LOOK_MS). */
function afterCollection() {
  noticeArmed = false
  const wait = lastLook + LOOK_MS - now()
  if (wait <= 0) look()
  else if (lookTimer === undefined) lookTimer = setTimeout(look, wait).unref()
  armNotice()
}

/** The guarded handles that were collected open: their real handles are closed now. */
function look() {
  lookTimer = undefined
  lastLook = now()
  for (let watch = watched; watch !== undefined; ) {
    const { next } = watch // (collected() takes it off the list)
    if (watch.guarded.deref() === undefined) collected(watch)
    watch = next
  }
}

/**
 * Looks at the guarded handles now, without waiting for the next look: a registry that closes
 * asks, so that it is told of every handle the GC collected before it closed.
 */
function lookNow() {
  if (watched === undefined) return
  if (lookTimer !== undefined) clearTimeout(lookTimer)
  look()
}

/** The real FileHandle behind a guarded handle, or undefined for anything else. */
function realHandleOf(value) {
  return isGuarded(value) ? realOf(value) : undefined
}

/**
 * Tells `watcher` (`{ closed(), collected() }`, which must not reference the guarded handle)
 * once, when the user closes `guarded` (`closed`) or when it was collected unclosed and the
 * guard closed it (`collected`).
 */
function watch(guarded, watcher) {
  const watch = watchOf(guarded)
  if (watch.done) return
  if (watch.watcher === undefined) watch.watcher = watcher
  else (watch.others ??= []).push(watcher)
}

/** The watcher of `guarded` (a guarded handle) that `test(watcher)` picks, or undefined. */
function watcherOf(guarded, test) {
  const watch = watchOf(guarded)
  if (watch.watcher === undefined) return undefined
  if (test(watch.watcher)) return watch.watcher
  return watch.others?.find(test)
}

/** The real handle is closed by its user. */
function closedByUser(watch) {
  if (watch.done) return
  watch.done = true
  removeWatched(watch) // closed: nothing left to guard
  watch.tell(true)
}

/**
 * Makes GuardedFileHandle.prototype, once, from the first real handle: its chain ends in
 * FileHandle.prototype, and it has the accessors, direct methods and emitter methods above.
 */
function completePrototype(real) {
  const fileHandlePrototype = Object.getPrototypeOf(real)
  const proto = GuardedFileHandle.prototype
  Object.setPrototypeOf(proto, fileHandlePrototype)
  for (const key of Reflect.ownKeys(real)) {
    Object.defineProperty(proto, key, {
      get() {
        return realOf(this)[key]
      },
      set(value) {
        realOf(this)[key] = value
      },
      configurable: true,
    })
  }
  for (const name of DIRECT_METHODS) {
    const method = fileHandlePrototype[name]
    if (typeof method !== 'function') continue
    Object.defineProperty(proto, name, { value: direct(name, method), writable: true, configurable: true })
  }
  for (const name of EMITTER_METHODS) {
    Object.defineProperty(proto, name, { value: routed(name, EventEmitter.prototype[name]), writable: true, configurable: true })
  }
  Object.defineProperty(proto, 'close', { value: close, writable: true, configurable: true })
  prototypeReady = true
}

/** `close()` of a guarded handle: its user closes it (the real handle's `close` is its own). */
function close() {
  const real = realOf(this)
  closedByUser(watchOf(this))
  return real.close()
}

/** `method` run on the real handle, its promise holding the guarded handle. */
function direct(name, method) {
  return {
    [name](...args) {
      const operation = Reflect.apply(method, realOf(this), args)
      new HoldsGuardedHandle(operation, this)
      return operation
    },
  }[name]
}

/** An EventEmitter method acting on the guarded handle's own emitter. */
function routed(name, method) {
  return {
    [name](...args) {
      const real = realOf(this)
      // Node emits 'close' on the handle it was given in some paths: the same as closing.
      if (name === 'emit' && args[0] === 'close') closedByUser(watchOf(this))
      const emitter = userEmitterOf(this, real)
      const result = Reflect.apply(method, emitter, args)
      return result === emitter ? this : result
    },
  }[name]
}

/** The emitter of the listeners added through `guarded`; the real handle's 'close' reaches it weakly. */
function userEmitterOf(guarded, real) {
  let emitter = userEmitters.get(guarded)
  if (emitter === undefined) {
    emitter = new EventEmitter()
    userEmitters.set(guarded, emitter)
    const weakEmitter = new WeakRef(emitter)
    Reflect.apply(EventEmitter.prototype.on, real, ['close', () => weakEmitter.deref()?.emit('close')])
  }
  return emitter
}

/** A constructor that returns the object it is given, so that a subclass can add a private field
 * to any object. */
class ReturnsItsArgument {
  constructor(object) {
    return object
  }
}

/**
 * Stamps an operation's promise with a private field that holds the guarded handle. The promise
 * is reachable from the operation while it is in flight (Node's request holds the promise chain
 * that settles it), so the guarded handle lives at least that long, and as long as the user keeps
 * the promise. A private field is invisible to reflection and costs no promise reaction.
 */
class HoldsGuardedHandle extends ReturnsItsArgument {
  #guarded
  constructor(operation, guarded) {
    super(operation)
    this.#guarded = guarded
  }
}

/** The guarded handle was collected: close the real one if its user did not, and say so. */
function collected(watch) {
  if (watch.done) return
  watch.done = true // the guard closes it: for a registry that is the leak, not a release
  removeWatched(watch)
  const { real } = watch
  // Closed by a path that did not go through its close() (an internal one): not a leak.
  const closedElsewhere = real.fd === -1
  watch.tell(closedElsewhere)
  try {
    if (closedElsewhere) return
    // A stream or a read that took a reference on the handle (Node counts them, and close()
    // waits for the count to drop) belonged to the collected guarded handle, so it can never
    // give it back: close now, as Node itself would have during GC. (An operation in flight
    // holds the guarded handle, so none can be in flight here.)
    const refs = refCountSymbol(real)
    if (refs !== undefined && real[refs] > 1) real[refs] = 1
    real.close().catch(ignore)
  } catch {
    // Closing is best effort: the handle may be closing already.
  }
}

function ignore() {}

let refCount // Node's private symbol for a FileHandle's count of users (20 to 26: 'kRefs')

function refCountSymbol(real) {
  if (refCount === undefined) {
    refCount = Object.getOwnPropertySymbols(real).find((symbol) => symbol.description === 'kRefs' && typeof real[symbol] === 'number') ?? null
  }
  return refCount ?? undefined
}

module.exports = { guardFileHandle, lookNow, realHandleOf, isGuarded: (value) => isGuarded(value), watch, watcherOf }
