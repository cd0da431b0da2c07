// node_wasm.mjs - context row of the browser benchmark: the same W1/W2 driver (engines.mjs) on
// the wasm backend in Node, storage on node:fs. Prints one JSON line: {runs: [metrics, ...]}.
//   node node_wasm.mjs --n 100000 --n4k 10000 --reps 3 [--micro]   (--micro: per-call profile in the first rep)
//   SIMDR_WASM_DIR=file:///some/build/wasm/wasm/ node node_wasm.mjs ...   (another module build, to compare)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as wasm from '../../js/backends/wasm.js';
import { Store } from '../../js/store.js';
import { runSimdr } from './engines.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const cfg = { n: arg('--n', 100_000), n4k: arg('--n4k', 10_000) };
const reps = arg('--reps', 3);

// The module: $SIMDR_WASM_DIR (a folder path) when set, and $SIMDR_WASM_MEMORY picks the build.
await wasm.load();
const runs = [];
for (let rep = 0; rep < reps; rep++) {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'simdr-bbench-node-'));
  try {
    runs.push(await runSimdr({ wasm, Store, base }, { ...cfg, micro: rep === 0 && process.argv.includes('--micro') }));
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
}
process.stdout.write(`${JSON.stringify({ runs })}\n`);
