#!/usr/bin/env node
// npm install hook. Never fails and downloads nothing: use a prebuilt or local addon if one loads,
// else compile with cmake-js when cmake and a C++ compiler are on the PATH, else leave the TS backend to serve.
'use strict';
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');

function addonLoads() {
  try {
    require('node-gyp-build')(root);
    return true;
  } catch {
    return false;
  }
}

function onPath(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function main() {
  if (addonLoads()) return;
  const cxx = process.env.CXX || 'c++';
  const missing = ['cmake', cxx].filter((cmd) => !onPath(cmd));
  if (missing.length > 0) {
    console.warn(`normnet: no prebuilt addon for ${process.platform}-${process.arch} and no ${missing.join(' or ')} to build one; the TypeScript backend will serve (install cmake and a C++17 compiler, then run \`npm rebuild normnet\`)`);
    return;
  }
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  const build = spawnSync(process.execPath, [cmakeJs, 'rebuild', '--directory', root, '--parallel', '2'], { stdio: 'inherit' });
  if (build.status !== 0 || !addonLoads()) {
    console.warn('normnet: building the native addon failed (see above); the TypeScript backend will serve');
  }
}

main();
