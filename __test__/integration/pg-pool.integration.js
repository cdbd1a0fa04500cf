'use strict'
// LeakRegistry with node-postgres against a real PostgreSQL server, and with real sockets: the
// leaks the GC never sees (a checked-out pool client is held by its pool, an open socket by the
// event loop) are found by `suspectAfter`. Run by `npm run test:integration`, which starts the
// server and sets PGHOST/PGPORT/PGUSER.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const net = require('node:net')
const path = require('node:path')
const { once } = require('node:events')
const { spawnSync } = require('node:child_process')
const { Pool } = require('pg')
const { LeakRegistry } = require('../..')
const { eventually } = require('../helpers/gc.js')

const root = path.join(__dirname, '..', '..')
const example = path.join(root, 'examples', 'pg-pool-leaks.js')
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

test('examples/pg-pool-leaks.js: the handler that forgets client.release() is suspected within suspectAfter, at its pool.connect() line', () => {
  const suspectAfter = 1000
  const result = spawnSync(process.execPath, [example, String(suspectAfter)], { cwd: root, encoding: 'utf8', timeout: 60_000 })
  assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`)
  assert.match(result.stdout, /requests done; 1 client\(s\) still checked out/)
  const report = JSON.parse(result.stdout.trim().split('\n').at(-1))
  const source = fs.readFileSync(example, 'utf8').split('\n')
  const forgetful = source.findIndex((line) => line.includes("request.url === '/report'")) + 2
  assert.match(source[forgetful - 1], /leaks\.track\(await pool\.connect\(\)/)
  assert.equal(report.kind, 'suspected')
  assert.equal(report.type, 'pg.PoolClient')
  assert.equal(report.site, `${example}:${forgetful}`, 'the line that checked the client out')
  assert.ok(report.ageMs >= suspectAfter && report.ageMs < suspectAfter + 1000, `reported after ${report.ageMs} ms`)
  assert.equal(result.stdout.match(/^suspected: /gm).length, 1, 'the five released clients are never suspected')
})

test('a pool client held past suspectAfter is suspected, and released later it gets a released report', async () => {
  const reports = []
  const leaks = new LeakRegistry({ suspectAfter: 300, onLeak: (report) => reports.push(report) })
  const pool = new Pool({ max: 2 })
  pool.on('release', (_error, client) => leaks.release(client))
  try {
    const quick = leaks.track(await pool.connect(), { type: 'pg.PoolClient', id: 'quick' })
    await quick.query('select 1')
    quick.release()
    const slow = leaks.track(await pool.connect(), { type: 'pg.PoolClient', id: 'slow' })
    await slow.query('select pg_sleep(0.5)')
    await eventually(() => reports.length === 1, { message: 'no suspected report' })
    assert.deepEqual([reports[0].kind, reports[0].id], ['suspected', 'slow'])
    slow.release()
    await eventually(() => reports.length === 2)
    assert.deepEqual([reports[1].kind, reports[1].id], ['released', 'slow'])
    assert.ok(reports[1].ageMs >= 500)
    assert.deepEqual(leaks.stats().byType['pg.PoolClient'], { tracked: 2, live: 0, released: 2, leaked: 0, suspected: 1 })
  } finally {
    await pool.end()
    leaks.close()
  }
})

test('a socket that is never destroyed is suspected; destroying it releases it', async () => {
  const reports = []
  const leaks = new LeakRegistry({ suspectAfter: 200, onLeak: (report) => reports.push(report) })
  const server = net.createServer((socket) => socket.on('error', () => {}))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address()
  const track = (socket, id) => {
    leaks.track(socket, { type: 'net.Socket', id, label: `127.0.0.1:${port}` })
    socket.once('close', () => leaks.release(socket))
    return socket
  }
  try {
    const closed = track(net.connect(port, '127.0.0.1'), 'closed')
    await once(closed, 'connect')
    closed.destroy()
    const forgotten = track(net.connect(port, '127.0.0.1'), 'forgotten')
    await once(forgotten, 'connect')
    await sleep(250)
    await eventually(() => reports.length === 1, { message: 'no suspected report' })
    assert.deepEqual([reports[0].kind, reports[0].type, reports[0].id], ['suspected', 'net.Socket', 'forgotten'])
    assert.deepEqual(
      leaks.open().map((r) => [r.id, r.suspected]),
      [['forgotten', true]],
    )
    forgotten.destroy()
    await eventually(() => reports.length === 2)
    assert.deepEqual([reports[1].kind, reports[1].id], ['released', 'forgotten'])
  } finally {
    server.close()
    leaks.close()
  }
})
