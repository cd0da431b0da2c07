// wasm.js - the `wasm` backend of js/BACKEND.md: the Emscripten build of the core
// (build/wasm/wasm/simdr_wasm.{mjs,wasm}, C ABI in wasm/src/exports.cpp) with its storage on
// node:fs (Node) or OPFS sync access handles (a browser's dedicated worker).
//
// Views are Uint8Arrays over wasm memory, made per call (no copy). They live until the
// store's bytes move or are freed (compaction, close, growth of the image buffer) or wasm
// memory grows: then the ArrayBuffer under every outstanding view is detached (length 0). The
// storage triggers this itself with WebAssembly.Memory.prototype.grow(0) (wasm/src/
// js_files.js), so a view never shows other bytes. Never hold a view across another call.
//
// Locking: one writer per path per wasm instance (LOCKED). OPFS handles are exclusive across
// workers and tabs (LOCKED). On node:fs a writer holds the lock file `<path>.lock` (NodeFiles
// in wasm_files.js), which keeps out other wasm-backend processes, but not native handles
// (those use flock()).
import { SimdrError } from '../errors.js';
import { NodeFiles, OpfsFiles } from './wasm_files.js';

export const name = 'wasm';

const isNode = typeof process !== 'undefined' && !!process.versions?.node;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

// Node built-ins, imported only under Node and hidden from bundlers (which would otherwise
// warn about, or stub, node:fs in a browser build).
const nodeImport = (name) => import(/* webpackIgnore: true */ /* @vite-ignore */ `node:${name}`);

let M = null;        // the Emscripten module instance
let loading = null;
let files = null;    // the host file object (NodeFiles | OpfsFiles)
let OUT = 0;         // address of the out-record (exports.cpp: out_record)
let scratchPtr = 0;
let scratchCap = 0;

/** The folder holding simdr_wasm.{mjs,wasm}: $SIMDR_WASM_DIR (Node) when set, else js/wasm/
 *  (the copy `npm pack` ships; tools/copy-wasm.js), else build/wasm/wasm/ of a checkout. */
async function defaultDir() {
  const shipped = new URL('../wasm/', import.meta.url);
  const built = new URL('../../build/wasm/wasm/', import.meta.url);
  if (!isNode) return shipped;
  const { pathToFileURL } = await nodeImport('url');
  const { existsSync } = await nodeImport('fs');
  if (process.env.SIMDR_WASM_DIR) return pathToFileURL(process.env.SIMDR_WASM_DIR.replace(/\/?$/, '/'));
  return existsSync(new URL('simdr_wasm.wasm', shipped)) ? shipped : built;
}

async function loadOnce(options) {
  // options.importModule + options.wasmUrl: literal references a bundler can follow
  // (js/browser_open.js); otherwise simdr_wasm.{mjs,wasm} in options.dir or defaultDir().
  let importModule = options.importModule;
  let wasmUrl = options.wasmUrl;
  if (!importModule) {
    const dir = options.dir ? new URL(options.dir) : await defaultDir();
    importModule = () => import(new URL('simdr_wasm.mjs', dir).href);
    wasmUrl = new URL('simdr_wasm.wasm', dir);
  }
  const { default: factory } = await importModule();
  const config = {};
  if (isNode) {
    const fs = await nodeImport('fs');
    // The loader would fetch() a file path under Node 20: hand it the bytes instead.
    config.wasmBinary = fs.readFileSync(wasmUrl);
    const { resolve } = await nodeImport('path');
    const { hostname } = await nodeImport('os');
    files = options.files ?? new NodeFiles(fs, { resolve, hostname: hostname() });
  } else {
    // Fetched here rather than by the loader: a module worker is neither of Emscripten's
    // 'web' (window) nor 'worker' (importScripts) environments.
    const response = await fetch(wasmUrl);
    if (!response.ok) throw new Error(`wasm: cannot fetch ${wasmUrl} (${response.status})`);
    config.wasmBinary = await response.arrayBuffer();
    config.locateFile = (p) => new URL(p, wasmUrl).href;
    files = options.files ?? new OpfsFiles();
  }
  config.simdrFiles = files;
  M = await factory(config);
  OUT = M._simdr_wasm_out() >>> 0;
}

/** Loads the module (idempotent). options: `dir` (URL of the folder holding simdr_wasm.mjs and
 *  .wasm; default: $SIMDR_WASM_DIR in Node, else js/wasm/, else build/wasm/wasm/), or
 *  `importModule` (() => import(...simdr_wasm.mjs)) with `wasmUrl`; `files`: the host file
 *  object (default NodeFiles in Node, OpfsFiles in a browser). */
export function load(options = {}) {
  if (M) return Promise.resolve();
  loading ??= loadOnce(options).catch((e) => {
    loading = null;
    throw e;
  });
  return loading;
}

/** Browser: acquires the OPFS handles of `path` before openHandle(path) (OPFS is async). Each
 *  openHandle() needs its own prepare(); close() or a failed openHandle() releases them. */
export async function prepare(path, opts = {}) {
  await load();
  if (files.prepare) await files.prepare(path, opts);
}

/** The Emscripten module, for tests (memory growth, detachment). */
export function moduleForTesting() {
  return M;
}

// ---- out-record and errors -------------------------------------------------------------------

const outU32 = (i) => M.HEAPU32[(OUT >>> 2) + i];
const outF64 = (i) => M.HEAPF64[(OUT >>> 3) + i];

function error(rc) {
  const heap = M.HEAPU8;
  const start = OUT + 40;
  let end = start;
  while (end < start + 256 && heap[end] !== 0) end++;
  const message = decoder.decode(heap.subarray(start, end));
  const offset = outF64(4);
  return new SimdrError(rc, message, {
    errno: M.HEAP32[(OUT >>> 2) + 6],
    offset: offset >= 0 ? offset : undefined,
  });
}

function check(rc) {
  if (rc !== 0) throw error(rc);
}

// ---- scratch buffer and keys -----------------------------------------------------------------

/** Address of at least `n` bytes of scratch. May grow wasm memory (detaching views). */
function scratch(n) {
  if (n > scratchCap) {
    const p = M._simdr_wasm_scratch(n) >>> 0;
    if (p === 0) throw new SimdrError(40, 'wasm: out of memory for a scratch buffer');
    scratchPtr = p;
    scratchCap = n;
  }
  return scratchPtr;
}

const keyRoom = (key) => (typeof key === 'string' ? key.length * 3 : key.length);

/** Writes `key` at `at` (UTF-8 for strings, ASCII fast path) and returns its byte length. */
function writeKey(heap, key, at) {
  if (typeof key !== 'string') {
    heap.set(key, at);
    return key.length;
  }
  const n = key.length;
  for (let i = 0; i < n; i++) {
    const c = key.charCodeAt(i);
    if (c > 0x7f) return encoder.encodeInto(key, heap.subarray(at, at + 3 * n)).written;
    heap[at + i] = c;
  }
  return n;
}

/** The ArrayBuffer of wasm memory, cached: `HEAPU8.buffer` is a call into V8's C++ runtime
 *  (caching it took a cached get from ~71 to ~60 ns in Node). The loader replaces M.HEAPU8
 *  whenever memory grows, so a changed HEAPU8 is the signal to fetch the new buffer. */
let cachedHeap = null;
let cachedBuffer = null;
function heapBuffer() {
  const heap = M.HEAPU8;
  if (heap !== cachedHeap) {
    cachedHeap = heap;
    cachedBuffer = heap.buffer;
  }
  return cachedBuffer;
}

/** A value that is itself a view of wasm memory would be detached if the scratch buffer grew
 *  memory: copy it first. */
const own = (value) => (value.buffer === heapBuffer() ? value.slice() : value);

const view = (ptr, len) => new Uint8Array(heapBuffer(), ptr >>> 0, len >>> 0);

// Iterators abandoned before their end would pin the index: free them when collected.
const iterators = new FinalizationRegistry((it) => {
  if (M) M._simdr_wasm_iter_end(it);
});

// ---- handles ---------------------------------------------------------------------------------

class WasmHandle {
  #h;
  #path;
  #locked;

  constructor(h, path, locked) {
    this.#h = h;
    this.#path = path;
    this.#locked = locked;
  }

  #handle() {
    if (this.#h === 0) throw new SimdrError(11, 'wasm: the store is closed');
    return this.#h;
  }

  put(key, value) {
    const h = this.#handle();
    value = own(value);
    const p = scratch(keyRoom(key) + value.length);
    const heap = M.HEAPU8;
    const kl = writeKey(heap, key, p);
    heap.set(value, p + kl);
    check(M._simdr_wasm_put(h, p, kl, p + kl, value.length));
  }

  putMany(keys, values) {
    const h = this.#handle();
    const n = keys.length;
    let room = 16 * n;
    const vals = new Array(n);
    for (let i = 0; i < n; i++) {
      vals[i] = own(values[i]);
      room += keyRoom(keys[i]) + vals[i].length;
    }
    const p = scratch(room);
    const heap = M.HEAPU8;
    const table = M.HEAPU32;
    let at = p + 16 * n;
    for (let i = 0, t = p >>> 2; i < n; i++, t += 4) {
      const kl = writeKey(heap, keys[i], at);
      table[t] = at;
      table[t + 1] = kl;
      at += kl;
      heap.set(vals[i], at);
      table[t + 2] = at;
      table[t + 3] = vals[i].length;
      at += vals[i].length;
    }
    check(M._simdr_wasm_put_batch(h, p, n));
  }

  get(key) {
    const h = this.#handle();
    const p = scratch(keyRoom(key));
    const kl = writeKey(M.HEAPU8, key, p);
    const rc = M._simdr_wasm_get(h, p, kl);
    if (rc === 1) return undefined;
    check(rc);
    return view(outU32(0), outU32(1));
  }

  getMany(keys) {
    const h = this.#handle();
    const n = keys.length;
    let room = 16 * n;
    for (let i = 0; i < n; i++) room += keyRoom(keys[i]);
    const p = scratch(room);
    const heap = M.HEAPU8;
    const table = M.HEAPU32;
    const results = p + 8 * n;
    let at = p + 16 * n;
    for (let i = 0, t = p >>> 2; i < n; i++, t += 2) {
      const kl = writeKey(heap, keys[i], at);
      table[t] = at;
      table[t + 1] = kl;
      at += kl;
    }
    check(M._simdr_wasm_get_batch(h, p, n, results));
    const out = new Array(n);
    const r = M.HEAPU32;
    for (let i = 0, t = results >>> 2; i < n; i++, t += 2) {
      out[i] = r[t] === 0 ? undefined : view(r[t], r[t + 1]);
    }
    return out;
  }

  has(key) {
    const h = this.#handle();
    const p = scratch(keyRoom(key));
    const kl = writeKey(M.HEAPU8, key, p);
    check(M._simdr_wasm_contains(h, p, kl));
    return outF64(2) === 1;
  }

  delete(key) {
    const h = this.#handle();
    const p = scratch(keyRoom(key));
    const kl = writeKey(M.HEAPU8, key, p);
    check(M._simdr_wasm_erase(h, p, kl));
    return outF64(2) === 1;
  }

  size() {
    return M._simdr_wasm_size(this.#handle());
  }

  fileSize() {
    return M._simdr_wasm_file_size(this.#handle());
  }

  iterate() {
    check(M._simdr_wasm_iter_begin(this.#handle()));
    const it = outU32(0);
    const token = {};
    let done = false;
    const finish = () => {
      done = true;
      iterators.unregister(token);
      M._simdr_wasm_iter_end(it);
    };
    const iter = {
      next() {
        if (done) return undefined;
        const rc = M._simdr_wasm_iter_next(it);
        if (rc === 1) {
          finish();
          return undefined;
        }
        if (rc !== 0) {
          const e = error(rc);
          finish();
          throw e;
        }
        return [view(outU32(2), outU32(3)), view(outU32(0), outU32(1))];
      },
      return() {
        if (!done) finish();
        return undefined;
      },
    };
    iterators.register(iter, it, token);
    return iter;
  }

  compact() {
    check(M._simdr_wasm_compact(this.#handle()));
  }

  verify() {
    check(M._simdr_wasm_verify(this.#handle()));
  }

  flush() {
    check(M._simdr_wasm_sync(this.#handle()));
  }

  refresh() {
    check(M._simdr_wasm_refresh(this.#handle()));
    return outF64(2) === 1;
  }

  close() {
    if (this.#h === 0) return;
    const h = this.#h;
    this.#h = 0;
    const rc = M._simdr_wasm_close(h);
    if (this.#locked) files.unlock(this.#path);
    files.release?.(this.#path);
    check(rc);
  }
}

/** Opens a store (synchronous, after load(); in a browser after prepare(path, opts)).
 *  opts = { create, readOnly, durability: 0 | 1, alignment, reserve? (bytes of image buffer
 *  reserved up front, default 4 MiB) }. */
export function openHandle(path, opts = {}) {
  if (!M) throw new SimdrError(52, 'wasm: call load() before openHandle()');
  const bytes = encoder.encode(path);
  const p = scratch(bytes.length);
  M.HEAPU8.set(bytes, p);
  const flags = (opts.create ? 1 : 0) | (opts.readOnly ? 2 : 0) | (opts.durability === 1 ? 4 : 0);
  // The host's cross-process writer lock comes first, before the storage touches any file
  // (it may clean up a compaction sidecar).
  const locked = !opts.readOnly && typeof files.lock === 'function';
  if (locked) {
    const lrc = files.lock(path);
    if (lrc < 0) {
      if (-lrc === 22) {
        throw new SimdrError(22, `wasm: ${path} is already open for writing` +
          (files.lockHolder ? ` (lock file ${path}.lock held by pid and host ${files.lockHolder})` : ''));
      }
      throw new SimdrError(-lrc, `wasm: cannot take the lock file ${path}.lock`,
        { errno: files.lastErrno });
    }
  }
  const rc = M._simdr_wasm_open(p, bytes.length, flags, opts.alignment ?? 64, opts.reserve ?? 0);
  if (rc !== 0) {
    const e = error(rc);
    if (locked) files.unlock(path);
    files.release?.(path);
    throw e;
  }
  return new WasmHandle(outU32(0), path, locked);
}
