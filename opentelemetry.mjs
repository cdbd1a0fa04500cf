// ESM entry point of ephemeron/opentelemetry: the same module instance as the CommonJS one.
import opentelemetry from './opentelemetry.js'

export const { instrument } = opentelemetry
export default opentelemetry
