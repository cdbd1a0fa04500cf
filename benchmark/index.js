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

console.log(`node ${process.version}, ${os.cpus()[0].model} x${os.cpus().length}, ${os.platform()} ${os.arch()}`)
for (const file of files) {
  console.log(`\n## ${file}`)
  require(path.join(__dirname, file))
}
