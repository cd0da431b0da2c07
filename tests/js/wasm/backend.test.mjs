// backend.test.mjs - the wasm backend (js/backends/wasm.js) under Node, at the backend level
// of js/BACKEND.md: node:fs storage, views, errors, crash atomicity, golden files, and the
// native tools' verdict on files written through wasm.
//
//   SIMDR_WASM_DIR=build/wasm/wasm node --test tests/js/wasm/
// Needs the module (cmake --build --preset wasm --target simdr_wasm). The native check uses
// $SIMDR_INSPECT (default build/dev/tools/simdr-inspect) and is skipped, saying so, without it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import * as wasm from '../../../js/backends/wasm.js';
import { NodeFiles } from '../../../js/backends/wasm_files.js';
import { SimdrError } from '../../../js/errors.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

// node:fs with a count of the host calls, to check how commits reach the file.
class CountingFiles extends NodeFiles {
  calls = { write: 0, flush: 0, truncate: 0 };
  write(fd, view, at) { this.calls.write++; return super.write(fd, view, at); }
  flush(fd) { this.calls.flush++; return super.flush(fd); }
  truncate(fd, size) { this.calls.truncate++; return super.truncate(fd, size); }
}
const files = new CountingFiles(fs);
await wasm.load({ files });

const bytes = (s) => new TextEncoder().encode(s);
const text = (v) => new TextDecoder().decode(v);

function tmpdir(t) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'simdr-wasm-'));
  t.after(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

function throwsCode(fn, code) {
  assert.throws(fn, (e) => e instanceof SimdrError && e.code === code,
    `expected SimdrError ${code}`);
}

test('CRUD through the handle', (t) => {
  const p = path.join(tmpdir(t), 'a.simdr');
  const h = wasm.openHandle(p, { create: true, readOnly: false, durability: 0, alignment: 64 });
  assert.equal(h.size(), 0);
  assert.equal(h.fileSize(), 64);
  h.put('k1', bytes('v1'));
  h.put(bytes('binary\u0000key'), new Uint8Array([0, 255, 1]));
  h.put('ключ-ü', bytes('utf8 key'));
  h.put('empty', new Uint8Array(0));
  assert.equal(text(h.get('k1')), 'v1');
  assert.deepEqual([...h.get(bytes('binary\u0000key'))], [0, 255, 1]);
  assert.equal(text(h.get('ключ-ü')), 'utf8 key');
  assert.equal(text(h.get(bytes('ключ-ü'))), 'utf8 key', 'string and UTF-8 bytes are one key');
  assert.equal(h.get('empty').length, 0);
  assert.equal(h.get('missing'), undefined);
  assert.equal(h.has('k1'), true);
  assert.equal(h.has('missing'), false);
  assert.equal(h.size(), 4);
  h.put('k1', bytes('v1b'));
  assert.equal(text(h.get('k1')), 'v1b');
  assert.equal(h.delete('k1'), true);
  assert.equal(h.delete('k1'), false);
  assert.equal(h.get('k1'), undefined);
  assert.equal(h.size(), 3);
  const got = h.getMany(['empty', 'nope', 'ключ-ü']);
  assert.equal(got.length, 3);
  assert.equal(got[0].length, 0);
  assert.equal(got[1], undefined);
  assert.equal(text(got[2]), 'utf8 key');
  const seen = new Map();
  const it = h.iterate();
  for (let e = it.next(); e !== undefined; e = it.next()) seen.set(text(e[0]), e[1].length);
  assert.equal(seen.size, 3);
  assert.equal(seen.get('empty'), 0);
  h.verify();
  h.flush();
  assert.equal(h.fileSize(), fs.statSync(p).size);
  h.close();
  h.close();  // idempotent
  throwsCode(() => h.get('empty'), 'CLOSED');
});

test('one host write per commit; one flush per commit only with durability commit', (t) => {
  const dir = tmpdir(t);
  const measure = (h, fn) => {
    const before = { ...files.calls };
    fn(h);
    return { write: files.calls.write - before.write, flush: files.calls.flush - before.flush };
  };
  const big = new Uint8Array(200000).fill(5);
  const keys = Array.from({ length: 100 }, (_, i) => `b${i}`);
  const values = keys.map(() => new Uint8Array(3000).fill(1));
  for (const durability of [0, 1]) {
    const h = wasm.openHandle(path.join(dir, `d${durability}.simdr`), { create: true, durability });
    assert.deepEqual(measure(h, (x) => x.put('k', bytes('v'))), { write: 1, flush: durability });
    assert.deepEqual(measure(h, (x) => x.put('big', big)), { write: 1, flush: durability });
    assert.deepEqual(measure(h, (x) => x.putMany(keys, values)), { write: 1, flush: durability });
    assert.deepEqual(measure(h, (x) => x.delete('k')), { write: 1, flush: durability });
    assert.deepEqual(measure(h, (x) => x.get('big')), { write: 0, flush: 0 });
    assert.deepEqual(measure(h, (x) => x.flush()), { write: 0, flush: 1 });
    h.close();
  }
});

test('values written survive reopen, compaction and reopen again', (t) => {
  const p = path.join(tmpdir(t), 'p.simdr');
  let h = wasm.openHandle(p, { create: true, durability: 1 });
  for (let i = 0; i < 500; i++) h.put(`key${i}`, bytes(`value${i}`.repeat(i % 7 + 1)));
  for (let i = 0; i < 500; i += 3) h.delete(`key${i}`);
  h.close();
  h = wasm.openHandle(p, {});
  assert.equal(h.size(), 500 - 167);
  assert.equal(text(h.get('key10')), 'value10'.repeat(4));
  const before = h.fileSize();
  h.compact();
  assert.ok(h.fileSize() < before);
  assert.equal(fs.statSync(p).size, h.fileSize());
  assert.equal(fs.existsSync(`${p}.compact`), false, 'the sidecar is removed');
  h.put('after', bytes('compaction'));
  h.close();
  h = wasm.openHandle(p, { readOnly: true });
  assert.equal(h.size(), 500 - 167 + 1);
  assert.equal(text(h.get('key11')), 'value11'.repeat(5));
  assert.equal(text(h.get('after')), 'compaction');
  h.verify();
  h.close();
});

test('putMany is one crash-atomic commit: every cut of it reopens without it', (t) => {
  const dir = tmpdir(t);
  const p = path.join(dir, 'b.simdr');
  const h = wasm.openHandle(p, { create: true, durability: 1 });
  h.put('base', bytes('kept'));
  const s0 = h.fileSize();
  const keys = Array.from({ length: 50 }, (_, i) => `batch${i}`);
  h.putMany(keys, keys.map((k) => bytes(k.repeat(20))));
  const s1 = h.fileSize();
  h.close();
  const full = fs.readFileSync(p);
  assert.equal(full.length, s1);
  const cuts = [s0 + 1, s0 + 32, Math.floor((s0 + s1) / 2), s1 - 8, s1 - 1];
  for (const cut of cuts) {
    const q = path.join(dir, `cut${cut}.simdr`);
    fs.writeFileSync(q, full.subarray(0, cut));
    const r = wasm.openHandle(q, {});
    assert.equal(r.size(), 1, `cut at ${cut}`);
    assert.equal(text(r.get('base')), 'kept');
    assert.equal(r.get('batch0'), undefined);
    assert.equal(r.get('batch49'), undefined);
    r.close();
    assert.equal(fs.statSync(q).size, s0, 'recovery truncated the torn commit in the file');
  }
  const r = wasm.openHandle(p, { readOnly: true });
  assert.equal(r.size(), 51);
  assert.equal(text(r.get('batch49')), 'batch49'.repeat(20));
  r.close();
});

const shared = wasm.memory() === 'shared';
const privateOnly = shared ? 'the private-memory build only (SIMDR_WASM_MEMORY=private)' : false;
const sharedOnly = shared ? false : 'the shared-memory build only (SIMDR_WASM_MEMORY=shared)';
console.log(`# wasm build: ${wasm.memory()} memory`);

test('views are detached on close, on compaction and on growth, never showing other bytes',
  { skip: privateOnly }, (t) => {
    const p = path.join(tmpdir(t), 'v.simdr');
    const h = wasm.openHandle(p, { create: true, reserve: 64 * 1024 });
    h.put('a', bytes('alpha'));
    h.put('b', bytes('beta'));
    // compaction frees the old image
    const v1 = h.get('a');
    assert.equal(text(v1), 'alpha');
    h.compact();
    assert.equal(v1.length, 0, 'detached by compaction');
    assert.equal(text(h.get('a')), 'alpha');
    // the image outgrows its buffer (64 KiB reserved): it moves and the old one is freed
    const v2 = h.get('b');
    h.put('big', new Uint8Array(1 << 20).fill(7));
    assert.equal(v2.length, 0, 'detached when the image moved');
    assert.equal(h.get('big').length, 1 << 20);
    // wasm memory itself grows (a large value through the scratch buffer and the image)
    const v3 = h.get('b');
    const M = wasm.moduleForTesting(h);
    assert.equal(M, wasm.moduleForTesting(), 'one instance serves every store');
    const before = M.HEAPU8.buffer.byteLength;
    h.put('huge', new Uint8Array(before).fill(1));
    assert.ok(M.HEAPU8.buffer.byteLength > before, 'memory grew');
    assert.equal(v3.length, 0, 'detached by memory growth');
    // a put that neither moves nor grows anything leaves views alone
    const v4 = h.get('b');
    h.put('small', bytes('x'));
    assert.equal(text(v4), 'beta');
    // close frees the image
    h.close();
    assert.equal(v4.length, 0, 'detached by close');
  });

test('a view passed back as a value is copied before memory can move', (t) => {
  const p = path.join(tmpdir(t), 'c.simdr');
  const h = wasm.openHandle(p, { create: true, reserve: 64 * 1024 });
  h.put('src', new Uint8Array(40000).fill(3));
  h.put('dst', h.get('src'));       // may grow the scratch buffer and the image
  h.put('dst2', h.get('src'));
  assert.equal(h.get('dst').length, 40000);
  assert.ok(h.get('dst2').every((b) => b === 3));
  h.close();
});

test('shared memory: views survive compaction, moves, growth and close, showing their own bytes',
  { skip: sharedOnly }, (t) => {
    const dir = tmpdir(t);
    const h = wasm.openHandle(path.join(dir, 'v.simdr'), { create: true, reserve: 64 * 1024 });
    const M = wasm.moduleForTesting(h);
    assert.ok(M.HEAPU8.buffer instanceof SharedArrayBuffer);
    h.put('a', bytes('alpha'));
    h.put('b', bytes('beta'));
    const held = [[h.get('a'), 'alpha'], [h.get('b'), 'beta']];
    h.put('a', bytes('ALPHA'));                          // a newer value: the old view is a snapshot
    h.compact();                                          // the old image is kept, not freed
    held.push([h.get('a'), 'ALPHA']);
    h.put('big', new Uint8Array(1 << 20).fill(7));       // the image outgrows its 64 KiB buffer
    const before = M.HEAPU8.buffer.byteLength;
    h.put('huge', new Uint8Array(before).fill(1));       // wasm memory grows
    assert.ok(M.HEAPU8.buffer.byteLength > before, 'memory grew');
    held.push([h.get('b'), 'beta']);
    // A second store has an instance (and memory) of its own.
    const h2 = wasm.openHandle(path.join(dir, 'w.simdr'), { create: true });
    assert.notEqual(wasm.moduleForTesting(h2), M);
    h.close();
    // After close nothing allocates in that memory again: a busy second store cannot reuse it.
    for (let i = 0; i < 2000; i++) h2.put(`k${i}`, new Uint8Array(1024).fill(i & 255));
    h2.compact();
    h2.close();
    for (const [view, want] of held) assert.equal(text(view), want);
    for (const call of [() => h.get('a'), () => h.size(), () => h.fileSize(), () => h.iterate(),
      () => h.compact(), () => h.refresh()]) throwsCode(call, 'CLOSED');
  });

test('shared memory: a closed store\'s memory is freed by GC once its last view is gone',
  { skip: sharedOnly }, async (t) => {
    const v8 = await import('node:v8');
    const vm = await import('node:vm');
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc');
    const collect = async () => {
      for (let i = 0; i < 10; i++) {
        gc();
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    let freed = false;
    const registry = new FinalizationRegistry(() => { freed = true; });
    let view;
    (() => {
      const h = wasm.openHandle(path.join(tmpdir(t), 'g.simdr'), { create: true });
      h.put('k', bytes('kept'));
      view = h.get('k');
      registry.register(view.buffer, 'memory');
      h.close();
    })();
    await collect();
    assert.equal(freed, false, 'a live view keeps the memory');
    assert.equal(text(view), 'kept');
    view = null;
    await collect();
    assert.equal(freed, true, 'the memory was collected: nothing else held the instance');
  });

test('shared memory: an iteration spans a compaction; close ends it with CLOSED',
  { skip: sharedOnly }, (t) => {
    const h = wasm.openHandle(path.join(tmpdir(t), 'i.simdr'), { create: true });
    for (let i = 0; i < 10; i++) h.put(`k${i}`, bytes(`v${i}`));
    const it = h.iterate();
    const first = it.next();
    h.compact();
    let n = 1;
    while (it.next()) n++;
    assert.equal(n, 10);
    assert.equal(text(first[1]), text(h.get(text(first[0]))));
    const it2 = h.iterate();
    assert.ok(it2.next());
    h.close();
    throwsCode(() => it2.next(), 'CLOSED');
  });

test('an iteration spanning a compaction ends with BUSY; close ends it with CLOSED',
  { skip: privateOnly }, (t) => {
  const p = path.join(tmpdir(t), 'i.simdr');
  const h = wasm.openHandle(p, { create: true });
  for (let i = 0; i < 10; i++) h.put(`k${i}`, bytes(`v${i}`));
  const it = h.iterate();
  assert.ok(it.next());
  h.compact();
  throwsCode(() => it.next(), 'BUSY');
  assert.equal(it.next(), undefined, 'an ended iterator stays ended');
  const it2 = h.iterate();
  assert.ok(it2.next());
  h.close();
  throwsCode(() => it2.next(), 'CLOSED');
});

test('errors are SimdrErrors with the core codes', (t) => {
  const dir = tmpdir(t);
  throwsCode(() => wasm.openHandle(path.join(dir, 'missing.simdr'), {}), 'FILE_NOT_FOUND');
  throwsCode(() => wasm.openHandle(dir, { create: true }), 'NOT_A_FILE');
  const junk = path.join(dir, 'junk.simdr');
  fs.writeFileSync(junk, 'definitely not a store, just some text of sufficient length here...');
  throwsCode(() => wasm.openHandle(junk, {}), 'BAD_MAGIC');
  throwsCode(() => wasm.openHandle(path.join(dir, 'x.simdr'), { create: true, alignment: 3 }),
    'INVALID_ARGUMENT');
  const p = path.join(dir, 'ro.simdr');
  wasm.openHandle(p, { create: true }).close();
  const ro = wasm.openHandle(p, { readOnly: true });
  throwsCode(() => ro.put('k', bytes('v')), 'READ_ONLY');
  ro.close();
});

test('one writer per file in an instance: LOCKED; readers coexist and refresh', (t) => {
  const p = path.join(tmpdir(t), 'l.simdr');
  const w = wasm.openHandle(p, { create: true });
  w.put('k', bytes('v1'));
  throwsCode(() => wasm.openHandle(p, {}), 'LOCKED');
  const r = wasm.openHandle(p, { readOnly: true });
  assert.equal(text(r.get('k')), 'v1');
  w.put('k2', bytes('v2'));
  assert.equal(r.get('k2'), undefined);
  assert.equal(r.refresh(), true);
  assert.equal(text(r.get('k2')), 'v2');
  assert.equal(r.refresh(), false);
  w.close();
  const w2 = wasm.openHandle(p, {});
  assert.equal(w2.size(), 2);
  w2.close();
  r.close();
});

test('compaction sidecar: a complete one is rolled forward, a headerless one ignored', (t) => {
  const dir = tmpdir(t);
  const p = path.join(dir, 's.simdr');
  let h = wasm.openHandle(p, { create: true });
  for (let i = 0; i < 20; i++) h.put(`k${i}`, bytes(`old${i}`));
  h.put('k0', bytes('newest'));
  h.compact();
  h.close();
  const compacted = fs.readFileSync(p);
  // A crash in step 2 (file half overwritten) with the complete sidecar in place.
  fs.writeFileSync(`${p}.compact`, compacted);
  const damaged = Buffer.from(compacted);
  damaged.fill(0xee, 200, 400);
  fs.writeFileSync(p, Buffer.concat([damaged, Buffer.alloc(5000, 0xab)]));
  h = wasm.openHandle(p, {});
  assert.equal(text(h.get('k0')), 'newest');
  assert.equal(h.size(), 20);
  h.verify();
  h.close();
  assert.deepEqual(fs.readFileSync(p), compacted, 'the file is the compacted image again');
  assert.equal(fs.existsSync(`${p}.compact`), false);
  // A crash in step 1: the sidecar has no header yet. The file is intact and wins.
  const side = Buffer.from(compacted);
  side.fill(0, 0, 64);
  fs.writeFileSync(`${p}.compact`, side);
  h = wasm.openHandle(p, {});
  assert.equal(h.size(), 20);
  h.close();
  assert.equal(fs.existsSync(`${p}.compact`), false, 'the headerless sidecar is discarded');
  // A read-only open reads a complete sidecar without touching anything.
  fs.writeFileSync(`${p}.compact`, compacted);
  fs.writeFileSync(p, damaged);
  h = wasm.openHandle(p, { readOnly: true });
  assert.equal(text(h.get('k0')), 'newest');
  h.close();
  assert.deepEqual(fs.readFileSync(p), damaged, 'read-only never writes');
});

test('a torn tail is truncated in the file on a read-write open', (t) => {
  const p = path.join(tmpdir(t), 't.simdr');
  const h = wasm.openHandle(p, { create: true });
  h.put('k', bytes('v'));
  const size = h.fileSize();
  h.close();
  fs.appendFileSync(p, Buffer.alloc(777, 0x5a));
  const r = wasm.openHandle(p, { readOnly: true });
  assert.equal(r.size(), 1);
  r.close();
  assert.equal(fs.statSync(p).size, size + 777, 'read-only leaves the tail');
  const w = wasm.openHandle(p, {});
  w.close();
  assert.equal(fs.statSync(p).size, size);
});

// ---- golden files and the native tools ---------------------------------------------------

const goldenDir = path.join(root, 'tests/golden');

function dumpLiveValues(txt) {
  // Last record per printable key from simdr-inspect's dump: value hex (prefix) or tombstone.
  const live = new Map();
  for (const line of txt.split('\n')) {
    const m = /kind=(put|tombstone) .*?key="([ -!#-\[\]-~]*)" key_len=\d+(?: value_len=(\d+))?.*?(?: value=([0-9a-f.]*))?$/.exec(line);
    if (!m) continue;
    if (m[1] === 'tombstone') live.delete(m[2]);
    else live.set(m[2], { len: Number(m[3]), hex: m[4] ?? '' });
  }
  return live;
}

for (const name of fs.readdirSync(path.join(goldenDir, 'good')).filter((n) => n.endsWith('.simdr'))) {
  test(`golden good/${name}: opens byte-identically and reads what the dump shows`, (t) => {
    const orig = fs.readFileSync(path.join(goldenDir, 'good', name));
    const p = path.join(tmpdir(t), name);
    fs.writeFileSync(p, orig);
    const w = wasm.openHandle(p, {});
    w.close();
    assert.deepEqual(fs.readFileSync(p), orig, 'a read-write open changes nothing');
    const h = wasm.openHandle(p, { readOnly: true });
    h.verify();
    const live = dumpLiveValues(fs.readFileSync(path.join(goldenDir, 'good',
      name.replace(/\.simdr$/, '.txt')), 'utf8'));
    let n = 0;
    let compared = 0;
    const it = h.iterate();
    for (let e = it.next(); e !== undefined; e = it.next(), n++) {
      const key = text(e[0]);
      const want = live.get(key);
      if (want === undefined) continue;  // a key the dump escapes
      assert.equal(e[1].length, want.len, `${name}: ${key}`);
      const hex = Buffer.from(e[1].subarray(0, 32)).toString('hex');
      assert.equal(hex, want.hex.replace(/\.\.\.$/, ''), `${name}: ${key}`);
      compared++;
    }
    assert.equal(n, h.size());
    assert.ok(live.size === 0 || compared > 0, `${name}: nothing compared with the dump`);
    h.close();
  });
}

for (const name of fs.readdirSync(path.join(goldenDir, 'bad')).filter((n) => n.endsWith('.simdr'))) {
  test(`golden bad/${name}: fails with the error its name states, unchanged`, (t) => {
    const code = /^(bad_magic|corrupt|unsupported_version)_/.exec(name)[1].toUpperCase();
    const orig = fs.readFileSync(path.join(goldenDir, 'bad', name));
    const p = path.join(tmpdir(t), name);
    fs.writeFileSync(p, orig);
    throwsCode(() => wasm.openHandle(p, {}), code);
    throwsCode(() => wasm.openHandle(p, { readOnly: true }), code);
    assert.deepEqual(fs.readFileSync(p), orig);
  });
}

const inspect = process.env.SIMDR_INSPECT ?? path.join(root, 'build/dev/tools/simdr-inspect');

test('a file written through wasm passes the native simdr-inspect verify', (t) => {
  if (!fs.existsSync(inspect)) {
    if (process.env.SIMDR_INSPECT) assert.fail(`SIMDR_INSPECT=${inspect} does not exist`);
    t.skip(`no native ${inspect} (cmake --build --preset dev --target simdr_inspect)`);
    return;
  }
  const p = path.join(tmpdir(t), 'n.simdr');
  const h = wasm.openHandle(p, { create: true, alignment: 4096, durability: 1 });
  for (let i = 0; i < 300; i++) h.put(`k${i}`, new Uint8Array(i * 37).fill(i & 255));
  h.putMany(['m1', 'm2'], [bytes('one'), bytes('two')]);
  for (let i = 0; i < 300; i += 5) h.delete(`k${i}`);
  h.close();
  execFileSync(inspect, ['verify', p], { stdio: 'pipe' });
  const h2 = wasm.openHandle(p, {});
  h2.compact();
  h2.close();
  execFileSync(inspect, ['verify', p], { stdio: 'pipe' });
  const stat = execFileSync(inspect, ['stat', p], { encoding: 'utf8' });
  assert.match(stat, /^live_keys: 242$/m);
  assert.match(stat, /^tombstones: 0$/m, 'compacted');
});

test('node:fs lock files: held, stale (dead or reused pid) taken over, other host respected', (t) => {
  const dir = tmpdir(t);
  const p = path.join(dir, 'l.simdr');
  const host = { resolve: path.resolve, hostname: os.hostname() };
  const a = new NodeFiles(fs, host);
  const b = new NodeFiles(fs, host);
  const stat = fs.readFileSync(`/proc/${process.pid}/stat`, 'utf8');
  const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  const mine = `${process.pid} ${os.hostname()} ${start}\n`;
  assert.equal(a.lock(p), 0);
  assert.equal(fs.readFileSync(`${p}.lock`, 'utf8'), mine);
  assert.equal(b.lock(p), -22, 'held by a live process (this one)');
  assert.equal(b.lockHolder, mine.trim());
  a.unlock(p);
  assert.equal(fs.existsSync(`${p}.lock`), false, 'unlock removes the lock file');

  // A pid that no longer runs: a child that has exited.
  const dead = JSON.parse(execFileSync(process.execPath, ['-e', 'console.log(process.pid)']));
  fs.writeFileSync(`${p}.lock`, `${dead} ${os.hostname()} 12345\n`);
  assert.equal(b.lock(p), 0, 'a stale lock (dead pid) is taken over');
  assert.equal(fs.readFileSync(`${p}.lock`, 'utf8'), mine);
  b.unlock(p);
  // A live pid started at another time: the pid was reused after the holder died.
  fs.writeFileSync(`${p}.lock`, `${process.pid} ${os.hostname()} 1\n`);
  assert.equal(b.lock(p), 0, 'a stale lock (reused pid) is taken over');
  b.unlock(p);
  // Without a start time (an older lock), a live pid holds.
  fs.writeFileSync(`${p}.lock`, `${process.pid} ${os.hostname()}\n`);
  assert.equal(b.lock(p), -22);

  // Another host's lock cannot be checked: it holds. So does an unreadable (empty) one.
  fs.writeFileSync(`${p}.lock`, `${dead} some-other-host 1\n`);
  assert.equal(a.lock(p), -22);
  fs.writeFileSync(`${p}.lock`, '');
  assert.equal(a.lock(p), -22);
  fs.rmSync(`${p}.lock`);
  assert.deepEqual(fs.readdirSync(dir), [], 'no lock file or leftover behind');
});

test('openHandle takes the lock file for writers only and drops it on close and on failure', (t) => {
  const p = path.join(tmpdir(t), 'w.simdr');
  const w = wasm.openHandle(p, { create: true });
  assert.ok(fs.existsSync(`${p}.lock`));
  const r = wasm.openHandle(p, { readOnly: true });
  r.close();
  assert.ok(fs.existsSync(`${p}.lock`), 'closing a reader leaves the writer lock');
  throwsCode(() => wasm.openHandle(p, {}), 'LOCKED');
  w.close();
  assert.equal(fs.existsSync(`${p}.lock`), false);
  throwsCode(() => wasm.openHandle(path.join(path.dirname(p), 'missing.simdr'), {}), 'FILE_NOT_FOUND');
  assert.equal(fs.existsSync(path.join(path.dirname(p), 'missing.simdr.lock')), false);
});
