'use strict'
// IterableWeakMap behaves like the built-in WeakMap (down to what the spec fixes) plus Map-like
// iteration, size and clear. GC behaviour is in iterable-weak-map-gc.test.js.

const { test, describe } = require('node:test')
const assert = require('node:assert/strict')
const { IterableWeakMap } = require('..')

const keysOf = (map) => [...map.keys()]

describe('WeakMap operations', () => {
  test('get, set, has, delete on object, function and symbol keys', () => {
    const object = {}
    const fn = () => {}
    const symbol = Symbol('s')
    const wellKnown = Symbol.iterator
    const map = new IterableWeakMap()
    assert.equal(map.set(object, 1), map, 'set returns the map')
    map.set(fn, 2).set(symbol, 3).set(wellKnown, 4)
    assert.deepEqual([map.get(object), map.get(fn), map.get(symbol), map.get(wellKnown)], [1, 2, 3, 4])
    assert.equal(map.has(object), true)
    assert.equal(map.has({}), false)
    assert.equal(map.get({}), undefined)
    assert.equal(map.delete(fn), true)
    assert.equal(map.delete(fn), false, 'a second delete finds nothing')
    assert.equal(map.has(fn), false)
    assert.equal(map.size, 3)
  })

  test('a stored undefined value is present', () => {
    const key = {}
    const map = new IterableWeakMap([[key, undefined]])
    assert.equal(map.has(key), true)
    assert.equal(map.get(key), undefined)
    assert.equal(map.size, 1)
  })

  test('keys that cannot be held weakly: set throws a TypeError naming the rule, reads answer "absent"', () => {
    const map = new IterableWeakMap()
    for (const bad of [1, 'a', true, null, undefined, 1n, Symbol.for('registered')]) {
      assert.throws(() => map.set(bad, 1), { name: 'TypeError', message: /must be an object, a function or a non-registered symbol/ })
      assert.throws(() => map.getOrInsert(bad, 1), TypeError)
      assert.throws(() => map.getOrInsertComputed(bad, () => 1), TypeError)
      assert.equal(map.get(bad), undefined)
      assert.equal(map.has(bad), false)
      assert.equal(map.delete(bad), false)
    }
    assert.throws(() => map.set(Symbol.for('x'), 1), /registered symbol \(Symbol\.for\("x"\)\)/)
    assert.equal(map.size, 0, 'a failed set leaves nothing behind')
  })

  test('the same key in two maps is independent', () => {
    const key = {}
    const a = new IterableWeakMap().set(key, 'a')
    const b = new IterableWeakMap().set(key, 'b')
    assert.equal(a.get(key), 'a')
    assert.equal(b.get(key), 'b')
    a.delete(key)
    assert.equal(b.get(key), 'b')
    assert.deepEqual([a.size, b.size], [0, 1])
  })

  test('frozen objects and class instances can be keys', () => {
    const frozen = Object.freeze({})
    const instance = new IterableWeakMap()
    const map = new IterableWeakMap([[frozen, 1], [instance, 2]])
    assert.deepEqual([map.get(frozen), map.get(instance)], [1, 2])
  })
})

describe('size, clear and iteration', () => {
  test('iterates in insertion order; setting a key again keeps its place and never duplicates it', () => {
    const [a, b, c] = [{ n: 'a' }, { n: 'b' }, { n: 'c' }]
    const map = new IterableWeakMap([[a, 1], [b, 2], [c, 3]])
    map.set(a, 10)
    assert.deepEqual([...map], [[a, 10], [b, 2], [c, 3]])
    assert.deepEqual([...map.entries()], [[a, 10], [b, 2], [c, 3]])
    assert.deepEqual(keysOf(map), [a, b, c])
    assert.deepEqual([...map.values()], [10, 2, 3])
    assert.equal(map.size, 3)
  })

  test('a deleted and re-added key moves to the end', () => {
    const [a, b] = [{}, {}]
    const map = new IterableWeakMap([[a, 1], [b, 2]])
    map.delete(a)
    map.set(a, 3)
    assert.deepEqual([...map], [[b, 2], [a, 3]])
  })

  test('entries added during iteration are visited, deleted ones are not (as Map)', () => {
    const keys = Array.from({ length: 200 }, (_, i) => ({ i }))
    const map = new IterableWeakMap(keys.slice(0, 100).map((k) => [k, k.i]))
    const seen = []
    for (const [key] of map) {
      seen.push(key.i)
      if (key.i === 0) for (let i = 1; i < 100; i += 2) map.delete(keys[i]) // odd keys vanish
      if (key.i === 50) for (let i = 100; i < 200; i++) map.set(keys[i], i) // new keys appear
    }
    const expected = [...Array.from({ length: 50 }, (_, i) => i * 2), ...Array.from({ length: 100 }, (_, i) => 100 + i)]
    assert.deepEqual(seen, expected)
  })

  test('a key deleted and set again during iteration is visited again at its new place', () => {
    const [a, b] = [{ n: 'a' }, { n: 'b' }]
    const map = new IterableWeakMap([[a, 1], [b, 2]])
    const seen = []
    for (const [key, value] of map) {
      seen.push([key.n, value])
      if (key === a && value === 1) {
        map.delete(a)
        map.set(a, 3)
      }
    }
    assert.deepEqual(seen, [['a', 1], ['b', 2], ['a', 3]])
  })

  test('values are read when yielded, not when the iterator was made', () => {
    const [a, b] = [{}, {}]
    const map = new IterableWeakMap([[a, 1], [b, 2]])
    const iterator = map.values()
    assert.deepEqual(iterator.next(), { value: 1, done: false })
    map.set(b, 20)
    assert.deepEqual(iterator.next(), { value: 20, done: false })
  })

  test('clear empties the map, during iteration too; later entries are still visited', () => {
    const [a, b, c] = [{}, {}, {}]
    const map = new IterableWeakMap([[a, 1], [b, 2]])
    const iterator = map.keys()
    assert.equal(iterator.next().value, a)
    map.clear()
    assert.equal(map.size, 0)
    assert.equal(map.has(a), false)
    assert.equal(map.get(b), undefined)
    map.set(c, 3)
    assert.deepEqual(iterator.next(), { value: c, done: false })
    assert.deepEqual(iterator.next(), { value: undefined, done: true })
    map.set(a, 4)
    assert.deepEqual(iterator.next(), { value: undefined, done: true }, 'an exhausted iterator stays exhausted')
    assert.deepEqual([...map], [[c, 3], [a, 4]])
  })

  test('deletes are seen at once by size, has and iteration, however many wait to reach Rust', () => {
    // Deletes reach the native table in batches of 32; every other operation applies them first.
    const keys = Array.from({ length: 100 }, (_, i) => ({ i }))
    for (const count of [1, 31, 32, 33, 64, 70, 100]) {
      const map = new IterableWeakMap(keys.map((key) => [key, key.i]))
      for (let i = 0; i < count; i++) assert.equal(map.delete(keys[i]), true)
      assert.equal(map.delete(keys[0]), false, 'a deleted key is gone at once')
      assert.equal(map.has(keys[count - 1]), false)
      assert.equal(map.size, 100 - count, `size after ${count} deletes`)
      assert.deepEqual([...map.values()], keys.slice(count).map((key) => key.i))
    }
    const map = new IterableWeakMap(keys.slice(0, 3).map((key) => [key, key.i]))
    map.delete(keys[0])
    map.set(keys[0], 'again') // deleted and set again before any crossing: a new entry, at the end
    assert.deepEqual([...map], [[keys[1], 1], [keys[2], 2], [keys[0], 'again']])
    assert.equal(map.size, 3)
    map.delete(keys[1])
    map.clear()
    map.set(keys[1], 'after clear')
    assert.deepEqual([...map], [[keys[1], 'after clear']])
    assert.equal(map.size, 1)
  })

  test('iterates more than 64 entries (the size of the old native batches), in order', () => {
    const keys = Array.from({ length: 1000 }, (_, i) => ({ i }))
    const map = new IterableWeakMap(keys.map((k) => [k, k.i]))
    assert.equal(map.size, 1000)
    assert.deepEqual([...map.values()], keys.map((k) => k.i))
  })

  test('forEach passes (value, key, map) with thisArg and sees entries added on the way', () => {
    const [a, b, c] = [{}, {}, {}]
    const map = new IterableWeakMap([[a, 1], [b, 2]])
    const calls = []
    const context = {}
    map.forEach(function (value, key, self) {
      calls.push([value, key, self, this])
      if (key === a) map.set(c, 3)
    }, context)
    assert.deepEqual(calls, [[1, a, map, context], [2, b, map, context], [3, c, map, context]])
    assert.throws(() => map.forEach(42), { name: 'TypeError', message: /callback number 42 is not a function/ })
  })

  test('iterators are iterable, have a tag and inherit the Iterator prototype', () => {
    const map = new IterableWeakMap([[{}, 1]])
    const iterator = map.entries()
    assert.equal(iterator[Symbol.iterator](), iterator)
    assert.equal(Object.prototype.toString.call(iterator), '[object IterableWeakMap Iterator]')
    const IteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()))
    assert.equal(Object.getPrototypeOf(Object.getPrototypeOf(iterator)), IteratorPrototype)
    assert.throws(() => iterator.next.call({}), TypeError)
  })
})

describe('getOrInsert and getOrInsertComputed', () => {
  test('getOrInsert returns the present value or inserts the given one', () => {
    const key = {}
    const map = new IterableWeakMap()
    assert.equal(map.getOrInsert(key, 1), 1)
    assert.equal(map.getOrInsert(key, 2), 1)
    assert.equal(map.get(key), 1)
    assert.equal(map.size, 1)
  })

  test('getOrInsertComputed calls back only when absent, with the key and this undefined', () => {
    const key = {}
    const map = new IterableWeakMap()
    const calls = []
    const compute = function (k) {
      calls.push([k, this])
      return 'computed'
    }
    assert.equal(map.getOrInsertComputed(key, compute), 'computed')
    assert.equal(map.getOrInsertComputed(key, compute), 'computed')
    assert.deepEqual(calls, [[key, undefined]])
  })

  test('a callback that inserts the key itself is overwritten in place, not duplicated', () => {
    const [a, key] = [{}, {}]
    const map = new IterableWeakMap([[a, 0]])
    const value = map.getOrInsertComputed(key, () => {
      map.set(key, 'inner')
      return 'outer'
    })
    assert.equal(value, 'outer')
    assert.deepEqual([...map], [[a, 0], [key, 'outer']])
  })

  test('validation order follows the spec: callback first, then key', () => {
    const map = new IterableWeakMap()
    assert.throws(() => map.getOrInsertComputed(1, 'not callable'), /callback the string "not callable" is not a function/)
    assert.throws(() => map.getOrInsertComputed({}, undefined), TypeError)
  })

  test('a throwing callback inserts nothing', () => {
    const key = {}
    const map = new IterableWeakMap()
    assert.throws(() => map.getOrInsertComputed(key, () => {
      throw new Error('boom')
    }), /boom/)
    assert.equal(map.has(key), false)
    assert.equal(map.size, 0)
  })
})

describe('like the built-in WeakMap', () => {
  test('the constructor needs new, takes null/undefined, and adds entries through this.set', () => {
    assert.throws(() => IterableWeakMap(), TypeError)
    assert.equal(new IterableWeakMap(null).size, 0)
    assert.equal(new IterableWeakMap(undefined).size, 0)
    const added = []
    class Logged extends IterableWeakMap {
      set(key, value) {
        added.push(value)
        return super.set(key, value)
      }
    }
    const map = new Logged([[{}, 1], [{}, 2]])
    assert.deepEqual(added, [1, 2])
    assert.equal(map.size, 2)
    assert.ok(map instanceof IterableWeakMap)
  })

  test('the constructor rejects non-iterables and non-entry items with TypeErrors', () => {
    assert.throws(() => new IterableWeakMap(42), { name: 'TypeError', message: /number 42 is not iterable/ })
    assert.throws(() => new IterableWeakMap({}), { name: 'TypeError', message: /is not iterable/ })
    assert.throws(() => new IterableWeakMap([1]), { name: 'TypeError', message: /number 1 is not an entry object/ })
    assert.throws(() => new IterableWeakMap([[1, 2]]), { name: 'TypeError', message: /must be an object/ })
  })

  test('the constructor closes the iterator when adding an entry throws', () => {
    let closed = 0
    const iterable = {
      [Symbol.iterator]() {
        return {
          next: () => ({ done: false, value: [1, 'bad key'] }),
          return() {
            closed++
            return {}
          },
        }
      },
    }
    assert.throws(() => new IterableWeakMap(iterable), TypeError)
    assert.equal(closed, 1)
  })

  test('the constructor does not close an iterator that itself threw', () => {
    let closed = 0
    const iterable = {
      [Symbol.iterator]() {
        return {
          next() {
            throw new Error('next failed')
          },
          return() {
            closed++
          },
        }
      },
    }
    assert.throws(() => new IterableWeakMap(iterable), /next failed/)
    assert.equal(closed, 0)
  })

  test('methods are brand-checked: another receiver is a TypeError', () => {
    const proto = IterableWeakMap.prototype
    for (const receiver of [{}, new WeakMap(), null, undefined, 1]) {
      for (const name of ['get', 'set', 'has', 'delete', 'clear', 'getOrInsert', 'entries', 'keys', 'values', 'forEach']) {
        assert.throws(() => proto[name].call(receiver, {}, () => {}), {
          name: 'TypeError',
          message: new RegExp(`IterableWeakMap\\.prototype\\.${name} called on incompatible receiver`),
        })
      }
      assert.throws(() => proto.getOrInsertComputed.call(receiver, {}, () => 1), TypeError)
      assert.throws(() => Object.getOwnPropertyDescriptor(proto, 'size').get.call(receiver), TypeError)
    }
  })

  test('methods have the built-ins\' length, name and property attributes', () => {
    const proto = IterableWeakMap.prototype
    const lengths = { get: 1, set: 2, has: 1, delete: 1, clear: 0, getOrInsert: 2, getOrInsertComputed: 2, forEach: 1, entries: 0, keys: 0, values: 0 }
    for (const [name, length] of Object.entries(lengths)) {
      const descriptor = Object.getOwnPropertyDescriptor(proto, name)
      assert.deepEqual([descriptor.writable, descriptor.enumerable, descriptor.configurable], [true, false, true], name)
      assert.equal(descriptor.value.length, length, `${name}.length`)
      assert.equal(descriptor.value.name, name)
    }
    assert.equal(IterableWeakMap.length, 0)
    assert.equal(IterableWeakMap.name, 'IterableWeakMap')
    const size = Object.getOwnPropertyDescriptor(proto, 'size')
    assert.deepEqual([typeof size.get, size.set, size.enumerable, size.configurable], ['function', undefined, false, true])
    assert.equal(size.get.name, 'get size')
    const tag = Object.getOwnPropertyDescriptor(proto, Symbol.toStringTag)
    assert.deepEqual(tag, { value: 'IterableWeakMap', writable: false, enumerable: false, configurable: true })
    const iterator = Object.getOwnPropertyDescriptor(proto, Symbol.iterator)
    assert.equal(iterator.value, proto.entries)
    assert.deepEqual([iterator.writable, iterator.enumerable, iterator.configurable], [true, false, true])
    assert.deepEqual(Object.keys(new IterableWeakMap()), [], 'no enumerable own properties')
  })
})
