// persist.test.mjs - persistence through the public browser API: a store written in a worker
// reads back after a page reload and after a browser restart with the same profile (the
// server keeps its fixed port: OPFS is per origin, port included). Also the big cases: values
// of 64 MiB and more, and a million small entries written in batches.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve, launch, profile, inWorker, skip } from './harness.mjs';

const PORT = 47312;
const server = skip ? null : await serve(PORT);
after(() => server?.close());

const write = async (api) => {
  const db = await api.open('p/store.simdr', { durability: 'commit' });
  for (let i = 0; i < 1000; i++) db.put(`k${i}`, `value ${i}`);
  db.putMany([['m1', 'one'], ['m2', 'two']]);
  for (let i = 0; i < 1000; i += 10) db.delete(`k${i}`);
  db.compact();
  db.put('after', 'compaction');
  db.close();
};

const read = async (api) => {
  const db = await api.open('p/store.simdr', { readOnly: true });
  const out = { size: db.size, k1: api.dec.decode(db.get('k1')), k10: db.has('k10'),
    m2: api.dec.decode(db.get('m2')), after: api.dec.decode(db.get('after')) };
  db.verify();
  db.close();
  return out;
};

const expected = { size: 900 + 2 + 1, k1: 'value 1', k10: false, m2: 'two', after: 'compaction' };

test('persists across a page reload and a browser restart', { skip }, async (t) => {
  const dir = profile();
  let s = await launch(dir, PORT);
  await inWorker(s.page, 0, write);
  await s.page.reload();
  assert.deepEqual(await inWorker(s.page, 0, read), expected, 'after a reload');
  await s.context.close();
  s = await launch(dir, PORT);
  try {
    assert.deepEqual(await inWorker(s.page, 0, read), expected, 'after a browser restart');
  } finally {
    await s.context.close();
  }
});

test('values of 64 MiB and more, written, read back and reopened', { skip }, async (t) => {
  const s = await launch(profile(), PORT);
  t.after(() => s.context.close());
  const r = await inWorker(s.page, 0, async (api) => {
    const sizes = [64 << 20, (96 << 20) + 3];
    const fill = (n, seed) => {
      const u = new Uint8Array(n);
      for (let i = 0; i < n; i += 4096) u[i] = (i / 4096 + seed) & 255;
      u[n - 1] = seed;
      return u;
    };
    const check = (v, n, seed) => {
      if (!v || v.length !== n || v[n - 1] !== seed) return false;
      for (let i = 0; i < n; i += 4096) if (v[i] !== ((i / 4096 + seed) & 255)) return false;
      return true;
    };
    let db = await api.open('big/b.simdr');
    sizes.forEach((n, i) => db.put(`big${i}`, fill(n, i + 1)));
    const out = { live: sizes.map((n, i) => check(db.get(`big${i}`), n, i + 1)) };
    db.close();
    db = await api.open('big/b.simdr', { readOnly: true });
    out.reopened = sizes.map((n, i) => check(db.get(`big${i}`), n, i + 1));
    db.verify();
    out.fileSize = db.fileSize;
    db.close();
    return out;
  });
  assert.deepEqual(r.live, [true, true]);
  assert.deepEqual(r.reopened, [true, true]);
  assert.ok(r.fileSize > (160 << 20));
});

test('a million small entries in batches of 10,000', { skip }, async (t) => {
  const s = await launch(profile(), PORT);
  t.after(() => s.context.close());
  const r = await inWorker(s.page, 0, async (api) => {
    const N = 1_000_000;
    const BATCH = 10_000;
    let db = await api.open('many/m.simdr');
    const t0 = performance.now();
    for (let b = 0; b < N; b += BATCH) {
      const pairs = new Array(BATCH);
      for (let i = 0; i < BATCH; i++) pairs[i] = [`key${b + i}`, `v${b + i}`];
      db.putMany(pairs);
    }
    const wrote = performance.now() - t0;
    const out = { size: db.size, wrote: Math.round(wrote) };
    db.close();
    const t1 = performance.now();
    db = await api.open('many/m.simdr', { readOnly: true });
    out.reopen = Math.round(performance.now() - t1);
    out.reopenedSize = db.size;
    const sample = [0, 1, 4242, 500000, 999999];
    out.sample = db.getMany(sample.map((i) => `key${i}`)).map((v) => api.dec.decode(v));
    out.missing = db.get('key1000000') === undefined;
    db.close();
    return out;
  });
  console.log(`# 1M entries: putMany ${r.wrote} ms, reopen ${r.reopen} ms`);
  assert.equal(r.size, 1_000_000);
  assert.equal(r.reopenedSize, 1_000_000);
  assert.deepEqual(r.sample, ['v0', 'v1', 'v4242', 'v500000', 'v999999']);
  assert.ok(r.missing);
});
