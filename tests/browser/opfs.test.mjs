// opfs.test.mjs - the wasm backend on OPFS in headless Chromium (playwright-core driving
// /usr/bin/chromium, no browser download): writes, compaction, view detachment, LOCKED across
// workers, and persistence across a browser restart with the same profile.
//
//   (cd tests/browser && npm install) && node --test tests/browser/
// Needs build/wasm/wasm/simdr_wasm.{mjs,wasm} (cmake --build --preset wasm --target simdr_wasm).
// OPFS persists only in a persistent context (launchPersistentContext), per origin: the
// restart serves from the same port.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.wasm': 'application/wasm' };
const executablePath = process.env.SIMDR_CHROMIUM ?? '/usr/bin/chromium';
const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function serve() {
  const server = http.createServer((req, res) => {
    const file = path.join(root, decodeURIComponent(new URL(req.url, 'http://x').pathname));
    if (!file.startsWith(root) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function launch(profile, port) {
  const context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args });
  const page = context.pages()[0] ?? await context.newPage();
  await page.goto(`http://127.0.0.1:${port}/tests/browser/opfs.html`);
  return { context, page };
}

// Runs `scenario` in worker number `worker` of the page (created on first use).
function run(page, worker, scenario, file) {
  return page.evaluate(async ([w, s, p]) => {
    globalThis.workers ??= [];
    globalThis.workers[w] ??= new Worker('/tests/browser/opfs_worker.mjs', { type: 'module' });
    const target = globalThis.workers[w];
    const id = Math.random();
    return new Promise((resolve) => {
      const on = ({ data }) => {
        if (data.id !== id) return;
        target.removeEventListener('message', on);
        resolve(data);
      };
      target.addEventListener('message', on);
      target.postMessage({ id, scenario: s, path: p });
    });
  }, [worker, scenario, file]);
}

const available = fs.existsSync(executablePath) &&
  fs.existsSync(path.join(root, 'build/wasm/wasm/simdr_wasm.wasm'));

test('OPFS: write, compact, detach, LOCKED across workers, persist across a restart',
  { skip: available ? false : 'needs /usr/bin/chromium and build/wasm/wasm/simdr_wasm.*' },
  async (t) => {
    const server = await serve();
    const port = server.address().port;
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'simdr-chromium-'));
    t.after(() => {
      server.close();
      fs.rmSync(profile, { recursive: true, force: true });
    });

    let { context, page } = await launch(profile, port);
    const wrote = await run(page, 0, 'write', 'db/a.simdr');
    assert.ok(wrote.ok, wrote.error);
    const first = await run(page, 0, 'read', 'db/a.simdr');
    assert.ok(first.ok, first.error);

    const held = await run(page, 1, 'hold', 'db/b.simdr');
    assert.deepEqual(held, { id: held.id, ok: true, result: 'LOCKED' });
    const other = await run(page, 2, 'tryOpen', 'db/b.simdr');
    assert.ok(other.ok, other.error);
    assert.equal(other.result, 'LOCKED', 'a second worker is locked out by the sync handle');
    assert.ok((await run(page, 1, 'release', 'db/b.simdr')).ok);
    const after = await run(page, 3, 'tryOpen', 'db/b.simdr');
    assert.equal(after.result, 'opened', 'the lock went with the handle');
    await context.close();

    ({ context, page } = await launch(profile, port));
    const again = await run(page, 0, 'read', 'db/a.simdr');
    await context.close();
    assert.ok(again.ok, again.error);
    assert.deepEqual(again.result, first.result);
    assert.deepEqual(again.result, { size: 1000 - 100 + 2 + 2, k1: 'value 1', k10: true,
      m2: 'two', after: 'compaction', big: 3 << 20 });
  });
