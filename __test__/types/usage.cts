// Typechecked by `npm test` (tsc -p __test__/types): how a CommonJS TypeScript user sees the API.
import ephemeron = require('../..')
const { IterableWeakMap, IterableWeakSet } = ephemeron

interface Socket {
  id: number
}
const socket: Socket = { id: 1 }

const meta = new IterableWeakMap<Socket, { openedAt: number }>([[socket, { openedAt: 0 }]])
const chained: typeof meta = meta.set(socket, { openedAt: Date.now() })
const openedAt: number | undefined = chained.get(socket)?.openedAt
const size: number = meta.size
for (const [key, value] of meta) {
  const id: number = key.id
  const at: number = value.openedAt
  void id, at
}
meta.forEach((value, key, map) => void [value.openedAt, key.id, map.size])
const computed: { openedAt: number } = meta.getOrInsertComputed({ id: 2 }, (key) => ({ openedAt: key.id }))
const symbols = new IterableWeakMap<symbol, string>().set(Symbol('s'), 'ok')

const members = new IterableWeakSet<Socket>([socket], { onCollect: (count: number) => void count })
const counted = new IterableWeakMap<Socket, number>(null, { onCollect: (count) => void count.toFixed() })
// @ts-expect-error onCollect takes a number
new IterableWeakMap(null, { onCollect: (count: string) => void count })
const has: boolean = members.add({ id: 3 }).has(socket)
const all: Socket[] = [...members.values()]

// @ts-expect-error primitive keys are not allowed
new IterableWeakMap<number, string>()
// @ts-expect-error wrong value type
meta.set(socket, 'not metadata')

void [openedAt, size, computed, symbols, has, all, counted]

// WeakCache
const { WeakCache } = ephemeron
interface User {
  name: string
}
const reasons: string[] = []
const users = new WeakCache<string, User>({ max: 100, ttl: 60_000, dispose: (user, id, reason) => void reasons.push(`${id}:${reason}:${user?.name}`) })
const user: User | undefined = users.set('u1', { name: 'Ada' }, { ttl: 1000 }).get('u1')
const cacheStats: number = users.stats().weakHits + users.size
for (const [id, u] of users) void [id.length, u.name]
const byNumber = new WeakCache<number, string>({ max: 0 })
const byObject = new WeakCache<object, string>({ maxSize: 100, sizeCalculation: (value) => value.length })
// @ts-expect-error wrong key type for this cache
byNumber.get('one')
// @ts-expect-error an option lru-cache 6 had
new WeakCache({ max: 1, maxAge: 1000 })
const status: import('../..').WeakCacheStatus<string, User> = {}
const fetched: Promise<User | undefined> = new WeakCache<string, User, { region: string }>({
  max: 10,
  fetchMethod: async (id, stale, { signal, context }) => (signal.aborted ? stale : { name: `${id}@${context.region}` }),
}).fetch('u2', { context: { region: 'eu' }, status })
const agents = new WeakCache<string, { close(): void }>({ max: 10, weak: false, dispose: (agent, _origin, reason) => reason !== 'collect' && agent?.close() })
const dumped: number = users.dump().length + agents.calculatedSize + byObject.size
void [user, cacheStats, fetched, dumped, users.pop(), users.memoMethod, users.rkeys().next()]

// LeakRegistry
const { LeakRegistry } = ephemeron
const leaks = new LeakRegistry({ onLeak: (report) => void [report.site, report.count, report.stack?.length], stacks: 'sample', sampleRate: 0.05 })
const tracked: Socket = leaks.track({ id: 4 }, { type: 'Socket', label: 'db', port: 5432 })
const released: boolean = leaks.release(tracked)
const leakStats: number = leaks.stats().byType['Socket']?.leaked ?? 0
const opened: Promise<import('node:fs/promises').FileHandle> = leaks.openFile(__filename)
const inventory: string[] = leaks.open().map((resource) => `${resource.type} ${resource.site} ${resource.ageMs}`)
// @ts-expect-error stacks is 'off' | 'sample' | 'all'
new LeakRegistry({ stacks: 'some' })
leaks.close()

void [released, leakStats, opened, inventory, LeakRegistry.processStats().live]

// WeakEventEmitter
const { WeakEventEmitter } = ephemeron
const feed = new WeakEventEmitter<{ price: [symbol: string, price: number]; closed: [] }>({ onCollect: (count) => void count.toFixed() })
class Widget {
  price = 0
  constructor() {
    feed.on('price', this, (symbol, price) => void (this.price = price + symbol.length)).once('closed', this, () => void feed.off('price', this))
  }
}
const widget = new Widget()
const ran: boolean = feed.emit('price', 'ACME', 12.5)
const counts: number = feed.listenerCount('price') + feed.collectedOwners
const names: Array<'price' | 'closed'> = feed.eventNames()
const owners: object[] = [...feed.owners('price')]
const untyped = new WeakEventEmitter()
untyped.on('anything', widget, (...args: any[]) => void args).emit(Symbol('event'), 1, 'two')
// @ts-expect-error wrong argument types for 'price'
feed.emit('price', 12.5, 'ACME')
// @ts-expect-error an event that is not in the map
feed.on('volume', widget, () => {})
// @ts-expect-error owners must be objects
feed.on('price', 'widget', () => {})
void [ran, counts, names, owners]
