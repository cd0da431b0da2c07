// example.test.mjs - examples/browser bundled with Vite from the packed package, loaded in
// Chromium: checks that the bundler found the package's worker and its .wasm, and that the
// page's own worker (open) and the main thread (openAsync) both work on OPFS.
//
// Needs npm and the registry (or its cache) for vite; the tarball comes from `npm pack` of this
// checkout (prepack builds the wasm module). SIMDR_SKIP_EXAMPLE=1 skips it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { serve, launch, profile, skip as noBrowser, root } from './harness.mjs';

const PORT = 47314;
const skip = noBrowser || (process.env.SIMDR_SKIP_EXAMPLE === '1' ? 'SIMDR_SKIP_EXAMPLE=1' : false);
const PORT_ISOLATED = 47316;
let server = null;
let isolated = null;
after(() => {
  server?.close();
  isolated?.close();
});

const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'],
  encoding: 'utf8', env: { ...process.env, npm_config_loglevel: 'error' } });

test('examples/browser: vite build of the packed package works in Chromium', { skip, timeout: 180_000 }, async (t) => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'simdr-example-'));
  t.after(() => fs.rmSync(work, { recursive: true, force: true }));
  run('npm', ['pack', '--silent', '--pack-destination', work], root);
  const tarball = path.join(work, fs.readdirSync(work).find((f) => f.endsWith('.tgz')));
  const app = path.join(work, 'app');
  fs.mkdirSync(app);
  for (const f of ['package.json', 'vite.config.js', 'index.html', 'main.js', 'worker.js'])
    fs.copyFileSync(path.join(root, 'examples/browser', f), path.join(app, f));
  run('npm', ['pkg', 'set', `dependencies.simd-r-drive=file:${tarball}`], app);
  // --ignore-scripts: the page needs no Node addon.
  run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund'], app);
  const log = run('npx', ['vite', 'build'], app);
  const dist = path.join(app, 'dist');
  const assets = fs.readdirSync(path.join(dist, 'assets'));
  assert.equal(assets.filter((f) => f.endsWith('.wasm')).length, 2, `vite emitted both .wasm builds:\n${log}`);
  assert.ok(assets.filter((f) => f.startsWith('worker')).length >= 2, 'both workers were bundled');

  server = await serve(PORT, dist);
  const s = await launch(profile(), PORT, '/index.html');
  t.after(() => s.context.close());
  await s.page.waitForFunction(() => window.simdrResult !== undefined, null, { timeout: 30_000 });
  const result = await s.page.evaluate(() => window.simdrResult);
  assert.deepEqual(result, {
    mainThread: { greeting: 'hello from the main thread', vector: [1, 2, 3], size: 2 },
    worker: { a: 'A', size: 3, backend: 'wasm', viewLifetime: 'until-move', viewAfterClose: 0 },
  });
  assert.deepEqual(s.errors, []);

  // The same bundle served cross-origin isolated (COOP/COEP): the shared-memory build, which
  // Vite emitted too, serves the worker's store; its views survive close.
  isolated = await serve(PORT_ISOLATED, dist, { isolated: true });
  const si = await launch(profile(), PORT_ISOLATED, '/index.html');
  t.after(() => si.context.close());
  await si.page.waitForFunction(() => window.simdrResult !== undefined, null, { timeout: 30_000 });
  assert.deepEqual(await si.page.evaluate(() => window.simdrResult), {
    mainThread: { greeting: 'hello from the main thread', vector: [1, 2, 3], size: 2 },
    worker: { a: 'A', size: 3, backend: 'wasm', viewLifetime: 'while-reachable', viewAfterClose: 1 },
  });
  assert.deepEqual(si.errors, []);
});
