#!/usr/bin/env node
'use strict'
// `npm run demo [-- --seconds N] [-- --out DIR]`: a long-running service simulated three times,
// side by side, with a Map, lru-cache and WeakCache as its response cache (demo/service.js). Shows
// progress on one line, prints leak reports as they arrive, ends with a table and writes an HTML
// report (demo/out/report.html unless --out says where).

const { fork } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { parseArgs } = require('node:util')
const { renderReport } = require('./report.js')

const repository = path.join(__dirname, '..') + path.sep

const STRATEGIES = [
  { strategy: 'map', name: 'Map' },
  { strategy: 'lru', name: 'lru-cache' },
  { strategy: 'weak', name: 'WeakCache' },
]

const USAGE = 'usage: npm run demo -- [--seconds N] [--out DIR]   (N from 1 to 3600, default 30; DIR default demo/out)'

function usageError(problem) {
  console.error(`${problem}\n${USAGE}`)
  process.exit(2)
}

function parseOptions(argv) {
  // `npm run demo --seconds 5` (no `--`) hands --seconds to npm, which sets npm_config_seconds and
  // passes only "5" on: refuse that instead of silently running the default 30 s.
  if (process.env.npm_config_seconds !== undefined || process.env.npm_config_out !== undefined) {
    usageError('npm took --seconds/--out as its own options: put `--` before them.')
  }
  let values
  try {
    ;({ values } = parseArgs({ args: argv, options: { seconds: { type: 'string' }, out: { type: 'string' } } }))
  } catch (error) {
    usageError(error.message)
  }
  const seconds = values.seconds === undefined ? 30 : Number(values.seconds)
  if (!Number.isFinite(seconds) || seconds < 1 || seconds > 3600) usageError(`--seconds must be a number from 1 to 3600; got ${values.seconds}`)
  return { seconds, outDir: path.resolve(values.out ?? path.join(__dirname, 'out')) }
}

function requireBuiltAddon() {
  try {
    require('..')
  } catch (error) {
    console.error(`The ephemeron addon could not be loaded, so the demo cannot run.\n  ${error.message}\n` +
      'Build it first: run `npm install` in the repository (it needs the Rust toolchain, cargo).')
    process.exit(1)
  }
}

const { seconds, outDir } = parseOptions(process.argv.slice(2))
requireBuiltAddon()
fs.mkdirSync(outDir, { recursive: true })

const interactive = process.stdout.isTTY
const runs = STRATEGIES.map((s) => ({ ...s, samples: [], majorGcs: [], done: undefined }))
const leaks = []
const nodeWarnings = []

function progressLine() {
  const parts = runs.map((run) => {
    const last = run.samples.at(-1)
    if (!last) return `${run.name}: starting`
    const requests = last.hits + last.misses
    const hitRate = requests ? Math.round((100 * last.hits) / requests) : 0
    return `${run.name}: heap ${Math.round(last.heapMB)} MB, hits ${hitRate}%, dup ${last.duplicates}`
  })
  const elapsed = Math.max(0, ...runs.map((run) => run.samples.at(-1)?.ms ?? 0)) / 1000
  return `[${elapsed.toFixed(0).padStart(3)}/${seconds}s] ${parts.join(' | ')} | leaks ${leaks.length}`
}

let lastPrinted = 0
function showProgress(force = false) {
  if (interactive) {
    process.stdout.write(`\r\x1b[2K${progressLine().slice(0, process.stdout.columns - 1)}`)
  } else if (force || Date.now() - lastPrinted > 5000) {
    lastPrinted = Date.now()
    console.log(progressLine())
  }
}

function printAbove(text) {
  if (interactive) process.stdout.write('\r\x1b[2K')
  console.log(text)
  showProgress()
}

function runChild(run) {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, 'service.js'), [run.strategy, String(seconds), outDir], {
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      execArgv: ['--expose-gc'], // for the retained-heap measurement at the end only
    })
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (text) => {
      for (const line of text.split('\n')) {
        if (/Closing file descriptor \d+ on garbage collection/.test(line)) nodeWarnings.push(line.replace(/^\(node:\d+\) /, '').trim())
        else if (line.trim() && !/DEP0137|--trace-deprecation|--trace-warnings/.test(line)) process.stderr.write(`[${run.name}] ${line}\n`)
      }
    })
    child.on('message', (message) => {
      if (message.sample) {
        run.samples.push(message.sample)
        showProgress()
      } else if (message.majorGc) {
        run.majorGcs.push(message.majorGc)
      } else if (message.leak) {
        // The report names files relative to the repository or by name: no paths of this machine.
        const { site, label } = message.leak
        const r = { ...message.leak, site: site.startsWith(repository) ? site.slice(repository.length) : site, label: path.basename(label) }
        leaks.push(r)
        printAbove(`leak: ${r.type} ${r.label} (fd ${r.id}) opened at ${r.site}, lived ${(r.ageMs / 1000).toFixed(1)} s, #${r.count} from that line`)
      } else if (message.done) {
        run.done = message.done
      }
    })
    child.on('error', reject)
    child.on('exit', (code) => (code === 0 && run.done ? resolve() : reject(new Error(`the ${run.name} service exited with code ${code}`))))
  })
}

function summarize() {
  const headers = ['strategy', 'requests', 'hit rate', 'weak hits', 'duplicates', 'cache entries', 'heap peak', 'retained heap']
  const rows = runs.map((run) => {
    const last = run.samples.at(-1)
    const requests = last.hits + last.misses
    const peak = Math.max(...run.samples.map((s) => s.heapMB))
    return [
      run.done.name,
      requests.toLocaleString('en-US'),
      `${((100 * last.hits) / requests).toFixed(1)}%`,
      last.weakHits === undefined ? '-' : last.weakHits.toLocaleString('en-US'),
      last.duplicates.toLocaleString('en-US'),
      last.cacheSize.toLocaleString('en-US'),
      `${peak.toFixed(0)} MB`,
      `${run.done.retainedMB.toFixed(0)} MB`,
    ]
  })
  return { headers, rows }
}

function printTable({ headers, rows }) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((row) => String(row[i]).length)))
  const line = (cells) => cells.map((cell, i) => (i === 0 ? String(cell).padEnd(widths[i]) : String(cell).padStart(widths[i]))).join('  ')
  console.log(line(headers))
  console.log(widths.map((w) => '-'.repeat(w)).join('  '))
  for (const row of rows) console.log(line(row))
}

async function main() {
  console.log(`Simulating a service for ${seconds} s with each cache (three processes side by side)...`)
  showProgress(true)
  await Promise.all(runs.map(runChild))
  if (interactive) process.stdout.write('\r\x1b[2K')
  console.log(progressLine())
  const summary = summarize()
  console.log()
  printTable(summary)
  console.log(`\nfile handles leaked (opened, never closed): ${leaks.length} reported by LeakRegistry; JSON lines in ${path.relative(process.cwd(), path.join(outDir, 'leaks.jsonl'))}`)
  const reportPath = path.join(outDir, 'report.html')
  fs.writeFileSync(reportPath, renderReport({ runs, summary, leaks, nodeWarnings, meta: { seconds, node: process.version, date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC' } }))
  console.log(`report: ${reportPath}`)
}

main().catch((error) => {
  if (interactive) process.stdout.write('\n')
  console.error(error.message)
  process.exit(1)
})
