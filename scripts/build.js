#!/usr/bin/env node
'use strict'
// Makes sure a native addon for this platform is there. Runs as the package's `install` script and
// before `npm test`, `npm run bench` and `npm run demo` in a checkout.
//
// - Installed as a dependency (the package sits inside node_modules): when a prebuilt binary loads
//   (the platform package `ephemeron-<platform>` from optionalDependencies), there is nothing to do.
//   Otherwise the addon is built from source with cargo, in a temporary target directory that is
//   deleted afterwards, so no build output stays in node_modules.
// - In a checkout: always `cargo build` (incremental: a quick no-op when nothing changed), into target/.
// EPHEMERON_BUILD_FROM_SOURCE=1 builds from source even when a prebuilt binary loads.
// Nothing is downloaded here but crates, by cargo.

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { platformSuffix } = require('./platform.js')

const root = path.join(__dirname, '..')
const installedAsDependency = root.split(path.sep).includes('node_modules')
// npm prepares a git dependency in a temporary clone inside its cache (`npm install` there, then
// `npm pack`) and installs the packed copy, which runs this script again: only that copy builds.
const npmCache = process.env.npm_config_cache
const inNpmGitClone = npmCache !== undefined && root.startsWith(path.join(path.resolve(npmCache), '_cacache') + path.sep)

function libraryName() {
  if (process.platform === 'win32') return 'ephemeron.dll'
  if (process.platform === 'darwin') return 'libephemeron.dylib'
  return 'libephemeron.so'
}

/** Whether the addon loads as installed (a platform package, or a binary left by an earlier build). */
function prebuiltLoads() {
  try {
    require('../lib/native.js')
    return true
  } catch {
    return false
  }
}

/**
 * Where cargo's output goes. npm shows nothing that a dependency's install script prints unless it
 * fails (or with --foreground-scripts), and a first build takes minutes: a user would stare at a
 * silent install. So a dependency build writes its progress to the terminal itself when there is one.
 */
function outputStream() {
  if (!installedAsDependency || process.env.npm_config_foreground_scripts === 'true') return 'inherit'
  try {
    return fs.openSync('/dev/tty', 'w')
  } catch {
    return 'inherit' // no terminal (CI, Windows): npm prints the output if the build fails
  }
}

function say(output, text) {
  if (output === 'inherit') console.error(text)
  else fs.writeSync(output, `${text}\n`)
}

const minimumRust = /^rust-version\s*=\s*"([\d.]+)"/m.exec(fs.readFileSync(path.join(root, 'Cargo.toml'), 'utf8'))[1]

/** Exits with a message a user can act on when cargo is missing or older than rust-version. */
function requireCargo(reason) {
  const probe = spawnSync('cargo', ['--version'], { encoding: 'utf8' })
  const version = /cargo (\d+)\.(\d+)/.exec(probe.stdout ?? '')
  const [major, minor] = minimumRust.split('.').map(Number)
  if (version && (Number(version[1]) > major || (Number(version[1]) === major && Number(version[2]) >= minor))) return
  const found = version ? `found ${probe.stdout.trim()}` : `cargo was not found (${probe.error?.message ?? probe.stderr.trim()})`
  console.error(
    `ephemeron: ${reason}. Building the native addon needs the Rust toolchain, Rust >= ${minimumRust}; ${found}. ` +
      'Install it from https://rustup.rs and run `npm install` again.',
  )
  process.exit(1)
}

function build(reason) {
  requireCargo(reason)
  const output = outputStream()
  // A dependency builds in a temporary directory (unless CARGO_TARGET_DIR says where): the
  // intermediate files are ~100 MB and are of no use once the addon is copied out.
  const temporaryTarget = installedAsDependency && !process.env.CARGO_TARGET_DIR ? fs.mkdtempSync(path.join(os.tmpdir(), 'ephemeron-build-')) : undefined
  const targetDir = temporaryTarget ?? path.resolve(root, process.env.CARGO_TARGET_DIR ?? 'target')
  try {
    if (installedAsDependency) say(output, `ephemeron: ${reason}; building it from source with cargo (a few minutes the first time)...`)
    const cargo = spawnSync('cargo', ['build', '--release', '--lib'], {
      cwd: root,
      stdio: ['ignore', output, output],
      env: { ...process.env, CARGO_TARGET_DIR: targetDir },
    })
    if (cargo.error) throw cargo.error
    if (cargo.status !== 0) process.exit(cargo.status ?? 1)
    install(path.join(targetDir, 'release', libraryName()))
    if (installedAsDependency) say(output, 'ephemeron: built the native addon.')
  } finally {
    if (typeof output === 'number') fs.closeSync(output)
    if (temporaryTarget) fs.rmSync(temporaryTarget, { recursive: true, force: true })
  }
}

/** Copies the built library to where binding.js looks first (./ephemeron.<platform>.node). */
function install(built) {
  const installed = path.join(root, `ephemeron.${platformSuffix()}.node`)
  if (fs.existsSync(installed) && fs.statSync(installed).mtimeMs >= fs.statSync(built).mtimeMs) return
  // Copy to a temporary name and rename, so a process that has the old file loaded keeps it.
  const temporary = `${installed}.${process.pid}.tmp`
  fs.copyFileSync(built, temporary)
  fs.renameSync(temporary, installed)
}

if (inNpmGitClone) console.log('ephemeron: npm is preparing a git dependency; the installed copy builds the addon')
else if (!installedAsDependency) build('a checkout of the source has no prebuilt binary')
else if (process.env.EPHEMERON_BUILD_FROM_SOURCE === '1') build('EPHEMERON_BUILD_FROM_SOURCE=1 is set')
else if (!prebuiltLoads()) build(`no prebuilt binary for ${platformSuffix()} is installed`)
