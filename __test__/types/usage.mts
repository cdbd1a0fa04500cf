// Typechecked by `npm test`: how an ESM TypeScript user imports the API.
import { IterableWeakMap, IterableWeakSet, WeakEventEmitter, type WeakKey } from 'ephemeron'

const key: WeakKey = {}
const map = new IterableWeakMap<WeakKey, number>().set(key, 1)
const set = new IterableWeakSet([key])
const tag: 'IterableWeakMap' = map[Symbol.toStringTag]
void [set.size, tag]
const emitter: WeakEventEmitter = new WeakEventEmitter().on('x', key as object, () => {})
const emitterTag: 'WeakEventEmitter' = emitter[Symbol.toStringTag]
void emitterTag
