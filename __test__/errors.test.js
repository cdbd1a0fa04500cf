'use strict'
// One list of error and warning codes (lib/errors.js), the same in the README, and every code
// the sources use is on it.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { CODES, describe, describeThrown, warn } = require('../lib/errors.js')
const { captureWarnings } = require('./helpers/warnings.js')

const root = path.join(__dirname, '..')

test("the README's table of codes is lib/errors.js's list", () => {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('## Errors and warnings'))
  const rows = [...section.slice(0, section.indexOf('\n## ')).matchAll(/^\| `(\w+)` \| `?(\w+)`? \| (.+) \|$/gm)]
  assert.deepEqual(
    rows.map(([, code, kind, meaning]) => [code, kind, meaning]),
    Object.entries(CODES).map(([code, entry]) => [code, entry.class, entry.meaning]),
  )
})

test('every code the sources throw or warn with is on the list', () => {
  const sources = ['lib', 'src', 'src/core'].flatMap((dir) =>
    fs
      .readdirSync(path.join(root, dir))
      .filter((file) => /\.(js|rs)$/.test(file))
      .map((file) => fs.readFileSync(path.join(root, dir, file), 'utf8')),
  )
  const used = new Set(sources.flatMap((text) => [...text.matchAll(/['"`](ERR_[A-Z_]+)['"`]/g)].map((match) => match[1])))
  assert.ok(used.size >= 10, `found ${used.size} codes in the sources`)
  for (const code of used) assert.ok(code in CODES, `${code} is used but not listed`)
})

test('describe never runs user code; describeThrown never throws', async () => {
  let ran = 0
  const trap = () => {
    ran++
    throw new Error('trap ran')
  }
  const hostile = new Proxy({}, { get: trap, getPrototypeOf: trap, ownKeys: trap, getOwnPropertyDescriptor: trap, has: trap })
  const { proxy: revoked, revoke } = Proxy.revocable({}, {})
  revoke()
  const getters = Object.create(null, { constructor: { get: trap }, stack: { get: trap }, message: { get: trap } })
  const values = [hostile, revoked, getters, Object.create(null), undefined, null, -0, 1n, Symbol('s'), 'x'.repeat(100)]
  for (const value of values) assert.equal(typeof describe(value), 'string')
  assert.equal(ran, 0, 'describe ran no trap and no getter')
  for (const value of values) assert.equal(typeof describeThrown(value), 'string')
  assert.equal(ran, 2, "describeThrown read the thrown object's stack and message (both getters threw)")
  assert.equal(describe(undefined), 'undefined', 'never "undefined undefined"')
  assert.equal(describe(hostile), 'a Proxy')
  const warnings = await captureWarnings(() => assert.doesNotThrow(() => warn('TestWarning', 'ERR_EPHEMERON_INTERNAL', 'a test warning', revoked)))
  assert.deepEqual(
    warnings.map(({ type, code, message, detail }) => [type, code, message, detail]),
    [['TestWarning', 'ERR_EPHEMERON_INTERNAL', 'a test warning', 'a Proxy was thrown']],
  )
})
