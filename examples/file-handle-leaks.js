'use strict'
// Leak logging for file handles: every handle opened through the registry that is garbage-
// collected without close() becomes one JSON line saying what it was, where it was opened and
// how long it lived. Node's own warning for the same handle only names the file descriptor.
//
//   node --expose-gc examples/file-handle-leaks.js [leaks.jsonl]
//   (--expose-gc only so that this short script can force the collection; a server does not)

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { LeakRegistry } = require('ephemeron')

const logPath = process.argv[2] ?? path.join(os.tmpdir(), `ephemeron-leaks-${process.pid}.jsonl`)
const registry = new LeakRegistry({ log: logPath }) // JSON lines, written off the event loop

async function appendAudit(dir, n) {
  const handle = await registry.openFile(path.join(dir, `audit-${n}.log`), 'a')
  await handle.write(`entry ${n}\n`)
  if (n % 3 === 0) return // the bug: this path forgets handle.close()
  await handle.close()
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ephemeron-example-'))
  for (let n = 1; n <= 9; n++) await appendAudit(dir, n)
  console.log('open handles right now:', registry.open().map((r) => `${r.type} fd ${r.id} from ${r.site}`))

  if (typeof globalThis.gc === 'function') {
    for (let i = 0; i < 20 && registry.stats().leaked < 3; i++) {
      globalThis.gc()
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  } else {
    // A leak is reported when the GC collects the forgotten handle. A service collects all the
    // time; this script ends before it needs to, so nothing would be reported.
    console.log('run it with `node --expose-gc` to see the leaks: this short script ends before a garbage collection finds them')
  }
  registry.close() // flushes the log
  const stats = registry.stats()
  console.log(`tracked ${stats.tracked}, released ${stats.released}, leaked ${stats.leaked}`)
  if (fs.existsSync(logPath)) {
    console.log(`${logPath}:`)
    for (const line of fs.readFileSync(logPath, 'utf8').trim().split('\n').filter(Boolean)) {
      const report = JSON.parse(line)
      console.log(`  ${report.type} fd ${report.id} opened at ${report.site}, lived ${report.ageMs} ms`)
    }
  }
  fs.rmSync(dir, { recursive: true, force: true })
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
