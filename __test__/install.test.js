'use strict'
// The package as a user installs it: the tarballs of `npm run pack:local` in a new project outside
// this repository, with no Rust toolchain on PATH, used from CommonJS and ESM; and the from-source
// fallback, which must leave no build output inside node_modules.

const { test, before } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { platformSuffix } = require('../scripts/platform.js')

const root = path.join(__dirname, '..')
const { version } = require('../package.json')
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
const platformPackage = `ephemeron-${platformSuffix()}`
const packageTarball = path.join(root, 'pack', `ephemeron-${version}.tgz`)
const platformTarball = path.join(root, 'pack', `${platformPackage}-${version}.tgz`)

/** PATH without the folders that hold cargo or rustc. */
function pathWithoutRust() {
  const hasRust = (dir) => ['cargo', 'rustc', 'cargo.exe', 'rustc.exe'].some((tool) => fs.existsSync(path.join(dir, tool)))
  return process.env.PATH.split(path.delimiter).filter((dir) => !hasRust(dir)).join(path.delimiter)
}

/** Runs a command that must succeed; returns its stdout, or stdout and stderr with `both`. */
function run(command, args, { both = false, ...options } = {}) {
  // detached: no controlling terminal, so a from-source build does not write its progress to
  // the terminal of whoever runs the tests (scripts/build.js writes to /dev/tty when it can).
  const result = spawnSync(command, args, { encoding: 'utf8', detached: true, timeout: 600_000, ...options })
  assert.equal(result.status, 0, `${command} ${args.join(' ')} exited with ${result.status}:\n${result.stdout}\n${result.stderr}`)
  return both ? result.stdout + result.stderr : result.stdout
}

function newProject() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ephemeron-user-'))
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'a-user-project', version: '1.0.0', private: true }))
  fs.writeFileSync(
    path.join(dir, 'use.cjs'),
    `const { WeakCache, IterableWeakMap } = require('ephemeron')
const cache = new WeakCache({ max: 1 }).set('a', { id: 1 })
const key = {}
const loaded = Object.keys(require.cache).find((file) => file.endsWith('.node'))
console.log(JSON.stringify({ size: cache.size + new IterableWeakMap([[key, 1]]).size, loaded }))`,
  )
  fs.writeFileSync(
    path.join(dir, 'use.mjs'),
    `import { WeakCache, LeakRegistry } from 'ephemeron'
import ephemeron from 'ephemeron'
console.log(JSON.stringify({ size: new WeakCache({ max: 1 }).set('a', {}).size, same: ephemeron.LeakRegistry === LeakRegistry }))`,
  )
  return dir
}

/** Folders inside node_modules/ephemeron that a cargo build would leave (target/ and its like). */
function buildOutputIn(dir) {
  const installed = path.join(dir, 'node_modules', 'ephemeron')
  return fs.readdirSync(installed, { recursive: true }).filter((file) => /(^|[\\/])(target|release|deps)$/.test(file))
}

before(() => {
  run(process.execPath, [path.join(root, 'scripts', 'pack-local.js')], { cwd: root })
})

test('pack:local: the package and this platform\'s package, the binary only in the latter', () => {
  const listing = (tarball) => run('tar', ['-tzf', tarball]).trim().split('\n')
  assert.deepEqual(listing(platformTarball).sort(), ['package/README.md', `package/ephemeron.${platformSuffix()}.node`, 'package/package.json'])
  const files = listing(packageTarball)
  assert.ok(files.includes('package/index.mjs') && files.includes('package/scripts/build.js') && files.includes('package/src/lib.rs'))
  assert.deepEqual(files.filter((file) => file.endsWith('.node') || file.includes('/target/')), [])
  const manifest = JSON.parse(run('tar', ['-xzOf', packageTarball, 'package/package.json']))
  assert.deepEqual(manifest.optionalDependencies, { [platformPackage]: version })
  const platformManifest = JSON.parse(run('tar', ['-xzOf', platformTarball, 'package/package.json']))
  assert.deepEqual([platformManifest.os, platformManifest.cpu], [[process.platform], [process.arch]])
})

test('a new project installs both tarballs without Rust and uses them from CommonJS and ESM', () => {
  const project = newProject()
  try {
    const env = { ...process.env, PATH: pathWithoutRust() }
    assert.ok(spawnSync('cargo', ['--version'], { env }).error, 'cargo must not be on the PATH of this test')
    // --offline: everything comes from the two tarballs; nothing is fetched.
    run(npm, ['install', '--offline', '--no-audit', '--no-fund', packageTarball, platformTarball], { cwd: project, env })

    const cjs = JSON.parse(run(process.execPath, ['use.cjs'], { cwd: project, env }))
    assert.equal(cjs.size, 2)
    assert.equal(path.relative(project, cjs.loaded), path.join('node_modules', platformPackage, `ephemeron.${platformSuffix()}.node`))
    assert.deepEqual(JSON.parse(run(process.execPath, ['use.mjs'], { cwd: project, env })), { size: 1, same: true })
    assert.deepEqual(buildOutputIn(project), [])

    // The lockfile it wrote is complete: `npm ci` reinstalls from it.
    fs.rmSync(path.join(project, 'node_modules'), { recursive: true })
    run(npm, ['ci', '--offline', '--no-audit', '--no-fund'], { cwd: project, env })
    assert.equal(JSON.parse(run(process.execPath, ['use.cjs'], { cwd: project, env })).size, 2)
  } finally {
    fs.rmSync(project, { recursive: true, force: true })
  }
})

test('with no prebuilt binary the install builds from source and leaves no build output in node_modules', () => {
  const project = newProject()
  try {
    // Only the package: its optional platform package cannot be fetched (--offline), as on a
    // platform with no prebuilt binary.
    const output = run(npm, ['install', '--offline', '--foreground-scripts', '--no-audit', '--no-fund', packageTarball], { cwd: project, both: true })
    assert.match(output, /no prebuilt binary for .* is installed; building it from source with cargo/)
    assert.equal(fs.existsSync(path.join(project, 'node_modules', platformPackage)), false)

    const cjs = JSON.parse(run(process.execPath, ['use.cjs'], { cwd: project }))
    assert.equal(cjs.size, 2)
    assert.equal(path.relative(project, cjs.loaded), path.join('node_modules', 'ephemeron', `ephemeron.${platformSuffix()}.node`))
    assert.deepEqual(buildOutputIn(project), [])
  } finally {
    fs.rmSync(project, { recursive: true, force: true })
  }
})

test('without cargo, or with one older than rust-version, the build says what to install', () => {
  const [, minimum] = /^rust-version\s*=\s*"([\d.]+)"/m.exec(fs.readFileSync(path.join(root, 'Cargo.toml'), 'utf8'))
  const build = (env) => spawnSync(process.execPath, [path.join(root, 'scripts', 'build.js')], { encoding: 'utf8', env: { ...process.env, ...env } })

  const missing = build({ PATH: pathWithoutRust() })
  assert.equal(missing.status, 1)
  assert.match(missing.stderr, new RegExp(`needs the Rust toolchain, Rust >= ${minimum}; cargo was not found .*https://rustup.rs`))

  // Debian 12's packaged cargo.
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'ephemeron-old-cargo-'))
  try {
    fs.writeFileSync(path.join(bin, 'cargo'), '#!/bin/sh\necho "cargo 0.66.0"\n', { mode: 0o755 })
    const old = build({ PATH: `${bin}${path.delimiter}${pathWithoutRust()}` })
    assert.equal(old.status, 1)
    assert.match(old.stderr, new RegExp(`Rust >= ${minimum}; found cargo 0\\.66\\.0\\. Install it from https://rustup.rs`))
  } finally {
    fs.rmSync(bin, { recursive: true, force: true })
  }
})
