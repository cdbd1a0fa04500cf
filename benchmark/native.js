'use strict'
// The benchmark-only natives (benchmark/native/: the boundary benchmark's three call styles and
// WeakCache's floor, `weakRef`), built on first use with cargo into target/ and loaded. They are
// never part of the package.

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const crate = path.join(__dirname, 'native')
const targetDir = path.join(__dirname, '..', 'target')
const library = { linux: 'libephemeron_bench_native.so', darwin: 'libephemeron_bench_native.dylib', win32: 'ephemeron_bench_native.dll' }[process.platform]

function load() {
  const cargo = spawnSync('cargo', ['build', '--release', '--quiet'], {
    cwd: crate,
    stdio: 'inherit',
    env: { ...process.env, CARGO_TARGET_DIR: targetDir },
  })
  if (cargo.error || cargo.status !== 0) throw new Error(`benchmark/native: cargo build failed (${cargo.error?.message ?? `exit ${cargo.status}`})`)
  // require() loads native addons by their .node extension.
  const addon = path.join(targetDir, 'release', 'ephemeron-bench-native.node')
  fs.copyFileSync(path.join(targetDir, 'release', library), addon)
  return require(addon)
}

module.exports = load()
