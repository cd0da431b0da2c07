// api.js - builds the public functions (open, openSync, openAsync, backend) over one backend
// module (js/BACKEND.md). index.js picks the backend; wasm.js forces the wasm one.
import { SimdrError } from './errors.js';
import { Store, normaliseOptions } from './store.js';

const ERRC_UNSUPPORTED = 52;
const isNode = typeof process !== 'undefined' && !!process.versions?.node;

/**
 * @param {object | null} mod  a loaded backend module, or null when none could load
 * @param {string} why         why no backend loaded (when mod is null)
 */
export function makeApi(mod, why = '') {
  const unavailable = () =>
    new SimdrError(ERRC_UNSUPPORTED, `simd-r-drive: no backend could be loaded here (${why})`);

  function openSync(name, options) {
    const o = normaliseOptions(name, options);
    if (!mod) throw unavailable();
    return new Store(mod.openHandle(name, o), mod.name, name, o.readOnly);
  }

  async function open(name, options) {
    return openSync(name, options);
  }

  // Node: the store on a worker thread running the same backend (js/node_worker.js); the
  // browser entry (js/browser.js) has its own openAsync over a dedicated Worker.
  async function openAsync(name, options) {
    normaliseOptions(name, options);
    if (!mod) throw unavailable();
    if (!isNode) throw new SimdrError(ERRC_UNSUPPORTED, 'openAsync: use the browser entry (js/browser.js)');
    const [{ Worker }, { openOnPort }] = await Promise.all([
      import(/* webpackIgnore: true */ /* @vite-ignore */ `node:${'worker_threads'}`),
      import('./async_store.js'),
    ]);
    const worker = new Worker(new URL('./node_worker.js', import.meta.url),
      { workerData: { backend: mod.name } });
    worker.unref();  // only pending calls keep the process alive (port.busy)
    const port = {
      post: (message, transfer) => worker.postMessage(message, transfer),
      terminate: () => worker.terminate(),
      busy: (isBusy) => (isBusy ? worker.ref() : worker.unref()),
    };
    worker.on('message', (data) => port.onmessage(data));
    worker.on('error', (e) => port.onerror(e?.message ?? String(e)));
    worker.on('exit', (code) => port.onerror(`it exited with code ${code}`));
    return openOnPort(port, name, options);
  }

  return { open, openSync, openAsync, backend: mod ? mod.name : null };
}

/** Loads a backend module by dynamic import; returns [module, null] or [null, reason]. */
export async function loadBackend(importer) {
  try {
    const mod = await importer();
    await mod.load();
    return [mod, null];
  } catch (e) {
    const missing = e && e.code === 'ERR_MODULE_NOT_FOUND';
    return [null, missing ? 'not built or not shipped' : (e && e.message) || String(e)];
  }
}
