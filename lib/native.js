'use strict'
// Loads the compiled addon through the generated loader (binding.js), with an error a user can
// act on when it is missing or left over from another version.

const { version } = require('../package.json')

function load() {
  let binding
  try {
    binding = require('../binding.js')
  } catch (cause) {
    const error = new Error(
      'ephemeron: the native addon is not built for this platform. Run `npm install` (or `node scripts/build.js`) ' +
        'in the ephemeron package folder; building needs the Rust toolchain (cargo). Cause: ' + cause.message,
      { cause },
    )
    error.code = 'ERR_EPHEMERON_NOT_BUILT'
    throw error
  }
  const built = binding.nativeVersion()
  if (built !== version) {
    const error = new Error(
      `ephemeron: the native addon was built for version ${built} but the JS is version ${version}; rebuild it with \`node scripts/build.js\``,
    )
    error.code = 'ERR_EPHEMERON_VERSION_MISMATCH'
    throw error
  }
  return binding
}

module.exports = load()
