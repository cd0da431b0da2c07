// engines.mjs - the workloads of the browser benchmark (bench/README.md, "Browser") and one driver
// per engine. Runs in a dedicated worker (worker.mjs) and, for the wasm backend on node:fs, in
// Node (node_wasm.mjs). Each call of runEngine() measures one engine once on a fresh store and
// returns its metrics; run.mjs takes medians over repetitions.
//
// Workloads (../shared/notes/benchmarks.md, scaled for the browser as the notes allow):
//   W1: n entries, key `bench-key-{i}`, value the 8-byte little-endian i, written in batches of
//       1024 per commit/transaction; then reopen, then all n keys read once in a random order
//       (a permutation), verifying each value; then batched reads of 1024.
//   W2: n4k entries of 4 KiB incompressible values in batches of 1024; then each value read once
//       in a random order, every 32-bit word of it folded into a checksum.
// Drivers:
//   simdr  - js/backends/wasm.js handles (the layer under the public API: no argument checks),
//            durability 'none' (default) and, for the 'durable' write row, 'commit' (one OPFS
//            flush per commit). Point reads also through js/store.js's Store class.
//   idb    - IndexedDB, object store with out-of-line string keys, values Uint8Array. Writes: one
//            readwrite transaction of 1024 puts each, durability 'relaxed' (fast row; Chromium's
//            default since 121) and
//            'strict' (durable row). Point reads: one readonly transaction per get, and (its
//            best) all gets issued in one transaction. Batched: 1024 gets per transaction.
//   sqlite - @sqlite.org/sqlite-wasm oo1 API on the opfs-sahpool VFS, table
//            kv(k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID, default rollback journal (sahpool has
//            no WAL), prepared statements, one BEGIN/COMMIT per batch; PRAGMA synchronous=OFF
//            (fast row, no flush like ours 'none') and FULL, SQLite's default (durable row).
//            Point reads: one prepared SELECT per key in autocommit; also (its best) all SELECTs
//            inside one read transaction. Batched: 1024 SELECTs per transaction.

export const BATCH = 1024;
/** Untimed reads for WARM_MS before the first timed read pass, the same way and for the same
 *  time for every engine (keys in insertion order; the timed pass uses a random order). Our
 *  timed pass of 100,000 gets lasts about 30 ms: without this it runs partly in V8's baseline
 *  code (wasm Liftoff, before TurboFan tier-up) and measures compilation, while the peers'
 *  passes last seconds. The writes need no such step: each engine's first (durable) write pass
 *  warms its write path for the second. */
export const WARM_MS = 300;
/** Every timed read row repeats whole passes over its keys until at least this long has
 *  passed (cfg.minMs overrides), for every engine alike: one pass of our 100,000 gets lasts
 *  about 30 ms, where a transient (a GC, a tier-up, a neighbour's burst on this shared machine)
 *  decides the figure; the peers' passes last 0.5-15 s. Rate = all items / all time. */
export const MIN_MS = 1000;
async function rate(cfg, items, pass) {
  const min = cfg.minMs ?? MIN_MS;
  let passes = 0;
  const t = now();
  do {
    await pass();
    passes++;
  } while (now() - t < min);
  return (passes * items) / ((now() - t) / 1000);
}
async function warmUp(n, read) {
  const t = now();
  for (let i = 0; now() - t < WARM_MS; i = (i + 1) % n) await read(i);
}
function warmUpSync(n, read) {
  const t = now();
  for (let i = 0; now() - t < WARM_MS; i = (i + 1) % n) {
    for (let k = 0; k < 64; k++, i = (i + 1) % n) read(i);
  }
}

const now = () => performance.now();

let seed = 2463534242;  // xorshift32: repeatable
function rand() {
  seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5;
  return (seed >>>= 0);
}
/** A random permutation of 0..n-1 (each key read exactly once). */
export function permutation(n, s = 12345) {
  seed = s;
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rand() % (i + 1);
    const t = p[i]; p[i] = p[j]; p[j] = t;
  }
  return p;
}

/** Flat (sequential) copies of strings: a template literal is a V8 cons string until something
 *  flattens it, so the memory layout would depend on which engine touched a key first. */
const flatStrings = (a) => JSON.parse(JSON.stringify(a));

/** Keys for the timed reads: fresh flat strings in read order, `readKeys[j]` = the key of
 *  `order[j]`, as requests would bring them. Reading `keys[order[j]]` instead walks a 100,000-
 *  string heap at random: a cache miss on every key string before any engine is called (70-80
 *  ns per read here, more than our whole lookup), which is the harness, not the engine. */
const readKeysOf = (prefix, order) => flatStrings(Array.from(order, (i) => `${prefix}${i}`));

export function makeW1(n) {
  const keys = new Array(n);
  const values = new Array(n);
  for (let i = 0; i < n; i++) {
    keys[i] = `bench-key-${i}`;
    const v = new Uint8Array(8);
    new DataView(v.buffer).setBigUint64(0, BigInt(i), true);
    values[i] = v;
  }
  const order = permutation(n);
  return { keys: flatStrings(keys), values, order, readKeys: readKeysOf('bench-key-', order) };
}

export function makeW2(n) {
  const keys = new Array(n);
  const values = new Array(n);
  for (let i = 0; i < n; i++) {
    keys[i] = `bench-4k-${i}`;
    // One buffer per value: IndexedDB's structured clone copies a view's whole ArrayBuffer.
    values[i] = crypto.getRandomValues(new Uint8Array(4096));
  }
  const order = permutation(n, 777);
  return { keys: flatStrings(keys), values, order, readKeys: readKeysOf('bench-4k-', order) };
}

function checkValue(v, i) {
  if (v === undefined || v === null || v.length !== 8 || v[0] !== (i & 255) ||
      v[1] !== ((i >>> 8) & 255) || v[2] !== ((i >>> 16) & 255))
    throw new Error(`bad value for key ${i}: ${v}`);
}

/** Folds every 32-bit word of a value (all values are 4-byte aligned here). */
export function fold(v) {
  const w = new Int32Array(v.buffer, v.byteOffset, v.length >>> 2);
  let h = 0;
  for (let i = 0; i < w.length; i++) h = (h ^ w[i]) + 0x9e3779b9 | 0;
  return h;
}

function expectedFolds(w2) {
  return w2.values.map(fold);
}

const MB = 1024 * 1024;

// ---- simdr (the wasm backend) ----------------------------------------------------------------

async function simdrOpen(wasm, path, opts) {
  if (wasm.prepare) await wasm.prepare(path, opts);
  const h = wasm.openHandle(path, opts);
  // For the per-call profile only: the C handle is still in the out-record after the open.
  const M = wasm.moduleForTesting?.(h);
  if (M) rawHandles.set(h, M.HEAPU32[(M._simdr_wasm_out() >>> 0) >>> 2]);
  return h;
}
const rawHandles = new WeakMap();

function simdrWrite(h, keys, values) {
  const n = keys.length;
  const t = now();
  for (let i = 0; i < n; i += BATCH) h.putMany(keys.slice(i, i + BATCH), values.slice(i, i + BATCH));
  return now() - t;
}

export async function runSimdr(env, cfg) {
  const { wasm, Store, base } = env;
  const out = {};
  const w1 = makeW1(cfg.n);
  const n = cfg.n;
  const path = `${base}/w1.simdr`;
  // W1 write, durability 'commit' (one flush per commit): a separate file, written first.
  {
    const pc = `${base}/w1-commit.simdr`;
    const h = await simdrOpen(wasm, pc, { create: true, durability: 1 });
    env.mark?.('start');
    out.write_durable = n / (simdrWrite(h, w1.keys, w1.values) / 1000);
    env.mark?.('w1 write, commit');
    h.close();
  }
  let h = await simdrOpen(wasm, path, { create: true, durability: 0 });
  env.mark?.('start');
  out.write = n / (simdrWrite(h, w1.keys, w1.values) / 1000);
  env.mark?.('w1 write, none');
  out.bytes_per_entry = h.fileSize() / n;
  h.close();
  env.mark?.('start');
  let t = now();
  h = await simdrOpen(wasm, path, {});
  out.reopen_ms = now() - t;
  env.mark?.('w1 reopen');
  if (h.size() !== n) throw new Error(`size ${h.size()} != ${n}`);

  const { keys, order, readKeys } = w1;
  warmUpSync(n, (i) => checkValue(h.get(keys[i]), i));
  out.get = await rate(cfg, n, () => {
    for (let j = 0; j < n; j++) checkValue(h.get(readKeys[j]), order[j]);
  });

  if (Store) {
    const s = new Store(h, 'wasm', path, true);
    out.get_store = await rate(cfg, n, () => {
      for (let j = 0; j < n; j++) checkValue(s.get(readKeys[j]), order[j]);
    });
  }

  out.batch = await rate(cfg, n, () => {
    for (let j = 0; j < n; j += BATCH) {
      const vs = h.getMany(readKeys.slice(j, j + BATCH));
      for (let k = 0; k < vs.length; k++) checkValue(vs[k], order[j + k]);
    }
  });

  if (cfg.micro) {
    // Three rounds; each figure is the median of its three.
    const rounds = [0, 1, 2].map(() => micro(env, h, w1));
    out.micro = {};
    for (const k of Object.keys(rounds[0])) out.micro[k] = rounds.map((r) => r[k]).sort((a, b) => a - b)[1];
  }
  h.close();

  // W2
  const w2 = makeW2(cfg.n4k);
  const folds = expectedFolds(w2);
  const p2 = `${base}/w2.simdr`;
  h = await simdrOpen(wasm, p2, { create: true, durability: 0 });
  env.mark?.('start');
  out.w2_write = (cfg.n4k * 4096 / MB) / (simdrWrite(h, w2.keys, w2.values) / 1000);
  env.mark?.('w2 write, none');
  h.close();
  h = await simdrOpen(wasm, p2, {});
  out.w2_read = (await rate(cfg, cfg.n4k * 4096 / MB, () => {
    for (let j = 0; j < cfg.n4k; j++) {
      const i = w2.order[j];
      if (fold(h.get(w2.readKeys[j])) !== folds[i]) throw new Error(`bad 4 KiB value ${i}`);
    }
  }));
  h.close();
  return out;
}

/** Per-call costs of the wasm boundary, in ns per call. Each figure is one loop of about 1M
 *  calls (passes over the W1 keys repeated), long enough for a worker's coarse clock (0.1 ms
 *  without cross-origin isolation). */
function micro(env, h, w1) {
  const { keys, order, readKeys } = w1;
  const M = env.wasm.moduleForTesting(h);
  const n = order.length;
  const passes = Math.max(1, Math.round(1_000_000 / n));
  const R = passes * n;
  const ns = (t) => ((now() - t) * 1e6) / R;
  const res = { calls_per_figure: R };
  let acc = 0;
  let t = now();
  for (let i = 0; i < R; i++) acc += h.size();
  res.size_call = ns(t);  // handle method + one export returning a double: the boundary
  const k0 = readKeys[0];
  t = now();
  for (let i = 0; i < R; i++) acc += h.get(k0).length;
  res.get_same_key = ns(t);  // key copy + hash + probe + record, all in cache, + view
  const p = M._simdr_wasm_scratch(64) >>> 0;
  const heap = M.HEAPU8;
  t = now();
  for (let r = 0; r < passes; r++) {
    for (let j = 0; j < n; j++) {
      const k = readKeys[j];
      for (let c = 0; c < k.length; c++) heap[p + c] = k.charCodeAt(c);
      acc += heap[p];
    }
  }
  res.key_copy = ns(t);  // the JS side of writing a key into wasm memory
  const buf = heap.buffer;
  t = now();
  for (let i = 0; i < R; i++) acc += new Uint8Array(buf, 64 * (i & 1023), 8).length;
  res.view = ns(t);  // making the zero-copy view
  t = now();
  for (let r = 0; r < passes; r++) for (let j = 0; j < n; j++) acc += h.get(readKeys[j])[0];
  res.get_warm = ns(t);  // the measured random pass again, JIT (JS and wasm tiers) warm
  t = now();
  for (let r = 0; r < passes; r++) for (let j = 0; j < n; j++) acc += h.get(keys[order[j]])[0];
  res.get_key_walk = ns(t);  // the same with keys[order[j]]: a random walk over the key strings
  t = now();
  for (let r = 0; r < passes; r++) for (let j = 0; j < n; j++) acc += h.get(keys[j])[0];
  res.get_seq = ns(t);  // keys in insertion order: records and key strings in sequence
  const enc = new TextEncoder();
  const bkeys = keys.map((k) => enc.encode(k));
  t = now();
  for (let r = 0; r < passes; r++) for (let j = 0; j < n; j++) acc += h.get(bkeys[order[j]])[0];
  res.get_bytes_key = ns(t);  // keys given as Uint8Array: copied with heap.set, no charCodeAt
  t = now();
  for (let r = 0; r < passes; r++) for (let j = 0; j < n; j += 1024) acc += h.getMany(readKeys.slice(j, j + 1024)).length;
  res.getmany_warm = ns(t);  // getMany, per key, warm
  t = now();
  for (let r = 0; r < passes; r++) for (let j = 0; j < n; j++) acc += h.has(readKeys[j]) ? 1 : 0;
  res.has_random = ns(t);  // a random lookup without the view
  t = now();
  for (let r = 0; r < passes; r++) for (let j = 0; j < n; j++) acc += readKeys[j].length;
  res.loop_floor = ns(t);  // the benchmark loop itself
  // The core alone, without JS key strings and views: all keys copied into wasm memory once
  // (by a getMany of every key, which leaves its key table in the scratch buffer), then the
  // raw exports called on those bytes.
  const hp = rawHandles.get(h);
  if (hp) {
    acc += h.getMany(readKeys).length;
    const p0 = M._simdr_wasm_scratch(0) >>> 0;  // the same buffer: it never shrinks
    const u32 = M.HEAPU32;
    const u8 = M.HEAPU8;
    const outp = (M._simdr_wasm_out() >>> 0) >>> 2;
    t = now();
    for (let r = 0; r < passes; r++) {
      for (let j = 0, q = p0 >>> 2; j < n; j++, q += 2) {
        if (M._simdr_wasm_get(hp, u32[q], u32[q + 1]) !== 0) throw new Error('raw get');
        acc += u8[u32[outp]];
      }
    }
    res.raw_get = ns(t);
    const results = p0 + 8 * n;
    t = now();
    for (let r = 0; r < passes; r++) {
      for (let j = 0; j < n; j += 1024) {
        if (M._simdr_wasm_get_batch(hp, p0 + 8 * j, Math.min(1024, n - j), results + 8 * j) !== 0)
          throw new Error('raw get_batch');
      }
    }
    res.raw_get_batch = ns(t);
    t = now();
    for (let i = 0; i < R; i++) acc += M._simdr_wasm_size(hp);
    res.raw_call = ns(t);
  }
  if (acc === 42) res.x = acc;
  return res;
}

// ---- IndexedDB --------------------------------------------------------------------------------

const req = (r) => new Promise((resolve, reject) => { r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
const done = (tx) => new Promise((resolve, reject) => { tx.oncomplete = resolve; tx.onerror = () => reject(tx.error); tx.onabort = () => reject(tx.error ?? new Error('abort')); });

async function idbOpen(name, create) {
  const r = indexedDB.open(name, 1);
  if (create) r.onupgradeneeded = () => r.result.createObjectStore('kv');
  return req(r);
}

async function idbDelete(name) {
  await req(indexedDB.deleteDatabase(name));
}

async function idbWrite(db, keys, values, durability) {
  const n = keys.length;
  let used;
  const t = now();
  for (let i = 0; i < n; i += BATCH) {
    const tx = db.transaction('kv', 'readwrite', durability ? { durability } : undefined);
    used = tx.durability;
    const st = tx.objectStore('kv');
    const end = Math.min(n, i + BATCH);
    for (let j = i; j < end; j++) st.put(values[j], keys[j]);
    await done(tx);
  }
  return [now() - t, used];
}

/** `count` gets in one readonly transaction, from read `from` on: of w.readKeys (random order)
 *  when `random`, else of w.keys (insertion order); calls check(v, i). */
function idbGets(db, w, random, from, count, check) {
  return new Promise((resolve, reject) => {
    const tx = db.transaction('kv', 'readonly');
    const st = tx.objectStore('kv');
    let error = null;
    for (let j = from; j < from + count; j++) {
      const i = random ? w.order[j] : j;
      const r = st.get(random ? w.readKeys[j] : w.keys[j]);
      r.onsuccess = () => { try { check(r.result, i); } catch (e) { error ??= e; } };
    }
    tx.oncomplete = () => (error ? reject(error) : resolve());
    tx.onerror = () => reject(tx.error);
  });
}

export async function runIdb(env, cfg) {
  const out = {};
  const n = cfg.n;
  const w1 = makeW1(n);
  const name = `${env.base}-w1`;
  const nameStrict = `${env.base}-w1-strict`;
  let db = await idbOpen(nameStrict, true);
  [out.write_durable_ms, out.durability_strict] = await idbWrite(db, w1.keys, w1.values, 'strict');
  out.write_durable = n / (out.write_durable_ms / 1000);
  db.close();
  await idbDelete(nameStrict);
  db = await idbOpen(name, true);
  let ms;
  [ms, out.durability_fast] = await idbWrite(db, w1.keys, w1.values, 'relaxed');
  out.write = n / (ms / 1000);
  db.close();
  let t = now();
  db = await idbOpen(name, false);
  out.reopen_ms = now() - t;

  // one readonly transaction per get (after an untimed warm-up of the same kind)
  await warmUp(n, (i) => idbGets(db, w1, false, i, 1, checkValue));
  out.get = await rate(cfg, n, async () => {
    for (let j = 0; j < n; j++) await idbGets(db, w1, true, j, 1, checkValue);
  });
  // its best: all gets in one transaction
  out.get_best = await rate(cfg, n, () => idbGets(db, w1, true, 0, n, checkValue));
  // batched: 1024 gets per transaction
  out.batch = await rate(cfg, n, async () => {
    for (let j = 0; j < n; j += BATCH) await idbGets(db, w1, true, j, Math.min(BATCH, n - j), checkValue);
  });
  db.close();
  await idbDelete(name);

  const w2 = makeW2(cfg.n4k);
  const folds = expectedFolds(w2);
  const n2 = `${env.base}-w2`;
  db = await idbOpen(n2, true);
  [ms] = await idbWrite(db, w2.keys, w2.values, 'relaxed');
  out.w2_write = (cfg.n4k * 4096 / MB) / (ms / 1000);
  db.close();
  db = await idbOpen(n2, false);
  const check4k = (v, i) => { if (fold(v) !== folds[i]) throw new Error(`bad 4 KiB value ${i}`); };
  out.w2_read = await rate(cfg, cfg.n4k * 4096 / MB, async () => {
    for (let j = 0; j < cfg.n4k; j += BATCH)
      await idbGets(db, w2, true, j, Math.min(BATCH, cfg.n4k - j), check4k);
  });
  db.close();
  await idbDelete(n2);
  return out;
}

// ---- SQLite-WASM on opfs-sahpool ---------------------------------------------------------------

function sqliteCreate(pool, file, sync) {
  const db = new pool.OpfsSAHPoolDb(file);
  db.exec(`PRAGMA synchronous=${sync}; CREATE TABLE kv(k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID;`);
  return db;
}

function sqliteWrite(db, keys, values) {
  const n = keys.length;
  const st = db.prepare('INSERT INTO kv(k, v) VALUES (?, ?)');
  const t = now();
  for (let i = 0; i < n; i += BATCH) {
    db.exec('BEGIN');
    const end = Math.min(n, i + BATCH);
    for (let j = i; j < end; j++) {
      st.bind(1, keys[j]).bind(2, values[j]);
      st.step();
      st.reset();
    }
    db.exec('COMMIT');
  }
  const ms = now() - t;
  st.finalize();
  return ms;
}

/** `count` SELECTs from read `from` on, keys as idbGets() takes them; calls check(v, i). */
function sqliteReads(db, st, w, random, from, count, check) {
  for (let j = from; j < from + count; j++) {
    const i = random ? w.order[j] : j;
    st.bind(1, random ? w.readKeys[j] : w.keys[j]);
    if (!st.step()) throw new Error(`missing key ${i}`);
    check(st.get(0), i);
    st.reset();
  }
}

export async function runSqlite(env, cfg) {
  const { sqlite3 } = env;
  const pool = await sqlite3.installOpfsSAHPoolVfs({ name: 'opfs-sahpool', directory: `/${env.base}-sahpool`, clearOnInit: true, initialCapacity: 8 });
  const out = { version: sqlite3.version.libVersion };
  const n = cfg.n;
  const w1 = makeW1(n);
  let db = sqliteCreate(pool, '/w1-full.db', 'FULL');
  out.journal_mode = db.selectValue('PRAGMA journal_mode');
  out.write_durable = n / (sqliteWrite(db, w1.keys, w1.values) / 1000);
  db.close();
  pool.unlink('/w1-full.db');
  db = sqliteCreate(pool, '/w1.db', 'OFF');
  out.write = n / (sqliteWrite(db, w1.keys, w1.values) / 1000);
  db.close();
  let t = now();
  db = new pool.OpfsSAHPoolDb('/w1.db');
  db.exec('PRAGMA synchronous=OFF');
  db.selectValue('SELECT count(*) FROM kv LIMIT 1');
  out.reopen_ms = now() - t;
  const st = db.prepare('SELECT v FROM kv WHERE k = ?');
  warmUpSync(n, (i) => sqliteReads(db, st, w1, false, i, 1, checkValue));  // untimed
  out.get = await rate(cfg, n, () => sqliteReads(db, st, w1, true, 0, n, checkValue));
  out.get_best = await rate(cfg, n, () => {
    db.exec('BEGIN');
    sqliteReads(db, st, w1, true, 0, n, checkValue);
    db.exec('COMMIT');
  });
  out.batch = await rate(cfg, n, () => {
    for (let j = 0; j < n; j += BATCH) {
      db.exec('BEGIN');
      sqliteReads(db, st, w1, true, j, Math.min(BATCH, n - j), checkValue);
      db.exec('COMMIT');
    }
  });
  st.finalize();
  db.close();

  const w2 = makeW2(cfg.n4k);
  const folds = expectedFolds(w2);
  db = sqliteCreate(pool, '/w2.db', 'OFF');
  out.w2_write = (cfg.n4k * 4096 / MB) / (sqliteWrite(db, w2.keys, w2.values) / 1000);
  db.close();
  db = new pool.OpfsSAHPoolDb('/w2.db');
  const s2 = db.prepare('SELECT v FROM kv WHERE k = ?');
  out.w2_read = await rate(cfg, cfg.n4k * 4096 / MB,
    () => sqliteReads(db, s2, w2, true, 0, cfg.n4k, (v, i) => { if (fold(v) !== folds[i]) throw new Error(`bad 4 KiB value ${i}`); }));
  s2.finalize();
  db.close();
  await pool.wipeFiles();
  return out;
}
