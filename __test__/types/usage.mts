// Typechecked by `npm test`: how an ESM TypeScript user imports the API.
import { IterableWeakMap, IterableWeakSet, type WeakKey } from 'ephemeron'

const key: WeakKey = {}
const map = new IterableWeakMap<WeakKey, number>().set(key, 1)
const set = new IterableWeakSet([key])
const tag: 'IterableWeakMap' = map[Symbol.toStringTag]
void [set.size, tag]
