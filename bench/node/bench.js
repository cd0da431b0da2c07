// bench.js - Node benchmark: our addon, our wasm backend (when it loads), lmdb-js (get and
// getBinaryFast), classic-level, better-sqlite3 and a JS Map floor, in the same run, on the
// workloads of ../shared/notes/benchmarks.md (W1, W1sync, W2; scaled where a peer would take too
// long: the table says so). W2 reads hash each value with SHA-1 (node:crypto), which caps them
// near 0.7 GB/s here; a second W2 row touches 2 bytes per value to show the get itself. Prints a Markdown table of medians and our ratios to lmdb-js.
//
//   cd bench/node && npm_config_nodedir=/usr npm install && node --expose-gc bench.js
// Env: BENCH_N (W1 entries, 1000000), BENCH_REPS (3), BENCH_DIR (a temp folder), BENCH_ONLY
// (comma-separated driver names).
import { mkdtempSync, rmSync, statSync, readdirSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
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
const keys = Array.from({ length: N }, (_, i) => `bench-key-${i}`);
const values = Array.from({ length: N }, (_, i) => {
  const v = new Uint8Array(8);
  new DataView(v.buffer).setBigUint64(0, BigInt(i), true);
  return v;
});
let seed = 2463534242;  // xorshift32: uniform, repeatable
const rand = () => { seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; return (seed >>>= 0); };
const order = Uint32Array.from({ length: N }, () => rand() % N);
const val4k = Array.from({ length: N_4K }, () => randomFillSync(new Uint8Array(4096)));
const order4k = Uint32Array.from({ length: READS_4K }, () => rand() % N_4K);
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
  } catch (e) { console.error(`# ${name}: skipped (${e.message})`); }
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
    let t = performance.now();
    await writeAll(db, N, values);
    add('W1 write (M entries/s)', N / (performance.now() - t) / 1e3);
    await db.close();
    add('W1 bytes/entry', dirSize(dir) / N);
    // reopen, point reads
    t = performance.now();
    db = await d.open(dir, false);
    add('W1 reopen (ms)', performance.now() - t);
    const reads = d.kind === 'async' ? N_SLOW_READS : N;
    t = performance.now();
    for (let j = 0; j < reads; j++) {
      const i = order[j];
      const v = d.kind === 'async' ? await db.get(keys[i]) : db.get(keys[i]);
      check(v, i);
    }
    add('W1 point reads (M/s)', reads / (performance.now() - t) / 1e3);
    if (db.getBatch) {
      t = performance.now();
      for (let b = 0; b < reads; b += BATCH) {
        const ks = [];
        for (let j = b; j < Math.min(reads, b + BATCH); j++) ks.push(keys[order[j]]);
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
    t = performance.now();
    await writeAll(db, N_SYNC, values);
    add('W1sync write (K entries/s)', N_SYNC / (performance.now() - t));
    await db.close();
    rmSync(dirS, { recursive: true, force: true });
    // W2: 4 KiB values
    const dir4 = mkdtempSync(join(root, 'w2-'));
    db = await d.open(dir4, false);
    t = performance.now();
    await writeAll(db, N_4K, val4k);
    add('W2 write (MB/s)', (N_4K * 4096) / (performance.now() - t) / 1e3);
    const reads4 = d.kind === 'async' ? READS_4K / 4 : READS_4K;
    t = performance.now();
    let acc = 0;
    for (let j = 0; j < reads4; j++) {
      const v = d.kind === 'async' ? await db.get(keys[order4k[j]]) : db.get(keys[order4k[j]]);
      // subarray: lmdb-js getBinaryFast's Buffer has length 4096 but byteLength 16 MiB.
      acc ^= createHash('sha1').update(v.subarray(0, v.length)).digest()[0];  // read every byte
    }
    add('W2 4 KiB reads (MB/s)', (reads4 * 4096) / (performance.now() - t) / 1e3);
    // The same gets touching the first and last byte only: the cost of the get itself (a copy
    // of 4 KiB for peers that copy), which the hash above hides.
    t = performance.now();
    for (let j = 0; j < reads4; j++) {
      const v = d.kind === 'async' ? await db.get(keys[order4k[j]]) : db.get(keys[order4k[j]]);
      acc ^= v[0] ^ v[4095];
    }
    add('W2 4 KiB gets, 2 bytes touched (MB/s)', (reads4 * 4096) / (performance.now() - t) / 1e3);
    globalThis.sink = acc;
    await db.close();
    rmSync(dir4, { recursive: true, force: true });
    globalThis.gc?.();
  }
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, median(v)]));
}

const results = {};
for (const d of drivers) {
  if (only && !only.some((o) => d.name.includes(o))) continue;
  console.error(`# running ${d.name}`);
  results[d.name] = await runDriver(d);
}
rmSync(root, { recursive: true, force: true });

// ---- report ------------------------------------------------------------------------------------------
const names = Object.keys(results);
const rows = [...new Set(names.flatMap((n) => Object.keys(results[n])))];
const fmt = (x) => (x === undefined ? '-' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
console.log(`\nNode ${process.version}, ${cpus()[0]?.model} x${cpus().length}; medians of ${REPS}; W1 ${N} entries, ` +
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
}
