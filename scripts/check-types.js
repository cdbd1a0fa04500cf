#!/usr/bin/env node
'use strict'
// `npm test`'s type check: __test__/types (typed usage of the public API, as a user's project
// writes it) with the TypeScript users install today (7, the `typescript` devDependency) and with
// 5.x (the `typescript5` alias), both --strict. Nothing is emitted.

const { spawnSync } = require('node:child_process')
const path = require('node:path')
const { typeScripts } = require('./typescripts.js')

const project = path.join(__dirname, '..', '__test__', 'types')
let failed = false
for (const { version, tsc } of typeScripts()) {
  const result = spawnSync(process.execPath, [tsc, '-p', project], { stdio: 'inherit' })
  console.log(`tsc ${version} -p __test__/types: ${result.status === 0 ? 'ok' : 'failed'}`)
  failed ||= result.status !== 0
}
process.exit(failed ? 1 : 0)
