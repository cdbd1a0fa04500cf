'use strict'
// The FileHandle helper end to end: a handle dropped without close() is reported with its fd,
// path and the line that opened it; closed handles are released and never reported.

const test = require('node:test')
const assert = require('node:assert/strict')
const fsp = require('node:fs/promises')
const { LeakRegistry } = require('..')
const { collectGarbage, eventually, finalizationWatcher } = require('./helpers/gc.js')

const file = __filename

test('a FileHandle dropped without close() is reported with fd, path and the opening line', async () => {
  const reports = []
  const registry = new LeakRegistry({ onLeak: (report) => reports.push(report) })
  let openedFd
  let openingLine
  async function openAndForget() {
    openingLine = new Error().stack.split('\n')[1].match(/:(\d+):\d+\)$/)[1] * 1 + 1
    const handle = await registry.openFile(file, 'r')
    openedFd = handle.fd
    assert.equal(registry.isTracked(handle), true)
  }
  await openAndForget()
  await eventually(() => reports.length === 1)
  const [report] = reports
  assert.equal(report.type, 'FileHandle')
  assert.equal(report.id, openedFd)
  assert.equal(report.label, file)
  assert.equal(report.info.fd, openedFd)
  assert.equal(report.info.path, file)
  assert.equal(report.site, `${__filename}:${openingLine}`)
  assert.deepEqual(registry.stats().byType.FileHandle, { tracked: 1, live: 0, released: 0, leaked: 1 })
  registry.close()
})

test('closing a FileHandle releases it, so it is never reported', async () => {
  const reports = []
  const registry = new LeakRegistry({ onLeak: (report) => reports.push(report) })
  const gc = finalizationWatcher()
  async function openReadClose() {
    const opened = await registry.openFile(file)
    const elsewhere = registry.trackFileHandle(await fsp.open(file), file)
    gc.watch(opened, 'opened')
    gc.watch(elsewhere, 'elsewhere')
    assert.match(await opened.readFile('utf8'), /FileHandle/)
    await opened.close()
    await elsewhere.close()
  }
  await openReadClose()
  assert.deepEqual(registry.stats().byType.FileHandle, { tracked: 2, live: 0, released: 2, leaked: 0 })
  await eventually(() => gc.collected.size === 2)
  await collectGarbage()
  assert.deepEqual(reports, [])
  registry.close()
})

test('trackFileHandle rejects what is not a FileHandle', () => {
  const registry = new LeakRegistry({ onLeak() {} })
  assert.throws(() => registry.trackFileHandle({}), { name: 'TypeError', message: /expected an fs\.promises FileHandle/ })
  registry.close()
})
