'use strict'
// Where a benchmark's threads run. On the 2-vCPU VM of docs/benchmarks.md, a process that does
// file I/O settles, often for its lifetime, into one of two regimes (its libuv threads running
// against its JS thread, or not), and the same code then costs several times more CPU per file.
// Pinning every thread of the process to one CPU gives the same placement to every run.

const os = require('node:os')
const { execFileSync } = require('node:child_process')

/**
 * The placement the benchmarks use, or undefined where it cannot be had (not Linux, no
 * `taskset`, one CPU): `{ service, load, restore }`, CPU lists for `taskset`: the last CPU (for
 * the process measured), the others (for a load generator), and this process's own (to restore).
 */
function placement() {
  const cpus = os.availableParallelism()
  if (process.platform !== 'linux' || cpus < 2) return undefined
  let current
  try {
    current = execFileSync('taskset', ['-c', '-p', String(process.pid)], { encoding: 'utf8' })
  } catch {
    return undefined
  }
  const restore = current.slice(current.lastIndexOf(':') + 1).trim()
  return { service: String(cpus - 1), load: cpus === 2 ? '0' : `0-${cpus - 2}`, restore }
}

/** Every thread of process `pid` (and those it makes later) runs on `cpus` only. */
function pin(pid, cpus) {
  execFileSync('taskset', ['-a', '-c', '-p', cpus, String(pid)], { stdio: 'ignore' })
}

module.exports = { placement, pin }
