// store.js - the public Store class over a backend handle (js/BACKEND.md), written once for the
// native addon and the wasm backend. Everything a user can get wrong is checked here, before a
// backend is called: TypeError for a wrong type, RangeError for a wrong value. Backends only
// ever see string or Uint8Array keys and Uint8Array values.
import { SimdrError } from './errors.js';

const MAX_KEY = 65535;
const ERRC_CLOSED = 11;
const DURABILITY = Object.freeze({ none: 0, commit: 1 });
const encoder = new TextEncoder();

const TYPED = new Set([Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array,
  Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array]);

/** UTF-8 length of a string, computed only when the UTF-16 length leaves a doubt. */
function utf8Length(s) {
  if (s.length * 3 <= MAX_KEY) return s.length;  // an upper bound that is small enough
  return encoder.encode(s).length;
}

/** @returns {string | Uint8Array} */
export function checkKey(key, what = 'key') {
  if (typeof key === 'string') {
    if (key.length === 0) throw new RangeError(`${what} must not be empty`);
    if (key.length > MAX_KEY || utf8Length(key) > MAX_KEY)
      throw new RangeError(`${what} is longer than ${MAX_KEY} bytes of UTF-8`);
    return key;
  }
  if (key instanceof Uint8Array) {
    if (key.length === 0) throw new RangeError(`${what} must not be empty`);
    if (key.length > MAX_KEY) throw new RangeError(`${what} is longer than ${MAX_KEY} bytes`);
    return key;
  }
  throw new TypeError(`${what} must be a string or a Uint8Array, not ${describe(key)}`);
}

/** string -> UTF-8 bytes; ArrayBuffer and views -> a Uint8Array over the same bytes (no copy). */
export function toBytes(value, what = 'value') {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return encoder.encode(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer ||
      (typeof SharedArrayBuffer !== 'undefined' && value instanceof SharedArrayBuffer))
    return new Uint8Array(value);
  throw new TypeError(`${what} must be a string, an ArrayBuffer or an ArrayBufferView, not ${describe(value)}`);
}

function describe(v) {
  if (v === null) return 'null';
  if (typeof v === 'object') return v.constructor?.name ?? 'an object';
  return typeof v;
}

function checkBoolean(v, name, dflt) {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new TypeError(`option ${name} must be a boolean`);
  return v;
}

/**
 * Validates open() arguments and fills defaults.
 * @returns {{create: boolean, readOnly: boolean, durability: 0|1, alignment: number, copy: boolean}}
 */
export function normaliseOptions(name, options) {
  if (typeof name !== 'string') throw new TypeError(`name must be a string, not ${describe(name)}`);
  if (name.length === 0) throw new RangeError('name must not be empty');
  if (options === undefined || options === null) options = {};
  if (typeof options !== 'object') throw new TypeError('options must be an object');
  const readOnly = checkBoolean(options.readOnly, 'readOnly', false);
  const create = checkBoolean(options.create, 'create', !readOnly);
  if (create && readOnly) throw new RangeError('options create and readOnly exclude each other');
  let durability = 0;
  if (options.durability !== undefined) {
    if (typeof options.durability !== 'string') throw new TypeError("option durability must be 'none' or 'commit'");
    if (!Object.hasOwn(DURABILITY, options.durability))
      throw new RangeError("option durability must be 'none' or 'commit'");
    durability = DURABILITY[options.durability];
  }
  let alignment = 64;
  if (options.alignment !== undefined) {
    alignment = options.alignment;
    if (typeof alignment !== 'number') throw new TypeError('option alignment must be a number');
    if (!Number.isInteger(alignment) || alignment < 8 || alignment > 65536 || (alignment & (alignment - 1)) !== 0)
      throw new RangeError('option alignment must be a power of two from 8 to 65536');
  }
  const zeroCopy = checkBoolean(options.zeroCopy, 'zeroCopy', true);
  return { create, readOnly, durability, alignment, copy: !zeroCopy };
}

/** Splits an iterable of [key, value] pairs into checked key and value arrays. */
function splitPairs(entries) {
  if (entries === null || typeof entries !== 'object' || typeof entries[Symbol.iterator] !== 'function')
    throw new TypeError('putMany takes an iterable of [key, value] pairs');
  const keys = [];
  const values = [];
  for (const pair of entries) {
    if (pair === null || typeof pair !== 'object' || pair.length !== 2)
      throw new TypeError('putMany: each entry must be a [key, value] pair');
    keys.push(checkKey(pair[0]));
    values.push(toBytes(pair[1]));
  }
  return [keys, values];
}

export class Store {
  #handle;
  #closed = false;
  #backend;
  #readOnly;
  #path;

  /** @internal Use open() or openSync(). */
  constructor(handle, backendName, path, readOnly) {
    this.#handle = handle;
    this.#backend = backendName;
    this.#path = path;
    this.#readOnly = readOnly;
  }

  #h() {
    if (this.#closed) throw new SimdrError(ERRC_CLOSED, 'the store is closed');
    return this.#handle;
  }

  /** The backend serving this store: 'native' or 'wasm'. */
  get backend() { return this.#backend; }
  get path() { return this.#path; }
  get readOnly() { return this.#readOnly; }
  get closed() { return this.#closed; }
  /** Whether get() returns views of store memory (false: copies; Electron, or zeroCopy: false). */
  get zeroCopy() {
    const h = this.#h();
    return typeof h.isCopyMode === 'function' ? !h.isCopyMode() : true;
  }
  /**
   * How long a view from get(), getMany() or an iterator stays valid (docs/lifetimes.md):
   * 'until-close' (native: until close(), which detaches it), 'until-move' (wasm, private
   * memory: until store bytes move or wasm memory grows, which detaches it), 'while-reachable'
   * (wasm, shared memory: never detached, never other bytes) or 'copy' (values are copies).
   */
  get viewLifetime() {
    const h = this.#h();
    if (typeof h.isCopyMode === 'function' && h.isCopyMode()) return 'copy';
    return typeof h.viewLifetime === 'function' ? h.viewLifetime() : 'until-close';
  }
  /** Live keys. */
  get size() { return this.#h().size(); }
  /** Bytes of the file (complete commits). */
  get fileSize() { return this.#h().fileSize(); }

  put(key, value) {
    const h = this.#h();
    h.put(checkKey(key), toBytes(value));
  }

  /** Writes every pair in ONE crash-atomic commit. */
  putMany(entries) {
    const h = this.#h();
    const [keys, values] = splitPairs(entries);
    if (keys.length !== 0) h.putMany(keys, values);
  }

  /** Like putMany, off the event loop where the backend can (native: the libuv pool). */
  async putManyAsync(entries) {
    const h = this.#h();
    const [keys, values] = splitPairs(entries);
    if (keys.length === 0) return;
    if (typeof h.putManyAsync === 'function') return h.putManyAsync(keys, values);
    h.putMany(keys, values);
  }

  /**
   * The value of `key` as a view of store memory (no copy), or undefined. With a typed array
   * constructor, a view of that type; RangeError when the length or position does not fit.
   */
  get(key, type) {
    const h = this.#h();
    if (type !== undefined && !TYPED.has(type))
      throw new TypeError('get: the second argument must be a typed array constructor');
    const v = h.get(checkKey(key));
    if (v === undefined || type === undefined || type === Uint8Array) return v;
    return retype(v, type);
  }

  /** The value of `key` as a Uint8Array that owns its bytes, or undefined. */
  getCopy(key) {
    const v = this.#h().get(checkKey(key));
    return v === undefined ? undefined : v.slice();
  }

  /** Looks up many keys at once (the core's batched multi-get): views or undefined, in order. */
  getMany(keys, type) {
    const h = this.#h();
    if (keys === null || typeof keys !== 'object' || typeof keys[Symbol.iterator] !== 'function')
      throw new TypeError('getMany takes an iterable of keys');
    if (type !== undefined && !TYPED.has(type))
      throw new TypeError('getMany: the second argument must be a typed array constructor');
    const list = Array.isArray(keys) ? keys.map((k) => checkKey(k)) : Array.from(keys, (k) => checkKey(k));
    const out = h.getMany(list);
    if (type === undefined || type === Uint8Array) return out;
    return out.map((v) => (v === undefined ? undefined : retype(v, type)));
  }

  has(key) { return this.#h().has(checkKey(key)); }

  /** Removes `key`; returns whether it existed. */
  delete(key) { return this.#h().delete(checkKey(key)); }

  /** Live keys as views (decode with TextDecoder for string keys). */
  *keys() {
    for (const [k] of this.entries()) yield k;
  }

  /** Live [key, value] pairs as views, in file order when nothing was overwritten. */
  *entries() {
    const it = this.#h().iterate();
    for (;;) {
      const e = it.next();
      if (e === undefined) return;
      yield e;
    }
  }

  [Symbol.iterator]() { return this.entries(); }

  /** Rewrites the file with only live entries. Views taken before stay valid. */
  compact() { this.#h().compact(); }
  /** Checks every checksum; throws SimdrError CHECKSUM_MISMATCH or CORRUPT on damage. */
  verify() { this.#h().verify(); }
  /** Durability barrier: every commit so far reaches stable storage. */
  flush() { this.#h().flush(); }
  /** flush() off the event loop where the backend can (native: the libuv pool). */
  async flushAsync() {
    const h = this.#h();
    if (typeof h.flushAsync === 'function') return h.flushAsync();
    h.flush();
  }
  /** Read-only stores: picks up other writers' commits; whether anything changed. */
  refresh() { return this.#h().refresh(); }

  /** Closes the store; views it gave out become empty (length 0). Idempotent. */
  close() {
    if (this.#closed) return;
    this.#closed = true;
    this.#handle.close();
    this.#handle = null;
  }
}

function retype(v, type) {
  const bpe = type.BYTES_PER_ELEMENT;
  if (v.byteLength % bpe !== 0)
    throw new RangeError(`a value of ${v.byteLength} bytes is not a whole number of ${type.name} elements`);
  if (v.byteOffset % bpe !== 0)
    throw new RangeError(`the value is not aligned for ${type.name}`);
  return new type(v.buffer, v.byteOffset, v.byteLength / bpe);
}
