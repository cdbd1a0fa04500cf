'use strict'
// `npm run bench`: runs every benchmark/*.bench.js (or those named on the command line) in this
// process. Run with --expose-gc (the npm script does) for the cleanup and memory scenarios.

const fs = require('node:fs')
const path = require('node:path')
const os = require('node:os')

const only = process.argv.slice(2)
const files = fs
  .readdirSync(__dirname)
  .filter((file) => file.endsWith('.bench.js'))
  .filter((file) => only.length === 0 || only.some((name) => file.includes(name)))
  .sort()

async function main() {
  console.log(`node ${process.version}, ${os.cpus()[0].model} x${os.cpus().length}, ${os.platform()} ${os.arch()}`)
  for (const file of files) {
    console.log(`\n## ${file}`)
    // A bench file either runs when required or exports an async function to await.
    const run = require(path.join(__dirname, file))
    if (typeof run === 'function') await run()
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
