'use strict'
// What the GC cannot see: resources held longer than `suspectAfter` (an open socket is held by
// the event loop, a checked-out pool client by its pool) get one 'suspected' report, then a
// 'released' one if they are released after all. And access records: touch().

const test = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const asyncHooks = require('node:async_hooks')
const path = require('node:path')
const { LeakRegistry } = require('..')
const { eventually, immediate } = require('./helpers/gc.js')

function lineHere() {
  return Number(new Error().stack.split('\n')[2].match(/:(\d+):\d+\)?$/)[1])
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

test('a resource held past suspectAfter is reported once as suspected, then as released when released', async () => {
  const reports = []
  const registry = new LeakRegistry({ suspectAfter: 100, onLeak: (report) => reports.push(report), name: 'pool' })
  const site = `${__filename}:${lineHere() + 1}`
  const client = registry.track({ query() {} }, { type: 'PgClient', id: 'c1', label: 'db:5432' })
  const quick = registry.track({}, { type: 'PgClient', id: 'quick' })
  registry.release(quick)
  await sleep(50)
  assert.deepEqual(reports, [], 'not before its time')
  assert.equal(registry.open()[0].suspected, false)
  await eventually(() => reports.length === 1, { message: 'no suspected report' })
  const [suspected] = reports
  assert.equal(suspected.kind, 'suspected')
  assert.equal(suspected.type, 'PgClient')
  assert.equal(suspected.id, 'c1')
  assert.equal(suspected.label, 'db:5432')
  assert.equal(suspected.site, site)
  assert.equal(suspected.count, 1)
  assert.equal(suspected.registry, 'pool')
  assert.equal('collectedAt' in suspected, false)
  assert.ok(suspected.ageMs >= 100, `held ${suspected.ageMs} ms`)
  assert.equal(registry.stats().suspected, 1)
  assert.deepEqual(
    registry.open().map((r) => [r.id, r.suspected]),
    [['c1', true]],
  )
  await sleep(150)
  assert.equal(reports.length, 1, 'suspected once')
  assert.equal(registry.release(client), true)
  assert.equal(reports.length, 1, 'the follow-up is never delivered inside release()')
  await eventually(() => reports.length === 2)
  const released = reports[1]
  assert.equal(released.kind, 'released')
  assert.equal(released.id, 'c1')
  assert.ok(released.ageMs >= suspected.ageMs + 150, `held ${released.ageMs} ms in all`)
  assert.deepEqual(
    { ...registry.stats(), byType: undefined },
    { tracked: 2, live: 0, released: 2, leaked: 0, suspected: 1, logDropped: 0, byType: undefined },
  )
  registry.close()
})

test('suspectAfter per resource overrides the registry (0 = never), and a suspected resource that is collected is an ordinary leak', async () => {
  const reports = []
  const registry = new LeakRegistry({ suspectAfter: 60_000, onLeak: (report) => reports.push(report) })
  const never = registry.track({}, { type: 'Never', suspectAfter: 0 })
  ;(function trackAndDrop() {
    registry.track({}, { type: 'Dropped', suspectAfter: 20 })
  })()
  await sleep(60)
  await eventually(() => reports.length === 2, { message: `${reports.length} reports` })
  assert.deepEqual(
    reports.map((r) => [r.kind, r.type]),
    [
      ['suspected', 'Dropped'],
      ['leaked', 'Dropped'],
    ],
  )
  assert.deepEqual(
    registry.open().map((r) => [r.type, r.suspected]),
    [['Never', false]],
  )
  registry.close()
  void never
})

test('one timer per registry, whatever the number of resources, and it never keeps the process alive', async () => {
  let timers = 0
  const hook = asyncHooks.createHook({ init: (_id, type) => (type === 'Timeout' ? timers++ : undefined) }).enable()
  const registry = new LeakRegistry({ suspectAfter: 60_000, onLeak() {} })
  const held = []
  for (let i = 0; i < 10_000; i++) held.push(registry.track({ i }))
  await immediate()
  hook.disable()
  assert.ok(timers <= 2, `${timers} timers for 10,000 resources`)
  registry.close()

  const script = `
    const { LeakRegistry } = require(${JSON.stringify(path.join(__dirname, '..'))})
    globalThis.registry = new LeakRegistry({ suspectAfter: 3_600_000, onLeak() {} })
    globalThis.held = registry.track({})
    console.log('tracked')`
  const started = Date.now()
  const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 })
  assert.equal(result.status, 0, result.stderr)
  assert.equal(result.stdout, 'tracked\n')
  assert.ok(Date.now() - started < 10_000, 'the process exited without waiting for the deadline')
})

test('bad suspectAfter and maxTouches values are rejected with clear errors', () => {
  const cases = [
    [{ suspectAfter: '5s' }, 'ERR_INVALID_ARG_TYPE', /options\.suspectAfter must be a number of milliseconds/],
    [{ suspectAfter: -1 }, 'ERR_OUT_OF_RANGE', /options\.suspectAfter must be a finite number of milliseconds >= 0 \(0 = off\); got -1/],
    [{ suspectAfter: Infinity }, 'ERR_OUT_OF_RANGE', /options\.suspectAfter/],
    [{ maxTouches: 2.5 }, 'ERR_OUT_OF_RANGE', /options\.maxTouches must be an integer from 0 to 1000; got 2\.5/],
    [{ maxTouches: '4' }, 'ERR_INVALID_ARG_TYPE', /options\.maxTouches must be a number/],
  ]
  for (const [options, code, message] of cases) {
    assert.throws(() => new LeakRegistry({ onLeak() {}, ...options }), { code, message })
  }
  const registry = new LeakRegistry({ onLeak() {} })
  assert.throws(() => registry.track({}, { suspectAfter: NaN }), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: /info\.suspectAfter/ })
  assert.equal(registry.stats().tracked, 0)
  registry.close()
})

test('touch records site, time and hint; reports carry the first and the most recent and count the rest', async () => {
  const reports = []
  const registry = new LeakRegistry({ onLeak: (report) => reports.push(report) })
  const lines = []
  ;(function useAndForget() {
    const connection = registry.track({}, { type: 'Conn' })
    for (let i = 0; i < 6; i++) {
      lines.push(lineHere() + 1)
      registry.touch(connection, i === 5 ? 'last query' : undefined)
    }
  })()
  await eventually(() => reports.length === 1)
  const [report] = reports
  assert.equal(report.touchesDropped, 2)
  assert.deepEqual(
    report.touches.map((t) => t.site),
    [0, 3, 4, 5].map((i) => `${__filename}:${lines[i]}`),
  )
  assert.deepEqual(
    report.touches.map((t) => t.hint),
    [undefined, undefined, undefined, 'last query'],
  )
  const times = report.touches.map((t) => t.at)
  assert.deepEqual(times, [...times].sort((a, b) => a - b), 'in time order')
  assert.ok(times[0] >= report.trackedAt && times[3] <= report.collectedAt)
  registry.close()
})

test('touch: a primitive or a non-string hint is a TypeError; an untracked object is returned untouched; maxTouches 0 turns it off', async () => {
  const reports = []
  const registry = new LeakRegistry({ onLeak: (report) => reports.push(report), maxTouches: 0 })
  const untracked = {}
  assert.equal(registry.touch(untracked), untracked)
  for (const primitive of [1, 'str', null, undefined, Symbol('s')]) {
    assert.throws(() => registry.touch(primitive), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: /touch: resource must be an object/ })
  }
  assert.throws(() => registry.touch(untracked, 42), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: /touch: hint must be a string; got number 42/ })
  ;(function touchAndForget() {
    registry.touch(registry.track({}), 'ignored')
  })()
  await eventually(() => reports.length === 1)
  assert.equal('touches' in reports[0], false, 'nothing recorded with maxTouches 0')
  registry.close()
})

test('touches appear in suspected reports, and reports of untouched resources have none', async () => {
  const reports = []
  const registry = new LeakRegistry({ suspectAfter: 30, onLeak: (report) => reports.push(report) })
  const touched = registry.touch(registry.track({}, { id: 'touched' }), 'checked out')
  const plain = registry.track({}, { id: 'plain' })
  await eventually(() => reports.length === 2)
  const byId = Object.fromEntries(reports.map((r) => [r.id, r]))
  assert.deepEqual(
    byId.touched.touches.map((t) => t.hint),
    ['checked out'],
  )
  assert.equal(byId.touched.touchesDropped, 0)
  assert.equal('touches' in byId.plain, false)
  registry.close()
  void touched, plain
})
