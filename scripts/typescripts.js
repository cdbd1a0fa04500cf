'use strict'
// The TypeScript compilers the type checks run: `typescript` (7, what `npm i -D typescript`
// installs today) and `typescript5` (an npm alias of typescript@5).

const path = require('node:path')

function typeScripts() {
  return ['typescript', 'typescript5'].map((name) => {
    const dir = path.dirname(require.resolve(`${name}/package.json`))
    return { name, version: require(`${name}/package.json`).version, tsc: path.join(dir, 'bin', 'tsc') }
  })
}

module.exports = { typeScripts }
