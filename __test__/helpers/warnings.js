'use strict'
// Specs that provoke process warnings on purpose capture them here, assert on them, and keep
// `npm test` quiet: a warning a spec expects is data, not output for the person running the suite.

/**
 * Runs `body` (sync or async) with `process.emitWarning` recording instead of printing, and
 * returns the warnings it emitted: `{ message, type, code, detail }` each. Warnings emitted by
 * anything else during `body` are recorded too, so a spec can assert there were none it did not
 * expect.
 */
async function captureWarnings(body) {
  const warnings = []
  const original = process.emitWarning
  process.emitWarning = (warning, options, code) => {
    const fields = typeof options === 'object' && options !== null ? options : { type: options, code }
    const message = typeof warning === 'string' ? warning : warning?.message
    warnings.push({ message, type: fields.type ?? warning?.name ?? 'Warning', code: fields.code ?? warning?.code, detail: fields.detail })
  }
  try {
    await body()
  } finally {
    process.emitWarning = original
  }
  return warnings
}

module.exports = { captureWarnings }
