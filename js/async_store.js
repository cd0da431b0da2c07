// async_store.js - AsyncStore, what openAsync() returns: a store run by a worker (browser: a
// dedicated Worker, js/worker.js; Node: a worker thread, js/node_worker.js) behind promises.
// Arguments are checked here, on the calling thread (TypeError/RangeError before anything is
// posted); values come back as copies the worker transfers. Protocol: js/worker_ops.js.
import { SimdrError } from './errors.js';
import { checkKey, toBytes } from './store.js';

const ERRC_CLOSED = 11;
const ERRC_UNSUPPORTED = 52;
const BATCH = 1024;  // entries per message when iterating

const TYPED = new Set([Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array,
  Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array]);

/**
 * The thread behind an AsyncStore, whatever runs it:
 * { post(message, transfer), terminate(), busy?(isBusy) } and, set by AsyncStore,
 * onmessage(data), onerror(error). `busy` lets Node keep the process alive only while calls
 * are pending.
 * @typedef {object} Port
 */

/** A Uint8Array that owns exactly its bytes, so posting it does not clone a larger buffer. */
function tight(u8) {
  return u8.byteOffset === 0 && u8.byteLength === u8.buffer.byteLength &&
    u8.buffer instanceof ArrayBuffer ? u8 : u8.slice();
}

function revive(e) {
  if (e.name === 'SimdrError') {
    return new SimdrError(e.errc || e.code || 0, e.message, { errno: e.errno, offset: e.offset });
  }
  if (e.name === 'TypeError') return new TypeError(e.message);
  if (e.name === 'RangeError') return new RangeError(e.message);
  return Object.assign(new Error(e.message), { name: e.name });
}

function checkType(type, what) {
  if (type !== undefined && !TYPED.has(type))
    throw new TypeError(`${what}: the second argument must be a typed array constructor`);
}

function retype(buffer, type) {
  if (buffer === undefined) return undefined;
  if (type === undefined || type === Uint8Array) return new Uint8Array(buffer);
  if (buffer.byteLength % type.BYTES_PER_ELEMENT !== 0)
    throw new RangeError(`a value of ${buffer.byteLength} bytes is not a whole number of ${type.name} elements`);
  return new type(buffer);
}

/** The store behind a worker; every method returns a Promise (see docs/js.md). */
export class AsyncStore {
  #worker;
  #pending = new Map();
  #nextId = 1;
  #closed = false;
  #info;

  /** @internal Use openAsync(). @param {Port} worker */
  constructor(worker) {
    this.#worker = worker;
    worker.onmessage = (data) => {
      const p = this.#pending.get(data.id);
      if (!p) return;
      this.#pending.delete(data.id);
      if (this.#pending.size === 0) worker.busy?.(false);
      if (data.ok) p.resolve(data.result);
      else p.reject(revive(data.error));
    };
    worker.onerror = (why) => {
      this.#fail(new SimdrError(ERRC_UNSUPPORTED, `simd-r-drive: the store's worker failed: ${why}`));
    };
  }

  #fail(error) {
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
    this.#closed = true;
    this.#worker.terminate();
  }

  /** @internal */
  call(op, args = [], transfer = []) {
    if (this.#closed) return Promise.reject(new SimdrError(ERRC_CLOSED, 'the store is closed'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      if (this.#pending.size === 0) this.#worker.busy?.(true);
      this.#pending.set(id, { resolve, reject });
      this.#worker.post({ id, op, args }, transfer);
    });
  }

  /** @internal */
  async init(name, options) {
    try {
      this.#info = await this.call('open', [name, options]);
    } catch (e) {
      this.#closed = true;
      this.#worker.terminate();
      throw e;
    }
  }

  get backend() { return this.#info.backend; }
  get path() { return this.#info.path; }
  get readOnly() { return this.#info.readOnly; }
  get closed() { return this.#closed; }
  /** Always false: values come back as copies. */
  get zeroCopy() { return false; }
  /** Always 'copy'. */
  get viewLifetime() { return 'copy'; }
  /** Live keys (a Promise). */
  get size() { return this.call('size'); }
  /** Bytes of the file (a Promise). */
  get fileSize() { return this.call('fileSize'); }

  async put(key, value) {
    const k = checkKey(key);
    const v = tight(toBytes(value));
    return this.call('put', [k, v]);
  }

  async putMany(entries) {
    if (entries === null || typeof entries !== 'object' || typeof entries[Symbol.iterator] !== 'function')
      throw new TypeError('putMany takes an iterable of [key, value] pairs');
    const pairs = [];
    for (const pair of entries) {
      if (pair === null || typeof pair !== 'object' || pair.length !== 2)
        throw new TypeError('putMany: each entry must be a [key, value] pair');
      pairs.push([checkKey(pair[0]), tight(toBytes(pair[1]))]);
    }
    if (pairs.length !== 0) return this.call('putMany', [pairs]);
  }

  putManyAsync(entries) { return this.putMany(entries); }

  /** A copy of the value (typed as `type` when given), or undefined. */
  async get(key, type) {
    checkType(type, 'get');
    return retype(await this.call('get', [checkKey(key)]), type);
  }

  async getCopy(key) { return this.get(key); }

  async getMany(keys, type) {
    if (keys === null || typeof keys !== 'object' || typeof keys[Symbol.iterator] !== 'function')
      throw new TypeError('getMany takes an iterable of keys');
    checkType(type, 'getMany');
    const list = Array.from(keys, (k) => checkKey(k));
    return (await this.call('getMany', [list])).map((b) => retype(b, type));
  }

  async has(key) { return this.call('has', [checkKey(key)]); }
  async delete(key) { return this.call('delete', [checkKey(key)]); }

  /** Live [key, value] pairs (copies), fetched from the worker in batches. */
  async *entries() {
    const it = await this.call('iterOpen');
    let done = false;
    try {
      while (!done) {
        const batch = await this.call('iterNext', [it, BATCH]);
        done = batch.done;
        for (const [k, v] of batch.entries) yield [new Uint8Array(k), new Uint8Array(v)];
      }
    } finally {
      if (!done && !this.#closed) await this.call('iterClose', [it]);
    }
  }

  async *keys() {
    for await (const [k] of this.entries()) yield k;
  }

  [Symbol.asyncIterator]() { return this.entries(); }

  compact() { return this.call('compact'); }
  verify() { return this.call('verify'); }
  flush() { return this.call('flush'); }
  flushAsync() { return this.flush(); }
  refresh() { return this.call('refresh'); }

  /** Closes the store and terminates its worker. Idempotent. */
  async close() {
    if (this.#closed) return;
    try {
      await this.call('close');
    } finally {
      this.#closed = true;
      this.#worker.terminate();
    }
  }
}

/** Opens `name` in the thread behind `port` and returns its AsyncStore (rejects, and ends the
 *  thread, when the store cannot open). */
export async function openOnPort(port, name, options) {
  const plain = {};
  for (const k of ['create', 'readOnly', 'durability', 'alignment']) {
    if (options?.[k] !== undefined) plain[k] = options[k];
  }
  const store = new AsyncStore(port);
  await store.init(name, plain);
  return store;
}
