#!/usr/bin/env node
'use strict'
// `npm run test:integration`: LeakRegistry against real peers. Starts its own PostgreSQL server
// (a temporary data directory, a loopback port, an unprivileged user), runs the specs in
// __test__/integration/ with the PG* variables pointing at it, and stops it again.
//
// Needs PostgreSQL's server binaries (Debian: `apt-get install postgresql`); `npm test` does not.

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')

const root = path.join(__dirname, '..')
const specs = path.join(root, '__test__', 'integration')

/** The newest PostgreSQL server's bin directory. */
function postgresBin() {
  const candidates = []
  for (const base of ['/usr/lib/postgresql', '/usr/local/lib/postgresql']) {
    if (!fs.existsSync(base)) continue
    for (const version of fs.readdirSync(base)) candidates.push([Number(version), path.join(base, version, 'bin')])
  }
  const found = candidates.filter(([, bin]) => fs.existsSync(path.join(bin, 'postgres'))).sort((a, b) => b[0] - a[0])
  if (found.length === 0) {
    const onPath = spawnSync('sh', ['-c', 'command -v postgres'], { encoding: 'utf8' }).stdout.trim()
    if (onPath) return path.dirname(onPath)
    console.error('test:integration needs the PostgreSQL server (Debian: apt-get install postgresql)')
    process.exit(1)
  }
  return found[0][1]
}

/** A free loopback port. */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address()
      probe.close(() => resolve(port))
    })
    probe.on('error', reject)
  })
}

/** PostgreSQL refuses to run as root: run it as the `postgres` user (or `nobody`) then. */
function serverUser() {
  if (process.getuid?.() !== 0) return undefined
  for (const user of ['postgres', 'nobody']) {
    if (spawnSync('id', ['-u', user]).status === 0) return user
  }
  throw new Error('running as root, and neither a postgres nor a nobody user exists to run the server')
}

function asUser(user, command, args) {
  return user === undefined ? [command, args] : ['runuser', ['-u', user, '--', command, ...args]]
}

function run(user, command, args) {
  const [file, argv] = asUser(user, command, args)
  const result = spawnSync(file, argv, { encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`${command} failed (${result.status}):\n${result.stdout}\n${result.stderr}`)
}

async function main() {
  const bin = postgresBin()
  const user = serverUser()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ephemeron-pg-'))
  const data = path.join(dir, 'data')
  if (user !== undefined) spawnSync('chown', ['-R', user, dir])
  const port = await freePort()
  const pgCtl = path.join(bin, 'pg_ctl')
  let started = false
  try {
    run(user, path.join(bin, 'initdb'), ['-D', data, '-U', 'ephemeron', '-A', 'trust', '--no-sync', '-E', 'UTF8'])
    const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`
    run(user, pgCtl, ['start', '-D', data, '-l', path.join(dir, 'server.log'), '-o', options, '-w', '-t', '60'])
    started = true
    console.log(`PostgreSQL (${path.basename(path.dirname(bin))}) on 127.0.0.1:${port}, data in ${data}`)
    const files = fs.readdirSync(specs).filter((name) => name.endsWith('.integration.js')).map((name) => path.join(specs, name))
    const env = { ...process.env, PGHOST: '127.0.0.1', PGPORT: String(port), PGUSER: 'ephemeron', PGDATABASE: 'postgres' }
    const result = spawnSync(process.execPath, ['--expose-gc', '--test', '--test-concurrency=1', ...files], { stdio: 'inherit', cwd: root, env })
    process.exitCode = result.status ?? 1
  } finally {
    if (started) run(user, pgCtl, ['stop', '-D', data, '-m', 'fast', '-w'])
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
