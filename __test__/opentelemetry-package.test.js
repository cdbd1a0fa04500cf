'use strict'
// ephemeron/opentelemetry as an installed package meets it: the OpenTelemetry API packages are
// optional peer dependencies, so each spec installs ephemeron into a new folder's node_modules
// with only the peers it is about, and runs a child process there.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const root = path.join(__dirname, '..')
const { files } = require('../package.json')

/** A project folder with ephemeron (built) and the given packages of this checkout in node_modules. */
function project(peers) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ephemeron-otel-peers-'))
  const installed = path.join(dir, 'node_modules', 'ephemeron')
  fs.mkdirSync(installed, { recursive: true })
  const shipped = ['package.json', ...files.filter((file) => /\.(js|mjs|d\.ts)$/.test(file) || file === 'lib/'), ...fs.readdirSync(root).filter((file) => file.endsWith('.node'))]
  for (const file of shipped) fs.cpSync(path.join(root, file), path.join(installed, file), { recursive: true })
  for (const peer of peers) fs.cpSync(path.join(root, 'node_modules', peer), path.join(dir, 'node_modules', peer), { recursive: true })
  return dir
}

function run(dir, args) {
  const result = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8', env: { ...process.env, NODE_PATH: '' } })
  assert.equal(result.status, 0, `${args.join(' ')}:\n${result.stdout}\n${result.stderr}`)
  return JSON.parse(result.stdout)
}

const probe = (code) => `try { ${code} } catch (error) { console.log(JSON.stringify({ code: error.code, name: error.name, message: error.message })) }`

test("require('ephemeron') never loads OpenTelemetry, and works without it", () => {
  const dir = project([])
  try {
    const loaded = run(dir, ['-e', "const { WeakCache } = require('ephemeron'); new WeakCache({ max: 1 }); console.log(JSON.stringify(Object.keys(require.cache).filter((file) => file.includes('opentelemetry'))))"])
    assert.deepEqual(loaded, [])
    // The same in this checkout, where the API packages are installed: still not loaded.
    const here = run(root, ['-e', "require('ephemeron'); console.log(JSON.stringify(Object.keys(require.cache).filter((file) => file.includes('opentelemetry'))))"])
    assert.deepEqual(here, [])
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('without @opentelemetry/api, the subpath throws ERR_EPHEMERON_OPENTELEMETRY_MISSING saying what to install (require and import)', () => {
  const dir = project([])
  try {
    const required = run(dir, ['-e', probe("require('ephemeron/opentelemetry'); console.log('{}')")])
    assert.equal(required.code, 'ERR_EPHEMERON_OPENTELEMETRY_MISSING')
    assert.equal(required.name, 'Error')
    assert.match(required.message, /@opentelemetry\/api is not installed; it is an optional peer dependency of ephemeron: install it in your project \(npm install @opentelemetry\/api\)/)
    // What a service's top-level import shows: the error, with its code, ends the process.
    const imported = spawnSync(process.execPath, ['--input-type=module', '-e', "import 'ephemeron/opentelemetry'"], { cwd: dir, encoding: 'utf8' })
    assert.equal(imported.status, 1)
    assert.match(imported.stderr, /@opentelemetry\/api is not installed[\s\S]*code: 'ERR_EPHEMERON_OPENTELEMETRY_MISSING'/)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('@opentelemetry/api < 1.10 without api-logs: metrics work; log records need api-logs or a loggerProvider', () => {
  const dir = project(['@opentelemetry/api'])
  try {
    const logs = run(dir, ['-e', probe("require('ephemeron/opentelemetry').instrument(); console.log('{}')")])
    assert.equal(logs.code, 'ERR_EPHEMERON_OPENTELEMETRY_MISSING')
    assert.match(logs.message, /@opentelemetry\/api-logs is not installed, and @opentelemetry\/api is older than 1\.10 .*or pass loggerProvider, or logs: false/)
    const metricsOnly = run(dir, ['-e', "const t = require('ephemeron/opentelemetry').instrument({ logs: false }); t.close(); console.log(JSON.stringify({ closed: t.closed }))"])
    assert.deepEqual(metricsOnly, { closed: true })
    const ownProvider = run(dir, ['-e', "const t = require('ephemeron/opentelemetry').instrument({ loggerProvider: { getLogger: () => ({ emit() {} }) } }); t.close(); console.log(JSON.stringify({ closed: t.closed }))"])
    assert.deepEqual(ownProvider, { closed: true })
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('with @opentelemetry/api and api-logs: the global providers by default, from CommonJS and ESM', () => {
  const dir = project(['@opentelemetry/api', '@opentelemetry/api-logs'])
  try {
    const script = `
      import { instrument } from 'ephemeron/opentelemetry'
      import otel from 'ephemeron/opentelemetry'
      import { createRequire } from 'node:module'
      const require = createRequire(import.meta.url)
      const { logs } = require('@opentelemetry/api-logs')
      const emitted = []
      logs.setGlobalLoggerProvider({ getLogger: () => ({ emit: (record) => emitted.push(record) }) })
      const telemetry = instrument()
      require('node:diagnostics_channel').channel('ephemeron:leak').publish({ kind: 'released', type: 'T', id: 1, label: null, info: null, site: '/a.js:1', trackedAt: 0, ageMs: 5, count: 1, pid: 1, threadId: 0 })
      telemetry.close()
      console.log(JSON.stringify({ same: otel.instrument === instrument && otel === require('ephemeron/opentelemetry'), emitted: emitted.map((r) => [r.severityText, r.body]) }))
    `
    assert.deepEqual(run(dir, ['--input-type=module', '-e', script]), { same: true, emitted: [['INFO', 'released: T 1 from /a.js:1, released after 5 ms']] })
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
