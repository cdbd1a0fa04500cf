'use strict'
// Which request leaked it: the `context` option (called at track() in the caller's async
// context), and every report published on the diagnostics_channel 'ephemeron:leak'.

const test = require('node:test')
const assert = require('node:assert/strict')
const diagnostics = require('node:diagnostics_channel')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { AsyncLocalStorage } = require('node:async_hooks')
const { LeakRegistry } = require('..')
const { collectGarbage, eventually } = require('./helpers/gc.js')
const { captureWarnings } = require('./helpers/warnings.js')

function temporaryLog() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ephemeron-context-'))
  const file = path.join(dir, 'leaks.jsonl')
  return { file, lines: () => fs.readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line)), remove: () => fs.rmSync(dir, { recursive: true, force: true }) }
}

/** Subscribes to 'ephemeron:leak' for the length of a spec. */
function subscribe() {
  const published = []
  const listener = (report, name) => published.push({ report, name })
  diagnostics.subscribe('ephemeron:leak', listener)
  return { published, stop: () => diagnostics.unsubscribe('ephemeron:leak', listener) }
}

test('context() runs in the caller\'s async context: its value is in the report, the log line and open()', async () => {
  const als = new AsyncLocalStorage()
  const log = temporaryLog()
  const reports = []
  const registry = new LeakRegistry({ log: log.file, onLeak: (report) => reports.push(report), context: () => als.getStore() })
  let held
  als.run({ requestId: 'r-1', route: '/export' }, () => {
    ;(function leakInRequest() {
      registry.track({}, { type: 'Conn', id: 'leaked' })
    })()
  })
  als.run({ requestId: 'r-2', route: '/import' }, () => {
    held = registry.track({}, { type: 'Conn', id: 'held' })
  })
  const outside = registry.track({}, { type: 'Conn', id: 'outside' })
  await eventually(() => reports.length === 1)
  assert.deepEqual(
    registry.open().map((r) => [r.id, r.context]),
    [
      ['held', { requestId: 'r-2', route: '/import' }],
      ['outside', undefined],
    ],
  )
  assert.equal('context' in registry.open()[1], false, 'no context, no field')
  assert.deepEqual(reports[0].context, { requestId: 'r-1', route: '/export' })
  registry.close()
  assert.deepEqual(log.lines()[0].context, { requestId: 'r-1', route: '/export' }, 'the log line has it too')
  assert.deepEqual(log.lines()[0], JSON.parse(JSON.stringify(reports[0])))
  log.remove()
  void held, outside
})

test('context is copied at track(): later changes to the store do not show, and it keeps nothing alive', async () => {
  const als = new AsyncLocalStorage()
  const reports = []
  const registry = new LeakRegistry({ onLeak: (report) => reports.push(report), context: () => als.getStore() })
  const store = { user: 'ada', resource: null }
  als.run(store, () => {
    ;(function trackAndDrop() {
      const resource = {}
      store.resource = { note: 'not an object graph the report keeps' }
      registry.track(resource, { type: 'Snapshot' })
    })()
  })
  store.user = 'changed later'
  await eventually(() => reports.length === 1)
  assert.deepEqual(reports[0].context, { user: 'ada', resource: { note: 'not an object graph the report keeps' } })
  registry.close()
})

test('context() is called once per track, not for a resource already tracked, and never without the option', () => {
  let calls = 0
  const registry = new LeakRegistry({ onLeak() {}, context: () => ++calls })
  const resource = registry.track({})
  registry.track(resource)
  assert.equal(calls, 1)
  registry.release(registry.track({}))
  assert.equal(calls, 2)
  registry.close()
  // Without the option the registry has no function to call: a context on the store is ignored.
  const plain = new LeakRegistry({ onLeak() {} })
  plain.track({})
  assert.equal('context' in plain.open()[0], false)
  plain.close()
})

test('openFile takes the context of its caller, before the file is opened', async () => {
  const als = new AsyncLocalStorage()
  const registry = new LeakRegistry({ onLeak() {}, context: () => als.getStore() })
  const handle = await als.run('request-9', () => registry.openFile(__filename))
  assert.deepEqual(
    registry.open().map((r) => [r.type, r.context]),
    [['FileHandle', 'request-9']],
  )
  await handle.close()
  registry.close()
})

test('a context() that throws or returns what JSON cannot hold gives no context and one warning; track() still tracks', async () => {
  const reports = []
  let mode = 'throw'
  const registry = new LeakRegistry({
    onLeak: (report) => reports.push(report),
    context() {
      if (mode === 'throw') throw new Error('store unavailable')
      if (mode === 'bigint') return { n: 1n }
      return undefined
    },
  })
  const warnings = await captureWarnings(async () => {
    ;(function leakThree() {
      registry.track({}, { id: 'threw' })
      mode = 'bigint'
      registry.track({}, { id: 'bigint' })
      mode = 'undefined'
      registry.track({}, { id: 'undefined' })
    })()
    await eventually(() => reports.length === 3)
  })
  assert.deepEqual(
    reports.map((r) => [r.id, 'context' in r]).sort(),
    [
      ['bigint', false],
      ['threw', false],
      ['undefined', false],
    ],
  )
  assert.equal(warnings.length, 1, 'one warning per registry, not one per track')
  assert.equal(warnings[0].type, 'LeakRegistryWarning')
  assert.equal(warnings[0].code, 'ERR_EPHEMERON_CONTEXT')
  assert.match(warnings[0].message, /context\(\) failed.*store unavailable/)
  assert.equal(registry.stats().leaked, 3)
  registry.close()
})

test('options.context must be a function', () => {
  assert.throws(() => new LeakRegistry({ context: 'request' }), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: /options\.context must be a function/ })
})

test("every report is published on 'ephemeron:leak': leaked, suspected and released, the object onLeak gets", async () => {
  const channel = subscribe()
  const reports = []
  const registry = new LeakRegistry({ onLeak: (report) => reports.push(report), suspectAfter: 20, name: 'published' })
  try {
    const held = registry.track({}, { type: 'Held', id: 'held' })
    ;(function leakOne() {
      registry.track({}, { type: 'Dropped', id: 'dropped', suspectAfter: 0 })
    })()
    await eventually(() => reports.length === 2)
    registry.release(held)
    await eventually(() => reports.length === 3)
    assert.deepEqual(reports.map((r) => r.kind).sort(), ['leaked', 'released', 'suspected'])
    const mine = channel.published.filter(({ report }) => report.registry === 'published')
    assert.equal(mine.length, 3)
    for (const [i, { report, name }] of mine.entries()) {
      assert.equal(name, 'ephemeron:leak')
      assert.equal(report, reports[i], 'the same object, in the same order')
    }
  } finally {
    channel.stop()
    registry.close()
  }
})

test('a subscriber alone gets reports (no onLeak, no log); without one nothing is published', async () => {
  const registry = new LeakRegistry({ log: false, name: 'subscriber-only' })
  const unwatched = new LeakRegistry({ log: false, name: 'unwatched' })
  ;(function leakBefore() {
    unwatched.track({}, { id: 'before' })
  })()
  await eventually(() => unwatched.stats().leaked === 1)
  const channel = subscribe()
  try {
    ;(function leakTwo() {
      registry.track({}, { type: 'Conn', id: 'a', label: 'db' })
      registry.track({}, { type: 'Conn', id: 'b' })
    })()
    await eventually(() => channel.published.length === 2)
    await collectGarbage()
    assert.deepEqual(channel.published.map(({ report }) => [report.registry, report.id]).sort(), [
      ['subscriber-only', 'a'],
      ['subscriber-only', 'b'],
    ])
    const [report] = channel.published.map(({ report }) => report).filter((r) => r.id === 'a')
    for (const field of ['kind', 'type', 'id', 'label', 'info', 'site', 'trackedAt', 'collectedAt', 'ageMs', 'count', 'pid', 'threadId']) {
      assert.ok(field in report, `${field} is in the published report`)
    }
    assert.equal(report.label, 'db')
  } finally {
    channel.stop()
    registry.close()
    unwatched.close()
  }
})
