#!/usr/bin/env node
'use strict'
// Runs every `__test__/**/*.test.js` spec with node's test runner under --expose-gc, one file
// at a time (GC specs measure the heap, so they must not share the machine with each other).
// Lists the files itself: `node --test <dir>` means different things on Node 20 and 22.
// `--exclude NAME.test.js` leaves a spec out (the release workflow leaves out install.test.js,
// which builds from source, when it tests a prebuilt binary).

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { parseArgs } = require('node:util')

const root = path.join(__dirname, '..', '__test__')
const { values } = parseArgs({ options: { exclude: { type: 'string', multiple: true, default: [] } } })
const files = fs
  .readdirSync(root, { recursive: true })
  .filter((file) => file.endsWith('.test.js') && !values.exclude.includes(path.basename(file)))
  .map((file) => path.join(root, file))
  .sort()
if (files.length === 0) {
  console.error('run-tests: no __test__/**/*.test.js files found')
  process.exit(1)
}
// The spec reporter: one line per test and the failures in full, on a terminal or not (TAP is the
// default without a terminal, four lines per test).
const result = spawnSync(process.execPath, ['--expose-gc', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files], { stdio: 'inherit' })
process.exit(result.status ?? 1)
