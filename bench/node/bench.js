// bench.js - Node benchmark: our addon, our wasm backend (when it loads), lmdb-js (get and
// getBinaryFast), classic-level, better-sqlite3 and a JS Map floor, on the workloads of
// ../shared/notes/benchmarks.md (W1, W1sync, W2; scaled where a peer would take too long: the
// table says so). Prints a Markdown table of medians and our ratios to lmdb-js.
//
// FAIRNESS. Every repetition of every driver runs in its own child process (`BENCH_CHILD`), so
// that no driver inherits another's heap, GC debt or JIT feedback (one shared read loop would
// otherwise see a different closure per driver and go megamorphic for the later ones), and
// repetitions are interleaved across drivers, so that load from other work on this shared
// machine falls on all of them alike. Every driver is given
// the same key strings in the same order. Keys are FLAT strings: a template literal of 16
// characters is a V8 cons string, which the first native call flattens in place, so the
// memory layout of the keys depended on which driver ran first. Point reads take their keys
// from a list built in read order (fresh flat strings, as a request would bring them), not
// `keys[order[j]]`: that random walk over a 1M-string heap costs two or three cache misses per
// read before any store is called (measured: the loop alone ran at 7-9 M/s, a Map at 1.7 M/s),
// which is the harness, not the store. W2 reads every byte of each value with an XOR over an
// Int32Array view (about 10 GB/s, identical for every peer); the SHA-1 row is kept to show
// that hashing (about 0.7-1 GB/s) would otherwise be what is measured.
//
//   cd bench/node && npm_config_nodedir=/usr npm install && node --expose-gc bench.js
// Env: BENCH_N (W1 entries, 1000000), BENCH_REPS (3), BENCH_DIR (a temp folder), BENCH_ONLY
// (comma-separated driver names), BENCH_VERBOSE.
import { mkdtempSync, rmSync, statSync, readdirSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { createHash, randomFillSync } from 'node:crypto';

const N = Number(process.env.BENCH_N ?? 1_000_000);
const REPS = Number(process.env.BENCH_REPS ?? 3);
const N_SYNC = Math.min(N, 100_000);  // W1sync: an fsync per 1024 entries
const N_4K = Math.min(N / 10, 20_000);  // W2: 4 KiB values (scaled from 100,000)
const READS_4K = 100_000;
const N_SLOW_READS = 100_000;  // point reads for async peers (classic-level)
const BATCH = 1024;
const only = process.env.BENCH_ONLY?.split(',');
const root = process.env.BENCH_DIR ?? mkdtempSync(join(tmpdir(), 'simdr-bench-'));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
function dirSize(p) {
  const st = statSync(p);
  if (!st.isDirectory()) return st.size;
  return readdirSync(p).reduce((s, f) => s + dirSize(join(p, f)), 0);
}

// ---- data ----------------------------------------------------------------------------------------
// JSON round trip: flat (sequential) strings, see FAIRNESS above.
const flatStrings = (a) => JSON.parse(JSON.stringify(a));
const keys = flatStrings(Array.from({ length: N }, (_, i) => `bench-key-${i}`));
// All values in one buffer, one 8-byte view each: 104 bytes of heap per value, where a
// Uint8Array(8) of its own costs 216 (its ArrayBuffer materialised by the DataView). See "GC in
// the read passes" in README.md: the harness's heap is what a full collection has to mark.
const valueBytes = new Uint8Array(8 * N);
const valueWords = new DataView(valueBytes.buffer);
for (let i = 0; i < N; i++) valueWords.setBigUint64(8 * i, BigInt(i), true);
const values = Array.from({ length: N }, (_, i) => new Uint8Array(valueBytes.buffer, 8 * i, 8));
let seed = 2463534242;  // xorshift32: uniform, repeatable
const rand = () => { seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; return (seed >>>= 0); };
const order = Uint32Array.from({ length: N }, () => rand() % N);
const val4k = Array.from({ length: N_4K }, () => randomFillSync(new Uint8Array(4096)));
const order4k = Uint32Array.from({ length: READS_4K }, () => rand() % N_4K);
const readKeys = flatStrings(Array.from(order, (i) => `bench-key-${i}`));  // in read order
const readKeys4k = flatStrings(Array.from(order4k, (i) => `bench-key-${i}`));
// Reads all 4096 bytes of a value: XOR of its 1024 32-bit words. Every peer returns 4-aligned
// views here (ours: 64-aligned values); `length`, not `byteLength`: lmdb-js getBinaryFast's
// Buffer has length 4096 over a 16 MiB buffer.
function xorAll(v) {
  if ((v.byteOffset & 3) !== 0 || v.length !== 4096) throw new Error('unaligned or short 4 KiB value');
  const w = new Int32Array(v.buffer, v.byteOffset, 1024);
  let x = 0;
  for (let i = 0; i < 1024; i++) x ^= w[i];
  return x;
}
const check = (v, i) => { if (v === undefined || v[0] !== (i & 255) || v[1] !== ((i >> 8) & 255)) throw new Error(`bad value for ${i}`); };

// ---- drivers: open(dir, sync) -> { putBatch(ks, vs), get(k), getBatch(ks)?, close() } --------
const drivers = [];

async function addSimdr(name, modUrl) {
  try {
    const m = await import(modUrl);
    if (!m.backend) throw new Error('no backend');
    drivers.push({
      name, kind: 'sync',
      open(dir, sync) {
        const db = m.openSync(join(dir, 'db.simdr'), { durability: sync ? 'commit' : 'none' });
        return {
          putBatch: (ks, vs) => db.putMany(ks.map((k, j) => [k, vs[j]])),
          get: (k) => db.get(k),
          getBatch: (ks) => db.getMany(ks),
          close: () => db.close(),
        };
      },
    });
  } catch (e) { if (!process.env.BENCH_CHILD) console.error(`# ${name}: skipped (${e.message})`); }
}
await addSimdr('simdr (addon)', new URL('../../js/index.js', import.meta.url).href);
await addSimdr('simdr (wasm)', new URL('../../js/wasm.js', import.meta.url).href);

try {
  const { open } = await import('lmdb');
  const mk = (fast) => ({
    name: fast ? 'lmdb-js getBinaryFast' : 'lmdb-js get', kind: 'sync',
    open(dir, sync) {
      const db = open({ path: join(dir, 'lmdb'), encoding: 'binary', noSync: !sync, mapSize: 8 << 30 });
      return {
        putBatch: (ks, vs) => db.transactionSync(() => { for (let j = 0; j < ks.length; j++) db.put(ks[j], vs[j]); }),
        get: fast ? (k) => db.getBinaryFast(k) : (k) => db.get(k),
        close: () => db.close(),
      };
    },
  });
  drivers.push(mk(false), mk(true));
} catch (e) { console.error(`# lmdb-js: skipped (${e.message})`); }

try {
  const { ClassicLevel } = await import('classic-level');
  drivers.push({
    name: 'classic-level', kind: 'async',
    async open(dir, sync) {
      const db = new ClassicLevel(join(dir, 'level'), { keyEncoding: 'utf8', valueEncoding: 'view' });
      await db.open();
      return {
        putBatch: (ks, vs) => db.batch(ks.map((k, j) => ({ type: 'put', key: k, value: vs[j] })), { sync }),
        get: (k) => db.get(k),
        getBatch: (ks) => db.getMany(ks),
        close: () => db.close(),
      };
    },
  });
} catch (e) { console.error(`# classic-level: skipped (${e.message})`); }

try {
  const { default: Database } = await import('better-sqlite3');
  drivers.push({
    name: 'better-sqlite3', kind: 'sync',
    open(dir, sync) {
      const db = new Database(join(dir, 'sqlite.db'));
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${sync ? 'FULL' : 'NORMAL'}`);
      db.exec('CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID');
      const ins = db.prepare('INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)');
      const sel = db.prepare('SELECT v FROM kv WHERE k = ?').pluck();
      const tx = db.transaction((ks, vs) => { for (let j = 0; j < ks.length; j++) ins.run(ks[j], vs[j]); });
      return { putBatch: (ks, vs) => tx(ks, vs), get: (k) => sel.get(k), close: () => db.close() };
    },
  });
} catch (e) { console.error(`# better-sqlite3: skipped (${e.message})`); }

drivers.push({
  name: 'JS Map (floor)', kind: 'sync',
  maps: new Map(),  // dir -> Map, so that "reopen" finds the data
  open(dir) {
    if (!this.maps.has(dir)) this.maps.set(dir, new Map());
    const m = this.maps.get(dir);
    return {
      putBatch: (ks, vs) => { for (let j = 0; j < ks.length; j++) m.set(ks[j], vs[j]); },
      get: (k) => m.get(k),
      getBatch: (ks) => ks.map((k) => m.get(k)),
      close: () => {},
    };
  },
});
const mapDriver = drivers[drivers.length - 1];
mapDriver.open = mapDriver.open.bind(mapDriver);

// ---- workloads -------------------------------------------------------------------------------------
async function writeAll(db, n, vals) {
  for (let b = 0; b < n; b += BATCH) {
    const e = Math.min(n, b + BATCH);
    await db.putBatch(keys.slice(b, e), vals.slice(b, e));
  }
}

// A full collection before each timed pass (node --expose-gc), for every driver alike, so
// that a pass starts without garbage left by the one before it (1M views or copies after the
// W1 reads). A pass still pays for collecting its own garbage, and a driver that allocates
// per get may be charged a marking of the whole ~190 MB heap (the workload arrays) that V8
// starts right after this forced collection: README.md, "GC in the read passes".
const settle = () => globalThis.gc?.();

async function runDriver(d) {
  const r = {};
  const add = (k, v) => {
    (r[k] ??= []).push(v);
    if (process.env.BENCH_VERBOSE) console.error(`#   ${k}: ${v.toFixed(3)}`);
  };
  for (let rep = 0; rep < REPS; rep++) {
    const dir = mkdtempSync(join(root, 'd-'));
    // W1: batched writes, no fsync
    let db = await d.open(dir, false);
    settle();
    let t = performance.now();
    await writeAll(db, N, values);
    add('W1 write (M entries/s)', N / (performance.now() - t) / 1e3);
    await db.close();
    add('W1 bytes/entry', dirSize(dir) / N);
    // reopen, point reads
    settle();
    t = performance.now();
    db = await d.open(dir, false);
    add('W1 reopen (ms)', performance.now() - t);
    const reads = d.kind === 'async' ? N_SLOW_READS : N;
    settle();
    t = performance.now();
    if (d.kind === 'async') {
      for (let j = 0; j < reads; j++) check(await db.get(readKeys[j]), order[j]);
    } else {
      for (let j = 0; j < reads; j++) check(db.get(readKeys[j]), order[j]);
    }
    add('W1 point reads (M/s)', reads / (performance.now() - t) / 1e3);
    if (db.getBatch) {
      settle();
      t = performance.now();
      for (let b = 0; b < reads; b += BATCH) {
        const ks = [];
        for (let j = b; j < Math.min(reads, b + BATCH); j++) ks.push(readKeys[j]);
        const vs = await db.getBatch(ks);
        for (let j = 0; j < vs.length; j++) check(vs[j], order[b + j]);
      }
      add('W1 batch reads (M/s)', reads / (performance.now() - t) / 1e3);
    }
    await db.close();
    rmSync(dir, { recursive: true, force: true });
    if (d.name.startsWith('JS Map')) continue;
    // W1sync: an fsync per batch
    const dirS = mkdtempSync(join(root, 's-'));
    db = await d.open(dirS, true);
    settle();
    t = performance.now();
    await writeAll(db, N_SYNC, values);
    add('W1sync write (K entries/s)', N_SYNC / (performance.now() - t));
    await db.close();
    rmSync(dirS, { recursive: true, force: true });
    // W2: 4 KiB values
    const dir4 = mkdtempSync(join(root, 'w2-'));
    db = await d.open(dir4, false);
    settle();
    t = performance.now();
    await writeAll(db, N_4K, val4k);
    add('W2 write (MB/s)', (N_4K * 4096) / (performance.now() - t) / 1e3);
    const reads4 = d.kind === 'async' ? READS_4K / 4 : READS_4K;
    const get4 = d.kind === 'async' ? async (j) => db.get(readKeys4k[j]) : (j) => db.get(readKeys4k[j]);
    let acc = 0;
    // Every byte read (XOR of 32-bit words): the first pass over the values, so it also pays
    // the page faults of a fresh mapping where the store hands out mapped memory.
    settle();
    t = performance.now();
    for (let j = 0; j < reads4; j++) acc ^= xorAll(d.kind === 'async' ? await get4(j) : get4(j));
    add('W2 4 KiB reads (MB/s)', (reads4 * 4096) / (performance.now() - t) / 1e3);
    // The same gets touching the first and last byte only: the cost of the get itself (a copy
    // of 4 KiB for peers that copy).
    settle();
    t = performance.now();
    for (let j = 0; j < reads4; j++) {
      const v = d.kind === 'async' ? await get4(j) : get4(j);
      acc ^= v[0] ^ v[4095];
    }
    add('W2 4 KiB gets, 2 bytes touched (MB/s)', (reads4 * 4096) / (performance.now() - t) / 1e3);
    // With SHA-1 (node:crypto), as this benchmark first did: bound by the hash for every peer.
    settle();
    t = performance.now();
    for (let j = 0; j < reads4; j++) {
      const v = d.kind === 'async' ? await get4(j) : get4(j);
      acc ^= createHash('sha1').update(v.subarray(0, v.length)).digest()[0];
    }
    add('W2 4 KiB reads + SHA-1 (MB/s)', (reads4 * 4096) / (performance.now() - t) / 1e3);
    globalThis.sink = acc;
    await db.close();
    rmSync(dir4, { recursive: true, force: true });
    globalThis.gc?.();
  }
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, median(v)]));
}

const results = {};
if (process.env.BENCH_CHILD) {
  // Child: one driver, BENCH_REPS repetitions (the parent passes 1); its values as JSON on the
  // last line.
  const d = drivers.find((x) => x.name === process.env.BENCH_CHILD);
  console.log(JSON.stringify(await runDriver(d)));
  process.exit(0);
}
// Parent: repetitions outermost, drivers inner, each (repetition, driver) in a fresh process,
// so that a change in the machine's load (shared here) falls on every driver alike.
const self = fileURLToPath(import.meta.url);
const chosen = drivers.filter((d) => !only || only.some((o) => d.name.includes(o)));
const raw = {};  // driver -> row -> values
for (let rep = 0; rep < REPS; rep++) {
  for (const d of chosen) {
    console.error(`# rep ${rep + 1}/${REPS}: ${d.name} (load average ${loadavg()[0].toFixed(2)})`);
    const c = spawnSync(process.execPath, [...process.execArgv, self], {
      env: { ...process.env, BENCH_CHILD: d.name, BENCH_DIR: root, BENCH_REPS: '1' },
      stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 1 << 24,
    });
    if (c.status !== 0) { console.error(`# ${d.name}: failed (status ${c.status})`); continue; }
    const r = JSON.parse(c.stdout.trim().split('\n').pop());
    for (const [k, v] of Object.entries(r)) ((raw[d.name] ??= {})[k] ??= []).push(v);
  }
}
for (const [name, rows] of Object.entries(raw))
  results[name] = Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, median(v)]));
if (process.env.BENCH_VERBOSE) console.error(JSON.stringify(raw));
rmSync(root, { recursive: true, force: true });

// ---- report ------------------------------------------------------------------------------------------
const names = Object.keys(results);
const rows = [...new Set(names.flatMap((n) => Object.keys(results[n])))];
const fmt = (x) => (x === undefined ? '-' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
console.log(`\nNode ${process.version}, ${cpus()[0]?.model} x${cpus().length}, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} at the end; ` +
  `each repetition in its own process, interleaved across drivers; medians of ${REPS}; W1 ${N} entries, ` +
  `W1sync ${N_SYNC}, W2 ${N_4K} x 4 KiB (${READS_4K} reads); classic-level reads ${N_SLOW_READS} (async)\n`);
console.log(`| workload | ${names.join(' | ')} |`);
console.log(`|---|${names.map(() => '---:').join('|')}|`);
for (const row of rows) console.log(`| ${row} | ${names.map((n) => fmt(results[n][row])).join(' | ')} |`);

const us = results['simdr (addon)'];
const fast = results['lmdb-js getBinaryFast'];
if (us && fast) {
  const ratio = (row, target, lower = false) => {
    const x = lower ? fast[row] / us[row] : us[row] / fast[row];
    return `| ${row} | ${x.toFixed(2)}x | ${target} | ${x >= Number(target.replace(/[>= x]/g, '')) ? 'met' : 'NOT met'} |`;
  };
  console.log('\n| addon vs lmdb-js getBinaryFast | ratio | target | |');
  console.log('|---|---:|---:|---|');
  console.log(ratio('W1 point reads (M/s)', '>= 2.5x'));
  console.log(ratio('W1 write (M entries/s)', '>= 2x'));
  console.log(ratio('W1sync write (K entries/s)', '>= 1.5x'));
  console.log(ratio('W2 4 KiB reads (MB/s)', '>= 1.5x'));
  console.log(ratio('W2 4 KiB gets, 2 bytes touched (MB/s)', '>= 1.5x'));
  console.log(ratio('W2 4 KiB reads + SHA-1 (MB/s)', '>= 1.5x'));
}
