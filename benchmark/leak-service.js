'use strict'
// An HTTP service that opens, reads and closes one FileHandle per request, with plain
// fs.promises.open (`plain`) or tracked by the FileHandle helper (`sample`: default options, or
// `off`: stacks 'off'). Forked by leak-file-handle.js, which asks it (over IPC) for the CPU
// time it spent between 'start' and 'stop', and for the time spent inside trackFileHandle.

const http = require('node:http')
const fsp = require('node:fs/promises')
const { performance } = require('node:perf_hooks')
const { LeakRegistry } = require('..')

const FILE = __filename
const mode = process.argv[2]
const registry = mode === 'plain' ? undefined : new LeakRegistry({ log: '/dev/null', stacks: mode })
let trackMs = 0
let tracked = 0
// trackFileHandle is the synchronous half of openFile: timing it shows what the helper costs
// inside a request (the release on 'close' adds about 1 µs).
async function open(file) {
  const handle = await fsp.open(file)
  if (registry === undefined) return handle
  const start = performance.now()
  const guarded = registry.trackFileHandle(handle, file)
  trackMs += performance.now() - start
  tracked++
  return guarded
}

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

let started
process.on('message', (message) => {
  if (message === 'start') {
    started = process.cpuUsage()
    trackMs = tracked = 0
  }
  if (message === 'stop') {
    const { user, system } = process.cpuUsage(started)
    process.send({ cpuMicros: user + system, stats: registry?.stats(), trackMicros: tracked && (trackMs * 1000) / tracked })
  }
})
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }))
