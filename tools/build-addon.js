#!/usr/bin/env node
// build-addon.js - builds the Node-API addon (native/node) with cmake-js, downloading nothing:
// headers come from the npm package node-api-headers ("binary.napi_versions" in package.json).
// Run by `npm install` (the package's install script). A failed build is reported and the
// install still succeeds: `import 'simd-r-drive'` then falls back to the wasm backend. With
// --strict (npm run build, CI) a failure is an error.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const strict = process.argv.includes('--strict');
const require = createRequire(join(root, 'package.json'));

function fail(why) {
  if (strict) {
    console.error(`simd-r-drive: addon build failed: ${why}`);
    process.exit(1);
  }
  console.warn(`simd-r-drive: the native addon was not built (${why}); ` +
               'the wasm backend will be used where available');
  process.exit(0);
}

if (process.env.SIMDR_SKIP_NATIVE === '1') fail('SIMDR_SKIP_NATIVE=1');
let cmakeJs;
try {
  cmakeJs = require.resolve('cmake-js/bin/cmake-js');
} catch {
  fail('cmake-js is not installed');
}
const jobs = process.env.SIMDR_JOBS || '2';
const args = [cmakeJs, 'compile', '--out', 'build/node', '--target', 'simdr_node',
  '--parallel', jobs, '--CDSIMDR_BUILD_NODE=ON', '--CDSIMDR_DEVELOPER_MODE=OFF',
  '--CDCMAKE_BUILD_TYPE=Release'];
const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
if (r.status !== 0) fail(`cmake-js exited with ${r.status ?? r.signal}`);
