// native.test.js - addon-only behaviour (docs/lifetimes.md, Node section): zero-copy views over
// the memory map that survive writes and compaction, detach on close, GC of buffers and of
// dropped stores, the forced copy mode, async commits, worker threads, several processes, and
// a clean exit with stores open. Run with --expose-gc.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backends, tempDir, text } from './backends.js';
import { SimdrError } from '../../js/errors.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const native = (await backends()).find((b) => b.name === 'native');
const skip = !native?.api ? `the native addon cannot load here: ${native?.missing ?? 'not selected'}` : false;
const gc = globalThis.gc;
const gcSkip = skip || (gc ? false : 'needs node --expose-gc');

/** Collects garbage and lets Node run the deferred external-buffer finalizers. */
async function collect() {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
}

describe('native addon', { skip }, () => {
  const { open } = native?.api ?? {};
  const stats = () => native.module.stats();
  const dir = tempDir();
  let n = 0;
  const fresh = () => join(dir, `n${n++}.simdr`);
  const env = { ...process.env, SIMDR_BACKEND: 'native' };

  test('a million gets of the same key: one external buffer, no crash', async () => {
    const db = await open(fresh());
    db.put('hot', new Float64Array([3.25]));
    const before = stats().chunksCreated;
    let sum = 0;
    for (let i = 0; i < 1_000_000; i++) sum += db.get('hot')[0];
    assert.equal(sum, db.get('hot')[0] * 1_000_000);
    assert.ok(stats().chunksCreated - before <= 2, 'views share one external ArrayBuffer');
    const a = db.get('hot');
    const b = db.get('hot');
    assert.notEqual(a, b);
    assert.equal(a.buffer, b.buffer, 'two gets, one buffer');
    assert.equal(db.zeroCopy, true);
    assert.equal(db.viewLifetime, 'until-close');
    db.close();
  });

  test('every key form finds its value: ASCII, non-ASCII, bytes, long (fast and slow gets)', async () => {
    const db = await open(fresh());
    const long = 'L'.repeat(5000);  // past the 1024-byte scratch of the fast get
    const keys = ['k', 'caf\u00e9', '\u{1F600}x', long, `${long}\u00e9`, new Uint8Array([0, 255, 7])];
    keys.forEach((k, i) => db.put(k, new Uint8Array([i])));
    for (let round = 0; round < 3; round++) {
      keys.forEach((k, i) => assert.deepEqual([...db.get(k)], [i], `key ${i}`));
      assert.equal(db.get('caf'), undefined);
      assert.equal(db.get('cafe'), undefined);
      assert.equal(db.get(new Uint8Array([0, 255])), undefined);
      // A UTF-8 string key and its bytes name the same entry.
      assert.deepEqual([...db.get(new TextEncoder().encode('caf\u00e9'))], [1]);
    }
    db.close();
    assert.throws(() => db.get('k'), (e) => e instanceof SimdrError && e.code === 'CLOSED');
  });

  test('putMany of every key and value form (the packed path and its fallbacks)', async () => {
    const db = await open(fresh());
    const big = new Uint8Array(100000).map((_, i) => i * 7);
    const batches = [
      [['a', 'x'], [new Uint8Array([1, 2]), new Uint8Array(0)], ['a', big], ['b', new Uint8Array(33).fill(9)]],
      [['caf\u00e9', 'non-ASCII'], ['plain', 'ascii']],  // a non-ASCII key: the addon's putMany
      Array.from({ length: 3000 }, (_, i) => [`k${i}`, new Uint8Array([i & 255, i >> 8])]),
    ];
    for (const b of batches) db.putMany(b);
    assert.deepEqual([...db.get('a')], [...big], 'a key repeated in a batch ends with its last value');
    assert.equal(db.get(new Uint8Array([1, 2])).length, 0);
    assert.deepEqual([...db.get('b')], new Array(33).fill(9));
    assert.equal(text(db.get('caf\u00e9')), 'non-ASCII');
    assert.equal(text(db.get('plain')), 'ascii');
    for (let i = 0; i < 3000; i += 97) assert.deepEqual([...db.get(`k${i}`)], [i & 255, i >> 8]);
    assert.equal(db.size, 3000 + 5);
    db.close();
  });

  test('getMany: held buffer, views made by the addon, missing and non-ASCII keys', async () => {
    const db = await open(fresh());
    db.putMany(Array.from({ length: 100 }, (_, i) => [`k${i}`, new Uint8Array([i])]));
    const ks = Array.from({ length: 100 }, (_, i) => `k${i}`);
    const check = (vs, n) => vs.forEach((v, i) => assert.deepEqual(v && [...v], i < n ? [i] : undefined, `key ${i}`));
    check(db.getMany(ks), 100);  // first call: no buffer held yet
    check(db.getMany(ks), 100);  // now views of the held buffer
    // Values committed after the held buffer was made lie past its end: the addon makes those.
    db.putMany(Array.from({ length: 50 }, (_, i) => [`k${100 + i}`, new Uint8Array([100 + i])]));
    const more = [...ks, ...Array.from({ length: 60 }, (_, i) => `k${100 + i}`)];
    const a = db.getMany(more);
    check(a, 150);
    check(db.getMany(more), 150);
    assert.notEqual(a[0].buffer, a[120].buffer, 'old and new values: two buffers');
    const newer = more.slice(100);
    assert.equal(db.getMany(newer)[0].buffer, db.getMany(newer)[49].buffer);
    db.put('caf\u00e9', 'x');
    assert.deepEqual(db.getMany(['caf\u00e9', new Uint8Array([107, 49]), 'nope']).map((v) => v && text(v)), ['x', '\u0001', undefined]);
    db.close();
    assert.equal(a[0].length, 0, 'views from getMany detach on close');
    assert.equal(a[149].length, 0);
  });

  test('a view never covers bytes past the committed end', async () => {
    const db = await open(fresh());
    db.put('a', 'x');
    const v = db.get('a');
    assert.ok(v.buffer.byteLength <= db.fileSize);
    db.put('b', 'y'.repeat(100000));
    const w = db.get('b');
    assert.ok(w.byteOffset + w.length <= w.buffer.byteLength);
    assert.ok(w.buffer.byteLength <= db.fileSize);
    // Reading the whole buffer of a view is safe (no SIGBUS past the end of the file).
    let s = 0;
    for (const x of new Uint8Array(w.buffer)) s += x;
    assert.ok(s > 0);
    db.close();
  });

  test('views survive later writes, growth and compaction', async () => {
    const db = await open(fresh());
    db.put('k', 'first');
    const v1 = db.get('k');
    const f = db.get('k', Uint8Array);
    const big = new Uint8Array(1 << 20).fill(7);
    for (let i = 0; i < 64; i++) db.put(`big${i}`, big);  // 64 MiB of growth
    db.put('k', 'second');
    assert.equal(text(v1), 'first', 'a view is a snapshot');
    for (let i = 0; i < 64; i++) db.delete(`big${i}`);
    db.compact();
    const v2 = db.get('k');
    assert.equal(text(v2), 'second');
    assert.notEqual(v2.buffer, v1.buffer, 'compaction moved the image');
    assert.equal(text(v1), 'first', 'the old mapping lives on for its views');
    assert.equal(text(f), 'first');
    db.put('k', 'third');
    assert.equal(text(v2), 'second');
    db.close();
    assert.equal(v1.length, 0);
    assert.equal(v2.length, 0);
  });

  test('close() detaches every view: length 0, never dangling', async () => {
    const db = await open(fresh());
    db.putMany([['a', 'aaaa'], ['b', new Float32Array([1, 2])]]);
    const views = [db.get('a'), db.get('b', Float32Array), ...db.getMany(['a', 'b'])];
    const [k0, v0] = db.entries().next().value;
    views.push(k0, v0);
    const sub = views[0].subarray(1, 3);
    const copy = db.getCopy('a');
    db.close();
    for (const v of [...views, sub]) {
      assert.equal(v.length, 0);
      assert.equal(v.byteLength, 0);
      assert.equal(v.buffer.byteLength, 0);
      assert.equal(v[0], undefined);
    }
    assert.equal(text(copy), 'aaaa');
  });

  test('close() ends open iterators', async () => {
    const db = await open(fresh());
    db.putMany([['a', '1'], ['b', '2'], ['c', '3']]);
    const it = db.entries();
    it.next();
    const raw = native.module.openHandle(fresh(), { create: true, readOnly: false, durability: 0, alignment: 64 });
    raw.put('x', new Uint8Array([1]));
    const rawIt = raw.iterate();
    raw.close();
    assert.throws(() => rawIt.next(), (e) => e instanceof SimdrError && e.code === 'CLOSED');
    db.close();
    assert.throws(() => it.next(), { code: 'CLOSED' });
  });

  test('GC: a collected buffer is re-created for later views of the same bytes', { skip: gcSkip }, async () => {
    const db = await open(fresh());
    db.put('k', 'value');
    (() => { db.get('k'); })();   // the first chunk (the handle holds the latest one)
    db.put('k2', 'value2');
    (() => { db.get('k2'); })();  // a second chunk; the first has no view left
    const before = stats();
    await collect();
    const after = stats();
    assert.ok(after.chunksFinalized > before.chunksFinalized, 'the unreferenced buffer was finalized');
    for (let i = 0; i < 3; i++) {
      const v = db.get('k');  // the first range again: a fresh buffer
      assert.equal(text(v), 'value');
      assert.equal(text(db.get('k2')), 'value2');
      assert.equal(text(v), 'value');
      await collect();
    }
    assert.ok(stats().chunksCreated > after.chunksCreated, 'a collected range was covered again');
    db.close();
  });

  test('GC: a store dropped without close keeps its mapping until its views are collected', { skip: gcSkip }, async () => {
    const path = fresh();
    let view;
    await collect();  // stores of earlier tests (closed) are freed first
    const freed0 = stats().storesFreed;
    (() => {
      const db = native.module.openHandle(path, { create: true, readOnly: false, durability: 0, alignment: 64 });
      db.put('k', new TextEncoder().encode('still mapped'));
      view = db.get('k');
    })();
    await collect();
    assert.equal(text(view), 'still mapped', 'the view outlives its dropped store');
    assert.equal(stats().storesFreed, freed0, 'the store is kept by its view');
    // The writer lock is still held by the unreachable store until it is freed.
    await assert.rejects(open(path), { code: 'LOCKED' });
    view = undefined;
    await collect();
    assert.equal(stats().storesFreed, freed0 + 1, 'freed once its last view was collected');
    (await open(path)).close();
  });

  test('copy mode forced by the zeroCopy: false option', async () => {
    const db = await open(fresh(), { zeroCopy: false });
    assert.equal(db.zeroCopy, false);
    assert.equal(db.viewLifetime, 'copy');
    db.put('k', new Float32Array([1.5]));
    const v = db.get('k');
    assert.equal(v.buffer.byteLength, 4, 'a copy owns exactly its bytes');
    assert.equal(db.get('k', Float32Array)[0], 1.5);
    assert.notEqual(db.get('k').buffer, v.buffer);
    db.close();
    assert.equal(v.length, 4, 'copies are not detached');
  });

  test('copy mode forced by SIMDR_NODE_COPY=1 (emulates Electron refusing external buffers)', () => {
    const code = `
      import { open } from ${JSON.stringify(new URL('../../js/index.js', import.meta.url).href)};
      const db = await open(${JSON.stringify(fresh())});
      db.put('k', 'copied');
      const v = db.get('k');
      const out = { zeroCopy: db.zeroCopy, len: v.buffer.byteLength, text: new TextDecoder().decode(v) };
      db.close();
      out.after = v.length;
      console.log(JSON.stringify(out));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code],
      { env: { ...env, SIMDR_NODE_COPY: '1' }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { zeroCopy: false, len: 6, text: 'copied', after: 6 });
  });

  test('putManyAsync runs on the pool while the event loop keeps reading', async () => {
    const db = await open(fresh(), { durability: 'commit' });
    db.put('seed', 'x');
    const pairs = [];
    for (let i = 0; i < 20000; i++) pairs.push([`a${i}`, new Uint32Array([i])]);
    const p = db.putManyAsync(pairs);
    let reads = 0;
    const v = db.get('seed');
    while (reads < 1000) {
      assert.equal(text(db.get('seed')), 'x');
      reads++;
    }
    await p;
    assert.equal(db.size, 20001);
    assert.equal(db.get('a19999', Uint32Array)[0], 19999);
    await db.flushAsync();
    assert.equal(text(v), 'x');
    db.close();
  });

  test('putManyAsync: input buffers may change after the call; errors reject', async () => {
    const db = await open(fresh());
    const value = new Uint8Array([1, 2, 3]);
    const p = db.putManyAsync([['k', value]]);
    value.fill(9);
    await p;
    assert.deepEqual([...db.get('k')], [1, 2, 3], 'the batch was copied at call time');
    const r = await open(fresh());
    r.close();
    const ro = await open(db.path, { readOnly: true });
    await assert.rejects(ro.putManyAsync([['x', 'y']]), (e) => e instanceof SimdrError && e.code === 'READ_ONLY');
    ro.close();
    db.close();
  });

  test('close() during putManyAsync: views detach at once, the commit completes', async () => {
    const path = fresh();
    const db = await open(path, { durability: 'commit' });
    db.put('k', 'v');
    const v = db.get('k');
    const pairs = [];
    for (let i = 0; i < 5000; i++) pairs.push([`c${i}`, 'value']);
    const p = db.putManyAsync(pairs);
    db.close();
    assert.equal(v.length, 0);
    await p;
    const again = await open(path);
    assert.equal(again.size, 5001);
    again.close();
  });

  test('worker_threads: a writer per thread, and read-only followers of the main writer', async () => {
    const run = (data) => new Promise((resolve, reject) => {
      const w = new Worker(join(here, 'worker_store.js'), { workerData: data, env });
      w.once('message', resolve);
      w.once('error', reject);
    });
    // Each worker its own store (one writer per file per process is the core's rule).
    const sums = await Promise.all([0, 1, 2].map(() => run({ path: fresh(), mode: 'writer', count: 1000 })));
    assert.deepEqual(sums, [499500, 499500, 499500]);
    // One writer here, three read-only handles in workers following it with refresh().
    const path = fresh();
    const db = await open(path);
    const readers = [0, 1, 2].map(() => run({ path, mode: 'reader' }));
    for (let i = 0; i < 2000; i++) {
      db.put(`n-${i}`, new Uint32Array([i]));
      if (i % 500 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    db.put('done', '');
    for (const r of await Promise.all(readers)) assert.deepEqual(r, { seen: 2000, bad: 0, done: true });
    db.close();
  });

  test('several processes: one writer, readers following with refresh()', async () => {
    const path = fresh();
    const db = await open(path);
    db.put('n-0', new Uint32Array([0]));
    const readers = [0, 1].map(() => {
      const c = spawn(process.execPath, [join(here, 'child_reader.js'), path], { env, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      c.stdout.on('data', (d) => { out += d; });
      return new Promise((resolve) => c.once('exit', (code) => resolve({ code, out })));
    });
    for (let i = 1; i < 3000; i++) {
      db.put(`n-${i}`, new Uint32Array([i]));
      if (i % 300 === 0) await new Promise((r) => setTimeout(r, 10));
    }
    db.compact();  // readers follow a replaced file too
    db.put('done', '');
    for (const r of await Promise.all(readers)) {
      assert.equal(r.code, 0);
      const got = JSON.parse(r.out);
      assert.equal(got.seen, 3000);
      assert.equal(got.bad, 0);
      assert.equal(got.done, true);
    }
    db.close();
  });

  for (const mode of ['natural', 'exit']) {
    test(`clean process exit (${mode}) with stores open, views alive, a worker and an async commit`, () => {
      const r = spawnSync(process.execPath, [join(here, 'child_exit.js'), tempDir(), mode],
        { env, encoding: 'utf8', timeout: 30000 });
      assert.equal(r.signal, null, r.stderr);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, '');
    });
  }

  test('import picks the addon; without it, says so and falls back (or reports both failures)', () => {
    const code = `
      const m = await import(${JSON.stringify(new URL('../../js/index.js', import.meta.url).href)});
      let err = null;
      try { (await m.open(${JSON.stringify(fresh())})).close(); } catch (e) { err = e.code; }
      console.log(JSON.stringify({ backend: m.backend, err }));`;
    const ok = spawnSync(process.execPath, ['--input-type=module', '-e', code],
      { env: { ...process.env, SIMDR_BACKEND: '' }, encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    assert.deepEqual(JSON.parse(ok.stdout), { backend: 'native', err: null });
    const no = spawnSync(process.execPath, ['--input-type=module', '-e', code],
      { env: { ...process.env, SIMDR_BACKEND: '', SIMDR_NODE_ADDON: join(dir, 'missing.node') }, encoding: 'utf8' });
    assert.equal(no.status, 0, no.stderr);
    const got = JSON.parse(no.stdout);
    if (got.backend === 'wasm') {
      assert.equal(got.err, null);
      assert.equal(no.stderr.match(/SimdrWarning/g)?.length, 1, 'one warning');
    } else {
      assert.deepEqual(got, { backend: null, err: 'UNSUPPORTED' });
    }
  });
});
