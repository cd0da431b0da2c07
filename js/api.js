// api.js - builds the public functions (open, openSync, openAsync, backend) over one backend
// module (js/BACKEND.md). index.js picks the backend; wasm.js forces the wasm one.
import { SimdrError } from './errors.js';
import { Store, normaliseOptions } from './store.js';

const ERRC_UNSUPPORTED = 52;

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

  async function openAsync(name, options) {
    normaliseOptions(name, options);
    throw new SimdrError(ERRC_UNSUPPORTED,
      'openAsync (a store in a worker behind a promise proxy) is not available in Node yet: use open()');
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
