// wasm.js - the `wasm` backend of js/BACKEND.md: the Emscripten build of the core (C ABI in
// wasm/src/exports.cpp) with its storage on node:fs (Node) or OPFS sync access handles (a
// browser's dedicated worker). Two builds of the same sources (docs/lifetimes.md):
//
// - private memory (simdr_wasm.{mjs,wasm}, preset wasm): one instance serves every store.
//   Views are Uint8Arrays over wasm memory, made per call (no copy). They live until the
//   store's bytes move or are freed (compaction, close, growth of the image buffer) or wasm
//   memory grows: then the ArrayBuffer under every outstanding view is detached (length 0).
//   The storage triggers this itself with WebAssembly.Memory.prototype.grow(0) (wasm/src/
//   js_files.js), so a view never shows other bytes.
// - shared memory (simdr_wasm_shared.{mjs,wasm}, preset wasm-shared; the default on
//   cross-origin-isolated pages): memory is a SharedArrayBuffer, which cannot be detached, so
//   views must never see freed bytes reused. Each store gets its own instance, its storage keeps
//   moved-away images until close, and close() drops the instance: views stay valid (their own
//   bytes) for as long as they are reachable, across growth, compaction and close.
//
// Locking: one writer per path per JS realm (`writers`, LOCKED). OPFS handles are exclusive
// across workers and tabs (LOCKED). On node:fs a writer holds the lock file `<path>.lock`
// (NodeFiles in wasm_files.js), which keeps out other wasm-backend processes, but not native
// handles (those use flock()).
import { SimdrError } from '../errors.js';
import { NodeFiles, OpfsFiles } from './wasm_files.js';

export const name = 'wasm';

const isNode = typeof process !== 'undefined' && !!process.versions?.node;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

// Node built-ins, imported only under Node and hidden from bundlers (which would otherwise
// warn about, or stub, node:fs in a browser build).
const nodeImport = (name) => import(/* webpackIgnore: true */ /* @vite-ignore */ `node:${name}`);

/** What load() chose: { factory, compiled (WebAssembly.Module), wasmUrl, shared, files }. */
let build = null;
let loading = null;
/** Private build: the one instance every store shares. */
let common = null;
/** Shared build: an instance no store has used yet (made by load(), or given back by an open
 *  that failed); the next openHandle() takes it. */
let spare = null;
/** Paths open for writing in this JS realm, across all instances (a shared-memory store has
 *  its own instance, whose C++ writer table sees only itself). */
const writers = new Set();

/** The folder holding the module files (`file`): $SIMDR_WASM_DIR (Node) when set, else js/wasm/
 *  (the copy `npm pack` ships; tools/copy-wasm.js), else the build folder of a checkout
 *  (build/wasm/wasm/, or build/wasm-shared/wasm/ for the shared build). */
async function defaultDir(file, shared) {
  const shipped = new URL('../wasm/', import.meta.url);
  const built = new URL(`../../build/${shared ? 'wasm-shared' : 'wasm'}/wasm/`, import.meta.url);
  if (!isNode) return shipped;
  const { pathToFileURL } = await nodeImport('url');
  const { existsSync } = await nodeImport('fs');
  if (process.env.SIMDR_WASM_DIR) return pathToFileURL(process.env.SIMDR_WASM_DIR.replace(/\/?$/, '/'));
  return existsSync(new URL(file, shipped)) ? shipped : built;
}

/** Which build load() picks: options.memory, else $SIMDR_WASM_MEMORY (Node), else 'shared' on
 *  a cross-origin-isolated page (where SharedArrayBuffer exists) and 'private' elsewhere.
 *  Returns [memory, asked]. */
function chooseMemory(options) {
  const asked = options.memory ?? (isNode ? process.env.SIMDR_WASM_MEMORY || undefined : undefined);
  if (asked !== undefined) {
    if (asked !== 'shared' && asked !== 'private')
      throw new TypeError(`wasm: memory must be 'shared' or 'private', not '${asked}'`);
    return [asked, true];
  }
  return [!isNode && globalThis.crossOriginIsolated === true ? 'shared' : 'private', false];
}

async function loadOnce(options) {
  const [memory, asked] = chooseMemory(options);
  if (memory === 'private') return loadBuild(options, false);
  try {
    return await loadBuild(options, true);
  } catch (e) {
    if (asked) throw e;
    // Chosen for an isolated page, not asked for: the private build still works there.
    console.warn(`simd-r-drive: the shared-memory wasm build cannot load (${e?.message ?? e}); ` +
      'using the private-memory build, whose views detach when memory grows');
    return loadBuild(options, false);
  }
}

async function loadBuild(options, shared) {
  if (shared && typeof SharedArrayBuffer === 'undefined')
    throw new Error('wasm: the shared-memory build needs SharedArrayBuffer (a cross-origin-isolated page)');
  // options.private / options.shared = { importModule, wasmUrl }: literal references a bundler
  // can follow (js/browser_open.js); otherwise the files in options.dir or defaultDir().
  const base = shared ? 'simdr_wasm_shared' : 'simdr_wasm';
  let { importModule, wasmUrl } = options[shared ? 'shared' : 'private'] ?? {};
  if (!importModule) {
    const dir = options.dir ? new URL(options.dir) : await defaultDir(`${base}.wasm`, shared);
    importModule = () => import(new URL(`${base}.mjs`, dir).href);
    wasmUrl = new URL(`${base}.wasm`, dir);
  }
  const { default: factory } = await importModule();
  let bytes;
  let files;
  if (isNode) {
    // Read here: the loader would fetch() a file path under Node 20.
    const fs = await nodeImport('fs');
    bytes = fs.readFileSync(wasmUrl);
    const { resolve } = await nodeImport('path');
    const { hostname } = await nodeImport('os');
    files = options.files ?? new NodeFiles(fs, { resolve, hostname: hostname() });
  } else {
    // Fetched here rather than by the loader: a module worker is neither of Emscripten's
    // 'web' (window) nor 'worker' (importScripts) environments.
    const response = await fetch(wasmUrl);
    if (!response.ok) throw new Error(`wasm: cannot fetch ${wasmUrl} (${response.status})`);
    bytes = await response.arrayBuffer();
    files = options.files ?? new OpfsFiles();
  }
  // Compiled once; every instance (one per store in the shared build) reuses it.
  const compiled = await WebAssembly.compile(bytes);
  const b = { factory, compiled, wasmUrl, shared, files };
  const first = await instantiate(b, false);
  if (shared) spare = first;
  else common = first;
  build = b;
}

/** A new instance of the build: synchronously (new WebAssembly.Instance of the compiled
 *  module: workers and Node only, which is where stores open) or as a Promise. */
function instantiate(b, sync) {
  let failure = null;
  let reject = () => {};
  const config = {
    simdrFiles: b.files,
    locateFile(p) {
      // Nothing in the module starts a thread: its pthread worker script is never needed.
      if (p.endsWith('.worker.js')) throw new Error(`wasm: the module asked for ${p}; the core never starts threads`);
      return new URL(p, b.wasmUrl).href;
    },
    instantiateWasm(imports, receive) {
      if (sync) {
        try {
          const instance = new WebAssembly.Instance(b.compiled, imports);
          receive(instance, b.compiled);
          return instance.exports;
        } catch (e) {
          failure = e;
          throw e;
        }
      }
      WebAssembly.instantiate(b.compiled, imports).then((i) => receive(i, b.compiled), (e) => reject(e));
      return {};
    },
  };
  const ready = new Promise((res, rej) => {
    reject = rej;
    b.factory(config).then(res, rej);
  });
  if (!sync) return ready.then((M) => new Instance(M, b.shared));
  ready.catch(() => {});  // a sync failure is thrown below
  if (failure) throw failure;
  if (!config.calledRun) throw new Error('wasm: the module did not start synchronously');
  return new Instance(config, b.shared);
}

/** Loads the module (idempotent). options: `memory` ('shared' | 'private'; default above), `dir`
 *  (URL of the folder holding the module files), or `private` / `shared`: { importModule:
 *  () => import(...mjs), wasmUrl } per build; `files`: the host file object (default NodeFiles
 *  in Node, OpfsFiles in a browser). */
export function load(options = {}) {
  if (build) return Promise.resolve();
  loading ??= loadOnce(options).catch((e) => {
    loading = null;
    throw e;
  });
  return loading;
}

/** 'shared' (wasm memory is a SharedArrayBuffer, one instance per store: views survive
 *  growth, compaction and close) or 'private' (one instance; views detach when bytes move);
 *  null before load(). */
export function memory() {
  return build ? (build.shared ? 'shared' : 'private') : null;
}

/** Browser: acquires the OPFS handles of `path` before openHandle(path) (OPFS is async). Each
 *  openHandle() needs its own prepare(); close() or a failed openHandle() releases them. */
export async function prepare(path, opts = {}) {
  await load();
  if (build.files.prepare) await build.files.prepare(path, opts);
}

/** The Emscripten module serving `handle` (default: the private build's one instance), for
 *  tests and the benchmark's per-call profile. */
export function moduleForTesting(handle) {
  if (handle) return WasmHandle.instanceOf(handle)?.M ?? null;
  return common?.M ?? null;
}

// ---- one module instance: out-record, errors, scratch buffer, keys, views ----------------------

const keyRoom = (key) => (typeof key === 'string' ? key.length * 3 : key.length);

class Instance {
  constructor(M, shared) {
    this.M = M;
    this.shared = shared;
    this.out = M._simdr_wasm_out() >>> 0;  // the out-record (exports.cpp: out_record)
    this.scratchPtr = 0;
    this.scratchCap = 0;
    // The ArrayBuffer of wasm memory, cached: `HEAPU8.buffer` is a call into V8's C++ runtime
    // (caching it took a cached get from ~71 to ~60 ns in Node). The loader replaces
    // M.HEAPU8 whenever memory grows, so a changed HEAPU8 is the signal to fetch it again.
    this.cachedHeap = null;
    this.cachedBuffer = null;
  }

  outU32(i) { return this.M.HEAPU32[(this.out >>> 2) + i]; }
  outF64(i) { return this.M.HEAPF64[(this.out >>> 3) + i]; }

  error(rc) {
    const heap = this.M.HEAPU8;
    const start = this.out + 40;
    let end = start;
    while (end < start + 256 && heap[end] !== 0) end++;
    // slice(): TextDecoder refuses views of a SharedArrayBuffer.
    const message = decoder.decode(heap.slice(start, end));
    const offset = this.outF64(4);
    return new SimdrError(rc, message, {
      errno: this.M.HEAP32[(this.out >>> 2) + 6],
      offset: offset >= 0 ? offset : undefined,
    });
  }

  check(rc) {
    if (rc !== 0) throw this.error(rc);
  }

  /** Address of at least `n` bytes of scratch. May grow wasm memory (private build: that
   *  detaches views). */
  scratch(n) {
    if (n > this.scratchCap) {
      const p = this.M._simdr_wasm_scratch(n) >>> 0;
      if (p === 0) throw new SimdrError(40, 'wasm: out of memory for a scratch buffer');
      this.scratchPtr = p;
      this.scratchCap = n;
    }
    return this.scratchPtr;
  }

  /** Writes `key` at `at` (UTF-8 for strings, ASCII fast path) and returns its byte length. */
  writeKey(heap, key, at) {
    if (typeof key !== 'string') {
      heap.set(key, at);
      return key.length;
    }
    const n = key.length;
    for (let i = 0; i < n; i++) {
      const c = key.charCodeAt(i);
      if (c > 0x7f) return this.writeUtf8(heap, key, at);
      heap[at + i] = c;
    }
    return n;
  }

  writeUtf8(heap, key, at) {
    if (!this.shared) return encoder.encodeInto(key, heap.subarray(at, at + 3 * key.length)).written;
    // Chromium's encodeInto refuses views of a SharedArrayBuffer: encode, then copy.
    const bytes = encoder.encode(key);
    heap.set(bytes, at);
    return bytes.length;
  }

  heapBuffer() {
    const heap = this.M.HEAPU8;
    if (heap !== this.cachedHeap) {
      this.cachedHeap = heap;
      this.cachedBuffer = heap.buffer;
    }
    return this.cachedBuffer;
  }

  /** Private build: a value that is itself a view of wasm memory would be detached if the
   *  scratch buffer grew memory, so it is copied first. Shared build: views never detach. */
  own(value) {
    return !this.shared && value.buffer === this.heapBuffer() ? value.slice() : value;
  }

  view(ptr, len) {
    return new Uint8Array(this.heapBuffer(), ptr >>> 0, len >>> 0);
  }
}

// Iterators abandoned before their end would pin the index: free them when collected.
const iterators = new FinalizationRegistry(({ inst, it }) => inst.M._simdr_wasm_iter_end(it));

// ---- handles ---------------------------------------------------------------------------------

class WasmHandle {
  #i;       // the Instance (null after close in the shared build, so that GC can free it)
  #h;
  #path;
  #locked;  // holds the host's writer lock (node:fs lock file)
  #writer;  // in `writers`

  constructor(inst, h, path, locked, writer) {
    this.#i = inst;
    this.#h = h;
    this.#path = path;
    this.#locked = locked;
    this.#writer = writer;
  }

  static instanceOf(handle) {
    return #i in handle ? handle.#i : null;
  }

  #handle() {
    if (this.#h === 0) throw new SimdrError(11, 'wasm: the store is closed');
    return this.#h;
  }

  /** How long a view stays valid (docs/lifetimes.md): 'while-reachable' (shared memory) or
   *  'until-move' (private memory). */
  viewLifetime() {
    return build.shared ? 'while-reachable' : 'until-move';
  }

  put(key, value) {
    const h = this.#handle();
    const i = this.#i;
    value = i.own(value);
    const p = i.scratch(keyRoom(key) + value.length);
    const heap = i.M.HEAPU8;
    const kl = i.writeKey(heap, key, p);
    heap.set(value, p + kl);
    i.check(i.M._simdr_wasm_put(h, p, kl, p + kl, value.length));
  }

  putMany(keys, values) {
    const h = this.#handle();
    const i = this.#i;
    const n = keys.length;
    let room = 16 * n;
    const vals = new Array(n);
    for (let k = 0; k < n; k++) {
      vals[k] = i.own(values[k]);
      room += keyRoom(keys[k]) + vals[k].length;
    }
    const p = i.scratch(room);
    const heap = i.M.HEAPU8;
    const table = i.M.HEAPU32;
    let at = p + 16 * n;
    for (let k = 0, t = p >>> 2; k < n; k++, t += 4) {
      const kl = i.writeKey(heap, keys[k], at);
      table[t] = at;
      table[t + 1] = kl;
      at += kl;
      heap.set(vals[k], at);
      table[t + 2] = at;
      table[t + 3] = vals[k].length;
      at += vals[k].length;
    }
    i.check(i.M._simdr_wasm_put_batch(h, p, n));
  }

  get(key) {
    const h = this.#handle();
    const i = this.#i;
    const M = i.M;
    const p = i.scratch(keyRoom(key));
    const kl = i.writeKey(M.HEAPU8, key, p);
    const rc = M._simdr_wasm_get(h, p, kl);
    if (rc === 1) return undefined;
    i.check(rc);
    return i.view(i.outU32(0), i.outU32(1));
  }

  getMany(keys) {
    const h = this.#handle();
    const i = this.#i;
    const n = keys.length;
    let room = 16 * n;
    for (let k = 0; k < n; k++) room += keyRoom(keys[k]);
    const p = i.scratch(room);
    const heap = i.M.HEAPU8;
    const table = i.M.HEAPU32;
    const results = p + 8 * n;
    let at = p + 16 * n;
    for (let k = 0, t = p >>> 2; k < n; k++, t += 2) {
      const kl = i.writeKey(heap, keys[k], at);
      table[t] = at;
      table[t + 1] = kl;
      at += kl;
    }
    i.check(i.M._simdr_wasm_get_batch(h, p, n, results));
    const out = new Array(n);
    const r = i.M.HEAPU32;
    for (let k = 0, t = results >>> 2; k < n; k++, t += 2) {
      out[k] = r[t] === 0 ? undefined : i.view(r[t], r[t + 1]);
    }
    return out;
  }

  has(key) {
    const h = this.#handle();
    const i = this.#i;
    const p = i.scratch(keyRoom(key));
    const kl = i.writeKey(i.M.HEAPU8, key, p);
    i.check(i.M._simdr_wasm_contains(h, p, kl));
    return i.outF64(2) === 1;
  }

  delete(key) {
    const h = this.#handle();
    const i = this.#i;
    const p = i.scratch(keyRoom(key));
    const kl = i.writeKey(i.M.HEAPU8, key, p);
    i.check(i.M._simdr_wasm_erase(h, p, kl));
    return i.outF64(2) === 1;
  }

  // #handle() first in every method: after close() the shared build has dropped #i, and a
  // callee expression such as this.#i.M._simdr_wasm_size is evaluated before its arguments.
  size() {
    const h = this.#handle();
    return this.#i.M._simdr_wasm_size(h);
  }

  fileSize() {
    const h = this.#handle();
    return this.#i.M._simdr_wasm_file_size(h);
  }

  iterate() {
    const h = this.#handle();
    const inst = this.#i;
    inst.check(inst.M._simdr_wasm_iter_begin(h));
    const it = inst.outU32(0);
    const token = {};
    let done = false;
    const finish = () => {
      done = true;
      iterators.unregister(token);
      inst.M._simdr_wasm_iter_end(it);
    };
    const iter = {
      next() {
        if (done) return undefined;
        const rc = inst.M._simdr_wasm_iter_next(it);
        if (rc === 1) {
          finish();
          return undefined;
        }
        if (rc !== 0) {
          const e = inst.error(rc);
          finish();
          throw e;
        }
        return [inst.view(inst.outU32(2), inst.outU32(3)), inst.view(inst.outU32(0), inst.outU32(1))];
      },
      return() {
        if (!done) finish();
        return undefined;
      },
    };
    iterators.register(iter, { inst, it }, token);
    return iter;
  }

  compact() {
    const h = this.#handle();
    this.#i.check(this.#i.M._simdr_wasm_compact(h));
  }

  verify() {
    const h = this.#handle();
    this.#i.check(this.#i.M._simdr_wasm_verify(h));
  }

  flush() {
    const h = this.#handle();
    this.#i.check(this.#i.M._simdr_wasm_sync(h));
  }

  refresh() {
    const h = this.#handle();
    this.#i.check(this.#i.M._simdr_wasm_refresh(h));
    return this.#i.outF64(2) === 1;
  }

  close() {
    if (this.#h === 0) return;
    const h = this.#h;
    const i = this.#i;
    this.#h = 0;
    const rc = i.M._simdr_wasm_close(h);
    release(this.#path, this.#locked, this.#writer);
    // Shared build: the instance served this store alone. Dropping it lets GC free its memory
    // once the last view of it is gone; until then views keep showing their own bytes, since
    // nothing will ever allocate in that memory again.
    if (build.shared) this.#i = null;
    if (rc !== 0) throw i.error(rc);
  }
}

function release(path, locked, writer) {
  if (locked) build.files.unlock(path);
  if (writer) writers.delete(path);
  build.files.release?.(path);
}

/** Opens a store (synchronous, after load(); in a browser after prepare(path, opts)).
 *  opts = { create, readOnly, durability: 0 | 1, alignment, reserve? (bytes of image buffer
 *  reserved up front, default 4 MiB) }. */
export function openHandle(path, opts = {}) {
  if (!build) throw new SimdrError(52, 'wasm: call load() before openHandle()');
  const files = build.files;
  const writer = !opts.readOnly;
  if (writer && writers.has(path)) {
    files.release?.(path);
    throw new SimdrError(22, `wasm: ${path} is already open for writing in this thread`);
  }
  // The host's cross-process writer lock comes first, before the storage touches any file
  // (it may clean up a compaction sidecar).
  const locked = writer && typeof files.lock === 'function';
  if (locked) {
    const lrc = files.lock(path);
    if (lrc < 0) {
      files.release?.(path);
      if (-lrc === 22) {
        throw new SimdrError(22, `wasm: ${path} is already open for writing` +
          (files.lockHolder ? ` (lock file ${path}.lock held by pid and host ${files.lockHolder})` : ''));
      }
      throw new SimdrError(-lrc, `wasm: cannot take the lock file ${path}.lock`,
        { errno: files.lastErrno });
    }
  }
  if (writer) writers.add(path);
  let inst = common;
  try {
    // Shared build: a fresh instance per store.
    if (build.shared) {
      inst = spare ?? instantiate(build, true);
      spare = null;
    }
  } catch (e) {
    release(path, locked, writer);
    throw e;
  }
  const M = inst.M;
  const bytes = encoder.encode(path);
  const p = inst.scratch(bytes.length);
  M.HEAPU8.set(bytes, p);
  const flags = (opts.create ? 1 : 0) | (opts.readOnly ? 2 : 0) | (opts.durability === 1 ? 4 : 0);
  const rc = M._simdr_wasm_open(p, bytes.length, flags, opts.alignment ?? 64, opts.reserve ?? 0);
  if (rc !== 0) {
    const e = inst.error(rc);
    release(path, locked, writer);
    // No view of it was ever made: a shared instance can serve the next open.
    if (build.shared) spare ??= inst;
    throw e;
  }
  return new WasmHandle(inst, inst.outU32(0), path, locked, writer);
}
