'use strict'
// Resources alive at process exit or worker termination are not leaks; reportOnExit prints the
// inventory. Each case runs in a child process, so a crash at exit is a failure, not a lost runner.

const test = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const fixtures = path.join(__dirname, 'fixtures')
const child = path.join(fixtures, 'leak-registry-child.js')

function run(script, mode) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ephemeron-exit-'))
  const log = path.join(dir, 'leaks.jsonl')
  const result = spawnSync(process.execPath, ['--expose-gc', script, mode, log], { encoding: 'utf8', timeout: 120_000 })
  const logLines = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line)) : []
  fs.rmSync(dir, { recursive: true, force: true })
  return { ...result, logLines, reported: result.stdout.split('\n').filter((line) => line.startsWith('LEAK ')) }
}

function assertOnlyTheControlLeak(result) {
  assert.equal(result.status, 0, `exit code ${result.status}, signal ${result.signal}\n${result.stderr}`)
  assert.match(result.stdout, /^HOLDING$/m, 'the child got as far as holding its resources')
  assert.deepEqual(result.reported, ['LEAK control'], 'the real leak is reported; live resources are not')
  assert.deepEqual(
    result.logLines.map((report) => report.id),
    ['control'],
  )
}

for (const mode of ['natural', 'exit']) {
  test(`no false leaks when the process ends with live resources (${mode})`, () => {
    assertOnlyTheControlLeak(run(child, mode))
  })
}

test('no false leaks and no crash when a worker holding resources is terminated', () => {
  const result = run(path.join(fixtures, 'leak-registry-worker-driver.js'), 'worker-hold')
  assertOnlyTheControlLeak(result)
  assert.match(result.stdout, /^TERMINATED$/m)
})

test('no crash when a worker is terminated in the middle of track/release calls', () => {
  const result = run(path.join(fixtures, 'leak-registry-worker-driver.js'), 'worker-busy')
  assertOnlyTheControlLeak(result)
  assert.match(result.stdout, /^TERMINATED$/m)
})

/** The inventory's lines: its header, then per site a group line and the ids listed under it. */
function inventoryOf(stderr) {
  return stderr.split('\n').filter((line) => line.startsWith('ephemeron') || line.startsWith('  '))
}

test('reportOnExit prints the still-open resources grouped by site, with their ids and labels', () => {
  const result = run(child, 'inventory')
  assert.equal(result.status, 0, result.stderr)
  assert.deepEqual(result.reported, ['LEAK control'])
  const source = fs.readFileSync(child, 'utf8').split('\n')
  const lineOf = (text) => source.findIndex((line) => line.includes(text)) + 1
  const inventory = inventoryOf(result.stderr)
  assert.match(inventory[0], /^ephemeron LeakRegistry "inventory" \(pid \d+, thread 0\): 503 tracked resource\(s\) still open at exit$/)
  assert.match(inventory[1], new RegExp(`^  500 x Held from .*leak-registry-child\\.js:${lineOf("type: 'Held'")} \\(oldest \\d+ s\\)$`))
  assert.deepEqual(inventory.slice(2, 8), ['      "held-0"', '      "held-1"', '      "held-2"', '      "held-3"', '      "held-4"', '      ... and 495 more'])
  assert.match(inventory[8], new RegExp(`^  2 x Thing from .*leak-registry-child\\.js:${lineOf('new Set()')} `))
  assert.match(inventory[9], /^ {6}\d+$/, 'without info.id, the registry\'s own id')
  assert.match(inventory[10], /^ {6}\d+$/)
  assert.match(inventory[11], new RegExp(`^  1 x Thing from .*leak-registry-child\\.js:${lineOf('new Map()')} `))
  assert.match(inventory[12], /^ {6}\d+$/)
  assert.equal(inventory.length, 13)
})

test('reportOnExit in a worker prints its inventory, with its thread id, when the worker ends', () => {
  const result = run(path.join(fixtures, 'leak-registry-worker-driver.js'), 'worker-inventory')
  assertOnlyTheControlLeak(result)
  assert.match(result.stdout, /^TERMINATED$/m)
  const inventory = inventoryOf(result.stderr)
  assert.match(inventory[0], /^ephemeron LeakRegistry "worker-inventory" \(pid \d+, thread [1-9]\d*\): 503 tracked resource\(s\) still open at exit$/)
  assert.match(inventory[1], /^  500 x Held from .*leak-registry-child\.js:\d+ /)
  assert.equal(inventory.filter((line) => /^  \d+ x /.test(line)).length, 3)
})
