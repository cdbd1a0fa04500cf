// ESM entry point: the same classes as the CommonJS one (one module instance, shared state).
import ephemeron from './index.js'

export const { IterableWeakMap, IterableWeakSet, WeakCache, LeakRegistry, WeakEventEmitter } = ephemeron
export default ephemeron
