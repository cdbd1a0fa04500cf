'use strict'
// Guarded FileHandles: what `LeakRegistry.openFile` and `trackFileHandle` hand out.
//
// Since Node 25, a FileHandle that the GC collects while it is still open ends the process
// (an uncaught ERR_INVALID_STATE; Node 20-24 close it with a DEP0137 warning). A guarded handle
// is an empty-handler Proxy over the real FileHandle: the user holds the proxy, this module holds
// the real handle. When the proxy is collected unclosed, the real handle is closed here, so Node
// never closes it during GC, and a registry that tracked the proxy reports the leak. The guard
// lives in this module, not in a registry, so it keeps working after a registry is closed or
// dropped. An operation in flight always keeps the proxy alive (a method runs with it as `this`,
// or its promise holds it), so the proxy is collected only when no code can use it any more.
//
// The rule that makes this work: nothing reachable from the real handle may reference the
// proxy, or the proxy would live as long as the real handle is kept (forever). Node's own code
// registers 'close' listeners through the handle it is given (streams from createReadStream()
// and readLines(), readableWebStream()), and those listeners hold the proxy. So the real handle
// gets a prototype whose EventEmitter methods, called on a proxy, act on an emitter that only the
// proxy references (an ephemeron entry keyed by it, made on first use); the real handle's own
// 'close' reaches that emitter through a WeakRef. Registries learn of a close through callbacks
// kept by the real handle, which hold a record id, never the proxy.

const { EventEmitter } = require('node:events')
const { FinalizationRegistry, Object, Proxy, Reflect, WeakMap, WeakRef } = require('./primordials.js')

/** guarded handle -> the real FileHandle */
const realHandles = new WeakMap()
/** real FileHandle -> callbacks to run once when its user closes it (they never hold the guarded handle) */
const closeCallbacks = new WeakMap()
/** guarded handle -> the emitter of the listeners added through it, reachable from it alone */
const userEmitters = new WeakMap()
/** FileHandle.prototype -> the prototype given to real handles behind a guard */
const guardedPrototypes = new WeakMap()
/** Closes the real handle of a guarded handle that was collected while still open. */
const closer = new FinalizationRegistry(closeIfOpen)
const EMPTY_HANDLER = Object.freeze({})

/**
 * FileHandle methods that are one asynchronous operation on the file and return a promise of
 * plain data. Called on a guarded handle they run on the real one (each of their property reads
 * would otherwise go through the Proxy's slow path: about 2 µs per read), and the returned
 * promise holds the guarded handle, which so lives at least until the operation settles. The others (streams,
 * readLines(), readableWebStream()) run on the guarded handle itself, so what they return holds it.
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

/** A guarded handle over `real` (an open fs.promises FileHandle). */
function guardFileHandle(real) {
  Object.setPrototypeOf(real, guardedPrototypeOf(Object.getPrototypeOf(real)))
  const guarded = new Proxy(real, EMPTY_HANDLER)
  realHandles.set(guarded, real)
  closer.register(guarded, real, real)
  return guarded
}

/** The real FileHandle behind a guarded handle, or undefined for anything else. */
function realHandleOf(value) {
  return realHandles.get(value)
}

/**
 * Calls `callback()` once when the user closes `guarded` (never when the guard closes it). The
 * real handle keeps the callback, so it must not reference the guarded handle.
 */
function onClose(guarded, callback) {
  const real = realHandles.get(guarded)
  let callbacks = closeCallbacks.get(real)
  if (callbacks === undefined) {
    closeCallbacks.set(real, (callbacks = []))
    Reflect.apply(EventEmitter.prototype.on, real, ['close', closedByUser])
  }
  callbacks.push(callback)
}

/** The real handle's 'close' listener (EventEmitter calls it with the handle as `this`). */
function closedByUser() {
  closer.unregister(this) // closed: nothing left to guard
  const callbacks = closeCallbacks.get(this)
  if (callbacks === undefined || callbacks.length === 0) return
  closeCallbacks.set(this, [])
  for (const callback of callbacks) callback()
}

/**
 * FileHandle.prototype with EventEmitter methods that route by receiver: called on a guarded
 * handle they act on its own emitter, called on the real handle (Node's code does) they are
 * the ordinary ones.
 */
function guardedPrototypeOf(proto) {
  let guarded = guardedPrototypes.get(proto)
  if (guarded !== undefined) return guarded
  const methods = {}
  for (const name of EMITTER_METHODS) {
    const method = EventEmitter.prototype[name]
    methods[name] = {
      value: {
        [name](...args) {
          const real = realHandles.get(this)
          if (real === undefined) return Reflect.apply(method, this, args)
          // Node emits 'close' on the guarded handle itself in some paths: the same as closing.
          if (name === 'emit' && args[0] === 'close') Reflect.apply(closedByUser, real, [])
          const emitter = userEmitterOf(this, real)
          const result = Reflect.apply(method, emitter, args)
          return result === emitter ? this : result
        },
      }[name],
      writable: true,
      configurable: true,
    }
  }
  for (const name of DIRECT_METHODS) {
    const method = proto[name]
    if (typeof method !== 'function') continue
    methods[name] = {
      value: {
        [name](...args) {
          const real = realHandles.get(this)
          if (real === undefined) return Reflect.apply(method, this, args)
          const operation = Reflect.apply(method, real, args)
          new HoldsGuardedHandle(operation, this)
          return operation
        },
      }[name],
      writable: true,
      configurable: true,
    }
  }
  guarded = Object.create(proto, methods)
  guardedPrototypes.set(proto, guarded)
  guardedPrototypes.set(guarded, guarded)
  return guarded
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

function closeIfOpen(real) {
  closeCallbacks.delete(real) // the guard closes it: for a registry that is the leak, not a release
  try {
    if (real.fd === -1) return
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

module.exports = { guardFileHandle, realHandleOf, onClose }
