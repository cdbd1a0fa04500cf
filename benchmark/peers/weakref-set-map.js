'use strict'
// The usual pure-JS IterableWeakMap (as in the WeakRef proposal's examples): a WeakMap from key to
// { value, ref }, a Set of WeakRefs for iteration, and a FinalizationRegistry that removes the
// WeakRef of a collected key. A peer for the benchmarks only.

class WeakRefSetMap {
  #entries = new WeakMap()
  #refs = new Set()
  #registry = new FinalizationRegistry((ref) => this.#refs.delete(ref))

  get size() {
    return this.#refs.size
  }

  get(key) {
    return this.#entries.get(key)?.value
  }

  has(key) {
    return this.#entries.has(key)
  }

  set(key, value) {
    const entry = this.#entries.get(key)
    if (entry !== undefined) {
      entry.value = value
      return this
    }
    const ref = new WeakRef(key)
    this.#entries.set(key, { value, ref })
    this.#refs.add(ref)
    this.#registry.register(key, ref, ref)
    return this
  }

  delete(key) {
    const entry = this.#entries.get(key)
    if (entry === undefined) return false
    this.#entries.delete(key)
    this.#refs.delete(entry.ref)
    this.#registry.unregister(entry.ref)
    return true
  }

  *[Symbol.iterator]() {
    for (const ref of this.#refs) {
      const key = ref.deref()
      if (key !== undefined) yield [key, this.#entries.get(key).value]
    }
  }
}

module.exports = { WeakRefSetMap }
