'use strict'
// The event log between lib/leak-events.js and Rust (src/core/leak_events.rs): `track()` and
// `release()` make no native call and are replayed later, so each spec here makes Rust see an
// event kind or a flag through a replay, and checks what comes out the other side.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const native = require('../lib/native.js')
const { LeakRegistry } = require('..')
const { collectGarbage, eventually, finalizationWatcher } = require('./helpers/gc.js')

const P = native.leakProtocol()

test('the protocol: every number JS reads is there, and the sections of the buffer follow each other', () => {
  for (const name of ['HEADER', 'TOKENS', 'REFILL_AT', 'SITE_WEIGHT', 'GAPS', 'SITE_GAPS', 'STACK_GAPS', 'TRACKS', 'TRACK_STRIDE', 'TRACK_CAPACITY', 'EVENTS', 'EVENT_STRIDE', 'EVENT_CAPACITY', 'TEXTS', 'TEXT_CAPACITY', 'HINTS', 'LENGTH', 'FLAG_SHIFT', 'INFO', 'CONTEXT', 'STACK', 'SAMPLED', 'RELEASED', 'NO_SITE', 'RELEASE', 'COLLECTED', 'TOUCH', 'TOUCH_HINT']) {
    assert.equal(typeof P[name], 'number', name)
  }
  assert.equal(P.TRACKS, P.HEADER)
  assert.equal(P.EVENTS, P.TRACKS + P.TRACK_STRIDE * P.TRACK_CAPACITY)
  assert.equal(P.TEXTS, P.EVENTS + P.EVENT_STRIDE * P.EVENT_CAPACITY)
  assert.equal(P.HINTS, P.TEXTS + P.TEXT_CAPACITY)
  assert.equal(P.LENGTH, P.HINTS + P.EVENT_CAPACITY)
  assert.ok(P.STACK_GAPS + P.GAPS <= P.HEADER)
  const flags = [P.INFO, P.CONTEXT, P.STACK, P.SAMPLED, P.RELEASED]
  assert.equal(new Set(flags).size, flags.length)
  assert.ok(flags.every((flag) => (flag & (flag - 1)) === 0), 'one bit each')
})

test('every event kind and flag makes a round trip: tracks with info, context and a stack, releases before and after a replay, collections, touches with and without a hint', async () => {
  const reports = []
  const registry = new LeakRegistry({ onLeak: (report) => reports.push(report), stacks: 'all', context: () => ({ request: 'r-1' }) })
  ;(function everyKind() {
    const touched = registry.track({}, { type: 'Touched', id: 'touched' }) // INFO, CONTEXT, STACK
    registry.touch(touched) // TOUCH
    registry.touch(touched, 'a "hint"\n') // TOUCH_HINT
    registry.release(registry.track({}, { type: 'Quick' })) // released in the log: RELEASED
    const later = registry.track({}, { type: 'Later' })
    registry.stats() // a replay: `later` reaches the table...
    registry.release(later) // ...and is released by a RELEASE event
    registry.track({}, { type: 'Dropped', id: 'dropped' }) // collected: COLLECTED
  })()
  await eventually(() => reports.length === 2)
  const byId = Object.fromEntries(reports.map((r) => [r.id, r]))
  assert.deepEqual(byId.touched.info, { type: 'Touched', id: 'touched' })
  assert.deepEqual(byId.touched.context, { request: 'r-1' })
  assert.match(byId.touched.stack, /^ {4}at everyKind \(/, 'the stack, without ephemeron\'s frames')
  assert.equal(byId.touched.site, `${__filename}:${byId.touched.stack.match(/:(\d+):\d+\)/)[1]}`, 'the site from the stack')
  assert.deepEqual(
    byId.touched.touches.map((t) => t.hint),
    [undefined, 'a "hint"\n'],
  )
  assert.deepEqual(registry.stats().byType.Quick, { tracked: 1, live: 0, released: 1, leaked: 0, suspected: 0 })
  assert.deepEqual(registry.stats().byType.Later, { tracked: 1, live: 0, released: 1, leaked: 0, suspected: 0 })
  registry.close()
})

test('a resource collected while its track is still in the log (no replay in between) is reported', async () => {
  const reports = []
  const registry = new LeakRegistry({ onLeak: (report) => reports.push(report) })
  const gc = finalizationWatcher()
  ;(function trackAndDrop() {
    for (const id of [1, 2, 3]) gc.watch(registry.track({ id }, { id }), id)
  })()
  await eventually(() => gc.collected.size === 3 && reports.length === 3)
  assert.deepEqual(reports.map((r) => r.id).sort(), [1, 2, 3])
  registry.close()
})

test('ids are never reused: a resource tracked again after its release is a new record', async () => {
  const reports = []
  const registry = new LeakRegistry({ onLeak: (report) => reports.push(report) })
  ;(function trackTwice() {
    const resource = {}
    registry.track(resource, { type: 'Again' })
    registry.stats()
    registry.release(resource)
    registry.track(resource, { type: 'Again' })
  })()
  await eventually(() => reports.length === 1)
  assert.deepEqual(registry.stats().byType.Again, { tracked: 2, live: 0, released: 1, leaked: 1, suspected: 0 })
  assert.equal(reports[0].id, 2, 'the second record leaked, not the first')
  registry.close()
})

test('a pooled resource checked out and returned many times: dropped while returned, no report; dropped while out, one', async () => {
  const reports = []
  const registry = new LeakRegistry({ onLeak: (report) => reports.push(report) })
  const gc = finalizationWatcher()
  ;(function pool() {
    const returned = { name: 'returned' }
    const out = { name: 'out' }
    for (let i = 0; i < 1000; i++) {
      registry.release(registry.track(returned, { type: 'Conn', id: `returned-${i}` }))
      registry.release(registry.track(out, { type: 'Conn', id: `out-${i}` }))
    }
    registry.track(out, { type: 'Conn', id: 'out-last' })
    gc.watch(returned, 'returned')
    gc.watch(out, 'out')
  })()
  await eventually(() => gc.collected.size === 2 && reports.length > 0)
  await collectGarbage() // room for a wrong second report to arrive
  assert.deepEqual(
    reports.map((r) => [r.kind, r.id]),
    [['leaked', 'out-last']],
  )
  assert.deepEqual(registry.stats().byType.Conn, { tracked: 2001, live: 0, released: 2000, leaked: 1, suspected: 0 })
  registry.close()
})

test('close() with events in flight: tracks and releases not replayed yet are counted, collections already seen are reported', async () => {
  const reports = []
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ephemeron-events-'))
  const log = path.join(dir, 'leaks.jsonl')
  const registry = new LeakRegistry({ onLeak: (report) => reports.push(report), log })
  ;(function inFlight() {
    for (let i = 0; i < 10; i++) registry.release(registry.track({ i }))
    for (let i = 0; i < 3; i++) registry.track({ i }, { type: 'Dropped', id: i })
  })()
  await collectGarbage() // the three collections are in the log now, not delivered yet
  for (let i = 0; i < 5; i++) registry.release(registry.track({ i }))
  registry.close()
  assert.deepEqual(registry.stats(), {
    tracked: 18,
    live: 0,
    released: 15,
    leaked: 3,
    suspected: 0,
    byType: {
      Object: { tracked: 15, live: 0, released: 15, leaked: 0, suspected: 0 },
      Dropped: { tracked: 3, live: 0, released: 0, leaked: 3, suspected: 0 },
    },
    logDropped: 0,
  })
  assert.equal(fs.readFileSync(log, 'utf8').trim().split('\n').length, 3, 'their lines are in the log when close() returns')
  await eventually(() => reports.length === 3)
  fs.rmSync(dir, { recursive: true, force: true })
})

test('the log fills up: thousands of tracks, releases and collections between two replays are all counted', async () => {
  const reports = []
  const registry = new LeakRegistry({ onLeak: (report) => reports.push(report), stacks: 'off' })
  const held = []
  ;(function fill() {
    for (let i = 0; i < 3 * P.TRACK_CAPACITY; i++) held.push(registry.track({ i }, { type: 'Held', id: i }))
    for (const resource of held.splice(0, P.EVENT_CAPACITY + 10)) registry.release(resource)
    for (let i = 0; i < 2 * P.EVENT_CAPACITY; i++) registry.track({ i }, { type: 'Dropped' })
  })()
  await eventually(() => reports.length === 2 * P.EVENT_CAPACITY)
  const stats = registry.stats()
  assert.equal(stats.byType.Held.live, held.length)
  assert.equal(stats.byType.Held.released, P.EVENT_CAPACITY + 10)
  assert.equal(stats.leaked, 2 * P.EVENT_CAPACITY)
  registry.close()
})
