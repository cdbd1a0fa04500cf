'use strict'
// Per-object metadata you can list: an IterableWeakMap from live sockets to what the server
// knows about them. Entries disappear by themselves when a socket is garbage-collected, so the
// map can never keep a closed connection (or its buffers) alive.
//
//   node --expose-gc examples/connection-metadata.js   (--expose-gc only to show cleanup at once)

const http = require('node:http')
const { IterableWeakMap } = require('ephemeron')

const connections = new IterableWeakMap()

const server = http.createServer((request, response) => {
  const info = connections.get(request.socket)
  info.requests++
  response.end(`request ${info.requests} on this connection\n`)
})

server.on('connection', (socket) => {
  // The value references the socket (its key): WeakMap semantics still let both be collected.
  connections.set(socket, { socket, openedAt: Date.now(), requests: 0 })
})

function report(label) {
  console.log(`${label}: ${connections.size} connection(s) in the map`)
  for (const [socket, info] of connections) {
    console.log(`  ${socket.remoteAddress}:${socket.remotePort} requests=${info.requests} destroyed=${socket.destroyed}`)
  }
}

async function main() {
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  // Three clients, each with its own keep-alive connection and a few requests.
  const agents = [1, 2, 3].map(() => new http.Agent({ keepAlive: true, maxSockets: 1 }))
  for (const [i, agent] of agents.entries()) {
    for (let n = 0; n <= i; n++) {
      await new Promise((resolve, reject) =>
        http.get({ port, host: '127.0.0.1', agent }, (res) => res.resume().on('end', resolve)).on('error', reject),
      )
    }
  }
  report('while connected')

  for (const agent of agents) agent.destroy()
  server.close()
  server.closeAllConnections?.()
  await new Promise((resolve) => setTimeout(resolve, 50))
  if (typeof globalThis.gc === 'function') {
    // Only for the demonstration: a real server lets the GC run when it wants to.
    for (let i = 0; i < 5 && connections.size > 0; i++) {
      globalThis.gc()
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    report('after the sockets closed and were collected')
  } else {
    console.log('(run with --expose-gc to see the entries go once the sockets are collected)')
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
