// index.js - the public entry point of simd-r-drive.
//
// Picks the backend once, at import: in Node the native addon (zero-copy views over the
// memory map), falling back to the wasm build on node:fs with ONE warning when the addon
// cannot load; in browsers the wasm build (OPFS, in a dedicated worker). The environment
// variable SIMDR_BACKEND=native|wasm forces one (and fails loudly if it cannot load).
// `backend` tells which one is active ('native', 'wasm', or null when none could load).
import { SimdrError } from './errors.js';
import { Store } from './store.js';
import { makeApi, loadBackend } from './api.js';

const isNode = typeof process !== 'undefined' && !!process.versions?.node;
const forced = isNode ? process.env.SIMDR_BACKEND : undefined;

const importNative = () => import('./backends/native.js');
const importWasm = () => import('./backends/wasm.js');

async function choose() {
  if (forced !== undefined && forced !== '') {
    if (forced !== 'native' && forced !== 'wasm')
      throw new Error(`SIMDR_BACKEND must be 'native' or 'wasm', not '${forced}'`);
    const [mod, why] = await loadBackend(forced === 'native' ? importNative : importWasm);
    if (!mod) throw new Error(`simd-r-drive: SIMDR_BACKEND=${forced} but that backend cannot load: ${why}`);
    return [mod, ''];
  }
  if (!isNode) {
    const [mod, why] = await loadBackend(importWasm);
    return [mod, why ? `wasm: ${why}` : ''];
  }
  const [native, whyNative] = await loadBackend(importNative);
  if (native) return [native, ''];
  const [wasm, whyWasm] = await loadBackend(importWasm);
  if (wasm) {
    process.emitWarning(`the native addon cannot load (${whyNative}); using the wasm backend on node:fs`,
      { code: 'SIMDR_WASM_FALLBACK', type: 'SimdrWarning' });
    return [wasm, ''];
  }
  return [null, `native: ${whyNative}; wasm: ${whyWasm}`];
}

const [mod, why] = await choose();
const api = makeApi(mod, why);

export const { open, openSync, openAsync } = api;
/** The active backend: 'native' | 'wasm' | null. */
export const backend = api.backend;
export { SimdrError, Store };
export default { open, openSync, openAsync, backend, SimdrError, Store };
