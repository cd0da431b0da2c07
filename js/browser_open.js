// browser_open.js - open() for browsers: the wasm backend on OPFS, in a dedicated worker (the
// only place with synchronous access handles). Used by js/browser.js (the public browser entry)
// and by js/worker.js (the worker behind openAsync). Kept apart from browser.js so that the
// worker does not import the code that starts workers (bundlers follow `new Worker(new URL())`).
//
// The modules are referenced by literal relative URLs (./wasm/simdr_wasm.mjs and .wasm, and the
// shared-memory simdr_wasm_shared.*: the copies `npm pack` ships; tools/copy-wasm.js) so that
// bundlers such as Vite find and emit them.
import { SimdrError } from './errors.js';
import { Store, normaliseOptions } from './store.js';
import * as backend from './backends/wasm.js';

const ERRC_OPFS_UNAVAILABLE = 51;
const ERRC_UNSUPPORTED = 52;

/** Whether this global scope can open stores on OPFS (a dedicated worker with OPFS). */
export function hasSyncAccessHandles() {
  return typeof FileSystemSyncAccessHandle !== 'undefined' &&
    typeof navigator !== 'undefined' && typeof navigator.storage?.getDirectory === 'function';
}

let loading = null;

/** Loads the wasm module once (idempotent; a failure may be retried). */
export function loadWasm() {
  loading ??= backend.load({
    private: {
      importModule: () => import('./wasm/simdr_wasm.mjs'),
      wasmUrl: new URL('./wasm/simdr_wasm.wasm', import.meta.url),
    },
    // Chosen on cross-origin-isolated pages (js/backends/wasm.js, docs/lifetimes.md).
    shared: {
      importModule: () => import('./wasm/simdr_wasm_shared.mjs'),
      wasmUrl: new URL('./wasm/simdr_wasm_shared.wasm', import.meta.url),
    },
  }).catch((e) => {
    loading = null;
    throw new SimdrError(ERRC_UNSUPPORTED, `simd-r-drive: the wasm module cannot load: ${e?.message ?? e}`,
      { cause: e });
  });
  return loading;
}

/**
 * Opens the store `name` (a path in the origin's OPFS; '/' separates folders, created with
 * `create`) and returns a Store. Dedicated workers only: elsewhere it rejects with SimdrError
 * OPFS_UNAVAILABLE (use openAsync on the main thread).
 */
export async function open(name, options) {
  const o = normaliseOptions(name, options);
  if (!hasSyncAccessHandles()) {
    throw new SimdrError(ERRC_OPFS_UNAVAILABLE,
      'simd-r-drive: open() needs OPFS sync access handles, which exist only in dedicated ' +
      'workers; on the main thread use openAsync(), which runs the store in a worker');
  }
  await loadWasm();
  await backend.prepare(name, o);
  return new Store(backend.openHandle(name, o), backend.name, name, o.readOnly);
}
