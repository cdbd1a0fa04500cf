'use strict'
// LeakRegistry against a pure-JS FinalizationRegistry tracker (benchmark/leak-trackers.js).
// 1. track + release per object, for each stacks mode;
// 2. delivery of 100k leaks from GC to onLeak (in a child process: it needs the event loop);
// 3. the FileHandle helper's cost per open/close (benchmark/leak-file-handle.js, also a child).

const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { compare } = require('./harness.js')
const { LeakRegistry } = require('..')
const { JsLeakTracker } = require('./leak-trackers.js')

const OPS = 20_000
const INFO = { type: 'Conn', id: 7, label: 'upstream' }

/** A service-like call path: the resource is acquired two frames below a request handler. */
function trackRelease(tracker) {
  let released = 0
  for (let i = 0; i < OPS; i++) {
    const resource = acquire(tracker)
    if (tracker.release(resource)) released++
  }
  return released
}

function acquire(tracker) {
  return tracker.track({ acquired: true }, INFO)
}

const registries = []
function registry(options) {
  const created = new LeakRegistry({ onLeak() {}, ...options })
  registries.push(created)
  return created
}

const trackers = {
  'js FinalizationRegistry + new Error().stack': new JsLeakTracker(() => {}),
  "ephemeron stacks 'off'": registry({ stacks: 'off' }),
  "ephemeron stacks 'sample' (default 0.1)": registry({}),
  "ephemeron stacks 'all'": registry({ stacks: 'all' }),
  'js FinalizationRegistry, no site (floor)': new JsLeakTracker(() => {}, { withStack: false }),
}

compare(
  `track + release, ${OPS} objects`,
  Object.entries(trackers).map(([name, tracker]) => ({ name, run: () => trackRelease(tracker) })),
  { ops: OPS, rounds: 9 },
)
for (const created of registries) created.close()

for (const script of ['leak-delivery.js', 'leak-file-handle.js']) {
  const child = spawnSync(process.execPath, ['--expose-gc', path.join(__dirname, script)], { stdio: 'inherit' })
  if (child.status !== 0) throw new Error(`${script} exited with ${child.status}`)
}
