// wasm.js - `simd-r-drive/wasm`: the same API, always on the wasm backend (node:fs in Node,
// OPFS in a browser worker). The backend module (js/backends/wasm.js) comes with the wasm build.
import { SimdrError } from './errors.js';
import { Store } from './store.js';
import { makeApi, loadBackend } from './api.js';

const [mod, why] = await loadBackend(() => import('./backends/wasm.js'));
const api = makeApi(mod, why ? `wasm: ${why}` : '');

export const { open, openSync, openAsync } = api;
export const backend = api.backend;
export { SimdrError, Store };
export default { open, openSync, openAsync, backend, SimdrError, Store };
