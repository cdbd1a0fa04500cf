#!/usr/bin/env node
'use strict'
// `npm run check:report [-- REPORT.html] [-- --screenshot FILE]`: opens the demo's HTML report in a
// real browser, Debian's Chromium (headless, driven by playwright-core, which never downloads a
// browser of its own), at a desktop and a phone width, and checks what a reader sees: the page
// loads with no console error and fetches nothing, every chart has drawn every series, nothing is
// wider than the screen, and no two labels of a chart overlap.
// Without a report it first makes a short demo run into a temporary folder. --screenshot saves a
// full-page picture of the desktop view (how docs/demo-report.png is made).

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { pathToFileURL } = require('node:url')
const { parseArgs } = require('node:util')

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
// The machine's network is closed: without these, Chromium keeps trying to reach Google's services.
const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
const VIEWPORTS = [
  { name: 'desktop', width: 1200, height: 900 },
  { name: 'phone', width: 390, height: 844, isMobile: true, deviceScaleFactor: 2 },
]

function makeReport() {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ephemeron-report-'))
  const demo = spawnSync(process.execPath, [path.join(__dirname, '..', 'demo', 'index.js'), '--seconds', '5', '--out', outDir], { stdio: ['ignore', 'ignore', 'inherit'] })
  if (demo.status !== 0) throw new Error(`the demo run failed (exit ${demo.status})`)
  return path.join(outDir, 'report.html')
}

/** Runs in the page: what is wrong with what it shows, as a list of sentences. */
function inspectPage(screenWidth) {
  const problems = []
  const { innerWidth } = window
  if (innerWidth !== screenWidth) problems.push(`laid out ${innerWidth} px wide for a ${screenWidth} px screen (no viewport meta?)`)
  if (document.documentElement.scrollWidth > innerWidth) problems.push(`the page is ${document.documentElement.scrollWidth} px wide on a ${innerWidth} px screen`)
  const figures = [...document.querySelectorAll('figure.chart')]
  if (figures.length !== 4) problems.push(`${figures.length} charts instead of 4`)
  for (const figure of figures) {
    const svg = figure.querySelector('svg')
    const box = svg.getBoundingClientRect()
    if (box.width < 200 || box.right > innerWidth) problems.push(`${figure.id}: the chart is ${box.width} px wide, right edge at ${box.right}`)
    const series = [...svg.querySelectorAll('path.series')]
    if (series.length < 2) problems.push(`${figure.id}: ${series.length} series drawn`)
    for (const line of series) {
      const points = (line.getAttribute('d').match(/[ML]/g) ?? []).length
      const drawn = line.getBBox()
      if (points < 2 || points !== Number(line.dataset.points) || drawn.width <= 0) {
        problems.push(`${figure.id}: the line of ${line.dataset.series} has ${points} of ${line.dataset.points} points, ${drawn.width} wide`)
      }
    }
    const labels = [...svg.querySelectorAll('text')].map((text) => ({ text: text.textContent, box: text.getBoundingClientRect() }))
    for (const [i, a] of labels.entries()) {
      if (a.box.height < 9) problems.push(`${figure.id}: the label "${a.text}" is ${a.box.height.toFixed(1)} px high`)
      if (a.box.left < box.left || a.box.right > box.right || a.box.top < box.top || a.box.bottom > box.bottom) problems.push(`${figure.id}: the label "${a.text}" is cut off`)
      for (const b of labels.slice(i + 1)) {
        const overlap = a.box.left < b.box.right - 0.5 && b.box.left < a.box.right - 0.5 && a.box.top < b.box.bottom - 0.5 && b.box.top < a.box.bottom - 0.5
        if (overlap) problems.push(`${figure.id}: the labels "${a.text}" and "${b.text}" overlap`)
      }
    }
    const legend = figure.querySelector('.legend').getBoundingClientRect()
    if (legend.right > innerWidth) problems.push(`${figure.id}: the legend ends at ${legend.right} px`)
    if (!figure.querySelector('.takeaway')?.textContent.trim()) problems.push(`${figure.id}: no takeaway sentence`)
  }
  return problems
}

async function main() {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { screenshot: { type: 'string' } } })
  if (!fs.existsSync(CHROMIUM)) {
    console.error(`check-report: no Chromium at ${CHROMIUM}; install Debian's (apt-get install -y chromium) or set CHROMIUM_PATH`)
    process.exit(1)
  }
  const { chromium } = require('playwright-core')
  const report = path.resolve(positionals[0] ?? makeReport())
  const url = pathToFileURL(report).href
  // launch() starts Chromium with a new, empty --user-data-dir each time.
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS })
  const problems = []
  try {
    for (const { name, ...viewport } of VIEWPORTS) {
      const page = await browser.newPage({ viewport: { width: viewport.width, height: viewport.height }, ...viewport })
      page.on('console', (message) => message.type() === 'error' && problems.push(`${name}: console error: ${message.text()}`))
      page.on('pageerror', (error) => problems.push(`${name}: page error: ${error.message}`))
      page.on('request', (request) => request.url() !== url && problems.push(`${name}: the page fetched ${request.url()}`))
      await page.goto(url, { waitUntil: 'load' })
      problems.push(...(await page.evaluate(inspectPage, viewport.width)).map((problem) => `${name} (${viewport.width} px): ${problem}`))
      if (name === 'desktop' && values.screenshot) await page.screenshot({ path: values.screenshot, fullPage: true })
      if (process.env.CHECK_REPORT_SHOTS) await page.screenshot({ path: path.join(process.env.CHECK_REPORT_SHOTS, `${name}.png`), fullPage: true })
      await page.close()
    }
  } finally {
    await browser.close()
  }
  if (problems.length) {
    console.error(`check-report: ${report}\n  ${problems.join('\n  ')}`)
    process.exit(1)
  }
  console.log(`check-report: ${path.basename(report)} renders cleanly in Chromium at ${VIEWPORTS.map((v) => `${v.width} px`).join(' and ')}`)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
