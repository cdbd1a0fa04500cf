'use strict'
// Renders the demo's results as one self-contained HTML page: inline SVG charts, tables, no
// scripts, fonts or images from anywhere else.

const COLORS = { map: '#d1495b', lru: '#edae49', weak: '#00798c', meta: '#30638e', live: '#8d96a3' }

const escape = (text) =>
  String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c])

function niceMax(value) {
  if (!(value > 0)) return 1
  const magnitude = 10 ** Math.floor(Math.log10(value))
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= value) return step * magnitude
  return 10 * magnitude
}

const format = (n) => (Math.abs(n) >= 100 || Number.isInteger(n) ? String(Math.round(n)) : n.toFixed(1))

/**
 * A line chart. `series`: [{ label, color, points: [[x, y]], dashed? }].
 */
function lineChart({ title, xLabel, yLabel, series, yMax }) {
  const width = 560
  const height = 260
  const pad = { left: 56, right: 16, top: 34, bottom: 44 }
  const xs = series.flatMap((s) => s.points.map((p) => p[0]))
  const ys = series.flatMap((s) => s.points.map((p) => p[1]))
  const xMax = Math.max(1, ...xs)
  const top = yMax ?? niceMax(Math.max(0, ...ys))
  const x = (v) => pad.left + (v / xMax) * (width - pad.left - pad.right)
  const y = (v) => height - pad.bottom - (v / top) * (height - pad.top - pad.bottom)
  const grid = [0, 0.25, 0.5, 0.75, 1]
    .map((f) => {
      const value = top * f
      return `<line x1="${pad.left}" x2="${width - pad.right}" y1="${y(value)}" y2="${y(value)}" stroke="#e3e6ea"/>` +
        `<text x="${pad.left - 6}" y="${y(value) + 4}" text-anchor="end" class="tick">${format(value)}</text>`
    })
    .join('')
  const xTicks = [0, 0.25, 0.5, 0.75, 1]
    .map((f) => `<text x="${x(xMax * f)}" y="${height - pad.bottom + 16}" text-anchor="middle" class="tick">${format(xMax * f)}</text>`)
    .join('')
  const lines = series
    .map((s) => {
      const d = s.points.map((p, i) => `${i ? 'L' : 'M'}${x(p[0]).toFixed(1)},${y(Math.min(p[1], top)).toFixed(1)}`).join('')
      return `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 4"' : ''}/>`
    })
    .join('')
  const legend = series
    .map((s, i) => `<g transform="translate(${pad.left + 8 + i * 170},${pad.top - 16})"><rect width="12" height="3" y="-4" fill="${s.color}"/><text x="18" class="legend">${escape(s.label)}</text></g>`)
    .join('')
  return `<figure><figcaption>${escape(title)}</figcaption>
<svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escape(title)}">
${grid}${xTicks}${lines}${legend}
<text x="${(pad.left + width - pad.right) / 2}" y="${height - 8}" text-anchor="middle" class="axis">${escape(xLabel)}</text>
<text transform="translate(14,${(pad.top + height - pad.bottom) / 2}) rotate(-90)" text-anchor="middle" class="axis">${escape(yLabel)}</text>
</svg></figure>`
}

function table(headers, rows) {
  const head = headers.map((h) => `<th>${escape(h)}</th>`).join('')
  const body = rows.map((row) => `<tr>${row.map((cell) => `<td>${escape(cell)}</td>`).join('')}</tr>`).join('\n')
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`
}

/**
 * @param {{ runs: {strategy, name, samples, done}[], summary: {headers, rows}, leaks: object[],
 *   nodeWarnings: string[], meta: {seconds, node, date} }} data
 */
function renderReport({ runs, summary, leaks, nodeWarnings, meta }) {
  const seconds = (sample) => sample.ms / 1000
  const perRun = (pick) => runs.map((run) => ({ label: run.name, color: COLORS[run.strategy], points: run.samples.map((s) => [seconds(s), pick(s, run)]) }))
  const windowed = (run, index, window = 10) => {
    const now = run.samples[index]
    const before = run.samples[Math.max(0, index - window)]
    const requests = now.hits + now.misses - (before.hits + before.misses)
    return requests > 0 ? (100 * (now.hits - before.hits)) / requests : 0
  }
  const hitRate = runs.map((run) => ({
    label: run.name,
    color: COLORS[run.strategy],
    points: run.samples.map((s, i) => [seconds(s), windowed(run, i)]),
  }))
  const weak = runs.find((run) => run.strategy === 'weak')
  const connections = weak
    ? [
        { label: 'connections open', color: COLORS.live, points: weak.samples.map((s) => [seconds(s), s.connectionsOpen]) },
        { label: 'IterableWeakMap size', color: COLORS.meta, dashed: true, points: weak.samples.map((s) => [seconds(s), s.connectionMetaSize]) },
      ]
    : []
  const leakRows = leaks.map((r) => [r.type, r.label ?? r.info?.path ?? '', r.id, r.site, `${(r.ageMs / 1000).toFixed(1)} s`, r.count])

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ephemeron demo report</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px auto; max-width: 1180px; color: #1d2733; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; }
.meta { color: #5b6776; }
.charts { display: flex; flex-wrap: wrap; gap: 12px 24px; }
figure { margin: 0; } figcaption { font-weight: 600; margin: 6px 0 0 8px; }
.tick { font-size: 11px; fill: #5b6776; } .axis { font-size: 12px; fill: #3b4654; } .legend { font-size: 12px; fill: #1d2733; }
table { border-collapse: collapse; margin-top: 8px; } th, td { border-bottom: 1px solid #e3e6ea; padding: 4px 10px; text-align: left; }
th { background: #f3f5f7; } td { font-variant-numeric: tabular-nums; }
code { background: #f3f5f7; padding: 1px 4px; border-radius: 3px; }
.note { color: #5b6776; max-width: 900px; }
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
${lineChart({ title: 'JS heap used', xLabel: 'seconds', yLabel: 'MB', series: perRun((s) => s.heapMB) })}
${lineChart({ title: 'Hit rate (last second)', xLabel: 'seconds', yLabel: '% of requests', series: hitRate, yMax: 100 })}
${lineChart({ title: 'Duplicates built so far', xLabel: 'seconds', yLabel: 'responses alive twice', series: perRun((s) => s.duplicates) })}
${connections.length ? lineChart({ title: 'Connection metadata follows live connections', xLabel: 'seconds', yLabel: 'connections', series: connections }) : ''}
</div>

<h2>Leaked file handles (LeakRegistry)</h2>
<p class="note">Files opened with <code>registry.openFile()</code> and never closed, reported when the GC collected them: where they were opened and how long they lived.
${nodeWarnings.length ? `Node's own warning for the same handles says only: <code>${escape(nodeWarnings[0])}</code>` : ''}</p>
${leaks.length ? table(['type', 'path', 'fd', 'opened at', 'lived', 'leaks from this site'], leakRows) : '<p>No leaks were reported in this run.</p>'}
</body></html>
`
}

module.exports = { renderReport }
