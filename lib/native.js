'use strict'
// Loads the native addon through the generated loader (binding.js), which takes the binary built
// from source (./ephemeron.<platform>.node) if there is one, else the prebuilt platform package
// (ephemeron-<platform>, an optional dependency). Fails with an error a user can act on when
// neither is there or the binary belongs to another version.

const { version } = require('../package.json')
const { makeError } = require('./errors.js')

function load() {
  let binding
  try {
    binding = require('../binding.js')
  } catch (cause) {
    throw makeError(
      'ERR_EPHEMERON_NOT_BUILT',
      'ephemeron: the native addon is not built for this platform: no prebuilt binary (an ephemeron-<platform> package) ' +
        'matches it and none was built from source. Build it with `npm rebuild ephemeron` in your project (`npm install` ' +
        'in a checkout of ephemeron, or `node scripts/build.js` in its folder): that needs Rust >= 1.88 (https://rustup.rs), ' +
        'and an npm that runs ephemeron\'s install script (see `npm install-scripts`). Cause: ' + cause.message,
      cause,
    )
  }
  const built = binding.nativeVersion()
  if (built !== version) {
    throw makeError(
      'ERR_EPHEMERON_VERSION_MISMATCH',
      `ephemeron: the native addon was built for version ${built} but the JS is version ${version}; rebuild it with \`node scripts/build.js\``,
    )
  }
  return binding
}

module.exports = load()
