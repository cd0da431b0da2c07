// shared.test.mjs - the public browser API on a cross-origin-isolated page (COOP/COEP headers),
// where js/backends/wasm.js picks the shared-memory build (simdr_wasm_shared, preset
// wasm-shared): wasm memory is a SharedArrayBuffer, every store has its own instance, and views
// survive growth, compaction and close without ever showing other bytes (docs/lifetimes.md).
//
//   cmake --build --preset wasm-shared && (cd tests/browser && npm ci) && node --test tests/browser/shared.test.mjs
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serve, launch, profile, inWorker, onPage, skipShared as skip, root, dumpLiveValues } from './harness.mjs';

const PORT = 47315;
const server = skip ? null : await serve(PORT, root, { isolated: true });
after(() => server?.close());
const inspect = process.env.SIMDR_INSPECT ?? path.join(root, 'build/dev/tools/simdr-inspect');

async function session(t) {
  const s = await launch(profile(), PORT);
  t.after(() => s.context.close());
  return s;
}

test('isolated page: the shared-memory build; CRUD, UTF-8 keys, large values, persistence on OPFS', { skip }, async (t) => {
  const { page, errors } = await session(t);
  const r = await inWorker(page, 0, async (api) => {
    const out = { isolated: self.crossOriginIsolated };
    const db = await api.open('s/crud.simdr');
    out.memory = api.wasm.memory();
    out.lifetime = db.viewLifetime;
    db.put('a', 'b');
    out.sab = db.get('a').buffer instanceof SharedArrayBuffer;
    // Chromium's TextDecoder refuses views of shared memory (docs/lifetimes.md): getCopy() or
    // slice() first.
    try { api.dec.decode(db.get('a')); out.decodeView = 'decoded'; } catch (e) { out.decodeView = e.name; }
    out.decodeCopy = api.dec.decode(db.getCopy('a'));
    // Non-ASCII keys take the encode-then-copy path (encodeInto refuses shared views).
    db.put('ключ-é-😀', 'unicode');
    db.putMany([['k1', 'v1'], ['k2', new Float64Array([Math.E])], ['ключ2', 'u2']]);
    db.put('big', new Uint8Array(8 << 20).map((_, i) => (i * 7) & 255));
    out.get = [api.text(db.get('ключ-é-😀')), db.get('k2', Float64Array)[0],
      db.getMany(['k1', 'ключ2', 'none']).map((v) => v && api.text(v))];
    db.delete('k1');
    db.compact();
    db.verify();
    out.keys = [...db.keys()].map((k) => api.text(k)).sort();
    db.close();
    const again = await api.open('s/crud.simdr', { readOnly: true });
    const big = again.get('big');
    let bad = 0;
    for (let i = 0; i < big.length; i += 4093) if (big[i] !== ((i * 7) & 255)) bad++;
    out.reopened = [again.size, api.text(again.get('ключ-é-😀')), big.length, bad];
    again.verify();
    again.close();
    out.file = api.b64(await api.opfs.read('s/crud.simdr'));
    return out;
  });
  const file = r.file;
  delete r.file;
  assert.deepEqual(r, {
    isolated: true, memory: 'shared', lifetime: 'while-reachable', sab: true,
    decodeView: 'TypeError', decodeCopy: 'b',
    get: ['unicode', Math.E, ['v1', 'u2', undefined]],
    keys: ['a', 'big', 'k2', 'ключ-é-😀', 'ключ2'],
    reopened: [5, 'unicode', 8 << 20, 0],
  });
  assert.deepEqual(errors, []);
  // The same file format, byte for byte: the native tools accept what the shared build wrote.
  if (!fs.existsSync(inspect)) {
    if (process.env.SIMDR_INSPECT) assert.fail(`SIMDR_INSPECT=${inspect} does not exist`);
    t.diagnostic(`no native ${inspect}: the native check is skipped`);
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simdr-shared-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const p = path.join(dir, 'crud.simdr');
  fs.writeFileSync(p, Buffer.from(file, 'base64'));
  execFileSync(inspect, ['verify', p], { stdio: 'pipe' });
  const live = dumpLiveValues(execFileSync(inspect, ['dump', p], { encoding: 'utf8', maxBuffer: 64 << 20 }));
  assert.equal(live.get('big')?.len, 8 << 20);
  assert.equal(live.get('a')?.hex, Buffer.from('b').toString('hex'));
});

test('views survive growth, compaction and close; never other bytes, even after the next store', { skip }, async (t) => {
  const { page } = await session(t);
  const r = await inWorker(page, 0, async (api) => {
    const db = await api.open('s/views.simdr');
    for (let i = 0; i < 200; i++) db.put(`k${i}`, `value number ${i}`);
    db.put('f', new Float64Array([1, 2, 3]));
    const held = [];
    for (let i = 0; i < 200; i++) held.push([db.get(`k${i}`), `value number ${i}`]);
    const f = db.get('f', Float64Array);
    const out = {};
    for (let i = 0; i < 200; i += 2) db.delete(`k${i}`);
    db.compact();
    out.afterCompact = Array.from(f);
    const mem = db.get('k1').buffer.byteLength;
    db.put('big', new Uint8Array(48 << 20).fill(1));   // grows wasm memory
    out.grew = db.get('k1').buffer.byteLength > mem;
    for (let round = 0; round < 5; round++) {
      db.putMany(Array.from({ length: 500 }, (_, i) => [`r${round}-${i}`, new Uint8Array(4096).fill(i)]));
      if (round === 2) db.compact();
    }
    db.close();
    // The next store works in memory of its own: the closed one's bytes are never reused.
    const next = await api.open('s/next.simdr');
    for (let i = 0; i < 3000; i++) next.put(`n${i}`, new Uint8Array(1000).fill(0xee));
    next.compact();
    next.close();
    out.wrong = held.filter(([view, want]) => api.text(view) !== want).length;
    out.empty = held.filter(([view]) => view.length === 0).length;
    out.f = Array.from(f);
    return out;
  });
  assert.deepEqual(r, { afterCompact: [1, 2, 3], grew: true, wrong: 0, empty: 0, f: [1, 2, 3] });
});

test('LOCKED: a second writer in the same worker and in another one; readers share the worker', { skip }, async (t) => {
  const { page } = await session(t);
  const same = await inWorker(page, 0, async (api) => {
    api.state.db = await api.open('s/lock.simdr');
    api.state.db.put('k', 'v1');
    const out = {};
    try { await api.open('s/lock.simdr'); out.writer = 'opened'; } catch (e) { out.writer = e.code; }
    const reader = await api.open('s/lock.simdr', { readOnly: true });
    api.state.db.put('k2', 'v2');
    out.before = reader.get('k2') === undefined;
    out.refreshed = reader.refresh();
    out.after = api.text(reader.get('k2'));
    reader.close();
    return out;
  });
  assert.deepEqual(same, { writer: 'LOCKED', before: true, refreshed: true, after: 'v2' });
  const other = await inWorker(page, 1, async (api) => {
    try { await api.open('s/lock.simdr'); return 'opened'; } catch (e) { return e.code; }
  });
  assert.equal(other, 'LOCKED');
  await inWorker(page, 0, async (api) => api.state.db.close());
  const after = await inWorker(page, 0, async (api) => {
    const db = await api.open('s/lock.simdr');
    const v = [db.size, api.text(db.get('k'))];
    db.close();
    return v;
  });
  assert.deepEqual(after, [2, 'v1'], 'the lock went with close()');
});

test('openAsync from the isolated page', { skip }, async (t) => {
  const { page } = await session(t);
  const r = await onPage(page, async (api) => {
    const db = await api.openAsync('s/async.simdr');
    await db.put('k', 'v');
    const v = new TextDecoder().decode(await db.get('k'));
    const out = [self.crossOriginIsolated, v, db.viewLifetime, await db.size];
    await db.close();
    return out;
  });
  assert.deepEqual(r, [true, 'v', 'copy', 1]);
});
