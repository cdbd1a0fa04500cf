'use strict'
// LeakRegistry in one thread: reports, release, stacks modes, sites, onLeak errors, validation.

const test = require('node:test')
const assert = require('node:assert/strict')
const { LeakRegistry } = require('..')
const { collectGarbage, eventually, finalizationWatcher } = require('./helpers/gc.js')
const { captureWarnings } = require('./helpers/warnings.js')


/** The line number of the caller of this function, for site assertions. */
function lineHere() {
  const { stack } = new Error()
  return Number(stack.split('\n')[2].match(/:(\d+):\d+\)?$/)[1])
}

test('a resource collected unreleased is reported once, with every field; released and held ones are not', async () => {
  const reports = []
  const registry = new LeakRegistry({ onLeak: (report) => reports.push(report), stacks: 'all', name: 'spec' })
  const gc = finalizationWatcher()
  let site
  function leakOneReleaseOneKeepOne() {
    const leaked = { kind: 'leaked' }
    const released = { kind: 'released' }
    site = `${__filename}:${lineHere() + 1}`
    registry.track(leaked, { type: 'Socket', id: 'conn-7', label: 'upstream', port: 8080 })
    registry.track(released, { type: 'Socket' })
    assert.equal(registry.release(released), true)
    gc.watch(leaked, 'leaked')
    gc.watch(released, 'released')
    return registry.track({ kind: 'held' }, { type: 'Socket' })
  }
  const held = leakOneReleaseOneKeepOne()
  await eventually(() => gc.collected.has('leaked') && gc.collected.has('released') && reports.length > 0)
  await collectGarbage() // room for a wrong second report to arrive
  assert.equal(reports.length, 1, 'one leak, one report')
  const [report] = reports
  assert.equal(report.kind, 'leaked')
  assert.equal(report.type, 'Socket')
  assert.equal(report.id, 'conn-7')
  assert.equal(report.label, 'upstream')
  assert.deepEqual(report.info, { type: 'Socket', id: 'conn-7', label: 'upstream', port: 8080 })
  assert.equal(report.site, site)
  assert.match(report.stack, /^ {4}at leakOneReleaseOneKeepOne \(/)
  assert.ok(report.trackedAt <= report.collectedAt)
  assert.equal(report.ageMs, report.collectedAt - report.trackedAt)
  assert.equal(report.count, 1)
  assert.equal(report.pid, process.pid)
  assert.equal(report.threadId, 0)
  assert.equal(report.registry, 'spec')
  assert.ok(registry.isTracked(held), 'the held resource is still tracked')
  assert.deepEqual(
    { ...registry.stats(), byType: undefined },
    { tracked: 3, live: 1, released: 1, leaked: 1, suspected: 0, logDropped: 0, byType: undefined },
  )
  assert.deepEqual(registry.stats().byType.Socket, { tracked: 3, live: 1, released: 1, leaked: 1, suspected: 0 })
  registry.close()
})

test('a resource that tracks itself in its constructor is still collected and reported', async () => {
  const reports = []
  const registry = new LeakRegistry({ onLeak: (report) => reports.push(report), stacks: 'off' })
  const gc = finalizationWatcher()
  let site
  class Connection {
    constructor() {
      site = `${__filename}:${lineHere() + 1}`
      registry.track(this, { type: 'Connection' })
    }
  }
  function connectAndForget() {
    gc.watch(new Connection(), 'connection')
  }
  connectAndForget()
  // The site capture (of the constructor frame, whose `this` is the resource) must not keep it alive.
  await eventually(() => gc.collected.has('connection') && reports.length === 1)
  assert.equal(reports[0].type, 'Connection')
  assert.equal(reports[0].site, site)
  registry.close()
})

test('release is true the first time, then false; untracked and primitive values give false', () => {
  const registry = new LeakRegistry({ onLeak() {} })
  const resource = registry.track({})
  assert.equal(registry.isTracked(resource), true)
  assert.equal(registry.release(resource), true)
  assert.equal(registry.release(resource), false)
  assert.equal(registry.isTracked(resource), false)
  assert.equal(registry.release({}), false)
  assert.equal(registry.release('not an object'), false)
  registry.close()
})

test('track returns the resource, and tracking it again keeps the first record', () => {
  const registry = new LeakRegistry({ onLeak() {} })
  const resource = {}
  assert.equal(registry.track(resource, { type: 'A' }), resource)
  assert.equal(registry.track(resource, { type: 'B' }), resource)
  assert.deepEqual(registry.open().map((r) => r.type), ['A'])
  assert.equal(registry.stats().tracked, 1)
  registry.close()
})

/** Leaks `n` objects tracked from one line (each passed to `watch`, if given); returns that site. */
function leakFromOneSite(registry, n, watch = () => {}) {
  const line = lineHere() + 2
  for (let i = 0; i < n; i++) {
    watch(registry.track({ i }, { type: 'Repeated', id: i }), i)
  }
  return `${__filename}:${line}`
}

test('count groups repeated leaks by site', async () => {
  const reports = []
  const registry = new LeakRegistry({ onLeak: (report) => reports.push(report), stacks: 'off' })
  const site = leakFromOneSite(registry, 3)
  await eventually(() => reports.length === 3)
  assert.deepEqual(
    reports.map((r) => r.site),
    [site, site, site],
  )
  assert.deepEqual(reports.map((r) => r.count).sort(), [1, 2, 3])
  registry.close()
})

/** Leaks one object through a helper frame, so stacks have a known shape. */
function leakThroughHelper(registry) {
  registry.track({}, { type: 'Stacked' })
}

async function reportFor(options) {
  const reports = []
  const registry = new LeakRegistry({ ...options, onLeak: (report) => reports.push(report) })
  leakThroughHelper(registry)
  await eventually(() => reports.length === 1)
  registry.close()
  return reports[0]
}

test("stacks: 'all' captures the user frames of the allocation stack; 'off' captures none", async () => {
  const all = await reportFor({ stacks: 'all' })
  const frames = all.stack.split('\n')
  assert.match(frames[0], /^ {4}at leakThroughHelper \(.*leak-registry\.test\.js:\d+:\d+\)$/)
  assert.match(frames[1], /reportFor/)
  for (const frame of frames) {
    assert.doesNotMatch(frame, /\(node:|[/\\]lib[/\\]leak-registry\.js/, 'user frames only')
  }
  assert.match(all.site, /leak-registry\.test\.js:\d+$/)
  const off = await reportFor({ stacks: 'off' })
  assert.equal('stack' in off, false)
  assert.equal(off.site, all.site, 'the site is there without a stack')
})

test("stacks: 'sample' follows sampleRate (1 = every resource, 0 = none)", async () => {
  assert.match((await reportFor({ stacks: 'sample', sampleRate: 1 })).stack, /leakThroughHelper/)
  assert.equal('stack' in (await reportFor({ stacks: 'sample', sampleRate: 0 })), false)
  assert.equal('stack' in (await reportFor({ sampleRate: 0 })), false, "'sample' is the default mode")
})

test('sampling at 0.5 gives some resources a stack and not others', async () => {
  const reports = []
  const registry = new LeakRegistry({ sampleRate: 0.5, onLeak: (report) => reports.push(report) })
  leakFromOneSite(registry, 200)
  await eventually(() => reports.length === 200)
  const sampled = reports.filter((r) => 'stack' in r).length
  // Binomial(200, 0.5): outside 50..150 has a probability below 1e-12.
  assert.ok(sampled > 50 && sampled < 150, `${sampled} of 200 sampled`)
  registry.close()
})

test('an onLeak that throws becomes a process warning, and later reports still arrive', async () => {
  const reports = []
  const registry = new LeakRegistry({
    stacks: 'off',
    onLeak(report) {
      reports.push(report)
      if (reports.length === 1) throw new Error('handler bug')
    },
  })
  const warnings = await captureWarnings(async () => {
    leakFromOneSite(registry, 1)
    await eventually(() => reports.length === 1)
    leakFromOneSite(registry, 1)
    await eventually(() => reports.length === 2)
  })
  registry.close()
  assert.equal(warnings.length, 1)
  assert.equal(warnings[0].type, 'LeakRegistryWarning')
  assert.equal(warnings[0].code, 'ERR_EPHEMERON_ON_LEAK')
  assert.match(warnings[0].message, /handler bug/)
})

test('open() lists what is still tracked with type, id, site and age', () => {
  const registry = new LeakRegistry({ onLeak() {} })
  const a = registry.track({}, { type: 'Conn', id: 1 })
  const line = lineHere() + 1
  const b = registry.track(new Map())
  registry.release(a)
  const open = registry.open()
  assert.equal(open.length, 1)
  assert.equal(open[0].type, 'Map', 'the type defaults to the constructor name')
  assert.equal(typeof open[0].id, 'number')
  assert.equal(open[0].site, `${__filename}:${line}`)
  assert.ok(open[0].ageMs >= 0)
  registry.release(b)
  assert.deepEqual([...registry.open()], [])
  registry.close()
})

test('processStats() counts every registry in the process', () => {
  const before = LeakRegistry.processStats()
  const one = new LeakRegistry({ onLeak() {} })
  const two = new LeakRegistry({ onLeak() {} })
  const kept = one.track({})
  two.release(two.track({}))
  const after = LeakRegistry.processStats()
  assert.equal(after.tracked - before.tracked, 2)
  assert.equal(after.released - before.released, 1)
  assert.equal(after.live - before.live, 1)
  one.close()
  two.close()
  assert.equal(LeakRegistry.processStats().live, before.live, 'closing forgets the live resources')
  void kept
})

test('bad input: primitives, info and options are rejected with clear errors', () => {
  const registry = new LeakRegistry({ onLeak() {} })
  for (const primitive of [1, 'str', null, undefined, true, Symbol('s'), 10n]) {
    assert.throws(() => registry.track(primitive), { name: 'TypeError', message: /resource must be an object or a function/ })
  }
  assert.throws(() => registry.track({}, 'info'), { name: 'TypeError', message: /info must be an object/ })
  assert.throws(() => registry.track({}, { type: 5 }), { name: 'TypeError', message: /info\.type must be a string/ })
  assert.throws(() => registry.track({}, { big: 1n }), { name: 'TypeError', message: /info must be JSON-serializable/ })
  assert.equal(registry.stats().tracked, 0, 'nothing was tracked by the failed calls')
  registry.close()

  const cases = [
    [null, TypeError, /options must be an object/],
    [{ onLeak: 'no' }, TypeError, /options\.onLeak must be a function/],
    [{ log: 42 }, TypeError, /options\.log must be 'stderr', a file path or false/],
    [{ stacks: 'some' }, TypeError, /options\.stacks must be 'off', 'sample' or 'all'/],
    [{ sampleRate: '0.1' }, TypeError, /options\.sampleRate must be a number/],
    [{ sampleRate: 1.5 }, RangeError, /options\.sampleRate must be between 0 and 1; got 1\.5/],
    [{ sampleRate: NaN }, RangeError, /options\.sampleRate must be between 0 and 1/],
    [{ reportOnExit: 'yes' }, TypeError, /options\.reportOnExit must be a boolean/],
    [{ name: 1 }, TypeError, /options\.name must be a string/],
  ]
  for (const [options, ErrorClass, message] of cases) {
    assert.throws(() => new LeakRegistry(options), (error) => error instanceof ErrorClass && message.test(error.message))
  }
  assert.throws(() => new LeakRegistry({ log: '/nonexistent-dir/leaks.jsonl' }), { code: 'ERR_EPHEMERON_LOG', message: /cannot open the log/ })
})

test('a closed registry throws ERR_EPHEMERON_CLOSED but still gives its stats', () => {
  const registry = new LeakRegistry({ onLeak() {} })
  const resource = registry.track({})
  registry.close()
  registry.close() // idempotent
  assert.equal(registry.closed, true)
  for (const use of [() => registry.track({}), () => registry.release(resource), () => registry.open()]) {
    assert.throws(use, { name: 'Error', code: 'ERR_EPHEMERON_CLOSED', message: /the registry is closed/ })
  }
  assert.equal(registry.stats().tracked, 1)
  assert.throws(() => LeakRegistry.prototype.track.call({}, {}), { name: 'TypeError', message: /incompatible receiver/ })
})

test('Symbol.dispose closes the registry, and a closed registry reports nothing', async () => {
  const reports = []
  const gc = finalizationWatcher()
  // No collection may happen between the registry's creation and its close (a collection then
  // could have found garbage whose callbacks close() waits for): collect now, when the heap has
  // room for what follows.
  await collectGarbage()
  const registry = new LeakRegistry({ onLeak: (report) => reports.push(report) })
  leakFromOneSite(registry, 1, gc.watch)
  registry[Symbol.dispose]()
  assert.equal(registry.closed, true)
  await eventually(() => gc.collected.size === 1)
  await collectGarbage()
  assert.deepEqual(reports, [])
})

test('close() reports leaks the GC already collected instead of dropping them, after close returns', async () => {
  const reports = []
  const logPath = require('node:path').join(require('node:os').tmpdir(), `ephemeron-close-${process.pid}.jsonl`)
  const registry = new LeakRegistry({ onLeak: (report) => reports.push(report), log: logPath, stacks: 'off' })
  const gc = finalizationWatcher()
  const held = registry.track({ kind: 'held' }, { type: 'Held' })
  ;(function dropTwo() {
    for (const id of [1, 2]) {
      const resource = { id }
      gc.watch(resource, id)
      registry.track(resource, { type: 'Dropped', id })
    }
  })()
  // Synchronously after gc(): the references are cleared, but Node runs the finalizers only on
  // a later turn of the event loop, so without care close() would cancel them and lose both.
  globalThis.gc()
  registry.close()
  assert.deepEqual(reports, [], 'onLeak is never called inside close()')
  await collectGarbage()
  assert.equal(gc.collected.size, 2, 'both resources were collected')
  assert.deepEqual(reports.map((r) => [r.type, r.id]).sort(), [['Dropped', 1], ['Dropped', 2]], 'both leaks reported, the held one not')
  const logged = require('node:fs').readFileSync(logPath, 'utf8').trim().split('\n').map((line) => JSON.parse(line))
  assert.deepEqual(logged.map((r) => r.id).sort(), [1, 2], 'and both are in the log, written by close()')
  require('node:fs').rmSync(logPath, { force: true })
  assert.equal(registry.stats().leaked, 2)
  void held
})
