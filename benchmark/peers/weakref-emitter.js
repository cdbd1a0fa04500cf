'use strict'
// The weak observer that is usually written first: listeners held through `WeakRef`s, dead ones
// dropped at the next emit. A peer for the benchmarks only: it loses a listener that nothing
// else references (an arrow function, a bound method) at the next GC, which is why
// WeakEventEmitter ties listeners to owners instead. The benchmarks keep every listener alive.

class WeakRefEmitter {
  #lists = new Map() // event -> WeakRef<listener>[]

  on(event, owner, listener) {
    const list = this.#lists.get(event)
    const ref = new WeakRef(listener)
    if (list === undefined) this.#lists.set(event, [ref])
    else list.push(ref)
    return this
  }

  off(event, owner, listener) {
    const list = this.#lists.get(event)
    if (list === undefined) return this
    for (let i = list.length - 1; i >= 0; i--) {
      if (list[i].deref() === listener) {
        list.splice(i, 1)
        break
      }
    }
    return this
  }

  emit(event, ...args) {
    const list = this.#lists.get(event)
    if (list === undefined || list.length === 0) return false
    const snapshot = list.slice()
    let dead = 0
    for (let i = 0; i < snapshot.length; i++) {
      const listener = snapshot[i].deref()
      if (listener === undefined) dead++
      else Reflect.apply(listener, this, args)
    }
    if (dead !== 0) this.#lists.set(event, list.filter((ref) => ref.deref() !== undefined))
    return true
  }
}

module.exports = { WeakRefEmitter }
