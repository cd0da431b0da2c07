#!/usr/bin/env node
// copy-wasm.js - puts the prebuilt wasm modules into js/wasm/ for the npm package (users have no
// Emscripten): simdr_wasm.{mjs,wasm} (private memory, preset wasm) and simdr_wasm_shared.
// {mjs,wasm} (shared memory, preset wasm-shared; chosen on cross-origin-isolated pages).
// `npm pack` runs it as `prepack` (with --build: first builds both presets' module targets),
// and `postpack` runs it with --clean, so js/wasm/ exists only while a tarball is made and a
// checkout never loads a stale copy (js/backends/wasm.js prefers js/wasm/ over build/).
// SIMDR_WASM_DIR=<folder> and SIMDR_WASM_SHARED_DIR=<folder> copy from there instead of
// building (a CI that built the modules already).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'js/wasm');
const builds = [
  { preset: 'wasm', target: 'simdr_wasm', env: 'SIMDR_WASM_DIR' },
  { preset: 'wasm-shared', target: 'simdr_wasm_shared', env: 'SIMDR_WASM_SHARED_DIR' },
];

if (process.argv.includes('--clean')) {
  rmSync(out, { recursive: true, force: true });
  process.exit(0);
}

const env = { ...process.env, NODE_PATH: process.env.NODE_PATH ?? '/usr/share/nodejs' };
const jobs = process.env.SIMDR_JOBS || '2';
const run = (args) => {
  const r = spawnSync('cmake', args, { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env });
  if (r.status !== 0) {
    console.error(`copy-wasm: cmake ${args.join(' ')} failed (${r.status ?? r.error?.message})`);
    process.exit(1);
  }
};
const copies = [];
for (const b of builds) {
  let from = process.env[b.env] ? resolve(process.env[b.env]) : join(root, `build/${b.preset}/wasm`);
  if (process.argv.includes('--build') && !process.env[b.env]) {
    if (!existsSync(join(root, `build/${b.preset}/CMakeCache.txt`))) run(['--preset', b.preset]);
    run(['--build', '--preset', b.preset, '-j', jobs, '--target', b.target]);
    from = join(root, `build/${b.preset}/wasm`);
  }
  // The shared build's loader names its pthread worker script in a `new Worker(new URL())`
  // that bundlers follow, so it ships although nothing in the module starts a thread.
  const extra = b.preset === 'wasm-shared' ? [`${b.target}.worker.js`] : [];
  for (const f of [`${b.target}.mjs`, `${b.target}.wasm`, ...extra]) {
    if (!existsSync(join(from, f))) {
      console.error(`copy-wasm: ${join(from, f)} is missing (cmake --build --preset ${b.preset} --target ${b.target})`);
      process.exit(1);
    }
    copies.push([join(from, f), f]);
  }
}
mkdirSync(out, { recursive: true });
for (const [src, f] of copies) copyFileSync(src, join(out, f));
console.error(`copy-wasm: ${copies.map(([, f]) => f).join(', ')} -> js/wasm/`);
