#!/usr/bin/env node
'use strict'
// Builds the native addon from source with cargo and puts it where binding.js looks for it.
// Runs on `npm install` and before `npm test`/`npm run bench`; cargo's own change tracking makes
// it a quick no-op when nothing changed. Nothing is downloaded: the binary is always built here.

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')

function platformSuffix() {
  const { platform, arch } = process
  if (platform === 'linux') {
    const musl = !process.report?.getReport().header.glibcVersionRuntime
    return `linux-${arch}-${musl ? 'musl' : 'gnu'}`
  }
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}

function libraryName() {
  if (process.platform === 'win32') return 'ephemeron.dll'
  if (process.platform === 'darwin') return 'libephemeron.dylib'
  return 'libephemeron.so'
}

const cargo = spawnSync('cargo', ['build', '--release', '--lib', '--quiet'], { cwd: root, stdio: 'inherit' })
if (cargo.error) {
  console.error(
    'ephemeron: building the native addon needs the Rust toolchain (cargo), which was not found: ' +
      `${cargo.error.message}. Install it from https://rustup.rs and run \`npm install\` again.`,
  )
  process.exit(1)
}
if (cargo.status !== 0) process.exit(cargo.status ?? 1)

const targetDir = process.env.CARGO_TARGET_DIR ? path.resolve(root, process.env.CARGO_TARGET_DIR) : path.join(root, 'target')
const built = path.join(targetDir, 'release', libraryName())
const installed = path.join(root, `ephemeron.${platformSuffix()}.node`)
const stale = !fs.existsSync(installed) || fs.statSync(installed).mtimeMs < fs.statSync(built).mtimeMs
if (stale) {
  // Copy to a temporary name and rename, so a process that has the old file loaded keeps it.
  const temporary = `${installed}.${process.pid}.tmp`
  fs.copyFileSync(built, temporary)
  fs.renameSync(temporary, installed)
}
