'use strict'
// The JSON-lines log: one parseable line per report, the same data onLeak gets, nothing lost.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { LeakRegistry } = require('..')
const { eventually } = require('./helpers/gc.js')

function temporaryLog() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ephemeron-log-'))
  return { file: path.join(dir, 'leaks.jsonl'), remove: () => fs.rmSync(dir, { recursive: true, force: true }) }
}

function leak(registry, n) {
  for (let i = 0; i < n; i++) registry.track({ i }, { type: 'Logged', id: i, label: `item "${i}"\n` })
}

test('each report is one JSON line with the same fields onLeak receives', async () => {
  const log = temporaryLog()
  const reports = []
  const registry = new LeakRegistry({ log: log.file, stacks: 'all', onLeak: (report) => reports.push(report) })
  leak(registry, 20)
  await eventually(() => reports.length === 20)
  registry.close() // writes out the queue
  const lines = fs.readFileSync(log.file, 'utf8').split('\n')
  assert.equal(lines.pop(), '', 'the file ends with a newline')
  assert.equal(lines.length, 20)
  const logged = lines.map((line) => JSON.parse(line))
  assert.deepEqual(
    logged.map((r) => r.id).sort((a, b) => a - b),
    Array.from({ length: 20 }, (_, i) => i),
  )
  assert.deepEqual(logged, reports, 'the log and onLeak see the same reports, in the same order')
  for (const report of logged) {
    for (const field of ['kind', 'type', 'id', 'label', 'info', 'site', 'stack', 'trackedAt', 'collectedAt', 'ageMs', 'count', 'pid', 'threadId']) {
      assert.ok(field in report, `${field} is in every line`)
    }
  }
  log.remove()
})

test('a log file is appended to, and without onLeak the log alone receives reports', async () => {
  const log = temporaryLog()
  fs.writeFileSync(log.file, '{"earlier":true}\n')
  const registry = new LeakRegistry({ log: log.file, stacks: 'off' })
  leak(registry, 5)
  await eventually(() => registry.stats().leaked === 5)
  registry.close()
  const lines = fs.readFileSync(log.file, 'utf8').trim().split('\n').map((line) => JSON.parse(line))
  assert.deepEqual(lines[0], { earlier: true })
  assert.equal(lines.length, 6)
  assert.ok(lines.slice(1).every((report) => report.type === 'Logged' && !('stack' in report)))
  log.remove()
})

test('a leak storm is complete: every report is written or counted in a "dropped" line', async () => {
  const log = temporaryLog()
  const registry = new LeakRegistry({ log: log.file, stacks: 'off', sampleRate: 0 })
  const storm = 30_000 // three times the writer's queue
  leak(registry, storm)
  await eventually(() => registry.stats().leaked === storm, { timeoutMs: 60_000 })
  registry.close()
  const lines = fs.readFileSync(log.file, 'utf8').trim().split('\n').map((line) => JSON.parse(line))
  const written = lines.filter((line) => line.type === 'Logged').length
  const dropped = lines.filter((line) => 'dropped' in line).reduce((sum, line) => sum + line.dropped, 0)
  for (const line of lines.filter((line) => 'dropped' in line)) {
    assert.match(line.message, new RegExp(`${line.dropped} reports dropped`))
  }
  assert.equal(written + dropped, storm)
  log.remove()
})

test('onLeak and the log see the same reports, field for field and in the same order, for every kind and field', async () => {
  const log = temporaryLog()
  const reports = []
  const registry = new LeakRegistry({ log: log.file, stacks: 'all', name: 'same "\ud800" name', suspectAfter: 20, onLeak: (report) => reports.push(report) })
  const held = registry.track({}, { type: 'Held\ud800', id: 'held', label: 'lone \udfff label', deep: [[[{ x: 1 }]]] })
  registry.touch(held, 'first')
  registry.touch(held)
  registry.touch(held, 'last "quoted"\nhint')
  ;(function leakSome() {
    registry.track({}, { type: 'Dropped', suspectAfter: 0 })
    registry.touch(registry.track({}, { id: 3, label: null, suspectAfter: 0 }), 'touched once')
  })()
  await eventually(() => reports.filter((r) => r.kind === 'leaked').length === 2 && reports.some((r) => r.kind === 'suspected'))
  registry.release(held)
  await eventually(() => reports.some((r) => r.kind === 'released'))
  registry.close()
  const logged = fs.readFileSync(log.file, 'utf8').trim().split('\n').map((line) => JSON.parse(line))
  assert.equal(logged.length, 4)
  assert.deepEqual(
    reports.map((r) => JSON.stringify(r)),
    logged.map((r) => JSON.stringify(r)),
    'the same JSON: same fields, same order, same values',
  )
  assert.deepEqual(reports.map((r) => r.kind).sort(), ['leaked', 'leaked', 'released', 'suspected'])
  const released = reports.find((r) => r.kind === 'released')
  assert.deepEqual(
    released.touches.map((t) => t.hint),
    ['first', undefined, 'last "quoted"\nhint'],
  )
  assert.equal(released.type, 'Held\ud800')
  assert.equal(released.registry, 'same "\ud800" name')
  log.remove()
})
