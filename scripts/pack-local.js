#!/usr/bin/env node
'use strict'
// `npm run pack:local`: leaves in pack/ the two tarballs a user of this platform installs, as if
// they came from the registry:
// - pack/ephemeron-<platform>-<version>.tgz: the platform package (npm/<platform>/, made by
//   `napi create-npm-dirs`) with the addon built here, release profile;
// - pack/ephemeron-<version>.tgz: the package, whose optionalDependencies name that platform package.
// The release workflow (.github/workflows/release.yml) does the same for every target with
// `napi artifacts` and `napi prepublish`, which lists all targets as optionalDependencies. Here
// only the packed one is listed: a name that is not on the registry would make `npm ci` in the
// user's project fail ("Missing: ... from lock file").

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const root = path.join(__dirname, '..')
const packDir = path.join(root, 'pack')
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'))

function run(command, args, options = {}) {
  return execFileSync(command, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], ...options })
}

/** `npm pack` of `dir` into pack/; returns the tarball's path. */
function pack(dir) {
  const [{ filename }] = JSON.parse(run(npm, ['pack', '--json', '--pack-destination', packDir, dir]))
  return path.join(packDir, filename)
}

// The addon, built from source here (a quick no-op when it is up to date).
run(process.execPath, [path.join(__dirname, 'build.js')], { stdio: 'inherit' })
const { platformSuffix } = require('./platform.js')
const suffix = platformSuffix()
const binary = `${pkg.napi.binaryName}.${suffix}.node`

fs.rmSync(packDir, { recursive: true, force: true })
fs.mkdirSync(packDir)

// The platform package: npm/<platform>/ plus the binary (npm/*/*.node is gitignored).
const platformDir = path.join(root, 'npm', suffix)
const platformPkg = JSON.parse(fs.readFileSync(path.join(platformDir, 'package.json'), 'utf8'))
if (platformPkg.version !== pkg.version) {
  throw new Error(`npm/${suffix}/package.json has version ${platformPkg.version}, package.json ${pkg.version}: run \`npx napi version\``)
}
fs.copyFileSync(path.join(root, binary), path.join(platformDir, binary))
const platformTarball = pack(platformDir)

// The package: what `npm pack` would publish, with the platform package as optional dependency.
// Staged in a temporary folder, so the checkout's package.json stays as it is.
const [{ files }] = JSON.parse(run(npm, ['pack', '--dry-run', '--json', '--ignore-scripts']))
const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'ephemeron-pack-'))
try {
  for (const { path: file } of files) {
    fs.mkdirSync(path.dirname(path.join(staging, file)), { recursive: true })
    fs.copyFileSync(path.join(root, file), path.join(staging, file))
  }
  const staged = { ...pkg, optionalDependencies: { ...pkg.optionalDependencies, [platformPkg.name]: pkg.version } }
  fs.writeFileSync(path.join(staging, 'package.json'), `${JSON.stringify(staged, null, 2)}\n`)
  const packageTarball = pack(staging)
  for (const tarball of [packageTarball, platformTarball]) console.log(path.relative(process.cwd(), tarball))
} finally {
  fs.rmSync(staging, { recursive: true, force: true })
}
