// browser.js - the public entry of simd-r-drive in browsers (the `browser` condition of the
// exports map). Same surface as js/index.js over the wasm backend on OPFS:
//
// - open(name, options): in a dedicated worker, a Store on OPFS (js/browser_open.js). On the
//   main thread (no sync access handles) it rejects with SimdrError OPFS_UNAVAILABLE.
// - openAsync(name, options): anywhere Worker exists (the main thread, typically). Starts a
//   dedicated module worker (js/worker.js) that runs the store, and returns an AsyncStore: the
//   Store's methods as Promises. Values come back as copies (ArrayBuffers the worker transfers),
//   arguments are checked here first (TypeError/RangeError before anything is posted).
// - openSync: not available (OPFS handles are acquired asynchronously): throws UNSUPPORTED.
import { SimdrError } from './errors.js';
import { Store, normaliseOptions } from './store.js';
import { open } from './browser_open.js';
import { AsyncStore, openOnPort } from './async_store.js';

const ERRC_UNSUPPORTED = 52;

export { open, SimdrError, Store, AsyncStore };
/** The backend of this entry. */
export const backend = 'wasm';

export function openSync(name, options) {
  normaliseOptions(name, options);
  throw new SimdrError(ERRC_UNSUPPORTED, 'simd-r-drive: openSync() is not available in browsers ' +
    '(OPFS handles are acquired asynchronously): use await open() in a worker, or openAsync()');
}

/**
 * Opens `name` on OPFS in a new dedicated worker and returns an AsyncStore. Works where
 * Worker exists (the main thread included); rejects with TypeError/RangeError on bad
 * arguments and SimdrError (LOCKED, ...) when the store cannot open.
 */
export async function openAsync(name, options) {
  normaliseOptions(name, options);
  if (typeof Worker === 'undefined')
    throw new SimdrError(ERRC_UNSUPPORTED, 'simd-r-drive: openAsync() needs Worker');
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  const port = {
    post: (message, transfer) => worker.postMessage(message, transfer),
    terminate: () => worker.terminate(),
  };
  worker.onmessage = ({ data }) => port.onmessage(data);
  worker.onerror = (event) => {
    event.preventDefault();
    port.onerror(event.message || 'it could not load');
  };
  worker.onmessageerror = () => port.onerror('a message from the worker could not be read');
  return openOnPort(port, name, options);
}

export default { open, openSync, openAsync, backend, SimdrError, Store, AsyncStore };
