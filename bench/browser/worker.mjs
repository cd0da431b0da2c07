// worker.mjs - a dedicated module worker running one engine of the browser benchmark once
// (engines.mjs). run.mjs's page posts {engine, cfg, base}; the worker answers {ok, result} or
// {ok: false, error}. A fresh worker (and so a fresh wasm instance) per engine and repetition.
import { runSimdr, runIdb, runSqlite } from './engines.mjs';

async function removeOpfs(name) {
  const root = await navigator.storage.getDirectory();
  try { await root.removeEntry(name, { recursive: true }); } catch { /* absent */ }
}

/** Counts the OPFS calls the wasm storage makes (io-profile runs only: it adds a little time). */
async function countingFiles() {
  const { OpfsFiles } = await import('/js/backends/wasm_files.js');
  const c = { write: 0, writeBytes: 0, writeMs: 0, flush: 0, flushMs: 0, read: 0, readBytes: 0, readMs: 0, truncate: 0, truncateMs: 0 };
  class Counting extends OpfsFiles {
    write(id, view, at) { const t = performance.now(); const r = super.write(id, view, at); c.writeMs += performance.now() - t; c.write++; c.writeBytes += view.length; return r; }
    read(id, view, at) { const t = performance.now(); const r = super.read(id, view, at); c.readMs += performance.now() - t; c.read++; c.readBytes += view.length; return r; }
    flush(id) { const t = performance.now(); const r = super.flush(id); c.flushMs += performance.now() - t; c.flush++; return r; }
    truncate(id, s) { const t = performance.now(); const r = super.truncate(id, s); c.truncateMs += performance.now() - t; c.truncate++; return r; }
  }
  return { files: new Counting(), counters: c };
}

async function run({ engine, cfg, base }) {
  if (engine === 'simdr') {
    const wasm = await import('/js/backends/wasm.js');
    const { Store } = await import('/js/store.js');
    const env = { wasm, Store, base };
    // The module of this checkout's wasm build (the package default, js/wasm/, exists only in
    // a packed tarball): the shared-memory one on a cross-origin-isolated page (run.mjs
    // --isolated), which js/backends/wasm.js then picks.
    const dir = new URL(self.crossOriginIsolated ? '/build/wasm-shared/wasm/' : '/build/wasm/wasm/',
      self.location.origin).href;
    let io = null;
    if (!cfg.ioProfile) {
      await wasm.load({ dir });
    } else {
      io = await countingFiles();
      await wasm.load({ dir, files: io.files });
      const phases = {};
      env.mark = (name) => {
        if (name === 'start') { for (const k in io.counters) io.counters[k] = 0; return; }
        phases[name] = { ...io.counters };
      };
      env.phases = phases;
    }
    await removeOpfs(base);
    const result = await runSimdr(env, cfg);
    result.memory = wasm.memory();
    if (env.phases) result.io = env.phases;
    await removeOpfs(base);
    return result;
  }
  if (engine === 'idb') return runIdb({ base }, cfg);
  if (engine === 'sqlite') {
    const { default: init } = await import('/bench/browser/node_modules/@sqlite.org/sqlite-wasm/sqlite-wasm/jswasm/sqlite3.mjs');
    const sqlite3 = await init({ print: () => {}, printErr: () => {} });
    const result = await runSqlite({ sqlite3, base }, cfg);
    await removeOpfs(`${base}-sahpool`);
    return result;
  }
  if (engine === 'info') {
    const est = await navigator.storage.estimate();
    return { userAgent: navigator.userAgent, hardwareConcurrency: navigator.hardwareConcurrency, quota: est.quota };
  }
  throw new Error(`unknown engine ${engine}`);
}

self.onmessage = async ({ data }) => {
  try {
    self.postMessage({ ok: true, result: await run(data) });
  } catch (e) {
    self.postMessage({ ok: false, error: `${e?.name}: ${e?.message} ${e?.code ?? ''}\n${e?.stack ?? ''}` });
  }
};
