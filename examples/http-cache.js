'use strict'
// A WeakCache in front of a slow loader, in an HTTP server.
//
// The 100 most recently used products are pinned. Older ones stay cached for as long as anything
// else in the process still holds them (here: the "recently viewed" list of open sessions), and
// are returned as the very same object, so nothing is loaded or built twice while it is alive.
// When the GC takes one, its entry goes away and `dispose` is told why ('collect').
//
//   node examples/http-cache.js            a short scripted run that prints what happened
//   node examples/http-cache.js --serve    keeps serving on http://127.0.0.1:3000/product/42

const http = require('node:http')
const { WeakCache } = require('ephemeron')

const removals = { evict: 0, set: 0, delete: 0, expire: 0, collect: 0 }
const products = new WeakCache({
  max: 100, // strongly pinned, most recently used first
  ttl: 60_000, // and never older than a minute
  dispose: (value, key, reason) => removals[reason]++,
})

let loads = 0
async function loadProduct(id) {
  loads++
  await new Promise((resolve) => setTimeout(resolve, 5)) // a slow database
  return { id, name: `product ${id}`, price: (id * 7) % 100 }
}

async function getProduct(id) {
  let product = products.get(id)
  if (product === undefined) {
    product = await loadProduct(id)
    products.set(id, product)
  }
  return product
}

// Sessions keep what their user looked at: those objects stay alive, so they stay cached.
const recentlyViewed = []

const server = http.createServer(async (request, response) => {
  const match = /^\/product\/(\d+)$/.exec(request.url)
  if (!match) {
    response.writeHead(404).end()
    return
  }
  const product = await getProduct(Number(match[1]))
  recentlyViewed.push(product)
  if (recentlyViewed.length > 300) recentlyViewed.shift()
  response.setHeader('content-type', 'application/json')
  response.end(JSON.stringify(product))
})

async function scriptedRun() {
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${server.address().port}`
  for (let round = 0; round < 2; round++) {
    for (let id = 0; id < 250; id++) await (await fetch(`${base}/product/${id}`)).json()
  }
  const stats = products.stats()
  console.log(`500 requests for 250 products: ${loads} loads`)
  console.log(`pinned ${stats.pinned}, held weakly ${stats.weak}, hits ${stats.hits}, weak hits ${stats.weakHits}, misses ${stats.misses}`)
  console.log(`removals so far: ${JSON.stringify(removals)}`)
  server.close()
}

if (process.argv.includes('--serve')) {
  server.listen(3000, '127.0.0.1', () => console.log('serving http://127.0.0.1:3000/product/42'))
} else {
  scriptedRun().catch((error) => {
    console.error(error)
    process.exit(1)
  })
}
