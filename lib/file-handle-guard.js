'use strict'
// Guarded FileHandles: what `LeakRegistry.openFile` and `trackFileHandle` hand out.
//
// Since Node 25, a FileHandle that the GC collects while it is still open ends the process
// (an uncaught ERR_INVALID_STATE; Node 20-24 close it with a DEP0137 warning). A guarded handle
// is an empty-handler Proxy over the real FileHandle: the user holds the proxy, this module holds
// the real handle. When the proxy is collected unclosed, the real handle is closed here, so Node
// never closes it during GC, and a registry that tracked the proxy reports the leak. The guard
// lives in this module, not in a registry, so it keeps working after a registry is closed or
// dropped. Every method runs with the proxy as `this` (so an operation in flight keeps the proxy
// alive), and with no trap in the way, property access costs what a Proxy's builtin path costs.
//
// The rule that makes this work: nothing reachable from the real handle may reference the
// proxy, or the proxy would live as long as the real handle is kept (forever). Node's own code
// registers 'close' listeners through the handle it is given (streams from createReadStream()
// and readLines(), readableWebStream()), and those listeners hold the proxy. So the real handle
// gets a prototype whose EventEmitter methods, called on a proxy, act on an emitter that only the
// proxy references (an ephemeron entry keyed by it); the real handle's own 'close' reaches that
// emitter through a WeakRef.

const { EventEmitter } = require('node:events')
const { FinalizationRegistry, Object, Proxy, Reflect, WeakMap, WeakRef } = require('./primordials.js')

/** guarded handle -> the real FileHandle */
const realHandles = new WeakMap()
/** guarded handle -> { emitter, onClose }: its listeners (and ephemeron's), reachable from it alone */
const closeSides = new WeakMap()
/** FileHandle.prototype -> the prototype given to real handles behind a guard */
const guardedPrototypes = new WeakMap()
/** Closes the real handle of a guarded handle that was collected while still open. */
const closer = new FinalizationRegistry(closeIfOpen)
const EMPTY_HANDLER = Object.freeze({})

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
  closer.register(guarded, real)
  return guarded
}

/** The real FileHandle behind a guarded handle, or undefined for anything else. */
function realHandleOf(value) {
  return realHandles.get(value)
}

/** Calls `callback()` once when the user closes `guarded` (never when the guard closes it). */
function onClose(guarded, callback) {
  closeSideOf(guarded).onClose.push(callback)
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
          if (!realHandles.has(this)) return Reflect.apply(method, this, args)
          const side = closeSideOf(this)
          if (name === 'emit' && args[0] === 'close') runOnClose(side)
          const emitter = (side.emitter ??= new EventEmitter())
          const result = Reflect.apply(method, emitter, args)
          return result === emitter ? this : result
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

function closeSideOf(guarded) {
  let side = closeSides.get(guarded)
  if (side === undefined) {
    side = { emitter: undefined, onClose: [] } // the emitter is made on first use
    closeSides.set(guarded, side)
    const weakSide = new WeakRef(side)
    Reflect.apply(EventEmitter.prototype.on, realHandles.get(guarded), [
      'close',
      () => {
        const live = weakSide.deref()
        if (live === undefined) return
        runOnClose(live)
        live.emitter?.emit('close')
      },
    ])
  }
  return side
}

function runOnClose(side) {
  const callbacks = side.onClose
  side.onClose = []
  for (const callback of callbacks) callback()
}

function closeIfOpen(real) {
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
