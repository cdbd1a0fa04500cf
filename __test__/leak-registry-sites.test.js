'use strict'
// Call sites under load: below about 1,000 tracks per second every report names its site; above
// it a random 1 in 14 of the sites is captured (`sites: 'auto'`), a site that keeps leaking is
// still named, reports without a site say so, and counts become estimates that say so.
// `sites: 'all'` names every site at any rate. (The probability itself is checked over 10,000
// seeded trials in src/core/site_sampler.rs.)

const test = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const path = require('node:path')
const { LeakRegistry } = require('..')
const { eventually } = require('./helpers/gc.js')

const NOT_SAMPLED = '<not sampled>'

function lineHere() {
  return Number(new Error().stack.split('\n')[2].match(/:(\d+):\d+\)?$/)[1])
}

/** Tracks and releases `n` resources from one line, as fast as it can (spends the bucket's burst). */
function busy(registry, n) {
  for (let i = 0; i < n; i++) registry.release(registry.track({ i }, { type: 'Busy' }))
}

/**
 * Far above the rate: 30,000 tracks from a busy line, and among them `leaks` leaked ones from
 * another line. Returns that line's site.
 */
function loadWithLeaks(registry, leaks) {
  busy(registry, 2000) // the bucket's burst is spent: from here on sites are sampled
  const site = `${__filename}:${lineHere() + 5}`
  const every = Math.floor(30_000 / leaks)
  for (let i = 0; i < 30_000; i++) {
    registry.release(registry.track({ i }, { type: 'Busy' }))
    if (i % every === 0) {
      registry.track({ i }, { type: 'Leaky', id: i })
    }
  }
  return site
}

test('below about 1,000 tracks per second every report names its site', async () => {
  const reports = []
  const registry = new LeakRegistry({ onLeak: (report) => reports.push(report) })
  const site = `${__filename}:${lineHere() + 2}`
  ;(function leakAFew() {
    for (let i = 0; i < 500; i++) registry.track({ i }, { type: 'Slow', id: i })
  })()
  await eventually(() => reports.length === 500)
  assert.ok(
    reports.every((r) => r.site === site),
    'every site',
  )
  assert.deepEqual(reports.map((r) => r.count).sort((a, b) => a - b), Array.from({ length: 500 }, (_, i) => i + 1), 'exact counts')
  assert.ok(reports.every((r) => !('countEstimated' in r)))
  registry.close()
})

test("above the rate a site that keeps leaking is named, and reports without a site say '<not sampled>'", async () => {
  const reports = []
  const registry = new LeakRegistry({ onLeak: (report) => reports.push(report) })
  let site
  ;(function underLoad() {
    site = loadWithLeaks(registry, 300)
  })()
  // Named with probability 1 - (13/14)^300 > 1 - 1e-9.
  await eventually(() => reports.length === 300)
  const named = reports.filter((r) => r.site === site)
  const unnamed = reports.filter((r) => r.site === NOT_SAMPLED)
  assert.ok(named.length > 0, 'the leaking site is named')
  assert.equal(named.length + unnamed.length, reports.length, 'every report has its site or says it was not sampled')
  assert.ok(unnamed.length > named.length, `${named.length} named, ${unnamed.length} not: the sites were sampled`)
  // A sampled site stands for 14 resources (one captured at full rate for itself): the count
  // is an estimate from the first sampled one on, and says so.
  const sampledFrom = named.findIndex((r) => r.countEstimated === true)
  assert.ok(sampledFrom >= 0 && named.slice(sampledFrom).every((r) => r.countEstimated === true))
  const last = Math.max(...named.map((r) => r.count))
  assert.ok(last < 1500, `the estimate of 300 leaks from that site: ${last} (mean 300, sd 62)`)
  assert.deepEqual(
    unnamed.map((r) => r.count).sort((a, b) => a - b),
    Array.from({ length: unnamed.length }, (_, i) => i + 1),
    'reports without a site are counted exactly',
  )
  assert.ok(unnamed.every((r) => !('countEstimated' in r)))
  assert.equal(registry.stats().leaked, 300, 'stats stay exact')
  registry.close()
})

test("sites: 'all' names every site at any rate", async () => {
  const reports = []
  const registry = new LeakRegistry({ onLeak: (report) => reports.push(report), sites: 'all' })
  let site
  ;(function underLoad() {
    site = loadWithLeaks(registry, 300)
  })()
  await eventually(() => reports.length === 300)
  assert.ok(reports.every((r) => r.site === site))
  assert.equal(Math.max(...reports.map((r) => r.count)), 300)
  assert.ok(reports.every((r) => !('countEstimated' in r)))
  registry.close()
})

test('open() and the exit inventory say which sites were sampled and what they stand for', () => {
  const registry = new LeakRegistry({ onLeak() {} })
  const held = []
  busy(registry, 2000)
  for (let i = 0; i < 3000; i++) held.push(registry.track({ i }, { type: 'Held' }))
  const open = registry.open()
  assert.equal(open.length, 3000)
  const sampled = open.filter((r) => r.siteWeight !== undefined)
  assert.ok(sampled.length > 0 && sampled.every((r) => r.siteWeight === 14 && r.site.endsWith(':' + lineOf(r.site))))
  assert.ok(open.some((r) => r.site === NOT_SAMPLED))
  registry.close()

  const script = `
    const { LeakRegistry } = require(${JSON.stringify(path.join(__dirname, '..'))})
    const registry = new LeakRegistry({ onLeak() {}, reportOnExit: true, name: 'sampled' })
    for (let i = 0; i < 2000; i++) registry.release(registry.track({}))
    globalThis.held = []
    for (let i = 0; i < 3000; i++) held.push(registry.track({ i }, { type: 'Held' }))`
  const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 })
  assert.equal(result.status, 0, result.stderr)
  assert.match(result.stderr, /^ {2}\d+ x Held from <not sampled> \(oldest \d+ s\)$/m)
  assert.match(result.stderr, /^ {2}\d+ x Held from \[eval\]:\d+ \(oldest \d+ s, sites sampled: about \d+ from here\)$/m)
})

function lineOf(site) {
  return site.slice(site.lastIndexOf(':') + 1)
}
