'use strict'
// IterableWeakMap/IterableWeakSet against careless and hostile callers: every error has
// a stable code and says what was wrong without running user code, and nothing depends on
// globals that user code can replace after the library has loaded.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const path = require('node:path')
const { IterableWeakMap, IterableWeakSet } = require('..')
const { CODES } = require('../lib/errors.js')

/** Runs `fn`, which must throw; returns what it threw. */
function thrownBy(fn) {
  try {
    fn()
  } catch (error) {
    return error
  }
  assert.fail('expected a throw')
}

/** Every way to make IterableWeakMap or IterableWeakSet throw, with the code it must carry. */
function errorCases() {
  const map = new IterableWeakMap()
  const set = new IterableWeakSet()
  const mapProto = IterableWeakMap.prototype
  const setProto = IterableWeakSet.prototype
  const cases = [
    ['IterableWeakMap() without new', () => IterableWeakMap(), 'ERR_CONSTRUCT_CALL_REQUIRED'],
    ['IterableWeakSet() without new', () => IterableWeakSet(), 'ERR_CONSTRUCT_CALL_REQUIRED'],
    ['a non-iterable', () => new IterableWeakMap(42), 'ERR_INVALID_ARG_TYPE'],
    ['an iterator method returning a primitive', () => new IterableWeakMap({ [Symbol.iterator]: () => 1 }), 'ERR_INVALID_ARG_TYPE'],
    ['an iterator result that is not an object', () => new IterableWeakSet({ [Symbol.iterator]: () => ({ next: () => 7 }) }), 'ERR_INVALID_ARG_TYPE'],
    ['an entry that is not an object', () => new IterableWeakMap([1]), 'ERR_INVALID_ARG_TYPE'],
    ['a set method that is not a function', () => new (class extends IterableWeakMap { get set() { return undefined } })([[{}, 1]]), 'ERR_INVALID_ARG_TYPE'],
    ['an add method that is not a function', () => new (class extends IterableWeakSet { get add() { return 5 } })([{}]), 'ERR_INVALID_ARG_TYPE'],
    ['options that are not an object', () => new IterableWeakMap(null, 'fast'), 'ERR_INVALID_ARG_TYPE'],
    ['an onCollect that is not a function', () => new IterableWeakMap(undefined, { onCollect: true }), 'ERR_INVALID_ARG_TYPE'],
    ['a set onCollect that is not a function', () => new IterableWeakSet(undefined, { onCollect: 1 }), 'ERR_INVALID_ARG_TYPE'],
    ['a primitive key', () => map.set(1, 1), 'ERR_INVALID_ARG_TYPE'],
    ['a registered symbol key', () => map.getOrInsert(Symbol.for('x'), 1), 'ERR_INVALID_ARG_TYPE'],
    ['undefined as a key', () => map.getOrInsertComputed(undefined, () => 1), 'ERR_INVALID_ARG_TYPE'],
    ['a primitive member', () => set.add('a'), 'ERR_INVALID_ARG_TYPE'],
    ['a forEach callback that is not a function', () => map.forEach(undefined), 'ERR_INVALID_ARG_TYPE'],
    ['a set forEach callback that is not a function', () => set.forEach({}), 'ERR_INVALID_ARG_TYPE'],
    ['a compute callback that is not a function', () => map.getOrInsertComputed({}, null), 'ERR_INVALID_ARG_TYPE'],
    ['an iterator next on a foreign receiver', () => map.keys().next.call({}), 'ERR_INVALID_THIS'],
    ['the size getter on a foreign receiver', () => Object.getOwnPropertyDescriptor(mapProto, 'size').get.call(undefined), 'ERR_INVALID_THIS'],
    ['the set size getter on a foreign receiver', () => Object.getOwnPropertyDescriptor(setProto, 'size').get.call(map), 'ERR_INVALID_THIS'],
  ]
  for (const name of ['get', 'set', 'has', 'delete', 'clear', 'getOrInsert', 'getOrInsertComputed', 'forEach', 'entries', 'keys', 'values']) {
    cases.push([`IterableWeakMap.prototype.${name} on a set`, () => mapProto[name].call(set, {}, () => {}), 'ERR_INVALID_THIS'])
  }
  for (const name of ['add', 'has', 'delete', 'clear', 'forEach', 'entries', 'keys', 'values']) {
    cases.push([`IterableWeakSet.prototype.${name} on a map`, () => setProto[name].call(map, {}, () => {}), 'ERR_INVALID_THIS'])
  }
  return cases
}

test('regression: every IterableWeakMap and IterableWeakSet error carries a stable code and a clear message', () => {
  for (const [what, fn, code] of errorCases()) {
    const error = thrownBy(fn)
    assert.equal(error.code, code, what)
    assert.ok(code in CODES, `${code} is listed in lib/errors.js`)
    assert.equal(error.name, CODES[code].class, `${what}: thrown as ${CODES[code].class}`)
    assert.doesNotMatch(error.message, /undefined undefined|\[object /, `${what}: ${error.message}`)
  }
  // The wording names what was wrong and what was given.
  assert.match(thrownBy(() => new IterableWeakMap().set(undefined, 1)).message, /IterableWeakMap key must be an object, a function or a non-registered symbol; got undefined/)
  assert.match(thrownBy(() => IterableWeakMap.prototype.has.call(null, {})).message, /IterableWeakMap\.prototype\.has called on incompatible receiver null/)
  assert.match(thrownBy(() => IterableWeakMap()).message, /Constructor IterableWeakMap requires 'new'/)
})

test('regression: a Proxy receiver, callback or iterable runs no trap while an error message is built', () => {
  const trapsRun = []
  const handler = new Proxy({}, { get: (_, trap) => (...args) => {
    trapsRun.push(trap)
    return Reflect[trap](...args)
  } })
  const receiver = new Proxy(new IterableWeakMap(), handler)
  const setReceiver = new Proxy(new IterableWeakSet(), handler)
  const callback = new Proxy({}, handler) // an object, not callable
  for (const [name, fn] of [
    ['get', () => IterableWeakMap.prototype.get.call(receiver, {})],
    ['set', () => IterableWeakMap.prototype.set.call(receiver, {}, 1)],
    ['size', () => Object.getOwnPropertyDescriptor(IterableWeakMap.prototype, 'size').get.call(receiver)],
    ['add', () => IterableWeakSet.prototype.add.call(setReceiver, {})],
    ['forEach', () => new IterableWeakMap().forEach(callback)],
    ['getOrInsertComputed', () => new IterableWeakMap().getOrInsertComputed({}, callback)],
  ]) {
    const error = thrownBy(fn)
    assert.match(error.message, /a Proxy/, name)
    assert.deepEqual(trapsRun, [], `${name}: no trap ran`)
  }
  // The constructor reads the iterable's Symbol.iterator (the spec's one Get); describing the
  // iterable in the error that follows must not run any more traps.
  const iterable = new Proxy({}, handler)
  assert.equal(thrownBy(() => new IterableWeakMap(iterable)).code, 'ERR_INVALID_ARG_TYPE')
  assert.deepEqual(trapsRun, ['get'], 'only the Get of Symbol.iterator')
  // A revoked Proxy throws on any trap: describing it must still work.
  const { proxy, revoke } = Proxy.revocable({}, {})
  revoke()
  assert.equal(thrownBy(() => IterableWeakMap.prototype.delete.call(proxy, {})).code, 'ERR_INVALID_THIS')
  // A Proxy is a valid key (an object): it is stored, and none of its traps run.
  const key = new Proxy({}, handler)
  trapsRun.length = 0
  const map = new IterableWeakMap([[key, 1]])
  map.set(key, 2)
  assert.deepEqual([map.get(key), map.has(key), [...map.keys()][0] === key, map.delete(key)], [2, true, true, true])
  assert.deepEqual(trapsRun, [])
})

test('regression: with globalThis.WeakMap = IterableWeakMap (a polyfill), maps work and do not recurse', () => {
  // In a child process: the globals and built-in prototypes are replaced for good there.
  const script = `
    const { IterableWeakMap, IterableWeakSet } = require(${JSON.stringify(path.join(__dirname, '..'))})
    const { writeSync } = require('node:fs') // console.log itself would use the replaced built-ins
    const BuiltinWeakMap = globalThis.WeakMap
    globalThis.WeakMap = IterableWeakMap
    globalThis.WeakSet = IterableWeakSet
    // What the library might look up later, replaced by things that throw when used.
    const trap = () => { throw 'a replaced built-in was used' }
    for (const name of ['get', 'set', 'has', 'delete']) BuiltinWeakMap.prototype[name] = trap
    Function.prototype.call = trap
    Function.prototype.apply = trap
    Reflect.apply = trap
    Reflect.construct = trap
    Object.defineProperty = trap
    Object.getPrototypeOf = trap
    globalThis.Float64Array = trap
    globalThis.TypeError = trap
    globalThis.Error = trap
    const [a, b, c] = [{}, {}, {}]
    const map = new WeakMap([[a, 1], [b, 2]])
    map.set(c, 3).delete(b)
    const results = [map.get(a), map.has(b), map.size, [...map].length, map.getOrInsert(b, 4), map.getOrInsertComputed({}, () => 5)]
    map.forEach(() => {})
    const set = new WeakSet([a, b])
    set.add(c).delete(a)
    results.push(set.size, [...set.values()].length, set.has(c))
    let code
    try { map.set(1, 1) } catch (error) { code = error.code }
    results.push(code)
    map.clear()
    results.push(map.size)
    writeSync(1, JSON.stringify(results))
  `
  const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' })
  assert.equal(child.stderr, '')
  assert.deepEqual(JSON.parse(child.stdout), [1, false, 2, 2, 4, 5, 2, 2, true, 'ERR_INVALID_ARG_TYPE', 0])
})
