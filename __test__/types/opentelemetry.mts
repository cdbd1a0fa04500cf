// Typechecked by `npm test`: how an ESM TypeScript service wires ephemeron/opentelemetry, with the
// OpenTelemetry SDK's own providers.
import { LeakRegistry, WeakCache } from 'ephemeron'
import { instrument, type Instrumentation, type InstrumentOptions } from 'ephemeron/opentelemetry'
import { LoggerProvider } from '@opentelemetry/sdk-logs'
import { MeterProvider } from '@opentelemetry/sdk-metrics'

const products = new WeakCache<string, { name: string }>({ max: 100 })
const registry = new LeakRegistry({ onLeak: () => {} })
const options: InstrumentOptions = {
  loggerProvider: new LoggerProvider(),
  meterProvider: new MeterProvider(),
  caches: { products },
  registries: [registry],
}
const telemetry: Instrumentation = instrument(options).addCache('sessions', new WeakCache({ max: 10 })).addRegistry(registry)
const closed: boolean = telemetry.closed
telemetry[Symbol.dispose]()
{
  using scoped = instrument({ logs: false })
  void scoped
}
// @ts-expect-error: caches are WeakCaches by name
instrument({ caches: [products] })
void closed
