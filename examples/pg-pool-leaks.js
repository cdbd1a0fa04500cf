'use strict'
// Leaks the GC never sees: a request handler that forgets `client.release()` never lets its pool
// client go (the pool holds it, checked out, forever), so no collection can report it. With
// `suspectAfter`, a client still checked out after that long is reported as 'suspected', with
// the line that called `pool.connect()`; if it is released later, a 'released' report follows.
// (HikariCP calls this leakDetectionThreshold.)
//
//   PGHOST=127.0.0.1 PGPORT=5432 PGUSER=postgres node examples/pg-pool-leaks.js [suspectAfterMs]
//
// node-postgres reads the connection from the usual PG* environment variables.
// `npm run test:integration` runs it against a PostgreSQL server it starts itself.

const http = require('node:http')
const { Pool } = require('pg')
const { LeakRegistry } = require('ephemeron')

const suspectAfter = Number(process.argv[2] ?? 2000)

const leaks = new LeakRegistry({
  suspectAfter, // a client checked out longer than this is suspected
  onLeak(report) {
    console.log(`${report.kind}: ${report.type} ${report.label} from ${report.site}, held ${report.ageMs} ms`)
    if (report.kind === 'suspected') suspectedReport.resolve(report)
  },
})

const pool = new Pool({ max: 4 })
const clientInfo = { type: 'pg.PoolClient', label: `${pool.options.host ?? 'localhost'}:${pool.options.port ?? 5432}` }
// Track each client on the line that checks it out (that line is the report's site), and
// release it wherever the pool gets it back.
pool.on('release', (_error, client) => leaks.release(client))

async function handle(request) {
  if (request.url === '/time') {
    const client = leaks.track(await pool.connect(), clientInfo)
    try {
      return (await client.query('select now() as now')).rows[0].now
    } finally {
      client.release()
    }
  }
  if (request.url === '/report') {
    const client = leaks.track(await pool.connect(), clientInfo)
    const { rows } = await client.query('select count(*)::int as n from pg_stat_activity')
    return rows[0].n // the bug: this path forgets client.release()
  }
  return 'not found'
}

const server = http.createServer((request, response) => {
  handle(request).then(
    (body) => response.end(String(body)),
    (error) => {
      response.statusCode = 500
      response.end(error.message)
    },
  )
})

const suspectedReport = {}
suspectedReport.promise = new Promise((resolve) => (suspectedReport.resolve = resolve))

async function get(path) {
  const { port } = server.address()
  const response = await fetch(`http://127.0.0.1:${port}${path}`)
  const body = await response.text()
  if (!response.ok) throw new Error(`${path}: ${body} (is PostgreSQL reachable through the PG* environment variables?)`)
  return body
}

server.listen(0, '127.0.0.1', async () => {
  try {
    for (let i = 0; i < 5; i++) await get('/time')
    await get('/report')
    console.log(`requests done; ${leaks.stats().live} client(s) still checked out`)
    const report = await suspectedReport.promise
    console.log(JSON.stringify(report))
  } catch (error) {
    console.error(error)
    process.exitCode = 1
  } finally {
    // The leaked client is lost to the code, so the pool could never end: exit instead.
    server.close()
    process.exit()
  }
})
