// harness.mjs - shared by the browser suites: a static server for the checkout, headless
// Chromium (playwright-core over /usr/bin/chromium, no download) with a persistent profile, and
// helpers that run a function in a dedicated worker of the page or on the main thread.
//
// Facts this relies on (../shared notes, checked here): OPFS persists only in a persistent
// context and per origin, port included, so each suite serves from a FIXED port and a restart
// finds the same origin; sync access handles exist only in dedicated workers.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const executablePath = process.env.SIMDR_CHROMIUM ?? '/usr/bin/chromium';
const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.wasm': 'application/wasm', '.css': 'text/css', '.json': 'application/json' };

// js/wasm/ holds the modules only in a packed package (tools/copy-wasm.js); in a checkout the
// server maps them to the build folders (preset wasm, and wasm-shared for simdr_wasm_shared.*).
const built = (file) => path.join(root, file.startsWith('simdr_wasm_shared') ? 'build/wasm-shared/wasm' : 'build/wasm/wasm');
const has = (file) => fs.existsSync(path.join(root, 'js/wasm', file)) || fs.existsSync(path.join(built(file), file));
export const available = fs.existsSync(executablePath) && has('simdr_wasm.wasm');
export const skip = available ? false : 'needs /usr/bin/chromium and build/wasm/wasm/simdr_wasm.*';
/** For cross-origin-isolated pages, which load the shared-memory build. */
export const skipShared = skip || (has('simdr_wasm_shared.wasm') ? false
  : 'needs build/wasm-shared/wasm/simdr_wasm_shared.* (cmake --build --preset wasm-shared)');

function resolveFile(base, pathname) {
  const file = path.join(base, pathname);
  if (!file.startsWith(base)) return null;
  if (fs.existsSync(file) && fs.statSync(file).isFile()) return file;
  if (base === root && pathname.startsWith('/js/wasm/')) {
    const name = pathname.slice('/js/wasm/'.length);
    const dir = built(name);
    const alt = path.join(dir, name);
    if (alt.startsWith(dir) && fs.existsSync(alt)) return alt;
  }
  return null;
}

/** Serves `base` (default: the checkout) on 127.0.0.1:`port`. With `isolated`, every response
 *  carries COOP/COEP headers, so pages (and their workers) are cross-origin isolated. */
export function serve(port, base = root, { isolated = false } = {}) {
  const isolation = isolated
    ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' }
    : {};
  const server = http.createServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const file = resolveFile(base, pathname === '/' ? '/index.html' : pathname);
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-store', ...isolation });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/** A fresh profile folder, removed at process exit: after the test's own after() hooks have
 *  closed Chromium (removing it while Chromium still writes there fails with ENOTEMPTY, and a
 *  failed hook would leave Chromium running and the test file hanging). */
export function profile() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simdr-chromium-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 }));
  return dir;
}

/** Launches Chromium on `profileDir` and opens `page` of the server on `port`. */
export async function launch(profileDir, port, page = '/tests/browser/index.html') {
  const context = await chromium.launchPersistentContext(profileDir,
    { executablePath, headless: true, args });
  const p = context.pages()[0] ?? await context.newPage();
  const errors = [];
  p.on('pageerror', (e) => errors.push(e));
  await p.goto(`http://127.0.0.1:${port}${page}`);
  return { context, page: p, errors };
}

/**
 * Runs `fn` (an async function, serialised by its source) in dedicated module worker number
 * `worker` of the page (tests/browser/api_worker.mjs, created on first use) as
 * fn(api, ...args) where api is the public browser entry plus helpers (see api_worker.mjs).
 * Resolves with its result; rejects with its error's text.
 */
export async function inWorker(page, worker, fn, ...fnArgs) {
  const r = await page.evaluate(async ([w, src, a]) => {
    globalThis.workers ??= [];
    globalThis.workers[w] ??= new Worker('/tests/browser/api_worker.mjs', { type: 'module' });
    const target = globalThis.workers[w];
    const id = Math.random();
    return new Promise((resolve) => {
      const done = (data) => {
        target.removeEventListener('message', on);
        target.removeEventListener('error', fail);
        resolve(data);
      };
      const on = ({ data }) => { if (data.id === id) done(data); };
      // A worker that fails to load or throws outside a call answers nothing: say so.
      const fail = (e) => done({ ok: false, error: `worker error: ${e.message || 'it failed to load'}` });
      target.addEventListener('message', on);
      target.addEventListener('error', fail);
      target.postMessage({ id, src, args: a });
    });
  }, [worker, fn.toString(), fnArgs]);
  if (!r.ok) throw new Error(`in worker ${worker}: ${r.error}`);
  return r.result;
}

/** Terminates worker number `worker` of the page (its OPFS handles go with it). */
export function stopWorker(page, worker) {
  return page.evaluate((w) => {
    globalThis.workers?.[w]?.terminate();
    if (globalThis.workers) globalThis.workers[w] = undefined;
  }, worker);
}

/** Runs `fn(api, ...args)` on the main thread, api = import('/js/browser.js'). */
export async function onPage(page, fn, ...fnArgs) {
  const r = await page.evaluate(async ([src, a]) => {
    const api = await import('/js/browser.js');
    const f = (0, eval)(`(${src})`);
    try {
      return { ok: true, result: await f(api, ...a) };
    } catch (e) {
      return { ok: false, error: `${e?.name}: ${e?.message} [${e?.code ?? ''}]` };
    }
  }, [fn.toString(), fnArgs]);
  if (!r.ok) throw new Error(`on the page: ${r.error}`);
  return r.result;
}

/** simdr-inspect dump -> Map(key -> {len, hex (first 32 bytes, may end in '...')}) of the
 *  last record per printable key (tombstones remove). */
export function dumpLiveValues(txt) {
  const live = new Map();
  for (const line of txt.split('\n')) {
    const m = /kind=(put|tombstone) .*?key="([ -!#-\[\]-~]*)" key_len=\d+(?: value_len=(\d+))?.*?(?: value=([0-9a-f.]*))?$/.exec(line);
    if (!m) continue;
    if (m[1] === 'tombstone') live.delete(m[2]);
    else live.set(m[2], { len: Number(m[3]), hex: (m[4] ?? '').replace(/\.\.\.$/, '') });
  }
  return live;
}
