'use strict'
// The package as users meet it: CommonJS and ESM entry points, and a clear error when the
// native addon is missing.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const root = path.join(__dirname, '..')

test('ESM import gives the same classes as require', async () => {
  const esm = await import('ephemeron')
  const cjs = require('ephemeron')
  assert.equal(esm.IterableWeakMap, cjs.IterableWeakMap)
  assert.equal(esm.IterableWeakSet, cjs.IterableWeakSet)
  assert.equal(esm.default, cjs)
  assert.equal(typeof new esm.IterableWeakMap().set({}, 1).size, 'number')
})

test('a missing addon is reported with what to run, by require and by the demo', () => {
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'ephemeron-unbuilt-'))
  try {
    for (const file of ['package.json', 'index.js', 'binding.js']) fs.copyFileSync(path.join(root, file), path.join(copy, file))
    fs.cpSync(path.join(root, 'lib'), path.join(copy, 'lib'), { recursive: true })
    const probe = `try { require(${JSON.stringify(copy)}) } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })) }`
    const result = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8', env: { ...process.env, NAPI_RS_NATIVE_LIBRARY_PATH: '' } })
    const error = JSON.parse(result.stdout)
    assert.equal(error.code, 'ERR_EPHEMERON_NOT_BUILT')
    assert.match(error.message, /not built.*npm install/)

    // The demo says the same, in words, and exits non-zero instead of crashing.
    fs.cpSync(path.join(root, 'demo'), path.join(copy, 'demo'), { recursive: true, filter: (file) => !file.includes(`${path.sep}out`) })
    const demo = spawnSync(process.execPath, [path.join(copy, 'demo', 'index.js'), '--seconds', '1'], { encoding: 'utf8' })
    assert.equal(demo.status, 1)
    assert.match(demo.stderr, /addon could not be loaded.*\n.*not built[\s\S]*Build it first: run `npm install`/)
  } finally {
    fs.rmSync(copy, { recursive: true, force: true })
  }
})
