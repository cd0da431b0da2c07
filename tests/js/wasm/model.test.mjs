// model.test.mjs - seeded random operations through the wasm backend against a Map: puts,
// batches, deletes, gets, getMany, iteration, compaction, image growth and reopen, with the
// views detached or correct after each step (always correct with shared memory).
// SIMDR_TEST_SEED replays a run (the seed prints).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import * as wasm from '../../../js/backends/wasm.js';

await wasm.load();
const shared = wasm.memory() === 'shared';

function rng(seed) {  // xorshift32
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

test('random operations agree with a Map', (t) => {
  const seed = Number(process.env.SIMDR_TEST_SEED ?? (Date.now() & 0x7fffffff));
  t.diagnostic(`seed ${seed} (SIMDR_TEST_SEED to replay); ${wasm.memory()} memory`);
  const r = rng(seed);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simdr-wasm-model-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const p = path.join(dir, 'm.simdr');
  const model = new Map();
  const value = (k, n) => {
    const v = new Uint8Array(n);
    for (let i = 0; i < n; i++) v[i] = (k.length * 31 + i * 7 + n) & 255;
    return v;
  };
  const key = () => (r(4) === 0 ? `ключ${r(300)}` : `k${r(300)}`);
  const size = () => [0, 1, 7, 64, 1000, 70000][r(6)];
  let h = wasm.openHandle(p, { create: true, reserve: 64 * 1024 });
  const held = [];  // [view, expected bytes at the time it was taken]
  for (let step = 0; step < 3000; step++) {
    const op = r(100);
    if (op < 40) {
      const k = key();
      const v = value(k, size());
      h.put(k, v);
      model.set(k, v);
    } else if (op < 50) {
      const n = 1 + r(20);
      const ks = Array.from({ length: n }, key);
      const vs = ks.map((k) => value(k, size()));
      h.putMany(ks, vs);
      ks.forEach((k, i) => model.set(k, vs[i]));
    } else if (op < 60) {
      const k = key();
      assert.equal(h.delete(k), model.delete(k), `step ${step} delete ${k}`);
    } else if (op < 85) {
      const k = key();
      const got = h.get(k);
      const want = model.get(k);
      assert.equal(got === undefined, want === undefined, `step ${step} get ${k}`);
      if (want) {
        assert.deepEqual(got, want, `step ${step} get ${k}`);
        held.push([got, want]);
      }
    } else if (op < 90) {
      const ks = Array.from({ length: 1 + r(30) }, key);
      const got = h.getMany(ks);
      ks.forEach((k, i) => assert.deepEqual(got[i], model.get(k), `step ${step} getMany ${k}`));
    } else if (op < 93) {
      let n = 0;
      const it = h.iterate();
      for (let e = it.next(); e !== undefined; e = it.next(), n++) {
        assert.deepEqual(e[1], model.get(new TextDecoder().decode(e[0])));
      }
      assert.equal(n, model.size);
    } else if (op < 96) {
      h.compact();
    } else {
      h.close();
      h = wasm.openHandle(p, {});
    }
    assert.equal(h.size(), model.size, `step ${step} size`);
    // A view either still shows exactly its value or is detached: never other bytes. With
    // shared memory views are never detached, even across close and reopen.
    for (const [v, want] of held) {
      if (shared || v.length !== 0) assert.deepEqual(v, want, `step ${step}: a live view changed`);
    }
    if (held.length > 50) held.splice(0, 25);
  }
  h.verify();
  h.close();
});
