// backends.js - the backends the shared suite runs against: every one that loads here, or only
// SIMDR_BACKEND=native|wasm. Each comes as the public API built over it (js/api.js), so the
// same tests exercise the public layer and the backend together.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeApi, loadBackend } from '../../js/api.js';

const importers = {
  native: () => import('../../js/backends/native.js'),
  wasm: () => import('../../js/backends/wasm.js'),
};

/** [{ name, api, missing }]: api is null (and missing says why) when the backend cannot load. */
export async function backends() {
  const forced = process.env.SIMDR_BACKEND;
  const names = forced ? [forced] : Object.keys(importers);
  const out = [];
  for (const name of names) {
    const [mod, why] = await loadBackend(importers[name]);
    out.push({ name, api: mod ? makeApi(mod) : null, missing: why, module: mod });
  }
  return out;
}

/** A fresh temporary folder, removed at process exit (unless SIMDR_KEEP_TMP=1). */
export function tempDir(prefix = 'simdr-js-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (process.env.SIMDR_KEEP_TMP !== '1')
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export const text = (u8) => (u8 === undefined ? undefined : new TextDecoder().decode(u8));
