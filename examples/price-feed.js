'use strict'
// A price feed whose widgets come and go. Every widget subscribes with an arrow function that
// references the widget, and some widgets are closed without unsubscribing (the classic bug).
// With EventEmitter each of those would stay alive forever, with everything it holds; with
// WeakEventEmitter they go with the next garbage collection, the live widgets keep updating, and
// the leak signal counts the ones that forgot off().
//
//   node --expose-gc examples/price-feed.js
//   (--expose-gc only so that this short script can force the collection; a server does not)

const { WeakEventEmitter } = require('ephemeron')

let signalled = 0
const feed = new WeakEventEmitter({
  // The leak signal, batched on the event loop: widgets collected while still subscribed.
  onCollect: (count) => {
    signalled += count
    console.log(`leak signal: ${count} widget(s) collected without off()`)
  },
})

class PriceWidget {
  constructor(symbol) {
    this.symbol = symbol
    this.price = undefined
    this.chart = new Float64Array(100_000) // 800 KB that a leaked widget would keep
    // No reference to the listener is kept anywhere: it lives exactly as long as the widget.
    feed.on('price', this, (s, price) => {
      if (s === this.symbol) this.price = price
    })
  }

  close() {
    feed.off('price', this) // removes all of this widget's 'price' listeners
  }
}

const SYMBOLS = ['ACME', 'GLOBEX', 'INITECH']
const dashboard = SYMBOLS.map((symbol) => new PriceWidget(symbol)) // stays open all along

/** One user session: opens popup widgets, watches a few ticks, closes them (some carelessly). */
function session(n) {
  const popups = Array.from({ length: 20 }, (_, i) => new PriceWidget(SYMBOLS[i % SYMBOLS.length]))
  for (let tick = 0; tick < 5; tick++) publish(n * 5 + tick)
  popups.forEach((widget, i) => {
    if (i % 4 !== 0) widget.close() // every fourth popup forgets to unsubscribe
  })
}

function publish(tick) {
  for (const [i, symbol] of SYMBOLS.entries()) feed.emit('price', symbol, 100 + i * 10 + (tick % 7))
}

async function main() {
  for (let n = 0; n < 10; n++) session(n)
  console.log(`after 10 sessions: ${feed.listenerCount('price')} 'price' listeners: the 3 dashboard widgets, and the popups that forgot off() and were not collected yet`)

  if (typeof globalThis.gc !== 'function') {
    console.log('(run with --expose-gc to see the forgotten popups collected now; a server lets the GC run when it wants to)')
    return
  }
  // Only for the demonstration: a real service lets the GC run when it wants to.
  for (let i = 0; i < 5 && feed.collectedOwners < 50; i++) {
    globalThis.gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
  publish(99)
  console.log(`after a GC: ${feed.listenerCount('price')} 'price' listeners; collectedOwners = ${feed.collectedOwners}`)
  console.log(`dashboard still live: ${dashboard.map((widget) => `${widget.symbol} ${widget.price}`).join(', ')}`)
  // The signal arrives on a later turn of the event loop (it does not keep a process alive).
  for (let i = 0; i < 100 && signalled < feed.collectedOwners; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  console.log(`leak signal total: ${signalled}`)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
