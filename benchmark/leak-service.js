'use strict'
// An HTTP service that opens, reads and closes one FileHandle per request, with plain
// fs.promises.open (`plain`) or through LeakRegistry.openFile (`sample`: default options, or
// `off`: stacks 'off'). Forked by leak-file-handle.js, which asks it (over IPC) for the CPU
// time it spent between 'start' and 'stop'.

const http = require('node:http')
const fsp = require('node:fs/promises')
const { LeakRegistry } = require('..')

const FILE = __filename
const mode = process.argv[2]
const registry = mode === 'plain' ? undefined : new LeakRegistry({ log: '/dev/null', stacks: mode })
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

let started
process.on('message', (message) => {
  if (message === 'start') started = process.cpuUsage()
  if (message === 'stop') {
    const { user, system } = process.cpuUsage(started)
    process.send({ cpuMicros: user + system, stats: registry?.stats() })
  }
})
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }))
