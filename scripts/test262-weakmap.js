#!/usr/bin/env node
'use strict'
// Runs test262's built-ins/WeakMap (or built-ins/WeakSet) suite with the globals WeakMap and
// WeakSet replaced by ephemeron's IterableWeakMap and IterableWeakSet, as a polyfill would
// install them, and counts the scenarios that pass. A scenario is one test file in one mode: strict and sloppy, or only the
// one its flags allow (onlyStrict, noStrict, raw), as test262's own harnesses count them.
// test262 is not part of this package: fetch it yourself (a checkout or its git dir).
//
// usage: node scripts/test262-weakmap.js <test262 dir> [options]
//   <test262 dir>   a test262 checkout, or a git dir of one (read with `git archive HEAD`)
//   --suite S       WeakMap (default) or WeakSet
//   --impl P        a module exporting IterableWeakMap and IterableWeakSet (default: this
//                   package); `builtin` leaves the engine's own class in place (checks the runner)
//   --jobs N        scenarios run at once (default: the number of CPUs)
//   --json F        write every scenario's result to F
//   --verbose       print the message of every failure
//   --keep          keep the scenario files (and print where), to rerun one by hand
// Exit status: 0 when every scenario passed, 1 when some failed, 2 on a usage or setup error.
//
// Each scenario runs in its own `node` process, as a classic script in the main realm
// (vm.runInThisContext): the global is replaced first, then test262's harness files and the test
// run. `$262.createRealm()` makes a new vm context; the polyfill is not installed there (the
// library is loaded once per Node.js realm), so that realm's WeakMap is the engine's own.

const { spawn, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const SUITES = { WeakMap: 'IterableWeakMap', WeakSet: 'IterableWeakSet' }

function die(message) {
  process.stderr.write(`test262-weakmap: ${message}\n`)
  process.exit(2)
}

function parseArgs(argv) {
  const options = { dir: null, suite: 'WeakMap', impl: path.join(__dirname, '..'), jobs: os.availableParallelism?.() ?? os.cpus().length, json: null, verbose: false, keep: false }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    const value = () => (i + 1 < argv.length ? argv[++i] : die(`${arg} needs a value`))
    if (arg === '--suite') options.suite = value()
    else if (arg === '--impl') options.impl = value()
    else if (arg === '--jobs') options.jobs = Number(value())
    else if (arg === '--json') options.json = value()
    else if (arg === '--verbose') options.verbose = true
    else if (arg === '--keep') options.keep = true
    else if (arg === '-h' || arg === '--help') {
      const lines = fs.readFileSync(__filename, 'utf8').split('\n').slice(2, 19)
      process.stdout.write(lines.map((line) => line.replace(/^\/\/ ?/, '')).join('\n') + '\n')
      process.exit(0)
    } else if (arg.startsWith('--')) die(`unknown option ${arg} (see --help)`)
    else if (options.dir === null) options.dir = arg
    else die(`unexpected argument ${arg}`)
  }
  if (options.dir === null) die('no test262 directory given (see --help)')
  if (!(options.suite in SUITES)) die(`--suite must be one of ${Object.keys(SUITES).join(', ')}`)
  if (!(options.jobs >= 1)) die('--jobs must be at least 1')
  if (options.impl !== 'builtin') options.impl = path.resolve(options.impl)
  return options
}

/** A directory with harness/ and test/built-ins/<suite>/: the checkout itself, or files taken from a git dir. */
function test262Files(dir, suite, temporary) {
  const root = path.resolve(dir)
  if (fs.existsSync(path.join(root, 'harness', 'assert.js'))) return root
  const git = spawnSync('git', ['--git-dir', root, 'archive', 'HEAD', 'harness', `test/built-ins/${suite}`], { maxBuffer: 1 << 30 })
  if (git.status !== 0) die(`${root} is neither a test262 checkout nor its git dir: ${git.stderr}`)
  const tar = spawnSync('tar', ['-x', '-C', temporary], { input: git.stdout })
  if (tar.status !== 0) die(`could not extract test262 files: ${tar.stderr}`)
  return temporary
}

function listTests(root, suite) {
  const base = path.join(root, 'test', 'built-ins', suite)
  if (!fs.existsSync(base)) die(`${base} does not exist`)
  return fs
    .readdirSync(base, { recursive: true })
    .filter((file) => file.endsWith('.js') && !file.includes('_FIXTURE'))
    .map((file) => path.join(base, file))
    .sort()
}

/** The YAML front matter of a test262 file: includes, flags, negative (the keys a runner needs). */
function metadata(source) {
  const match = /\/\*---([\s\S]*?)---\*\//.exec(source)
  const meta = { includes: [], flags: [], negative: null }
  if (!match) return meta
  const lines = match[1].split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = /^(\w+):\s*(.*)$/.exec(lines[i])
    if (!line) continue
    const [, key, rest] = line
    if (key === 'includes' || key === 'flags') {
      let items = []
      if (rest.startsWith('[')) items = rest.replace(/[[\]]/g, '').split(',')
      else while (i + 1 < lines.length && /^\s+-\s/.test(lines[i + 1])) items.push(lines[++i].replace(/^\s+-\s*/, ''))
      meta[key] = items.map((item) => item.trim()).filter(Boolean)
    } else if (key === 'negative') {
      meta.negative = {}
      while (i + 1 < lines.length && /^\s+\w+:/.test(lines[i + 1])) {
        const [, name, value] = /^\s+(\w+):\s*(.*)$/.exec(lines[++i])
        meta.negative[name] = value.trim()
      }
    }
  }
  return meta
}

function scenariosOf(file, root) {
  const source = fs.readFileSync(file, 'utf8')
  const meta = metadata(source)
  const modes = meta.flags.includes('onlyStrict') ? ['strict'] : meta.flags.includes('noStrict') || meta.flags.includes('raw') ? ['sloppy'] : ['sloppy', 'strict']
  const harness = meta.flags.includes('raw')
    ? []
    : ['assert.js', 'sta.js', ...(meta.flags.includes('async') ? ['doneprintHandle.js'] : []), ...meta.includes]
  const prelude = harness.map((name) => fs.readFileSync(path.join(root, 'harness', name), 'utf8')).join('\n')
  return modes.map((mode) => ({
    name: `${path.relative(path.join(root, 'test'), file)} (${mode})`,
    source: `${mode === 'strict' ? '"use strict";\n' : ''}${prelude}\n${source}`,
    async: meta.flags.includes('async'),
    negative: meta.negative,
  }))
}

// The program each scenario runs in: install the polyfill, define $262, run the test.
const CHILD = `
'use strict'
const vm = require('node:vm')
const fs = require('node:fs')
const [impl, file] = process.argv.slice(2)
if (impl !== 'builtin') {
  // Both globals, as a polyfill installing the package would: IterableWeakSet must not build on
  // a replaced WeakMap either.
  const { IterableWeakMap, IterableWeakSet } = require(impl)
  globalThis.WeakMap = IterableWeakMap
  globalThis.WeakSet = IterableWeakSet
}
function makeHost(global, context) {
  return {
    global,
    gc: globalThis.gc,
    evalScript: (source) => (context ? vm.runInContext(source, context) : vm.runInThisContext(source)),
    createRealm() {
      const realm = vm.createContext()
      const host = makeHost(vm.runInContext('globalThis', realm), realm)
      vm.runInContext('this', realm).$262 = host
      return host
    },
  }
}
globalThis.$262 = makeHost(globalThis, null)
globalThis.print = (text) => console.log(text)
try {
  vm.runInThisContext(fs.readFileSync(file, 'utf8'), { filename: file })
} catch (error) {
  // One line the runner can read, whatever was thrown.
  let name = 'thrown'
  let message = String(error)
  try {
    name = error.constructor.name
    message = String(error.message)
  } catch {}
  const newline = String.fromCharCode(10)
  process.stderr.write('Test262:Thrown ' + name + ': ' + message.split(newline).join(' ') + newline)
  process.exitCode = 1
}
`

function runScenario(scenario, options, work, index) {
  const file = path.join(work, `scenario-${index}.js`)
  fs.writeFileSync(file, scenario.source)
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', path.join(work, 'child.js'), options.impl, file], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    child.on('close', (status, signal) => {
      clearTimeout(timer)
      if (!options.keep) fs.rmSync(file, { force: true })
      resolve(verdict(scenario, status, signal, stdout, stderr))
    })
  })
}

/** pass/fail and why, from a scenario's exit and output. */
function verdict(scenario, status, signal, stdout, stderr) {
  const thrown = /^Test262:Thrown (\S+): ([^\n]*)/m.exec(stderr)
  const message = (thrown ? `${thrown[1]}: ${thrown[2]}` : stderr.trim().split('\n').pop() || `exit ${status ?? signal}`).slice(0, 300)
  if (scenario.negative) {
    const passed = status !== 0 && thrown !== null && thrown[1] === scenario.negative.type
    return { name: scenario.name, passed, message: passed ? '' : `expected ${scenario.negative.type}; ${status === 0 ? 'nothing was thrown' : message}` }
  }
  if (signal) return { name: scenario.name, passed: false, message: `killed by ${signal} (timeout)` }
  if (status !== 0) return { name: scenario.name, passed: false, message }
  if (scenario.async && !stdout.includes('Test262:AsyncTestComplete')) {
    return { name: scenario.name, passed: false, message: stdout.match(/Test262:AsyncTestFailure.*/)?.[0] ?? 'async test never completed' }
  }
  return { name: scenario.name, passed: true, message: '' }
}

async function main() {
  const options = parseArgs(process.argv.slice(2))
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'test262-weakmap-'))
  try {
    const root = test262Files(options.dir, options.suite, work)
    fs.writeFileSync(path.join(work, 'child.js'), CHILD)
    const scenarios = listTests(root, options.suite).flatMap((file) => scenariosOf(file, root))
    const results = new Array(scenarios.length)
    let next = 0
    const worker = async () => {
      while (next < scenarios.length) {
        const index = next++
        results[index] = await runScenario(scenarios[index], options, work, index)
      }
    }
    await Promise.all(Array.from({ length: Math.min(options.jobs, scenarios.length) }, worker))
    const failed = results.filter((result) => !result.passed)
    const subject = options.impl === 'builtin' ? `the built-in ${options.suite}` : `${SUITES[options.suite]} (${path.relative(process.cwd(), options.impl) || '.'})`
    console.log(`test262 built-ins/${options.suite} with ${subject} on Node ${process.version}: ${results.length - failed.length} of ${results.length} scenarios pass`)
    for (const result of failed) console.log(`  FAIL ${result.name}${options.verbose ? `: ${result.message}` : ''}`)
    if (options.json) fs.writeFileSync(options.json, JSON.stringify({ suite: options.suite, impl: options.impl, node: process.version, results }, null, 2))
    process.exitCode = failed.length === 0 ? 0 : 1
  } finally {
    if (options.keep) console.log(`scenario files kept in ${work}`)
    else fs.rmSync(work, { recursive: true, force: true })
  }
}

main().catch((error) => die(error.stack))
