'use strict'
// Helpers for specs that depend on garbage collection. Run them with `node --expose-gc`.
//
// Two rules make GC specs honest:
// - Create garbage in a separate *synchronous* function: an async function keeps its
//   temporaries alive across `await`.
// - Assert both sides: what became unreachable is gone, and what is still held is kept.

if (typeof globalThis.gc !== 'function') {
  throw new Error('GC specs need `node --expose-gc` (npm test passes it)')
}

const immediate = () => new Promise((resolve) => setImmediate(resolve))

// One registry for the whole process, reachable from this module: a registry that only a
// suspended async function refers to can itself be collected (V8 keeps only live registers
// across `await`), and an unreachable FinalizationRegistry never calls back.
const finalizedSentinels = new Set()
const sentinels = new FinalizationRegistry((held) => {
  if (typeof held === 'number') finalizedSentinels.add(held)
  else held.collected.add(held.name)
})
let nextSentinel = 0

/**
 * Proof of collection for specs: `watch(object, name)`, and `collected` gets `name` once the GC
 * has finalized that object. Backed by the module's registry, so it cannot be collected itself.
 */
function finalizationWatcher() {
  const collected = new Set()
  return { collected, watch: (object, name) => sentinels.register(object, { collected, name }) }
}

/**
 * Forces full collections until a sentinel object has been finalized (so the collector really
 * ran), then turns the event loop so that deferred Node-API finalizers (run by the next
 * setImmediate after GC) and batched notifications have been delivered.
 */
async function collectGarbage({ rounds = 2 } = {}) {
  for (let round = 0; round < rounds; round++) {
    const token = nextSentinel++
    registerSentinel(token)
    for (let attempt = 0; !finalizedSentinels.has(token); attempt++) {
      if (attempt === 100) throw new Error('collectGarbage: the sentinel was never finalized')
      globalThis.gc()
      await immediate()
      await new Promise((resolve) => setTimeout(resolve, 1))
    }
    finalizedSentinels.delete(token)
    await immediate()
    await immediate()
  }
}

function registerSentinel(token) {
  sentinels.register({}, token)
}

/** Waits (turning the event loop and collecting) until `predicate()` holds, or fails. */
async function eventually(predicate, { timeoutMs = 5000, message = 'condition never held' } = {}) {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`eventually: ${message}`)
    await collectGarbage({ rounds: 1 })
  }
}

module.exports = { collectGarbage, eventually, immediate, finalizationWatcher }
