#!/usr/bin/env node
// prebuildify 6 only drives node-gyp; PREBUILD_NODE_GYP points it here and we build with cmake-js instead.
// prebuildify calls `<this> rebuild --target=... --devdir=... --release`; a Node-API build needs none of them.
'use strict';
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
const build = spawnSync(process.execPath, [cmakeJs, 'rebuild', '--directory', root, '--parallel', '2'], { stdio: 'inherit' });
process.exit(build.status ?? 1);
