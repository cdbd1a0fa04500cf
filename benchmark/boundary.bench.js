'use strict'
// The cost of crossing from JS into Rust, by call style, for the same work (benchmark/native/
// src/boundary.rs): a raw Node-API callback whose data pointer is its state (the style of the
// addon's hot paths, src/raw.rs), a #[napi] function and a #[napi] class method (napi-rs's
// generated glue). docs/architecture.md decides which natives are raw from these figures.

const { compare } = require('./harness.js')
const native = require('./native.js')

const SLOTS = 1024
const OPS = 200_000
const objects = Array.from({ length: SLOTS }, (_, i) => ({ i }))
native.boundaryFnSetup(objects)
const instance = new native.BoundaryClass(objects)
const raw = native.boundaryRaw(objects)
const e = {}
const f = {}

const styles = {
  'raw callback (data pointer)': raw,
  '#[napi] function': { lookup: native.boundaryFnLookup, deref: native.boundaryFnDeref, six: native.boundaryFnSix },
  '#[napi] class method': instance,
}

function scenario(title, work) {
  compare(
    title,
    Object.entries(styles).map(([name, target]) => ({ name, run: () => work(target) })),
    { ops: OPS, rounds: 9 },
  )
}

scenario('lookup(slot) -> number', (t) => {
  let sum = 0
  for (let i = 0; i < OPS; i++) sum += t.lookup(i & (SLOTS - 1))
  return sum
})

scenario('deref(slot) -> object (a weak hit)', (t) => {
  let sum = 0
  for (let i = 0; i < OPS; i++) sum += t.deref(i & (SLOTS - 1)).i
  return sum
})

scenario('six(4 numbers, 2 objects) -> number (an insert)', (t) => {
  let sum = 0
  for (let i = 0; i < OPS; i++) sum += t.six(i, 1, 2, 3, e, f)
  return sum
})
