'use strict'
// Guarded FileHandles: what `LeakRegistry.openFile` and `trackFileHandle` hand out.
//
// Since Node 25, a FileHandle that the GC collects while it is still open ends the process
// (an uncaught ERR_INVALID_STATE; Node 20-24 close it with a DEP0137 warning). A guarded handle
// is a Proxy over the real FileHandle: the user holds the proxy, this module holds the real
// handle. When the proxy is collected unclosed, the real handle is closed here, so Node never
// closes it during GC, and a registry that tracked the proxy reports the leak. The guard lives
// in this module, not in a registry, so it keeps working after a registry is closed or dropped.
//
// The rule that makes this work: nothing reachable from the real handle may reference the
// proxy, or the proxy would live as long as the real handle is kept (forever). Node's own code
// registers 'close' listeners through the handle it is given (streams from createReadStream()
// and readLines(), readableWebStream()), and those listeners hold the proxy. So listeners added
// through the proxy go to an emitter that only the proxy references (an ephemeron entry keyed
// by it), and the real handle's 'close' reaches that emitter through a WeakRef.

const { EventEmitter } = require('node:events')
const { incompatibleReceiver } = require('./errors.js')
const { FinalizationRegistry, Map, Object, Proxy, Reflect, Set, WeakMap, WeakRef } = require('./primordials.js')

/** guarded handle -> the real FileHandle */
const realHandles = new WeakMap()
/** guarded handle -> { emitter, onClose }: its listeners, reachable from it alone */
const closeSides = new WeakMap()
/** Closes the real handle of a guarded handle that was collected while still open. */
const closer = new FinalizationRegistry(closeIfOpen)

function closeIfOpen(real) {
  try {
    if (real.fd === -1) return
    // A stream or a read that took a reference on the handle (Node counts them, and close()
    // waits for the count to drop) belonged to the collected guarded handle, so it can never
    // give it back: close now, as Node itself would have during GC.
    const refs = refCountSymbol(real)
    if (refs !== undefined && real[refs] > 1) real[refs] = 1
    real.close().catch(ignore)
  } catch {
    // Closing is best effort: the handle may be closing already.
  }
}

let refCount // Node's private symbol for a FileHandle's count of users (20 to 26: 'kRefs')

function refCountSymbol(real) {
  if (refCount === undefined) {
    refCount = Object.getOwnPropertySymbols(real).find((symbol) => symbol.description === 'kRefs' && typeof real[symbol] === 'number') ?? null
  }
  return refCount ?? undefined
}

function ignore() {}

// EventEmitter methods act on the guarded handle's own emitter; everything else is the real
// handle's (with the guarded handle as `this`, so methods and getters see the same state).
const EMITTER_METHODS = new Set([
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
])
const emitterMethods = new Map()
for (const name of EMITTER_METHODS) {
  const method = EventEmitter.prototype[name]
  emitterMethods.set(name, {
    [name](...args) {
      const side = closeSideOf(this, name)
      if (name === 'emit' && args[0] === 'close') runOnClose(side)
      const result = Reflect.apply(method, side.emitter, args)
      return result === side.emitter ? this : result
    },
  }[name])
}

const handler = {
  get(target, key, receiver) {
    if (typeof key === 'string' && EMITTER_METHODS.has(key)) return emitterMethods.get(key)
    return Reflect.get(target, key, receiver)
  },
}

/** A guarded handle over `real` (an open fs.promises FileHandle). */
function guardFileHandle(real) {
  const guarded = new Proxy(real, handler)
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
  closeSideOf(guarded, 'onClose').onClose.push(callback)
}

function closeSideOf(guarded, method) {
  let side = closeSides.get(guarded)
  if (side === undefined) {
    const real = realHandles.get(guarded)
    if (real === undefined) throw incompatibleReceiver(`FileHandle.prototype.${method}`, guarded)
    side = { emitter: new EventEmitter(), onClose: [] }
    closeSides.set(guarded, side)
    const weakSide = new WeakRef(side)
    real.on('close', () => {
      const live = weakSide.deref()
      if (live === undefined) return
      runOnClose(live)
      live.emitter.emit('close')
    })
  }
  return side
}

function runOnClose(side) {
  const callbacks = side.onClose
  side.onClose = []
  for (const callback of callbacks) callback()
}

module.exports = { guardFileHandle, realHandleOf, onClose }
