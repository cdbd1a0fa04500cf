'use strict'
// The runnable examples and the demo run briefly here, so they can never rot.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const root = path.join(__dirname, '..')

function run(args, timeout = 60_000) {
  const result = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout })
  assert.equal(result.status, 0, `${args.join(' ')} exited with ${result.status}:\n${result.stdout}\n${result.stderr}`)
  return result.stdout
}

test('examples/connection-metadata.js: entries follow the live sockets', () => {
  const out = run(['--expose-gc', 'examples/connection-metadata.js'])
  assert.match(out, /while connected: 3 connection\(s\) in the map/)
  assert.match(out, /requests=3/)
  assert.match(out, /after the sockets closed and were collected: 0 connection\(s\) in the map/)
})

test('examples/http-cache.js: a WeakCache in front of a slow loader', () => {
  const out = run(['examples/http-cache.js'])
  const [, loads] = /500 requests for 250 products: (\d+) loads/.exec(out)
  assert.ok(Number(loads) >= 250 && Number(loads) < 500, `the second round is served from the cache at least in part (${loads} loads)`)
  assert.match(out, /pinned 100, held weakly \d+/)
})

test('examples/file-handle-leaks.js: forgotten handles become JSON lines with their opening line', () => {
  const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ephemeron-example-log-')), 'leaks.jsonl')
  const out = run(['--expose-gc', 'examples/file-handle-leaks.js', log])
  assert.match(out, /tracked 9, released 6, leaked 3/)
  const reports = fs.readFileSync(log, 'utf8').trim().split('\n').map((line) => JSON.parse(line))
  assert.equal(reports.length, 3)
  for (const report of reports) {
    assert.equal(report.type, 'FileHandle')
    assert.match(report.site, /examples\/file-handle-leaks\.js:\d+/)
  }
})

test('examples/file-handle-leaks.js without --expose-gc says what it needs instead of reporting nothing silently', () => {
  const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ephemeron-example-log-')), 'leaks.jsonl')
  const out = run(['examples/file-handle-leaks.js', log])
  assert.match(out, /run it with `node --expose-gc` to see the leaks/)
  assert.match(out, /tracked 9, released 6, leaked \d/)
})

test('npm run demo: a short run ends with the table and a report, written where --out says', () => {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ephemeron-demo-out-'))
  const out = run(['demo/index.js', '--seconds', '3', '--out', outDir], 120_000)
  assert.match(out, /strategy\s+requests\s+hit rate/)
  assert.match(out, /WeakCache \(max 2000\)/)
  const [, report] = /report: (.+\.html)/.exec(out)
  assert.equal(report, path.join(outDir, 'report.html'))
  const html = fs.readFileSync(report, 'utf8')
  assert.match(html, /<svg/)
  assert.match(html, /<meta name="viewport" content="width=device-width, initial-scale=1">/)
  assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org)/, 'self-contained: no scripts, nothing fetched at view time')
  for (const machinePath of [root, os.tmpdir()]) assert.equal(html.includes(machinePath), false, `the report shows ${machinePath}`)
})

test('npm run demo --seconds 5 (without --) is refused instead of running 30 s', () => {
  // What npm passes on for `npm run demo --seconds 5`: the flag becomes npm's own config.
  const result = spawnSync(process.execPath, ['demo/index.js', '5'], { cwd: root, encoding: 'utf8', env: { ...process.env, npm_config_seconds: 'true' } })
  assert.equal(result.status, 2)
  assert.match(result.stderr, /put `--` before them[\s\S]*usage: npm run demo -- \[--seconds N\]/)
})

test('demo report axes end on round values', () => {
  const { ticks } = require('../demo/report.js')
  assert.deepEqual(ticks(10_189), [0, 2000, 4000, 6000, 8000, 10_000, 12_000])
  assert.deepEqual(ticks(132), [0, 25, 50, 75, 100, 125, 150])
  assert.deepEqual(ticks(30), [0, 5, 10, 15, 20, 25, 30])
  assert.deepEqual(ticks(100), [0, 20, 40, 60, 80, 100])
  assert.deepEqual(ticks(3), [0, 0.5, 1, 1.5, 2, 2.5, 3])
  assert.deepEqual(ticks(0), [0, 1])
})
