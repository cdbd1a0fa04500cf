'use strict'
// Renders the demo's results as one self-contained HTML page: tables and inline SVG charts, with no
// scripts, fonts or images from anywhere else, so it opens the same from a mail, a CI artifact or a
// phone. The SVG is written here rather than drawn by a charting library: four line charts take
// about a hundred lines, where an inlined library would add a few hundred kilobytes of script to a
// page that otherwise needs none.

const COLORS = { map: '#d1495b', lru: '#e09f1f', weak: '#00798c', meta: '#30638e', live: '#8d96a3' }
// Drawn in this order, each thinner than the one below it: where two lines coincide (Map's and
// WeakCache's duplicates are both 0 throughout), both stay visible.
const WIDTHS = [5, 3.5, 2]

const escape = (text) =>
  String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c])

const number = (n, digits = 0) => Number(n.toFixed(digits)).toLocaleString('en-US')
const percent = (n) => `${n.toFixed(1)}%`

/**
 * Round axis ticks from 0 to at least `max`: a step of 1, 2, 2.5 or 5 times a power of ten, with
 * at most `intervals` intervals, so the axis ends on the first round value above the data.
 */
function ticks(max, intervals = 6) {
  if (!(max > 0)) return [0, 1]
  const rough = max / intervals
  const magnitude = 10 ** Math.floor(Math.log10(rough))
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= rough - 1e-12)
  const count = Math.ceil(max / step - 1e-9)
  return Array.from({ length: count + 1 }, (_, i) => Number((i * step).toPrecision(12)))
}

/**
 * A line chart: an HTML caption and legend (they wrap on a narrow screen) above an SVG that scales
 * to the width it gets. `series`: [{ label, color, points: [[x, y]], dashed?, last? }], `marks`:
 * [{ color, points }] drawn as dots. `takeaway`: the one sentence that says what the chart shows.
 */
function lineChart({ id, title, unit, series, xMax, yMax, marks = [], marksLabel, takeaway }) {
  const width = 460
  const height = 270
  const pad = { left: 64, right: 14, top: 12, bottom: 50 }
  const xTicks = ticks(xMax)
  const yTicks = ticks(yMax ?? Math.max(0, ...series.flatMap((s) => s.points.map((p) => p[1]))))
  const xTop = xTicks.at(-1)
  const yTop = yTicks.at(-1)
  const x = (v) => (pad.left + (v / xTop) * (width - pad.left - pad.right)).toFixed(1)
  const y = (v) => (height - pad.bottom - (Math.min(v, yTop) / yTop) * (height - pad.top - pad.bottom)).toFixed(1)

  const grid = yTicks
    .map((v) => `<line x1="${pad.left}" x2="${width - pad.right}" y1="${y(v)}" y2="${y(v)}" class="grid"/><text x="${pad.left - 8}" y="${Number(y(v)) + 4.5}" text-anchor="end" class="tick">${number(v, 1)}</text>`)
    .join('')
  const xLabels = xTicks.map((v) => `<text x="${x(v)}" y="${height - pad.bottom + 19}" text-anchor="middle" class="tick">${number(v, 1)}</text>`).join('')
  // The run's last sample can land a little after its nominal end: the axis ends there instead.
  const shown = (points) => points.filter((p) => p[0] <= xTop)
  const lines = series
    .map((s, i) => {
      const points = shown(s.points)
      const d = points.map((p, j) => `${j ? 'L' : 'M'}${x(p[0])},${y(p[1])}`).join('')
      const dash = s.dashed ? ' stroke-dasharray="7 4"' : ''
      return `<path class="series" data-series="${escape(s.label)}" data-points="${points.length}" d="${d}" fill="none" stroke="${s.color}" stroke-width="${WIDTHS[i] ?? 2}" stroke-linejoin="round"${dash}/>`
    })
    .join('')
  const dots = marks.flatMap((m) => shown(m.points).map((p) => `<circle class="mark" cx="${x(p[0])}" cy="${y(p[1])}" r="3.5" fill="#fff" stroke="${m.color}" stroke-width="2"/>`)).join('')
  const legend = series
    .map((s) => `<li><span class="swatch${s.dashed ? ' dashed' : ''}" style="--color:${s.color}"></span>${escape(s.label)}${s.last === undefined ? '' : `: <b>${escape(s.last)}</b>`}</li>`)
    .concat(marks.length ? [`<li><span class="dot"></span>${escape(marksLabel)}</li>`] : [])
    .join('')

  return `<figure class="chart" id="${id}">
<figcaption>${escape(title)} <span class="unit">(${escape(unit)})</span></figcaption>
<ul class="legend">${legend}</ul>
<svg viewBox="0 0 ${width} ${height}" role="img" aria-label="${escape(title)}">
${grid}${xLabels}${lines}${dots}
<text x="${(pad.left + width - pad.right) / 2}" y="${height - 5}" text-anchor="middle" class="axis">seconds</text>
</svg>
<p class="takeaway">${takeaway}</p>
</figure>`
}

function table(headers, rows) {
  const head = headers.map((h) => `<th>${escape(h)}</th>`).join('')
  const body = rows.map((row) => `<tr>${row.map((cell) => `<td>${escape(cell)}</td>`).join('')}</tr>`).join('\n')
  return `<div class="table"><table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`
}

const mean = (values) => values.reduce((sum, v) => sum + v, 0) / values.length

/**
 * @param {{ runs: {strategy, name, samples, majorGcs, done}[], summary: {headers, rows}, leaks: object[],
 *   nodeWarnings: string[], meta: {seconds, node, date} }} data
 */
function renderReport({ runs, summary, leaks, nodeWarnings, meta }) {
  const seconds = (ms) => ms / 1000
  const byStrategy = Object.fromEntries(runs.map((run) => [run.strategy, run]))
  const { map, lru, weak } = byStrategy
  const last = (run) => run.samples.at(-1)
  const requests = (sample) => sample.hits + sample.misses
  const hitRate = (sample) => (100 * sample.hits) / requests(sample)
  const windowedHitRate = (run, index, window = 10) => {
    const now = run.samples[index]
    const before = run.samples[Math.max(0, index - window)]
    const served = requests(now) - requests(before)
    return served > 0 ? (100 * (now.hits - before.hits)) / served : 0
  }
  const perRun = (pick, lastLabel) =>
    runs.map((run) => ({ label: run.name, color: COLORS[run.strategy], last: lastLabel?.(run), points: run.samples.map((s, i) => [seconds(s.ms), pick(s, run, i)]) }))
  // The heap right after the major collections of the second half of the run: what each cache keeps.
  const keptAfterGc = (run) => {
    const late = run.majorGcs.filter((gc) => gc.ms > (meta.seconds * 1000) / 2)
    return late.length ? mean(late.map((gc) => gc.heapMB)) : run.done.retainedMB
  }

  const heapTakeaway =
    `Map's heap only grows (${number(map.done.retainedMB)} MB retained at the end), while lru-cache and WeakCache stay bounded ` +
    `(${number(lru.done.retainedMB)} and ${number(weak.done.retainedMB)} MB). Between major collections heap used also counts ` +
    'garbage, and V8 starts one when a process has allocated enough since the last: WeakCache builds fewer responses ' +
    `(${number(last(weak).misses)} against ${number(last(lru).misses)}), so it is collected later, and that is why its line rises ` +
    'above lru-cache\'s for a while, in the first seconds too. The ' +
    `dots, the heap right after each major collection, show what each cache keeps: ${number(keptAfterGc(weak))} MB for ` +
    `WeakCache and ${number(keptAfterGc(lru))} MB for lru-cache in the second half of the run.`
  const hitTakeaway =
    `With the same bound, WeakCache answers ${percent(hitRate(last(weak)))} of requests and lru-cache ${percent(hitRate(last(lru)))}: ` +
    `${number(last(weak).weakHits)} of WeakCache's hits were weak hits, responses still in memory (held by a request, or not ` +
    `collected yet) after the LRU order had pushed them out, which lru-cache rebuilds; the unbounded Map answers ${percent(hitRate(last(map)))}.`
  const duplicatesOf = (run) => last(run).duplicates
  const duplicatesTakeaway =
    `lru-cache rebuilt ${number(duplicatesOf(lru))} responses while another copy was still alive in an open request (the same ` +
    `resource twice in memory); ${duplicatesOf(weak) === 0 && duplicatesOf(map) === 0 ? 'Map and WeakCache built none' : `WeakCache built ${number(duplicatesOf(weak))} and Map ${number(duplicatesOf(map))}`}.`
  const connectionsTakeaway =
    'Nothing ever deletes from this IterableWeakMap, yet its size follows the open connections by itself, a major collection ' +
    'behind: an entry leaves when the GC collects its connection.'

  const leakRows = leaks.map((r) => [r.type, r.label, r.id, r.site, `${(r.ageMs / 1000).toFixed(1)} s`, r.count])
  const charts = [
    lineChart({
      id: 'heap',
      title: 'JS heap used',
      unit: 'MB',
      xMax: meta.seconds,
      series: perRun((s) => s.heapMB, (run) => `${number(run.done.retainedMB)} MB retained`),
      marks: runs.map((run) => ({ color: COLORS[run.strategy], points: run.majorGcs.map((gc) => [seconds(gc.ms), gc.heapMB]) })),
      marksLabel: 'heap right after a major GC',
      takeaway: escape(heapTakeaway),
    }),
    lineChart({
      id: 'hit-rate',
      title: 'Hit rate over the last second',
      unit: '% of requests',
      xMax: meta.seconds,
      yMax: 100,
      series: perRun((s, run, i) => windowedHitRate(run, i), (run) => `${percent(hitRate(last(run)))} overall`),
      takeaway: escape(hitTakeaway),
    }),
    lineChart({
      id: 'duplicates',
      title: 'Duplicates built so far',
      unit: 'responses alive twice',
      xMax: meta.seconds,
      series: perRun((s) => s.duplicates, (run) => number(duplicatesOf(run))),
      takeaway: escape(duplicatesTakeaway),
    }),
    lineChart({
      id: 'connections',
      title: 'Connection metadata follows live connections',
      unit: 'connections',
      xMax: meta.seconds,
      series: [
        { label: 'connections open', color: COLORS.live, points: weak.samples.map((s) => [seconds(s.ms), s.connectionsOpen]) },
        { label: 'IterableWeakMap size', color: COLORS.meta, dashed: true, points: weak.samples.map((s) => [seconds(s.ms), s.connectionMetaSize]) },
      ],
      takeaway: escape(connectionsTakeaway),
    }),
  ]

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ephemeron demo report</title>
<style>
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px auto; max-width: 1180px; color: #1d2733; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 18px; margin-top: 28px; }
.meta, .note { color: #4b5766; max-width: 900px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 460px), 1fr)); gap: 28px 36px; }
figure { margin: 0; min-width: 0; }
figcaption { font-weight: 600; } .unit { font-weight: 400; color: #4b5766; }
svg { display: block; width: 100%; height: auto; max-width: 600px; }
.grid { stroke: #e3e6ea; } .tick { font-size: 13px; fill: #4b5766; } .axis { font-size: 13px; fill: #3b4654; }
@media (max-width: 600px) { .tick, .axis { font-size: 16px; } } /* the chart is drawn smaller: keep its labels readable */
.legend { list-style: none; padding: 0; margin: 4px 0 2px; display: flex; flex-wrap: wrap; gap: 2px 16px; font-size: 14px; }
.swatch { display: inline-block; width: 18px; border-top: 4px solid var(--color); margin-right: 6px; vertical-align: middle; }
.swatch.dashed { border-top-style: dashed; }
.dot { display: inline-block; width: 7px; height: 7px; border: 2px solid #4b5766; border-radius: 50%; margin-right: 6px; vertical-align: middle; }
.takeaway { margin: 4px 0 0; font-size: 14px; color: #2b3643; }
.table { overflow-x: auto; }
table { border-collapse: collapse; margin-top: 8px; } th, td { border-bottom: 1px solid #e3e6ea; padding: 4px 10px; text-align: left; white-space: nowrap; }
th { background: #f3f5f7; } td { font-variant-numeric: tabular-nums; }
code { background: #f3f5f7; padding: 1px 4px; border-radius: 3px; overflow-wrap: anywhere; }
</style></head>
<body>
<h1>ephemeron: a long-running service, three caches</h1>
<p class="meta">${escape(meta.seconds)} s per strategy, run concurrently in separate processes · Node ${escape(meta.node)} · ${escape(meta.date)}</p>
<p class="note">The same seeded workload for each: 1,000 requests per 100 ms tick, 80% on 1,000 hot keys, 20% on an ever-growing tail whose
keys come back while earlier responses are still held by open requests and sessions. A <em>duplicate</em> is a cache miss that
rebuilt a response while another copy of it was still alive in the service. <em>Retained heap</em> is the heap after full
collections at the end of the run: what the service really keeps.</p>

<h2>Summary</h2>
${table(summary.headers, summary.rows)}

<h2>Memory and hits over time</h2>
<div class="charts">
${charts.join('\n')}
</div>

<h2>Leaked file handles (LeakRegistry)</h2>
<p class="note">Files opened with <code>registry.openFile()</code> and never closed, reported when the GC collected them: where they were opened and how long they lived.
${nodeWarnings.length ? `Node's own warning for the same handles says only: <code>${escape(nodeWarnings[0])}</code>` : ''}</p>
${leaks.length ? table(['type', 'file', 'fd', 'opened at', 'lived', 'leaks from this site'], leakRows) : '<p>No leaks were reported in this run.</p>'}
</body></html>
`
}

module.exports = { renderReport, ticks }
