'use strict'
// An HTTP service for the LeakRegistry benchmarks (forked by leak-service.bench.js and
// leak-file-handle.bench.js): each request opens a file, reads 1 KB of it and closes it; with a
// registry the file is opened through `openFile` and each connection's socket is tracked until it
// closes. `node leak-service.js <mode>`, mode:
//   off         no registry: fs.promises.open, nothing tracked
//   default     LeakRegistry with default options
//   sites-all   LeakRegistry({ sites: 'all' })
//   stacks-off  LeakRegistry({ stacks: 'off' })
// It tells its parent its port over IPC, answers 'start' / 'stop' with the CPU time it spent in
// between and its registry's stats, and exits on 'exit'.

const http = require('node:http')
const fsp = require('node:fs/promises')
const { LeakRegistry } = require('..')

const FILE = __filename
const mode = process.argv[2]
const OPTIONS = { default: {}, 'sites-all': { sites: 'all' }, 'stacks-off': { stacks: 'off' } }
if (mode !== 'off' && OPTIONS[mode] === undefined) throw new Error(`leak-service.js: unknown mode ${mode}`)
const registry = mode === 'off' ? undefined : new LeakRegistry({ log: '/dev/null', ...OPTIONS[mode] })

const open = registry === undefined ? (file) => fsp.open(file) : (file) => registry.openFile(file)

const server = http.createServer(async (request, response) => {
  const handle = await open(FILE)
  try {
    const buffer = Buffer.allocUnsafe(1024)
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0)
    response.end(buffer.subarray(0, bytesRead))
  } finally {
    await handle.close()
  }
})

if (registry !== undefined) {
  server.on('connection', (socket) => {
    registry.track(socket, { type: 'Socket', label: `${socket.remoteAddress}:${socket.remotePort}` })
    socket.once('close', () => registry.release(socket))
  })
}

let started
process.on('message', (message) => {
  if (message === 'start') started = process.cpuUsage()
  if (message === 'stop') {
    const { user, system } = process.cpuUsage(started)
    process.send({ cpuMicros: user + system, stats: registry?.stats() })
  }
  if (message === 'exit') process.exit(0) // (a normal exit: --cpu-prof writes its profile)
})
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }))
