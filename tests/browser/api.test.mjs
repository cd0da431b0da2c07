// api.test.mjs - the public browser API (js/browser.js) in headless Chromium: CRUD, putMany
// atomicity, torn-tail recovery, view lifetimes, LOCKED across workers, open() on the main
// thread, openAsync from the main thread. One fresh persistent profile per test; the server
// keeps a fixed port (harness.mjs).
//
//   (cd tests/browser && npm ci) && node --test tests/browser/
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve, launch, profile, inWorker, onPage, skip } from './harness.mjs';

const PORT = 47311;
const server = skip ? null : await serve(PORT);
after(() => server?.close());

async function session(t) {
  const s = await launch(profile(), PORT);
  t.after(() => s.context.close());
  return s;
}

test('CRUD through open() in a worker', { skip }, async (t) => {
  const { page } = await session(t);
  const r = await inWorker(page, 0, async (api) => {
    const db = await api.open('crud/a.simdr');
    const out = { backend: db.backend, empty: db.size };
    db.put('k1', 'v1');
    db.put(api.enc.encode('bin\u0000key'), new Uint8Array([0, 255, 1]));
    db.put('ключ', 'utf8');
    db.put('f', new Float32Array([1.5, -2]));
    out.k1 = api.dec.decode(db.get('k1'));
    out.bin = Array.from(db.get(api.enc.encode('bin\u0000key')));
    out.utf8 = api.dec.decode(db.get('ключ'));
    out.f = Array.from(db.get('f', Float32Array));
    out.copy = db.getCopy('k1').buffer.byteLength;
    out.many = db.getMany(['k1', 'nope']).map((v) => v && api.dec.decode(v));
    out.has = [db.has('k1'), db.has('nope')];
    out.del = [db.delete('k1'), db.delete('k1')];
    out.missing = db.get('k1') === undefined;
    out.keys = [...db.keys()].map((k) => api.dec.decode(k)).sort();
    out.size = db.size;
    db.verify();
    db.flush();
    try { db.put(42, 'x'); } catch (e) { out.typeError = e.name; }
    try { db.put('', 'x'); } catch (e) { out.rangeError = e.name; }
    db.close();
    try { db.get('f'); } catch (e) { out.closed = e.code; }
    const again = await api.open('crud/a.simdr', { readOnly: true });
    out.reopened = [again.size, api.dec.decode(again.get('ключ'))];
    try { again.put('x', 'y'); } catch (e) { out.readOnly = e.code; }
    again.close();
    try { await api.open('crud/missing.simdr', { create: false }); } catch (e) { out.notFound = e.code; }
    try { api.openSync('crud/a.simdr'); } catch (e) { out.openSync = e.code; }
    return out;
  });
  assert.deepEqual(r, {
    backend: 'wasm', empty: 0, k1: 'v1', bin: [0, 255, 1], utf8: 'utf8', f: [1.5, -2], copy: 2,
    many: ['v1', undefined], has: [true, false], del: [true, false], missing: true,
    keys: ['bin\u0000key', 'f', 'ключ'], size: 3, typeError: 'TypeError', rangeError: 'RangeError',
    closed: 'CLOSED', reopened: [3, 'utf8'], readOnly: 'READ_ONLY', notFound: 'FILE_NOT_FOUND',
    openSync: 'UNSUPPORTED',
  });
});

test('putMany is atomic: a bad entry writes nothing; a torn putMany commit vanishes whole', { skip }, async (t) => {
  const { page } = await session(t);
  const r = await inWorker(page, 0, async (api) => {
    const path = 'atomic/a.simdr';
    let db = await api.open(path);
    db.put('before', 'yes');
    const out = {};
    try { db.putMany([['a', '1'], [42, 'x']]); } catch (e) { out.bad = e.name; }
    out.aAfterBad = db.has('a');
    const before = db.fileSize;
    db.putMany(Array.from({ length: 100 }, (_, i) => [`m${i}`, `value ${i}`.repeat(20)]));
    const after = db.fileSize;
    db.close();
    // Cut the putMany commit in the middle, as a crash during its write would.
    await api.opfs.truncate(path, Math.floor((before + after) / 2));
    db = await api.open(path);
    out.recovered = { before: db.get('before') && api.dec.decode(db.get('before')),
      anyOfBatch: ['m0', 'm50', 'm99'].some((k) => db.has(k)), size: db.size,
      fileSize: db.fileSize === before };
    db.verify();
    db.putMany([['m0', 'again']]);
    out.writable = api.dec.decode(db.get('m0'));
    db.close();
    return out;
  });
  assert.deepEqual(r, { bad: 'TypeError', aAfterBad: false,
    recovered: { before: 'yes', anyOfBatch: false, size: 1, fileSize: true }, writable: 'again' });
});

test('torn tail: truncating the OPFS file inside the last commit loses that commit only', { skip }, async (t) => {
  const { page } = await session(t);
  const r = await inWorker(page, 0, async (api) => {
    const path = 'torn/t.simdr';
    let db = await api.open(path, { durability: 'commit' });
    for (let i = 0; i < 50; i++) db.put(`k${i}`, `v${i}`);
    const good = db.fileSize;
    db.put('last', new Uint8Array(5000).fill(7));
    const full = db.fileSize;
    db.close();
    const out = [];
    for (const cut of [full - 1, good + 10, good + 1]) {
      await api.opfs.truncate(path, cut);
      db = await api.open(path);
      out.push({ size: db.size, last: db.has('last'), k49: api.dec.decode(db.get('k49')),
        fileSize: db.fileSize, onDisk: await (async () => { db.close(); return api.opfs.size(path); })() });
      db = await api.open(path);
      db.verify();
      db.put('last', new Uint8Array(5000).fill(7));
      db.close();
    }
    return { good, out };
  });
  for (const o of r.out) {
    assert.deepEqual(o, { size: 50, last: false, k49: 'v49', fileSize: r.good, onDisk: r.good });
  }
});

test('views: detached on close, compaction and memory growth; never other bytes', { skip }, async (t) => {
  const { page } = await session(t);
  const r = await inWorker(page, 0, async (api) => {
    const M = () => api.wasm.moduleForTesting();
    const db = await api.open('views/v.simdr');
    for (let i = 0; i < 200; i++) db.put(`k${i}`, `value number ${i}`);
    db.put('f', new Float64Array([1, 2, 3]));
    const out = {};
    // Compaction moves the image: views detach.
    let v = db.get('k1');
    let f = db.get('f', Float64Array);
    for (let i = 0; i < 200; i += 2) db.delete(`k${i}`);
    db.compact();
    out.compact = [v.length, f.length];
    // Memory growth: a value bigger than the reserve grows wasm memory.
    v = db.get('k3');
    const mem = M().HEAPU8.buffer.byteLength;
    db.put('big', new Uint8Array(48 << 20).fill(1));
    out.grew = M().HEAPU8.buffer.byteLength > mem;
    out.growth = v.length;
    // Whatever happens, an outstanding view is its bytes or empty: never other bytes.
    const held = [];
    for (let i = 1; i < 200; i += 2) held.push([db.get(`k${i}`), `value number ${i}`]);
    for (let round = 0; round < 5; round++) {
      db.putMany(Array.from({ length: 500 }, (_, i) => [`r${round}-${i}`, new Uint8Array(4096).fill(i)]));
      if (round === 2) db.compact();
    }
    out.wrong = held.filter(([view, want]) => view.length !== 0 && api.dec.decode(view) !== want).length;
    out.detached = held.filter(([view]) => view.length === 0).length;
    // Close detaches what is left.
    v = db.get('k5');
    db.close();
    out.close = v.length;
    return out;
  });
  assert.deepEqual(r, { compact: [0, 0], grew: true, growth: 0, wrong: 0, detached: 100, close: 0 });
});

test('LOCKED: a second worker, openAsync from the page, another tab, while a worker holds the file', { skip }, async (t) => {
  const { page, context } = await session(t);
  await inWorker(page, 0, async (api) => {
    api.state.db = await api.open('lock/l.simdr');
    api.state.db.put('k', 'v');
  });
  const second = await inWorker(page, 1, async (api) => {
    const out = {};
    try { await api.open('lock/l.simdr'); } catch (e) { out.writer = e.code; }
    try { await api.open('lock/l.simdr', { readOnly: true }); } catch (e) { out.reader = e.code; }
    return out;
  });
  assert.deepEqual(second, { writer: 'LOCKED', reader: 'LOCKED' });
  const sameWorker = await inWorker(page, 0, async (api) => {
    try { await api.open('lock/l.simdr'); return 'opened'; } catch (e) { return e.code; }
  });
  assert.equal(sameWorker, 'LOCKED');
  const held = await inWorker(page, 0, async (api) => api.dec.decode(api.state.db.get('k')));
  assert.equal(held, 'v', 'a refused second open leaves the holder working');
  const fromPage = await onPage(page, async (api) => {
    try { await api.openAsync('lock/l.simdr'); return 'opened'; } catch (e) { return e.code; }
  });
  assert.equal(fromPage, 'LOCKED');
  // Another tab of the same origin.
  const tab = await context.newPage();
  await tab.goto(page.url());
  const fromTab = await inWorker(tab, 0, async (api) => {
    try { await api.open('lock/l.simdr'); return 'opened'; } catch (e) { return e.code; }
  });
  assert.equal(fromTab, 'LOCKED', 'a worker of another tab');
  await tab.close();
  await inWorker(page, 0, async (api) => api.state.db.close());
  const after = await inWorker(page, 1, async (api) => {
    const db = await api.open('lock/l.simdr');
    const v = api.dec.decode(db.get('k'));
    db.close();
    return v;
  });
  assert.equal(after, 'v', 'the lock went with close()');
});

test('main thread: open() rejects OPFS_UNAVAILABLE; openAsync runs the store in a worker', { skip }, async (t) => {
  const { page, errors } = await session(t);
  const r = await onPage(page, async (api) => {
    const out = {};
    try { await api.open('page/a.simdr'); } catch (e) { out.open = [e.name, e.code, /openAsync/.test(e.message)]; }
    const db = await api.openAsync('page/a.simdr', { durability: 'commit' });
    out.info = [db.backend, db.path, db.readOnly, db.zeroCopy];
    await db.put('k1', 'v1');
    await db.put('f', new Float32Array([0.5, 4]));
    await db.putMany([['a', 'A'], ['b', new Uint8Array([1, 2, 3])]]);
    const dec = new TextDecoder();
    out.get = dec.decode(await db.get('k1'));
    out.f = Array.from(await db.get('f', Float32Array));
    out.copy = (await db.getCopy('b')).length;
    out.many = (await db.getMany(['a', 'zz'])).map((v) => v && dec.decode(v));
    out.has = [await db.has('a'), await db.has('zz')];
    out.del = await db.delete('a');
    out.size = await db.size;
    out.fileSize = (await db.fileSize) > 64;
    const keys = [];
    for await (const k of db.keys()) keys.push(dec.decode(k));
    out.keys = keys.sort();
    for (let i = 0; i < 3000; i++) await db.put(`n${i}`, `${i}`);
    let n = 0;
    for await (const [k, v] of db) if (dec.decode(k) === `n${dec.decode(v)}`) n++;
    out.iterated = n;
    await db.compact();
    await db.verify();
    await db.flush();
    try { await db.put(42, 'x'); } catch (e) { out.typeError = e instanceof TypeError; }
    try { await db.get('k1', Array); } catch (e) { out.badType = e instanceof TypeError; }
    try { await db.get('b', Float32Array); } catch (e) { out.range = e instanceof RangeError; }
    await db.close();
    try { await db.get('k1'); } catch (e) { out.closed = [e instanceof api.SimdrError, e.code]; }
    const ro = await api.openAsync('page/a.simdr', { readOnly: true });
    out.reopened = [await ro.size, dec.decode(await ro.get('n2999'))];
    try { await ro.put('x', 'y'); } catch (e) { out.readOnly = e.code; }
    await ro.close();
    try { await api.openAsync('page/none.simdr', { create: false }); } catch (e) { out.notFound = e.code; }
    try { await api.openAsync(''); } catch (e) { out.emptyName = e.name; }
    return out;
  });
  assert.deepEqual(r, {
    open: ['SimdrError', 'OPFS_UNAVAILABLE', true], info: ['wasm', 'page/a.simdr', false, false],
    get: 'v1', f: [0.5, 4], copy: 3, many: ['A', undefined], has: [true, false], del: true,
    size: 3, fileSize: true, keys: ['b', 'f', 'k1'], iterated: 3000, typeError: true,
    badType: true, range: true, closed: [true, 'CLOSED'], reopened: [3003, '2999'],
    readOnly: 'READ_ONLY', notFound: 'FILE_NOT_FOUND', emptyName: 'RangeError',
  });
  assert.deepEqual(errors, []);
});
