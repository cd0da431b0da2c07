// run.mjs - the browser benchmark of issue 5 (bench/README.md, "Browser").
//
//   cd bench/browser && npm ci && node run.mjs [--quick] [--out ../results] [--reps 3] [--isolated]
//
// --isolated serves the page cross-origin isolated (COOP/COEP), so our store runs the
// shared-memory build (build/wasm-shared/wasm/, docs/lifetimes.md) in Chromium and in the Node
// reference; it writes browser-isolated.{md,csv} instead.
//
// In one run: SIMD R Drive's wasm backend on OPFS, IndexedDB and SQLite-WASM (opfs-sahpool), each
// in a fresh dedicated worker per repetition, in headless Chromium (/usr/bin/chromium, persistent
// profile in a fresh temporary folder, pages served from 127.0.0.1); then, as references, the
// same driver on the wasm backend in Node (node:fs) and the native core's random point reads
// (build/release/bench/simdr-bench-w1). Writes <out>/browser.md and <out>/browser.csv and prints
// the table. Needs build/wasm/wasm/simdr_wasm.* (with --isolated also build/wasm-shared/wasm/) and
// build/release/bench/simdr-bench-w1: they are built (-j2) when missing.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : dflt;
};
const quick = flag('--quick');
const isolated = flag('--isolated');
const outName = isolated ? 'browser-isolated' : 'browser';
const cfg = {
  n: Number(opt('--n', quick ? 10_000 : 100_000)),
  n4k: Number(opt('--n4k', quick ? 1_000 : 10_000)),
};
const reps = Number(opt('--reps', quick ? 1 : 3));
if (quick) cfg.minMs = 200;  // timed read rows: whole passes until this long (engines.mjs MIN_MS)
const outDir = path.resolve(opt('--out', path.join(here, '../results')));
const engines = (opt('--engines', 'simdr,idb,sqlite')).split(',');
const executablePath = process.env.SIMDR_CHROMIUM ?? '/usr/bin/chromium';
const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const log = (...a) => console.error('[bench]', ...a);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
};
const sh = (cmd, args, o = {}) => execFileSync(cmd, args, { encoding: 'utf8', cwd: root, ...o }).trim();

// ---- builds ---------------------------------------------------------------------------------------
const wasmFile = path.join(root, 'build/wasm/wasm/simdr_wasm.wasm');
const nativeBench = path.join(root, 'build/release/bench/simdr-bench-w1');
function build(what, env, steps) {
  log(`building ${what} (-j2)`);
  for (const s of steps) {
    const r = spawnSync('cmake', s, { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...env } });
    if (r.status !== 0) return false;
  }
  return true;
}
if (!fs.existsSync(wasmFile) &&
    !build('the wasm module', { NODE_PATH: '/usr/share/nodejs' },
      [['--preset', 'wasm'], ['--build', '--preset', 'wasm', '-j2', '--target', 'simdr_wasm']])) {
  console.error('cannot build build/wasm/wasm/simdr_wasm.*: see bench/README.md');
  process.exit(1);
}
if (isolated && !fs.existsSync(path.join(root, 'build/wasm-shared/wasm/simdr_wasm_shared.wasm')) &&
    !build('the shared-memory wasm module', { NODE_PATH: '/usr/share/nodejs' },
      [['--preset', 'wasm-shared'], ['--build', '--preset', 'wasm-shared', '-j2']])) {
  console.error('cannot build build/wasm-shared/wasm/simdr_wasm_shared.*: see bench/README.md');
  process.exit(1);
}
const wantNative = !flag('--no-native');
if (wantNative && !fs.existsSync(nativeBench))
  build('simdr-bench-w1', {}, [['--preset', 'release'], ['--build', '--preset', 'release', '-j2', '--target', 'simdr-bench-w1']]);

// ---- machine --------------------------------------------------------------------------------------
const cpuModel = os.cpus()[0]?.model ?? 'unknown CPU';
const cores = os.cpus().length;
const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
const loadStart = load();
let git = 'unknown';
try {
  git = sh('git', ['rev-parse', '--short', 'HEAD']);
  if (sh('git', ['status', '--porcelain', '--', 'core', 'wasm', 'js']) !== '') git += ' (core/wasm/js modified)';
} catch { /* not a checkout */ }
let chromiumVersion = 'unknown';
try { chromiumVersion = sh(executablePath, ['--version']).split('\n').pop(); } catch { /* reported below */ }

// ---- server and browser ---------------------------------------------------------------------------
const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm' };
const served = ['/js/', '/build/wasm/wasm/', '/build/wasm-shared/wasm/', '/bench/browser/'];
const isolation = isolated
  ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' }
  : {};
function serve() {
  const server = http.createServer((req, res) => {
    const url = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const file = path.join(root, url);
    if (!served.some((p) => url.startsWith(p)) || !file.startsWith(root) ||
        !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store', ...isolation });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** Runs one engine once in a fresh dedicated worker of the page. */
async function inWorker(page, msg) {
  const r = await page.evaluate((m) => new Promise((resolve) => {
    const w = new Worker('/bench/browser/worker.mjs', { type: 'module' });
    w.onmessage = ({ data }) => { w.terminate(); resolve(data); };
    w.onerror = (e) => { w.terminate(); resolve({ ok: false, error: `worker error: ${e.message}` }); };
    w.postMessage(m);
  }), msg);
  if (!r.ok) throw new Error(`${msg.engine}: ${r.error}`);
  return r.result;
}

// ---- references: wasm in Node, native ------------------------------------------------------------
// Run once per repetition, right after that repetition's browser engines, so that a change of
// load on this shared machine hits the references and the browser alike.
const nodeRuns = [];
function nodeRef(rep) {
  const args = [path.join(here, 'node_wasm.mjs'), '--n', String(cfg.n), '--n4k', String(cfg.n4k), '--reps', '1'];
  if (rep === 0) args.push('--micro');
  const env = isolated
    ? { ...process.env, SIMDR_WASM_MEMORY: 'shared', SIMDR_WASM_DIR: path.join(root, 'build/wasm-shared/wasm') }
    : process.env;
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', cwd: here, env, stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status === 0) nodeRuns.push(...JSON.parse(r.stdout.trim().split('\n').pop()).runs);
  else log('wasm in Node failed');
}
const nativeGets = [];
let nativeLine = 'not run';
function nativeRef() {
  if (!wantNative || !fs.existsSync(nativeBench)) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simdr-bbench-native-'));
  try {
    // 5 repetitions per call (its median): one native pass of 100,000 gets lasts only ~5 ms.
    const out = sh(nativeBench, ['--n', String(cfg.n), '--reps', '5', '--no-w4', '--dir', dir]);
    nativeLine = out.split('\n')[0].replace(/^# /, '');
    const m = out.match(/random get, ops\/s \| ([\d.]+) M/);
    if (m) {
      nativeGets.push(Number(m[1]) * 1e6);
      return Number(m[1]) * 1e6;
    }
    nativeLine = out.split('\n')[0].replace(/^# /, '');
  } catch (e) {
    log(`native bench failed: ${e.message}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return null;
}
// Our Chromium get rate over the mean of the native runs just before and just after it, per
// repetition: the load of this shared machine drifts (the native rate moved 5x within one run),
// so only measurements taken back to back are compared.
const pairRatios = [];

const server = await serve();
const port = server.address().port;
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'simdr-bbench-chromium-'));
const runs = Object.fromEntries(engines.map((e) => [e, []]));
let info = {};
let profileRun = null;
try {
  const context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: chromiumArgs });
  const page = context.pages()[0] ?? await context.newPage();
  page.setDefaultTimeout(0);
  await page.goto(`http://127.0.0.1:${port}/bench/browser/bench.html`);
  info = await inWorker(page, { engine: 'info' });
  log(`${info.userAgent}; W1 n=${cfg.n}, W2 n=${cfg.n4k} x 4 KiB, ${reps} rep(s)`);
  for (let rep = 0; rep < reps; rep++) {
    for (const engine of engines) {
      const before = engine === 'simdr' ? nativeRef() : null;
      const t = performance.now();
      const r = await inWorker(page, { engine, cfg, base: `bench-${engine}-${rep}` });
      runs[engine].push(r);
      const after = engine === 'simdr' ? nativeRef() : null;
      if (before && after) pairRatios.push(r.get / ((before + after) / 2));
      log(`rep ${rep + 1}/${reps} ${engine}: ${((performance.now() - t) / 1000).toFixed(1)} s`);
    }
    nodeRef(rep);
    log(`rep ${rep + 1}/${reps} wasm in Node done`);
  }
  if (engines.includes('simdr')) {
    // Not part of the medians: OPFS calls counted per phase, and per-call costs at the boundary.
    profileRun = await inWorker(page, { engine: 'simdr', cfg: { ...cfg, ioProfile: true, micro: true }, base: 'bench-profile' });
    log('profiling run done');
  }
  await context.close();
} finally {
  server.close();
  fs.rmSync(profile, { recursive: true, force: true });
}

const loadEnd = load();

// ---- report -----------------------------------------------------------------------------------------
const med = (engine, key) => {
  const xs = (runs[engine] ?? []).map((r) => r[key]).filter((x) => typeof x === 'number');
  return xs.length ? { med: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length } : null;
};
const nodeMed = (key) => {
  const xs = nodeRuns.map((r) => r[key]).filter((x) => typeof x === 'number');
  return xs.length ? { med: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length } : null;
};
const fmtRate = (x) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)} k` : x.toFixed(0));
const fmt = (x, unit) => (x === null || x === undefined ? '-' : unit === 'ops' ? fmtRate(x) : unit === 'ms' ? x.toFixed(1) : x >= 100 ? x.toFixed(0) : x.toFixed(1));
const ratioFmt = (r) => (r === null ? '-' : r >= 10 ? `${r.toFixed(0)}x` : `${r.toFixed(2)}x`);

const sq = runs.sqlite?.[0] ?? {};
const idb0 = runs.idb?.[0] ?? {};
const metrics = [
  { key: 'write', unit: 'ops', label: 'W1 batched write (1024 per commit), entries/s', how: "ours durability 'none' (its default) / IndexedDB `relaxed` (Chromium's default since 121) / SQLite `synchronous=OFF`" },
  { key: 'write_durable', unit: 'ops', label: 'W1 batched write, flush per commit, entries/s', how: "ours 'commit' (OPFS flush() per commit) / IndexedDB `strict` / SQLite `synchronous=FULL`" },
  { key: 'reopen_ms', unit: 'ms', label: 'W1 reopen, ms (lower is better)', how: 'ours: read the whole file into wasm memory and rebuild the index; the peers open lazily (no ratio: not comparable)', noRatio: true },
  { key: 'get', unit: 'ops', label: 'W1 random point read, ops/s', how: 'ours `get` per key / IndexedDB one readonly transaction per get / SQLite one prepared SELECT per key (autocommit)' },
  { key: 'get_best', unit: 'ops', label: "W1 random point read, peer's best, ops/s", how: 'ours `get` per key (same as above) / IndexedDB all gets in ONE transaction / SQLite all SELECTs in one read transaction', oursKey: 'get' },
  { key: 'get_store', unit: 'ops', label: 'W1 random point read through the public `Store` class, ops/s', how: 'ours only: `Store.get` (argument checks) over the same handle' },
  { key: 'batch', unit: 'ops', label: 'W1 batched read (1024 keys per call/transaction), ops/s', how: 'ours `getMany` / IndexedDB 1024 gets per transaction / SQLite 1024 SELECTs per transaction' },
  { key: 'w2_write', unit: 'MBs', label: 'W2 4 KiB write (1024 per commit), MB/s', how: 'durability as the first row' },
  { key: 'w2_read', unit: 'MBs', label: 'W2 4 KiB random read + fold every word, MB/s', how: 'ours `get`, IndexedDB 1024 gets per transaction, SQLite a SELECT per key' },
];
const names = { simdr: 'SIMD R Drive (wasm, OPFS)', idb: 'IndexedDB', sqlite: 'SQLite-WASM (opfs-sahpool)' };
const cols = engines;
const rows = [];
const csv = ['metric,engine,median,min,max,reps,unit'];
for (const m of metrics) {
  const ours = med('simdr', m.oursKey ?? m.key);
  const cells = cols.map((e) => fmt(med(e, e === 'simdr' ? (m.oursKey ?? m.key) : m.key)?.med, m.unit));
  const ratios = cols.filter((e) => e !== 'simdr').map((e) => {
    const p = med(e, m.key);
    if (!ours || !p || m.noRatio) return '-';
    return ratioFmt(m.lower ? p.med / ours.med : ours.med / p.med);
  });
  rows.push(`| ${m.label} | ${cells.join(' | ')} | ${ratios.join(' | ')} |`);
  for (const e of cols) {
    const s = med(e, e === 'simdr' ? (m.oursKey ?? m.key) : m.key);
    if (s && !(e === 'simdr' && m.oursKey)) csv.push(`${m.key},${e},${s.med},${s.min},${s.max},${s.n},${m.unit === 'ops' ? 'ops/s' : m.unit === 'MBs' ? 'MB/s' : 'ms'}`);
  }
}
const oursGet = med('simdr', 'get');
const nativeGet = nativeGets.length ? median(nativeGets) : null;
const nodeGet = nodeMed('get');
if (nodeGet) csv.push(`get,simdr-wasm-node,${nodeGet.med},${nodeGet.min},${nodeGet.max},${nodeGet.n},ops/s`);
if (nativeGet) csv.push(`get,simdr-native,${nativeGet},${Math.min(...nativeGets)},${Math.max(...nativeGets)},${nativeGets.length},ops/s`);

const ratio = (a, b) => (a && b ? a / b : null);
const targets = [
  { what: 'point reads >= 10x SQLite-WASM (one SELECT per key)', r: ratio(oursGet?.med, med('sqlite', 'get')?.med), min: 10 },
  { what: "point reads >= 50x IndexedDB's best (all gets in one transaction)", r: ratio(oursGet?.med, med('idb', 'get_best')?.med), min: 50 },
  { what: 'batched writes >= 10x SQLite-WASM (ours none vs synchronous=OFF)', r: ratio(med('simdr', 'write')?.med, med('sqlite', 'write')?.med), min: 10 },
  { what: '4 KiB writes >= 5x SQLite-WASM MB/s', r: ratio(med('simdr', 'w2_write')?.med, med('sqlite', 'w2_write')?.med), min: 5 },
  { what: 'wasm point reads (Chromium, OPFS) >= 0.5x native point reads (median over repetitions of ours / the native runs just before and after it)', r: pairRatios.length ? median(pairRatios) : ratio(oursGet?.med, nativeGet), min: 0.5 },
];
csv.splice(1, 0, ...targets.map((t) => `target:${t.what.replace(/,/g, ';')},,${t.r ?? ''},,,,ratio (needs >= ${t.min})`));

const micro = profileRun?.micro;
const io = profileRun?.io;
const nodeMicro = nodeRuns[0]?.micro;
const md = [];
md.push(isolated ? '# Browser benchmark (issue 5), cross-origin-isolated page: the shared-memory build' : '# Browser benchmark (issue 5)');
md.push('');
md.push(`- Machine: ${cpuModel}, ${cores} cores; load average (1/5/15 min) ${loadStart} at start, ${loadEnd} at end`);
md.push(`- Browser: ${chromiumVersion} headless (\`${info.userAgent ?? '?'}\`), persistent profile, dedicated module workers, page on 127.0.0.1`);
md.push(`- Sizes: W1 ${cfg.n.toLocaleString('en')} entries of 8 bytes (the browser scale of the notes, not 1M), W2 ${cfg.n4k.toLocaleString('en')} entries of 4 KiB (not 100,000); medians of ${reps} repetition(s), a fresh worker and a fresh file/database per engine and repetition${quick ? ' (**--quick**)' : ''}`);
md.push(`- Git: ${git}; SQLite ${sq.version ?? '?'} (@sqlite.org/sqlite-wasm, journal_mode=${sq.journal_mode ?? '?'}); IndexedDB durability used: ${idb0.durability_fast ?? '?'} / ${idb0.durability_strict ?? '?'}`);
md.push(`- Ours is measured through the backend handle (\`js/backends/wasm.js\`), the layer under the public API: no argument checks (one row also goes through the public \`Store\` class); wasm memory: ${[...new Set((runs.simdr ?? []).map((r) => r.memory))].join(', ') || '?'} (docs/lifetimes.md)`);
md.push('');
md.push(`| metric | ${cols.map((e) => names[e]).join(' | ')} | ${cols.filter((e) => e !== 'simdr').map((e) => `ours / ${e === 'idb' ? 'IndexedDB' : 'SQLite'}`).join(' | ')} |`);
md.push(`|---|${cols.map(() => '---:').join('|')}|${cols.filter((e) => e !== 'simdr').map(() => '---:').join('|')}|`);
md.push(...rows);
md.push('');
md.push('References on the same machine, same run (W1 random point reads of the same keys; the native bench draws its keys at random with replacement, ours is a permutation; wasm in Node runs after each repetition):');
md.push('');
md.push('| | random point read, ops/s | ours in Chromium / this |');
md.push('|---|---:|---:|');
if (nodeGet) md.push(`| our wasm backend in Node (node:fs), \`get\` | ${fmtRate(nodeGet.med)} | ${ratioFmt(ratio(oursGet?.med, nodeGet.med))} |`);
if (nativeGet) md.push(`| our native core (\`simdr-bench-w1 --n ${cfg.n} --reps 5 --no-w4\` just before and just after each of our Chromium runs, median of those ${nativeGets.length} medians, range ${fmtRate(Math.min(...nativeGets))}-${fmtRate(Math.max(...nativeGets))}; ${nativeLine}) | ${fmtRate(nativeGet)} | ${ratioFmt(ratio(oursGet?.med, nativeGet))}; per repetition, against the native runs around it: ${pairRatios.map((x) => x.toFixed(2)).join(', ')} |`);
md.push('');
md.push('## Targets');
md.push('');
md.push('| target | ratio | |');
md.push('|---|---:|---|');
for (const t of targets) md.push(`| ${t.what} | ${t.r === null ? '-' : `${t.r.toFixed(2)}x`} | ${t.r === null ? 'not measured' : t.r >= t.min ? 'met' : '**missed**'} |`);
md.push('');
if (micro || io) {
  md.push('## Where the time goes (one extra run, not in the medians)');
  md.push('');
  if (micro) {
    md.push(`Per-call costs, ns per call, each the median of 3 loops of ${micro.calls_per_figure?.toLocaleString('en') ?? '1M'} calls (passes over the W1 keys in random order, fresh flat key strings in read order, unless said), JIT warm; ${isolated ? "the worker's clock is fine-grained (cross-origin isolated)" : "the worker's clock has 0.1 ms resolution (no cross-origin isolation), so figures are within a few percent"}:`);
    md.push('');
    md.push('| cost | Chromium worker | Node |');
    md.push('|---|---:|---:|');
    const lines = [
      ['size_call', 'a handle method around one wasm export returning a number (the boundary)'],
      ['key_copy', 'copying one ASCII key into wasm memory (`charCodeAt` loop)'],
      ['view', 'making one zero-copy `Uint8Array` view'],
      ['get_same_key', '`get` of one key again and again (everything in cache)'],
      ['has_random', '`has` of the W1 keys in random order (lookup, no view)'],
      ['get_warm', '`get` of the W1 keys in random order, a second pass (JIT warm)'],
      ['get_key_walk', '`get` in random order taking `keys[order[j]]` (a random walk over the key strings: a cache miss per key)'],
      ['get_seq', '`get` of the W1 keys in insertion order (warm)'],
      ['get_bytes_key', '`get` in random order with the keys pre-encoded as `Uint8Array`s (`heap.set`, no `charCodeAt`)'],
      ['getmany_warm', '`getMany` of 1024 random keys, per key (warm)'],
      ['loop_floor', 'the read loop alone (fetch the next key string)'],
      ['raw_call', 'a raw wasm export call from JS (`_simdr_wasm_size`), no handle method'],
      ['raw_get', 'the core alone: raw `_simdr_wasm_get` on keys already in wasm memory, random order, reading value[0]'],
      ['raw_get_batch', 'the core alone: raw `_simdr_wasm_get_batch` of 1024 keys already in wasm memory, per key'],
    ];
    for (const [k, what] of lines) md.push(`| ${what} | ${micro[k]?.toFixed(0) ?? '-'} | ${nodeMicro?.[k]?.toFixed(0) ?? '-'} |`);
    md.push(`| \`get\` in the measured W1 pass (1e9 / median ops/s) | ${oursGet ? (1e9 / oursGet.med).toFixed(0) : '-'} | ${nodeGet ? (1e9 / nodeGet.med).toFixed(0) : '-'} |`);
    if (nativeGet) md.push(`| native \`get\` (1e9 / ops/s) | ${(1e9 / nativeGet).toFixed(0)} | |`);
    md.push('');
  }
  if (io) {
    md.push('OPFS calls made by our wasm storage (counted by wrapping `OpfsFiles`; times include the counting):');
    md.push('');
    md.push('| phase | write() calls | MiB written | ms in write() | flush() calls | ms in flush() | read() calls | ms in read() |');
    md.push('|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const [phase, c] of Object.entries(io))
      md.push(`| ${phase} | ${c.write} | ${(c.writeBytes / 1048576).toFixed(1)} | ${c.writeMs.toFixed(1)} | ${c.flush} | ${c.flushMs.toFixed(1)} | ${c.read} | ${c.readMs.toFixed(1)} |`);
    md.push('');
  }
}
md.push(`Rows, one per metric: medians; ratios are ours divided by the peer. Before its first timed read, every engine reads for ${300} ms untimed (JIT tiers settle); every read row then repeats whole passes over its keys (random order, each value verified) until at least ${cfg.minMs ?? 1000} ms have passed and reports all reads over all that time. Writes are one pass each, the durable pass first. How each engine is driven:`);
md.push('');
for (const m of metrics) md.push(`- ${m.label}: ${m.how}`);
md.push('');
md.push(`Reproduce: \`cd bench/browser && npm ci && node run.mjs${quick ? ' --quick' : ''}${isolated ? ' --isolated' : ''}\` (see bench/README.md, "Browser").`);
const text = md.join('\n') + '\n';
fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(path.join(outDir, `${outName}.md`), text);
fs.writeFileSync(path.join(outDir, `${outName}.csv`), csv.join('\n') + '\n');
process.stdout.write(text);
log(`wrote ${path.join(outDir, `${outName}.md`)} and ${outName}.csv`);
