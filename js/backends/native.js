// native.js - the Node-API backend (js/BACKEND.md): loads the addon built by cmake-js
// (build/node/Release/simdr_node.node) and returns its Store objects as handles. The addon
// implements the handle contract itself; this module only finds and initialises it.
import { createRequire } from 'node:module';
import { SimdrError } from '../errors.js';

export const name = 'native';

const require = createRequire(import.meta.url);
let binding = null;

/** Where the addon is: SIMDR_NODE_ADDON (tests, packagers) or the cmake-js output. */
function candidates() {
  if (process.env.SIMDR_NODE_ADDON) return [process.env.SIMDR_NODE_ADDON];
  return ['../../build/node/Release/simdr_node.node'];
}

export async function load() {
  if (binding) return;
  const errors = [];
  for (const path of candidates()) {
    try {
      const b = require(path);
      b.init({ SimdrError });
      binding = b;
      return;
    } catch (e) {
      errors.push(`${path}: ${e.message}`);
    }
  }
  throw new Error(`the simd-r-drive addon cannot be loaded (${errors.join('; ')})`);
}

let Handle = null;

/**
 * Writes `key` (an ASCII string or a Uint8Array) into `u8` at `pos`; false when the string has
 * a non-ASCII character (then the caller takes the addon's UTF-8 path). Shared by get, putMany
 * and getMany.
 */
function packKey(u8, pos, key) {
  const n = key.length;
  if (typeof key !== 'string') {
    u8.set(key, pos);
    return true;
  }
  for (let j = 0; j < n; j++) {
    const c = key.charCodeAt(j);
    if (c > 0x7f) return false;
    u8[pos + j] = c;
  }
  return true;
}

/** Longest key the fast get takes (longer keys go through the addon's string conversion). */
const FAST_KEY_CAP = 1024;
/** putMany packs batches up to this many bytes in JS (larger: the addon's element-wise path). */
const PACK_MAX = 64 << 20;
/** The pack buffer is kept between batches up to this size (larger: dropped after the call). */
const PACK_KEEP = 8 << 20;
/** getPacked's markers in place of an offset (chunk offsets stay below 2^31). */
const MISSING = 0xffffffff;
const EXTRA = 0xfffffffe;

/**
 * The addon's Store with a faster get(). The key goes to the addon through a scratch buffer
 * (ASCII strings written here byte by byte, Uint8Arrays copied), read by a plain bound function
 * with no arguments: no N-API string conversion or object unwrapping. When the value lies in
 * the external buffer this handle already holds (the usual case), the addon only reports
 * (offset, length) and the view is built here, which V8 does far faster than an N-API call.
 */
function handleClass() {
  return class NativeHandle extends binding.Store {
    #scratch = new ArrayBuffer(16 + FAST_KEY_CAP);
    // [offset, length, adopt flag, key length]: see fast_get_state in native/node/addon.cpp.
    #out = new Uint32Array(this.#scratch, 0, 4);
    #key = new Uint8Array(this.#scratch, 16, FAST_KEY_CAP);
    #fastGet;
    #buffer = null;
    #lengths = new Uint32Array(0);  // putMany: (key length, value length) pairs
    #packed = new Uint8Array(0);    // putMany: key and value bytes; getMany: key bytes
    #where = new Uint32Array(0);    // getMany: (offset, length) or MISSING/EXTRA per key
    constructor(...args) {
      super(...args);
      this.setFastOutput(this.#out);
      this.#fastGet = this.bindFastGet(this.#scratch);
    }
    get(key) {
      const n = key.length;
      if (n <= FAST_KEY_CAP && packKey(this.#key, 0, key)) {
        this.#out[3] = n;
        const r = this.#fastGet();
        if (r !== -2) return this.#adopt(r);
      }
      return this.#adopt(this.getFast(key));
    }
    #adopt(r) {
      if (r !== undefined && r !== 0 && this.#out[2] === 1) this.#buffer = r.buffer;
      if (r === 0) return new Uint8Array(this.#buffer, this.#out[0], this.#out[1]);
      return r;
    }
    // Room for n (key, value) length pairs and `total` packed bytes in the reused buffers.
    #reservePack(n, total) {
      if (this.#lengths.length < 2 * n) this.#lengths = new Uint32Array(2 * n);
      if (this.#packed.length < total) this.#packed = new Uint8Array(Math.max(total, 2 * this.#packed.length));
    }
    // putMany: keys and values packed into one reused buffer here, passed in one call
    // (putPacked), instead of the addon reading 2n array elements through N-API. Batches with
    // a non-ASCII string key, or larger than PACK_MAX, take the addon's own putMany.
    putMany(keys, values) {
      const n = keys.length;
      let total = 0;
      for (let i = 0; i < n; i++) total += keys[i].length + values[i].length;
      if (total > PACK_MAX) return super.putMany(keys, values);
      this.#reservePack(n, total);
      const lengths = this.#lengths;
      const u8 = this.#packed;
      let pos = 0;
      for (let i = 0; i < n; i++) {
        const k = keys[i];
        const v = values[i];
        const kl = k.length;
        const vl = v.length;
        if (!packKey(u8, pos, k)) return super.putMany(keys, values);
        pos += kl;
        if (vl <= 32) for (let j = 0; j < vl; j++) u8[pos + j] = v[j];
        else u8.set(v, pos);
        pos += vl;
        lengths[2 * i] = kl;
        lengths[2 * i + 1] = vl;
      }
      this.putPacked(lengths, u8, n);
      if (u8.length > PACK_KEEP) this.#packed = new Uint8Array(0);  // not kept: regrown on demand
    }
    // getMany: keys packed as in putMany; the addon reports (offset, length) in the buffer this
    // handle holds, or hands over a view it made (see getPacked in native/node/addon.cpp).
    getMany(keys) {
      const n = keys.length;
      let total = 0;
      for (let i = 0; i < n; i++) total += keys[i].length;
      if (total > PACK_MAX) return super.getMany(keys);
      this.#reservePack(n, total);
      const lengths = this.#lengths;
      const u8 = this.#packed;
      let pos = 0;
      for (let i = 0; i < n; i++) {
        const k = keys[i];
        const kl = k.length;
        if (!packKey(u8, pos, k)) return super.getMany(keys);
        pos += kl;
        lengths[i] = kl;
      }
      if (this.#where.length < 2 * n) this.#where = new Uint32Array(2 * n);
      const where = this.#where;
      const extras = this.getPacked(lengths, u8, n, where);
      const buf = this.#buffer;  // the offsets are in this one, even when the addon adopted another
      const res = new Array(n);
      for (let i = 0; i < n; i++) {
        const o = where[2 * i];
        if (o === MISSING) res[i] = undefined;
        else if (o === EXTRA) res[i] = extras[i];
        else res[i] = new Uint8Array(buf, o, where[2 * i + 1]);
      }
      if (extras !== undefined && this.#out[2] === 1) this.#buffer = extras[this.#out[0]].buffer;
      if (u8.length > PACK_KEEP) this.#packed = new Uint8Array(0);  // not kept: regrown on demand
      return res;
    }
    close() {
      this.#buffer = null;
      this.#packed = null;
      super.close();
    }
  };
}

/** @param {string} path @param {{create:boolean, readOnly:boolean, durability:0|1, alignment:number, copy?:boolean}} o */
export function openHandle(path, o) {
  Handle ??= handleClass();
  return new Handle(path, o.create, o.readOnly, o.durability, o.alignment, !!o.copy);
}

/** Counters for tests: external buffers created and finalized, stores freed by GC. */
export function stats() {
  return binding.stats();
}
