'use strict'
// Regressions from the hostile-input review for LeakRegistry: no callback, input or
// fault may crash, hang, leak memory or corrupt a log. One test per bug, named after it.

const test = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync, execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { LeakRegistry } = require('..')
const { collectGarbage, eventually, finalizationWatcher } = require('./helpers/gc.js')
const { captureWarnings } = require('./helpers/warnings.js')

const root = path.join(__dirname, '..')

function temporaryDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ephemeron-reliability-'))
  return { dir, file: (name) => path.join(dir, name), remove: () => fs.rmSync(dir, { recursive: true, force: true }) }
}

function readLog(file) {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : []
}


/** Runs a script in a fresh `node --expose-gc` with `ephemeron` resolvable as `lib`. */
function runScript(source, { timeout = 60_000, args = [] } = {}) {
  const script = `const lib = require(${JSON.stringify(root)});\n${source}`
  return spawnSync(process.execPath, ['--expose-gc', '-e', script, ...args], { encoding: 'utf8', timeout })
}

function threadCount() {
  return fs.readdirSync('/proc/self/task').length
}

test('regression: an onLeak that throws a revoked Proxy, a null-prototype object or an Error with throwing getters becomes a warning, and the rest of the batch arrives', async () => {
  const { proxy: revoked, revoke } = Proxy.revocable({}, {})
  revoke()
  const nasty = new Error('nasty')
  Object.defineProperty(nasty, 'stack', {
    get() {
      throw new Error('stack getter')
    },
  })
  Object.defineProperty(nasty, 'message', {
    get() {
      throw revoked
    },
  })
  const throws = [revoked, Object.create(null), nasty, undefined]
  const received = []
  const registry = new LeakRegistry({
    stacks: 'off',
    onLeak(report) {
      received.push(report.id)
      if (report.id < throws.length) throw throws[report.id]
    },
  })
  const warnings = await captureWarnings(async () => {
    ;(function leakSix() {
      for (let id = 0; id < 6; id++) registry.track({}, { type: 'Thrower', id })
    })()
    await eventually(() => received.length === 6)
  })
  assert.deepEqual([...received].sort(), [0, 1, 2, 3, 4, 5])
  assert.equal(warnings.length, 4)
  for (const warning of warnings) {
    assert.equal(warning.type, 'LeakRegistryWarning')
    assert.equal(warning.code, 'ERR_EPHEMERON_ON_LEAK')
    assert.match(warning.message, /^LeakRegistry onLeak threw for a 'leaked' report: /)
  }
  assert.deepEqual(warnings.map((w) => w.message.split(': ').slice(1).join(': ')).sort(), [
    'a Proxy was thrown',
    'an instance of Error was thrown',
    'an object with a null prototype was thrown',
    'undefined was thrown',
  ])
  registry.close()
})

test('regression: a log naming a FIFO that nobody reads fails at once with ERR_EPHEMERON_LOG instead of blocking the event loop', { skip: process.platform === 'win32' }, () => {
  const tmp = temporaryDir()
  const fifo = tmp.file('leaks.fifo')
  execFileSync('mkfifo', [fifo])
  const started = Date.now()
  assert.throws(() => new LeakRegistry({ log: fifo }), { name: 'Error', code: 'ERR_EPHEMERON_LOG', message: /FIFO that no process is reading/ })
  assert.ok(Date.now() - started < 1000)
  tmp.remove()
})

test('regression: a closed LeakRegistry, and one dropped without close(), are collected', async () => {
  const tmp = temporaryDir()
  const gc = finalizationWatcher()
  ;(function makeAndDrop() {
    for (let i = 0; i < 200; i++) {
      const registry = new LeakRegistry({ onLeak() {}, log: tmp.file('shared.jsonl'), suspectAfter: 60_000, reportOnExit: true })
      registry.track({ i }) // an unread site, a deadline: the registry's timer is armed
      if (i % 2 === 0) registry.close()
      gc.watch(registry, i)
    }
  })()
  await eventually(() => gc.collected.size === 200, { message: `${gc.collected.size} of 200 registries collected` })
  tmp.remove()
})

test('a closed LeakRegistry is collected while a file it opened stays open, and closing the file later is safe', async () => {
  const gc = finalizationWatcher()
  let file
  await (async function openAndClose() {
    const registry = new LeakRegistry({ onLeak() {} })
    file = await registry.openFile(__filename)
    registry.close()
    gc.watch(registry, 'registry')
  })()
  await eventually(() => gc.collected.has('registry'), { message: 'the closed registry was not collected' })
  assert.equal((await file.read(Buffer.alloc(8), 0, 8, 0)).bytesRead, 8, 'the file still works')
  await file.close()
})

test('a registry that still tracks resources stays alive with no reference to it, and reports their leaks', async () => {
  const reports = []
  const gc = finalizationWatcher()
  let held = { kept: true }
  ;(function trackAndDropTheRegistry() {
    const registry = new LeakRegistry({ onLeak: (report) => reports.push(report.id) })
    registry.track(held, { id: 'kept-then-dropped' })
    gc.watch(registry, 'registry')
  })()
  await collectGarbage({ rounds: 3 })
  assert.equal(gc.collected.has('registry'), false, 'working: not collected')
  held = null
  await eventually(() => reports.length === 1)
  assert.deepEqual(reports, ['kept-then-dropped'])
  await eventually(() => gc.collected.has('registry'), { message: 'the idle registry was never collected' })
})

test('regression: registries that log to one file share one writer thread, and dropped ones give theirs back', { skip: process.platform !== 'linux' }, async () => {
  const tmp = temporaryDir()
  const before = threadCount()
  let registries = Array.from({ length: 100 }, () => new LeakRegistry({ log: tmp.file('one.jsonl'), onLeak() {} }))
  assert.ok(threadCount() - before <= 1, `${threadCount() - before} threads for 100 registries`)
  registries.push(...Array.from({ length: 10 }, (_, i) => new LeakRegistry({ log: tmp.file(`own-${i}.jsonl`) })))
  assert.ok(threadCount() - before <= 11)
  registries = null
  await eventually(() => threadCount() <= before, { message: `${threadCount() - before} writer threads left` })
  tmp.remove()
})

test('regression: reports over 8 KB from several registries appending to one file stay whole lines', async () => {
  const tmp = temporaryDir()
  const log = tmp.file('long.jsonl')
  const registries = [0, 1, 2, 3].map((n) => new LeakRegistry({ log, name: `r${n}`, stacks: 'off' }))
  ;(function leakLong() {
    for (const [n, registry] of registries.entries()) {
      for (let i = 0; i < 50; i++) registry.track({}, { type: 'Long', id: i, label: String(n).repeat(9_000 + 3_000 * n) })
    }
  })()
  await eventually(() => registries.every((registry) => registry.stats().leaked === 50))
  for (const registry of registries) registry.close()
  const lines = readLog(log)
  assert.equal(lines.length, 200)
  for (const line of lines) {
    const report = JSON.parse(line)
    assert.equal(report.label, report.registry.slice(1).repeat(report.label.length))
  }
  tmp.remove()
})

test('regression: process.exit() right after leaks are reported still writes every line to the log', () => {
  const tmp = temporaryDir()
  const log = tmp.file('exit.jsonl')
  const result = runScript(
    `
    const registry = new lib.LeakRegistry({ log: process.argv[1], stacks: 'off' })
    ;(function leak() { for (let i = 0; i < 1000; i++) registry.track({ i }, { type: 'Exit', id: i }) })()
    const timer = setInterval(() => {
      globalThis.gc()
      if (registry.stats().leaked === 1000) process.exit(0)
    }, 1)`,
    { args: [log] },
  )
  assert.equal(result.status, 0, result.stderr)
  const ids = readLog(log).map((line) => JSON.parse(line).id)
  assert.equal(ids.length, 1000)
  assert.equal(new Set(ids).size, 1000)
  tmp.remove()
})

test('regression: lines that cannot be written (ENOSPC) are counted in stats().logDropped, with one warning', { skip: !fs.existsSync('/dev/full') }, async () => {
  const registry = new LeakRegistry({ log: '/dev/full', stacks: 'off' })
  const warnings = await captureWarnings(async () => {
    ;(function leakTen() {
      for (let i = 0; i < 10; i++) registry.track({}, { type: 'Full' })
    })()
    await eventually(() => registry.stats().logDropped === 10)
    ;(function leakTenMore() {
      for (let i = 0; i < 10; i++) registry.track({}, { type: 'Full' })
    })()
    await eventually(() => registry.stats().logDropped === 20)
    registry.close()
  })
  const logWarnings = warnings.filter((w) => w.code === 'ERR_EPHEMERON_LOG_WRITE')
  assert.equal(logWarnings.length, 1, 'one warning, not one per line')
  assert.equal(logWarnings[0].type, 'LeakRegistryWarning')
  assert.match(logWarnings[0].message, /No space left on device.*stats\(\)\.logDropped/)
})

test('reopenLog() continues in a new file after log rotation moved the old one', async () => {
  const tmp = temporaryDir()
  const log = tmp.file('app.jsonl')
  const registry = new LeakRegistry({ log, stacks: 'off' })
  const other = new LeakRegistry({ log, stacks: 'off' })
  ;(function leakOne() {
    registry.track({}, { type: 'Before' })
  })()
  await eventually(() => registry.stats().leaked === 1)
  other.close() // flushes the shared writer
  fs.renameSync(log, tmp.file('app.jsonl.1'))
  registry.reopenLog()
  ;(function leakAnother() {
    registry.track({}, { type: 'After' })
  })()
  await eventually(() => registry.stats().leaked === 2)
  registry.close()
  assert.deepEqual(
    readLog(tmp.file('app.jsonl.1')).map((line) => JSON.parse(line).type),
    ['Before'],
  )
  assert.deepEqual(
    readLog(log).map((line) => JSON.parse(line).type),
    ['After'],
  )
  assert.doesNotThrow(() => new LeakRegistry({ log: 'stderr' }).reopenLog(), 'a no-op for stderr')
  tmp.remove()
})

test('regression: a registry with a log checks the log once after a delivery, not every second forever', async () => {
  const tmp = temporaryDir()
  const registry = new LeakRegistry({ log: tmp.file('quiet.jsonl'), stacks: 'off' })
  ;(function leakOne() {
    registry.track({}, { type: 'Once' })
  })()
  await eventually(() => registry.stats().leaked === 1)
  let timers = 0
  const hook = require('node:async_hooks')
    .createHook({ init: (_id, type) => (type === 'Timeout' ? timers++ : undefined) })
    .enable()
  await new Promise((resolve) => setTimeout(resolve, 3500))
  hook.disable()
  assert.ok(timers <= 2, `${timers} timers in 3.5 s (the test's own sleep is one)`)
  registry.close()
  tmp.remove()
})

test('regression: integers in a log line are written as integers (threadId was 0.0)', async () => {
  const tmp = temporaryDir()
  const log = tmp.file('ints.jsonl')
  const registry = new LeakRegistry({ log, stacks: 'off' })
  ;(function leakOne() {
    registry.track({}, { type: 'Int', id: 7 })
  })()
  await eventually(() => registry.stats().leaked === 1)
  registry.close()
  const [line] = readLog(log)
  assert.match(line, /"threadId":0[,}]/)
  assert.match(line, new RegExp(`"pid":${process.pid},`))
  assert.match(line, /"id":7,"label":null,/)
  assert.doesNotMatch(line, /\d\.0[,}]/, 'no integer written as a float')
  tmp.remove()
})

test('regression: a label or info with a lone surrogate, or nested 200 levels deep, comes back exactly (it came back null)', async () => {
  const tmp = temporaryDir()
  const log = tmp.file('exact.jsonl')
  const reports = []
  const registry = new LeakRegistry({ log, stacks: 'off', onLeak: (report) => reports.push(report) })
  let deep = { leaf: 'bottom' }
  for (let i = 0; i < 200; i++) deep = { next: deep }
  const lone = 'path\ud800/with\udfff-halves'
  ;(function leakOdd() {
    registry.track({}, { type: 'Odd', id: 'lone', label: lone })
    registry.track({}, { type: 'Odd', id: 'deep', deep })
  })()
  await eventually(() => reports.length === 2)
  registry.close()
  const byId = Object.fromEntries(reports.map((r) => [r.id, r]))
  assert.equal(byId.lone.label, lone)
  assert.equal(byId.lone.info.label, lone)
  assert.deepEqual(byId.deep.info.deep, deep)
  const logged = readLog(log).map((line) => JSON.parse(line))
  assert.deepEqual(logged.find((r) => r.id === 'lone').label, lone, 'the log line has the same text (escaped)')
  assert.deepEqual(logged.find((r) => r.id === 'deep').info.deep, deep)
  tmp.remove()
})

test('regression: two types that differ only in a lone surrogate stay apart in stats().byType', () => {
  const registry = new LeakRegistry({ onLeak() {} })
  const held = [registry.track({}, { type: 'T\ud800' }), registry.track({}, { type: 'T\udc00' }), registry.track({}, { type: 'T\udc00' })]
  const byType = registry.stats().byType
  assert.deepEqual(Object.keys(byType).sort(), ['T\ud800', 'T\udc00'])
  assert.equal(byType['T\udc00'].tracked, 2)
  assert.deepEqual(
    registry.open().map((r) => r.type),
    ['T\ud800', 'T\udc00', 'T\udc00'],
  )
  registry.close()
  void held
})

test('regression: a registry name or a type with line breaks cannot forge lines of the exit inventory', () => {
  const result = runScript(`
    const registry = new lib.LeakRegistry({ onLeak() {}, reportOnExit: true, name: 'evil\\nephemeron LeakRegistry (pid 1, thread 0): 999 tracked resource(s) still open at exit' })
    globalThis.held = [registry.track({}, { type: 'T\\n  999 x Forged from /etc/passwd:1 (oldest 0 s)', label: 'a\\nb' })]`)
  assert.equal(result.status, 0, result.stderr)
  const lines = result.stderr.split('\n').filter(Boolean)
  assert.equal(lines.length, 3, result.stderr)
  assert.match(lines[0], /^ephemeron LeakRegistry "evil\\nephemeron LeakRegistry .*" \(pid \d+, thread 0\): 1 tracked resource\(s\) still open at exit$/)
  assert.match(lines[1], /^ {2}1 x "T\\n {2}999 x Forged from \/etc\/passwd:1 \(oldest 0 s\)" from /)
  assert.match(lines[2], /^ {6}\d+ "a\\nb"$/)
})

test('regression: eleven registries with reportOnExit share one exit listener (no MaxListenersExceededWarning)', () => {
  const result = runScript(`
    const before = process.listenerCount('exit')
    globalThis.registries = Array.from({ length: 11 }, (_, i) => new lib.LeakRegistry({ onLeak() {}, reportOnExit: true, name: 'r' + i }))
    console.log(process.listenerCount('exit') - before)`)
  assert.equal(result.status, 0, result.stderr)
  assert.equal(result.stdout.trim(), '1')
  assert.doesNotMatch(result.stderr, /MaxListenersExceeded/)
})

test('regression: describing bad input never runs its traps, and every LeakRegistry error has a code', () => {
  const registry = new LeakRegistry({ onLeak() {} })
  let trapped = 0
  const sneaky = new Proxy(
    {},
    {
      get(_target, key) {
        trapped++
        return key === 'type' ? undefined : 1n // a value JSON.stringify refuses
      },
      ownKeys() {
        trapped++
        return ['x']
      },
      getOwnPropertyDescriptor() {
        trapped++
        return { value: 1n, enumerable: true, configurable: true }
      },
    },
  )
  assert.throws(() => registry.track({}, sneaky), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: /info must be JSON-serializable/ })
  const trapsDuringStringify = trapped
  assert.throws(() => new LeakRegistry({ name: sneaky }), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: /options\.name must be a string; got a Proxy$/ })
  assert.equal(trapped, trapsDuringStringify, 'the message was built without touching the Proxy')
  assert.throws(() => new LeakRegistry({ onLeak: undefined, log: undefined, stacks: undefined, sampleRate: undefined }).track(undefined), {
    code: 'ERR_INVALID_ARG_TYPE',
    message: /resource must be an object or a function; got undefined$/,
  })
  assert.throws(() => LeakRegistry.prototype.track.call({}, {}), { name: 'TypeError', code: 'ERR_INVALID_THIS' })
  registry.close()
  assert.throws(() => registry.track({}), { code: 'ERR_EPHEMERON_CLOSED' })
})

test('regression: replacing globals after load (as polyfills and test harnesses do) changes nothing', () => {
  const result = runScript(`
    const { LeakRegistry } = lib
    for (const name of ['WeakMap', 'Map', 'Set', 'WeakRef', 'FinalizationRegistry', 'Proxy']) {
      globalThis[name] = function Replaced() { throw new Error('global ' + name + ' used after load') }
    }
    globalThis.JSON = { stringify() { throw new Error('global JSON used') }, parse() { throw new Error('global JSON used') } }
    globalThis.setTimeout = globalThis.setImmediate = globalThis.setInterval = () => { throw new Error('global timer used') }
    Date.now = () => { throw new Error('Date.now used') }
    const reports = []
    const registry = new LeakRegistry({ onLeak: (r) => reports.push(r.kind + ' ' + r.type), suspectAfter: 10 })
    globalThis.held = registry.track({}, { type: 'Held' })
    ;(function leak() { registry.track({}, { type: 'Dropped', suspectAfter: 0 }) })()
    registry.openFile(process.execPath).then((file) => {
      globalThis.file = file
      const wait = require('node:timers').setInterval(() => {
        globalThis.gc()
        if (reports.length >= 3) { wait.unref(); console.log(reports.sort().join(',')) }
      }, 5)
    })`)
  assert.equal(result.status, 0, result.stderr)
  assert.equal(result.stdout.trim(), 'leaked Dropped,suspected FileHandle,suspected Held')
})
