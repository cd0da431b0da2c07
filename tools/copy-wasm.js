#!/usr/bin/env node
// copy-wasm.js - puts the prebuilt wasm module into js/wasm/ for the npm package (users have no
// Emscripten): `npm pack` runs it as `prepack` (with --build: first builds the wasm preset's
// simdr_wasm target), and `postpack` runs it with --clean, so js/wasm/ exists only while a
// tarball is made and a checkout never loads a stale copy (js/backends/wasm.js prefers
// js/wasm/ over build/wasm/wasm/). SIMDR_WASM_DIR=<folder> copies from there instead of
// building (a CI that built the module already).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'js/wasm');
const files = ['simdr_wasm.mjs', 'simdr_wasm.wasm'];

if (process.argv.includes('--clean')) {
  rmSync(out, { recursive: true, force: true });
  process.exit(0);
}

let from = process.env.SIMDR_WASM_DIR ? resolve(process.env.SIMDR_WASM_DIR) : join(root, 'build/wasm/wasm');
if (process.argv.includes('--build') && !process.env.SIMDR_WASM_DIR) {
  const env = { ...process.env, NODE_PATH: process.env.NODE_PATH ?? '/usr/share/nodejs' };
  const jobs = process.env.SIMDR_JOBS || '2';
  const run = (args) => {
    const r = spawnSync('cmake', args, { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env });
    if (r.status !== 0) {
      console.error(`copy-wasm: cmake ${args.join(' ')} failed (${r.status ?? r.error?.message})`);
      process.exit(1);
    }
  };
  if (!existsSync(join(root, 'build/wasm/CMakeCache.txt'))) run(['--preset', 'wasm']);
  run(['--build', '--preset', 'wasm', '-j', jobs, '--target', 'simdr_wasm']);
  from = join(root, 'build/wasm/wasm');
}
for (const f of files) {
  if (!existsSync(join(from, f))) {
    console.error(`copy-wasm: ${join(from, f)} is missing (cmake --build --preset wasm --target simdr_wasm)`);
    process.exit(1);
  }
}
mkdirSync(out, { recursive: true });
for (const f of files) copyFileSync(join(from, f), join(out, f));
console.error(`copy-wasm: ${files.join(', ')} -> js/wasm/`);
