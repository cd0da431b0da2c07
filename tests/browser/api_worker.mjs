// api_worker.mjs - a dedicated module worker for the browser suites (harness.mjs inWorker):
// runs the function it is sent as fn(api, ...args), where `api` is the public browser entry
// (/js/browser.js) plus `state` (kept between calls), `wasm` (the backend module, for memory
// facts), `text` (UTF-8 of a view, shared or not), and `opfs` (raw OPFS helpers, to damage or
// copy files behind the store's back).
import * as entry from '/js/browser.js';
import * as wasm from '/js/backends/wasm.js';

const AsyncFunction = (async () => {}).constructor;

async function fileHandle(path, create = false) {
  const parts = path.split('/').filter(Boolean);
  let dir = await navigator.storage.getDirectory();
  for (const d of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(d, { create });
  return dir.getFileHandle(parts.at(-1), { create });
}

async function withHandle(path, create, fn) {
  const h = await (await fileHandle(path, create)).createSyncAccessHandle();
  try { return fn(h); } finally { h.close(); }
}

const opfs = {
  /** Replaces the file's contents with `bytes`. */
  write: (path, bytes) => withHandle(path, true, (h) => {
    h.truncate(0);
    h.write(bytes, { at: 0 });
    h.flush();
  }),
  read: (path) => withHandle(path, false, (h) => {
    const out = new Uint8Array(h.getSize());
    h.read(out, { at: 0 });
    return out;
  }),
  size: (path) => withHandle(path, false, (h) => h.getSize()),
  truncate: (path, n) => withHandle(path, false, (h) => { h.truncate(n); h.flush(); }),
  async remove(path) {
    const parts = path.split('/').filter(Boolean);
    let dir = await navigator.storage.getDirectory();
    for (const d of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(d);
    await dir.removeEntry(parts.at(-1));
  },
};

const b64 = (u8) => {
  let s = '';
  for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode(...u8.subarray(i, i + 0x8000));
  return btoa(s);
};
const unb64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const hex = (u8) => Array.from(u8, (b) => b.toString(16).padStart(2, '0')).join('');

const dec = new TextDecoder();
/** UTF-8 text of a view; TextDecoder refuses views of a SharedArrayBuffer (the shared-memory
 *  build), so those are copied first. */
const text = (v) => (v === undefined ? undefined
  : dec.decode(v.buffer instanceof ArrayBuffer ? v : v.slice()));

const api = { ...entry, entry, wasm, opfs, b64, unb64, hex, text, state: {},
  enc: new TextEncoder(), dec };

self.onmessage = async ({ data: { id, src, args } }) => {
  try {
    const fn = new AsyncFunction('api', 'args', `return (${src})(api, ...args);`);
    self.postMessage({ id, ok: true, result: await fn(api, args) });
  } catch (e) {
    self.postMessage({ id, ok: false, error: `${e?.name}: ${e?.message} [${e?.code ?? ''}]` });
  }
};
