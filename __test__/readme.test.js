'use strict'
// README.md as a reader uses it: every ```js block, pasted into a file of its own in a project
// that has ephemeron and @types/node, runs without an error and passes `tsc --strict` (TypeScript 7
// and 5); every `npm run` it shows names a script; every relative link works in the packed package;
// the Rust version it states is the crate's rust-version.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { typeScripts } = require('../scripts/typescripts.js')

const root = path.join(__dirname, '..')
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8')
const pkg = require('../package.json')

/**
 * Fenced code blocks: { lang, code, line (where it starts), typeChecked }. A comment right before a
 * block can say `<!-- readme.test.js: runs, not type-checked (why) -->` (it is only run), or
 * `<!-- readme.test.js: continues the block above -->` (it is checked after the previous js block,
 * in one file, as a reader pastes both).
 */
const blocks = []
for (const match of readme.matchAll(/^(?:<!-- readme\.test\.js: (.+) -->\n)?```(\w*)\n([\s\S]*?)^```$/gm)) {
  const [, marker = '', lang, code] = match
  const line = readme.slice(0, match.index).split('\n').length + (marker ? 1 : 0)
  const previous = blocks.findLast((block) => block.lang === lang)
  if (marker === 'continues the block above') {
    blocks.push({ lang, code: `${previous.code}\n${code}`, line, typeChecked: previous.typeChecked })
  } else {
    assert.match(marker, /^$|^runs, not type-checked \(.+\)$/, `README.md line ${line}: unknown readme.test.js marker`)
    blocks.push({ lang, code, line, typeChecked: !marker })
  }
}
const jsBlocks = blocks.filter((block) => block.lang === 'js')

// The README says that its examples use `server`, `pool`, `db` and `metrics` for the reader's own
// objects: these stand-ins play them (a runtime preload, and declarations for tsc). Nothing else is
// supplied.
const STAND_INS_JS = `'use strict'
globalThis.server = require('node:http').createServer()
globalThis.pool = { on() {}, connect: async () => ({ release() {} }) }
globalThis.db = { users: { find: async (id) => ({ id, name: 'Ada' }) } }
globalThis.metrics = { count() {} }
`
const STAND_INS_DTS = `declare var server: import('node:http').Server
declare var pool: { on(event: 'release', listener: (error: Error | undefined, client: object) => void): void; connect(): Promise<object> }
declare var db: { users: { find(id: string): Promise<{ id: string; name: string }> } }
declare var metrics: { count(name: string): void }
`

/** A project beside nothing of this repository but ephemeron itself (and the type packages). */
function snippetProject() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ephemeron-readme-'))
  fs.mkdirSync(path.join(dir, 'node_modules'))
  fs.symlinkSync(root, path.join(dir, 'node_modules', 'ephemeron'), 'junction')
  fs.symlinkSync(path.join(root, 'node_modules', '@types'), path.join(dir, 'node_modules', '@types'), 'junction')
  fs.writeFileSync(path.join(dir, 'stand-ins.cjs'), STAND_INS_JS)
  fs.writeFileSync(path.join(dir, 'stand-ins.d.ts'), STAND_INS_DTS)
  const files = jsBlocks.map((block) => {
    const file = `readme-line-${block.line}.${/^import .* from /m.test(block.code) ? 'mjs' : 'cjs'}`
    fs.writeFileSync(path.join(dir, file), block.code)
    return { file, typeChecked: block.typeChecked }
  })
  return { dir, files }
}

test('README.md has the code blocks this spec checks', () => {
  assert.ok(jsBlocks.length >= 6, `${jsBlocks.length} js blocks`)
  assert.ok(blocks.some((block) => block.lang === 'sh'))
})

test('every js block of README.md runs when pasted into a file of its own', () => {
  const { dir, files } = snippetProject()
  try {
    for (const { file } of files) {
      const result = spawnSync(process.execPath, ['--require', './stand-ins.cjs', file], { cwd: dir, encoding: 'utf8', timeout: 20_000 })
      assert.equal(result.status, 0, `README.md block at line ${file.match(/\d+/)[0]} failed:\n${result.stderr}`)
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('every js block of README.md passes tsc --strict with @types/node (TypeScript 7 and 5), unless marked plain JS', () => {
  const { dir, files } = snippetProject()
  try {
    const options = ['--noEmit', '--strict', '--allowJs', '--checkJs', '--module', 'nodenext', '--target', 'esnext', '--types', 'node', '--skipLibCheck', 'false']
    for (const { version, tsc } of typeScripts()) {
      const checked = files.filter((file) => file.typeChecked).map(({ file }) => file)
      assert.ok(checked.length >= 3, `${checked.length} blocks type-checked`)
      const result = spawnSync(process.execPath, [tsc, ...options, 'stand-ins.d.ts', ...checked], { cwd: dir, encoding: 'utf8' })
      assert.equal(result.status, 0, `tsc ${version}:\n${result.stdout}${result.stderr}`)
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('every `npm run` in README.md names a script, with its arguments after `--`', () => {
  const commands = [...readme.matchAll(/npm run ([\w:-]+)([^`\n|#]*)/g)]
  assert.ok(commands.length >= 5)
  for (const [command, script, rest] of commands) {
    assert.ok(pkg.scripts[script], `${command}: no script "${script}" in package.json`)
    assert.doesNotMatch(rest, /^\s+-(?!-(\s|$))/, `${command}: npm takes the flags after the script name unless they follow \`--\``)
  }
})

test('every relative link of README.md works in the packed package', () => {
  const packed = JSON.parse(spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' }).stdout)[0]
  const files = new Set(packed.files.map((file) => file.path))
  const links = [...readme.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)].map((match) => match[1]).filter((link) => !/^[a-z]+:/.test(link))
  assert.ok(links.includes('docs/demo-report.png'))
  for (const link of links) assert.ok(files.has(link), `README.md links to ${link}, which the package does not ship`)
  assert.ok(pkg.repository?.url, 'package.json has a repository (npm resolves README links against it)')
})

test('README.md and the install error state the crate\'s rust-version', () => {
  const [, rustVersion] = /^rust-version\s*=\s*"([\d.]+)"/m.exec(fs.readFileSync(path.join(root, 'Cargo.toml'), 'utf8'))
  assert.match(readme, new RegExp(`Rust ≥ ${rustVersion.replace('.', '\\.')}\\b`))
  assert.match(fs.readFileSync(path.join(root, 'lib', 'native.js'), 'utf8'), new RegExp(`Rust >= ${rustVersion.replace('.', '\\.')}\\b`))
})
