#!/usr/bin/env node
// prebuildify 6 only drives node-gyp; PREBUILD_NODE_GYP points it here and we build with cmake-js instead.
// prebuildify calls `<this> rebuild --target=... --devdir=... --arch=<arch> --release` in its --cwd and takes the
// addon from <cwd>/build/Release; a Node-API build needs no Node version. An --arch other than this Node's is a
// cross build: arm64 from x64, with cmake/aarch64-linux-gnu.cmake (Debian's g++-aarch64-linux-gnu).
'use strict';
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
const arch = process.argv.find((arg) => arg.startsWith('--arch='))?.slice('--arch='.length) ?? process.arch;
const args = [cmakeJs, 'rebuild', '--directory', root, '--out', path.resolve('build'), '--parallel', '2'];
if (arch !== process.arch) {
  if (arch !== 'arm64' || process.arch !== 'x64') {
    console.error(`cmake-js-as-node-gyp: no cross build for ${arch} on ${process.arch} (only arm64 on x64)`);
    process.exit(1);
  }
  args.push('--arch', arch, `--CDCMAKE_TOOLCHAIN_FILE=${path.join(root, 'cmake', 'aarch64-linux-gnu.cmake')}`);
}
const build = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(build.status ?? 1);
