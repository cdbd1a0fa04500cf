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

test('examples/opentelemetry-service.js: reports with their request as OpenTelemetry log records, and the metrics', () => {
  const result = spawnSync(process.execPath, ['--expose-gc', 'examples/opentelemetry-service.js'], { cwd: root, encoding: 'utf8', timeout: 60_000 })
  assert.equal(result.status, 0, result.stderr)
  const out = result.stdout
  assert.match(out, /GET \/export: 2 orders/)
  assert.match(out, /LeakRegistry: tracked 2, released 1, leaked 1, suspected 1/)
  // The log records, as the SDK's console exporter prints them.
  const records = out.split(/\n(?=\{\n)/).filter((chunk) => chunk.includes("eventName: 'ephemeron.leak'"))
  assert.equal(records.length, 3)
  const leaked = records.find((record) => record.includes("body: 'leaked: FileHandle"))
  assert.match(leaked, /severityText: 'WARN'/)
  assert.match(leaked, /'code\.file\.path': '[^']*examples\/opentelemetry-service\.js',\s+'code\.line\.number': \d+/)
  assert.match(leaked, /'ephemeron\.context\.requestId': 'req-4',\s+'ephemeron\.context\.route': '\/export'/)
  const suspected = records.find((record) => record.includes("body: 'suspected: net.Socket"))
  assert.match(suspected, /severityText: 'WARN'/)
  assert.match(suspected, /'ephemeron\.context\.requestId': 'req-5'/)
  const released = records.find((record) => record.includes("body: 'released: net.Socket"))
  assert.match(released, /severityText: 'INFO'/)
  // The metrics, one series a line.
  assert.match(out, /^ephemeron\.leak\.reports\{ephemeron\.leak\.kind=leaked,ephemeron\.resource\.type=FileHandle\} 1$/m)
  assert.match(out, /^ephemeron\.leak\.reports\{ephemeron\.leak\.kind=suspected,ephemeron\.resource\.type=net\.Socket\} 1$/m)
  assert.match(out, /^ephemeron\.cache\.lookups\{ephemeron\.cache\.name=pages,ephemeron\.cache\.lookup\.result=hit\} 1$/m)
  assert.match(out, /^ephemeron\.cache\.lookups\{ephemeron\.cache\.name=pages,ephemeron\.cache\.lookup\.result=miss\} 2$/m)
  // What the one instance logs: the same three reports as JSON lines, with the request.
  const lines = result.stderr.trim().split('\n').map((line) => JSON.parse(line))
  assert.deepEqual(lines.map((report) => [report.kind, report.type, report.context?.requestId]).sort(), [
    ['leaked', 'FileHandle', 'req-4'],
    ['released', 'net.Socket', 'req-5'],
    ['suspected', 'net.Socket', 'req-5'],
  ])
})

test('examples/opentelemetry-service.js without --expose-gc runs to its end and says what the flag would show', () => {
  const out = run(['examples/opentelemetry-service.js'])
  assert.match(out, /run with --expose-gc to see the forgotten file reported now/)
  assert.match(out, /LeakRegistry: tracked 2, released 1, leaked \d, suspected 1/)
})

test('examples/price-feed.js: forgotten widgets are collected and counted, live ones keep updating', () => {
  const out = run(['--expose-gc', 'examples/price-feed.js'])
  assert.match(out, /after a GC: 3 'price' listeners; collectedOwners = 50\n/)
  assert.match(out, /dashboard still live: ACME 101, GLOBEX 111, INITECH 121/)
  const batches = [...out.matchAll(/leak signal: (\d+) widget\(s\) collected without off\(\)/g)].map((match) => Number(match[1]))
  assert.ok(batches.length >= 1)
  assert.equal(batches.reduce((a, b) => a + b, 0), 50, 'each forgotten widget signalled once')
  assert.match(out, /leak signal total: 50\n/)
})

test('examples/price-feed.js without --expose-gc runs and says what the flag would show', () => {
  const out = run(['examples/price-feed.js'])
  assert.match(out, /after 10 sessions: \d+ 'price' listeners/)
  assert.match(out, /run with --expose-gc to see the forgotten popups collected now/)
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
