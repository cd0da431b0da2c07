// probe-harness.js - how much of a random point read is the harness rather than the store?
// Times the read loop of bench.js with the old key access (keys[order[j]] over 1M template-
// literal keys: V8 cons strings) and the new one (fresh flat strings in read order), for a
// Map, our addon and lmdb-js getBinaryFast, plus the key loop alone. One process, 1M entries.
//   cd bench/node && node --expose-gc probe-harness.js
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSync } from '../../js/index.js';
import { open } from 'lmdb';

const N = 1_000_000;
const consKeys = Array.from({ length: N }, (_, i) => `bench-key-${i}`);
const values = Array.from({ length: N }, (_, i) => {
  const v = new Uint8Array(8);
  new DataView(v.buffer).setBigUint64(0, BigInt(i), true);
  return v;
});
let seed = 2463534242;
const rand = () => { seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; return (seed >>>= 0); };
const order = Uint32Array.from({ length: N }, () => rand() % N);
const readKeys = JSON.parse(JSON.stringify(Array.from(order, (i) => `bench-key-${i}`)));
const check = (v, i) => { if (v === undefined || v[0] !== (i & 255) || v[1] !== ((i >> 8) & 255)) throw new Error(`bad value for ${i}`); };

const dir = mkdtempSync(join(tmpdir(), 'probe-'));
const db = openSync(join(dir, 'db.simdr'), { durability: 'none' });
const lm = open({ path: join(dir, 'lmdb'), encoding: 'binary', noSync: true, mapSize: 8 << 30 });
const map = new Map();
for (let b = 0; b < N; b += 1024) {
  const ks = consKeys.slice(b, b + 1024);
  const vs = values.slice(b, b + 1024);
  db.putMany(ks.map((k, j) => [k, vs[j]]));
  lm.transactionSync(() => { for (let j = 0; j < ks.length; j++) lm.put(ks[j], vs[j]); });
  for (let j = 0; j < ks.length; j++) map.set(ks[j], vs[j]);
}
// A fresh function per case, so that no call site sees more than one store.
const oldLoop = () => new Function('keys', 'order', 'check', 'get', `
  const t = performance.now();
  for (let j = 0; j < order.length; j++) { const i = order[j]; check(get(keys[i]), i); }
  return order.length / (performance.now() - t) / 1e3;`);
const newLoop = () => new Function('rk', 'order', 'check', 'get', `
  const t = performance.now();
  for (let j = 0; j < order.length; j++) check(get(rk[j]), order[j]);
  return order.length / (performance.now() - t) / 1e3;`);
const gets = { 'Map': (k) => map.get(k), 'simdr get': (k) => db.get(k), 'lmdb getBinaryFast': (k) => lm.getBinaryFast(k) };
for (let rep = 0; rep < 3; rep++) {
  let t = performance.now();
  let acc = 0;
  for (let j = 0; j < N; j++) acc += consKeys[order[j]].length;
  const a = N / (performance.now() - t) / 1e3;
  t = performance.now();
  for (let j = 0; j < N; j++) acc += readKeys[j].length;
  const b = N / (performance.now() - t) / 1e3;
  console.log(`rep ${rep}: key loop alone: keys[order[j]] ${a.toFixed(1)} M/s, read keys in order ${b.toFixed(1)} M/s (${acc})`);
  for (const [name, get] of Object.entries(gets)) {
    const o = oldLoop()(consKeys, order, check, get);
    const n = newLoop()(readKeys, order, check, get);
    console.log(`  ${name.padEnd(20)} old loop ${o.toFixed(2)} M/s, new loop ${n.toFixed(2)} M/s`);
  }
}
db.close();
lm.close();
rmSync(dir, { recursive: true, force: true });
