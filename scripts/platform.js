'use strict'
// The platform part of the binary's and the platform package's names, as napi-rs spells it
// (linux-x64-gnu, darwin-arm64, win32-x64-msvc, ...): what binding.js looks for.

function platformSuffix() {
  const { platform, arch } = process
  if (platform === 'linux') {
    const musl = !process.report?.getReport().header.glibcVersionRuntime
    return `linux-${arch}-${musl ? 'musl' : 'gnu'}`
  }
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}

module.exports = { platformSuffix }
