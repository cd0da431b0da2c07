// store.test.js - the public API against every backend that loads (js/BACKEND.md): CRUD,
// atomic batches, typed views, argument checks, persistence, iterators, errors, delete.
// SIMDR_BACKEND=native|wasm runs one backend only.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backends, tempDir, text } from './backends.js';
import { SimdrError } from '../../js/errors.js';

const here = fileURLToPath(new URL('.', import.meta.url));

/** A child process holding `path` open read-write on backend `backend` (hold_writer.js),
 *  once it says it holds it; it lets go when its stdin ends. */
async function holdWriter(path, backend) {
  const child = spawn(process.execPath, [join(here, 'hold_writer.js'), path, backend],
    { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    child.stdout.once('data', resolve);
    child.once('exit', (c) => reject(new Error(`child exited with ${c}`)));
  });
  return child;
}

for (const b of await backends()) {
  if (!b.api) {
    test(`${b.name} backend`, { skip: `the ${b.name} backend cannot load here: ${b.missing}` }, () => {});
    continue;
  }
  const { open, openSync, openAsync } = b.api;

  describe(`${b.name} backend`, () => {
    const dir = tempDir();
    let n = 0;
    const fresh = () => join(dir, `s${n++}.simdr`);

    test('put, get, has, delete, size, fileSize', async () => {
      const db = await open(fresh());
      assert.equal(db.backend, b.name);
      const lifetimes = b.name === 'native' ? ['until-close', 'copy']
        : [b.module.memory() === 'shared' ? 'while-reachable' : 'until-move'];
      assert.ok(lifetimes.includes(db.viewLifetime), `viewLifetime ${db.viewLifetime}`);
      assert.equal(db.size, 0);
      const empty = db.fileSize;
      assert.ok(empty > 0, 'a new file has a header');
      db.put('alpha', 'one');
      db.put(new Uint8Array([1, 2, 3]), new Uint8Array([9, 8, 7]));
      assert.equal(text(db.get('alpha')), 'one');
      assert.deepEqual([...db.get(new Uint8Array([1, 2, 3]))], [9, 8, 7]);
      assert.equal(db.get('missing'), undefined);
      assert.equal(db.has('alpha'), true);
      assert.equal(db.has('missing'), false);
      assert.equal(db.size, 2);
      assert.ok(db.fileSize > empty);
      db.put('alpha', 'two');
      assert.equal(text(db.get('alpha')), 'two');
      assert.equal(db.size, 2);
      assert.equal(db.delete('alpha'), true);
      assert.equal(db.delete('alpha'), false, 'delete of a missing key says so');
      assert.equal(db.get('alpha'), undefined);
      assert.equal(db.has('alpha'), false);
      assert.equal(db.size, 1);
      db.close();
    });

    test('string keys are UTF-8: the same key as its bytes', async () => {
      const db = await open(fresh());
      db.put('clé ✓', 'v');
      assert.equal(text(db.get(new TextEncoder().encode('clé ✓'))), 'v');
      db.close();
    });

    test('values: strings, ArrayBuffers and any view, stored without the view offset', async () => {
      const db = await open(fresh());
      const backing = new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7]);
      db.put('ab', backing.buffer);
      db.put('dv', new DataView(backing.buffer, 2, 3));
      db.put('f64', new Float64Array([1.5, -2]));
      db.put('sub', backing.subarray(6));
      db.put('empty', '');
      assert.deepEqual([...db.get('ab')], [0, 1, 2, 3, 4, 5, 6, 7]);
      assert.deepEqual([...db.get('dv')], [2, 3, 4]);
      assert.deepEqual([...db.get('f64', Float64Array)], [1.5, -2]);
      assert.deepEqual([...db.get('sub')], [6, 7]);
      const e = db.get('empty');
      assert.ok(e instanceof Uint8Array);
      assert.equal(e.length, 0);
      db.close();
    });

    test('typed views: zero-copy, aligned, RangeError when the length does not fit', async () => {
      const db = await open(fresh());
      db.put('f32', new Float32Array([1, 2, 3]));
      db.put('odd', new Uint8Array(6));
      const f = db.get('f32', Float32Array);
      assert.ok(f instanceof Float32Array);
      assert.deepEqual([...f], [1, 2, 3]);
      const u = db.get('f32');
      if (db.zeroCopy) {
        assert.equal(f.buffer, u.buffer, 'same memory as the byte view');
        assert.equal(u.byteOffset % 64, 0, 'values are aligned');
      }
      assert.deepEqual([...db.get('odd', Uint16Array)], [0, 0, 0]);
      assert.throws(() => db.get('odd', Float32Array), RangeError);
      assert.throws(() => db.get('odd', BigUint64Array), RangeError);
      assert.equal(db.get('missing', Float32Array), undefined);
      assert.throws(() => db.get('f32', Array), TypeError);
      assert.throws(() => db.get('f32', DataView), TypeError);
      const many = db.getMany(['f32', 'nope'], Float32Array);
      assert.deepEqual([...many[0]], [1, 2, 3]);
      assert.equal(many[1], undefined);
      db.close();
    });

    test('getCopy owns its bytes; get is a view', async () => {
      const db = await open(fresh());
      db.put('k', 'value');
      const copy = db.getCopy('k');
      const view = db.get('k');
      assert.notEqual(copy.buffer, view.buffer);
      assert.equal(copy.byteOffset, 0);
      assert.equal(copy.buffer.byteLength, 5);
      assert.equal(db.getCopy('missing'), undefined);
      db.close();
      assert.equal(text(copy), 'value', 'a copy survives close');
    });

    test('putMany is one commit; getMany batches', async () => {
      const db = await open(fresh());
      const pairs = [];
      for (let i = 0; i < 1000; i++) pairs.push([`key-${i}`, `value-${i}`]);
      db.putMany(pairs);
      db.putMany(new Map([['m1', 'x'], ['m2', new Uint8Array([1])]]));
      db.putMany([]);
      assert.equal(db.size, 1002);
      const got = db.getMany(['key-0', 'nope', 'key-999', 'm1']);
      assert.deepEqual(got.map(text), ['value-0', undefined, 'value-999', 'x']);
      assert.deepEqual(db.getMany([]), []);
      // A repeated key ends with its last value.
      db.putMany([['dup', '1'], ['dup', '2']]);
      assert.equal(text(db.get('dup')), '2');
      db.close();
    });

    test('putMany validates every pair before writing anything', async () => {
      const db = await open(fresh());
      assert.throws(() => db.putMany([['a', '1'], ['b', 42]]), TypeError);
      assert.throws(() => db.putMany([['a', '1'], ['', '2']]), RangeError);
      assert.throws(() => db.putMany([['a']]), TypeError);
      assert.throws(() => db.putMany(42), TypeError);
      assert.equal(db.size, 0, 'nothing was committed');
      db.close();
    });

    test('putManyAsync and flushAsync', async () => {
      const db = await open(fresh(), { durability: 'commit' });
      const p = db.putManyAsync([['a', '1'], ['b', '2']]);
      assert.ok(p instanceof Promise);
      await p;
      assert.equal(text(db.get('b')), '2');
      await db.flushAsync();
      await assert.rejects(db.putManyAsync([[1, 2]]), TypeError);
      db.close();
    });

    test('TypeError and RangeError on bad arguments, before the backend', async () => {
      const db = await open(fresh());
      for (const bad of [undefined, null, 42, {}, [1], new Uint16Array(2), new ArrayBuffer(2)])
        assert.throws(() => db.get(bad), TypeError, `get(${String(bad)})`);
      assert.throws(() => db.put('k', 42), TypeError);
      assert.throws(() => db.put('k', null), TypeError);
      assert.throws(() => db.put('k', undefined), TypeError);
      assert.throws(() => db.put('', 'v'), RangeError);
      assert.throws(() => db.put(new Uint8Array(0), 'v'), RangeError);
      assert.throws(() => db.put('x'.repeat(65536), 'v'), RangeError);
      assert.throws(() => db.put('é'.repeat(40000), 'v'), RangeError, '80,000 bytes of UTF-8');
      db.put('x'.repeat(65535), 'longest key');
      assert.equal(text(db.get('x'.repeat(65535))), 'longest key');
      assert.throws(() => db.getMany('abc'.split('').concat([5])), TypeError);
      assert.throws(() => db.getMany(5), TypeError);
      db.close();
      await assert.rejects(open(42), TypeError);
      await assert.rejects(open(''), RangeError);
      await assert.rejects(open(fresh(), 'x'), TypeError);
      await assert.rejects(open(fresh(), { durability: 'always' }), RangeError);
      await assert.rejects(open(fresh(), { durability: 1 }), TypeError);
      await assert.rejects(open(fresh(), { alignment: 48 }), RangeError);
      await assert.rejects(open(fresh(), { alignment: 4 }), RangeError);
      await assert.rejects(open(fresh(), { create: 'yes' }), TypeError);
      await assert.rejects(open(fresh(), { create: true, readOnly: true }), RangeError);
    });

    test('persistence across reopen, options, openSync', async () => {
      const path = fresh();
      const db = openSync(path, { alignment: 4096, durability: 'commit' });
      db.put('a', new Float64Array([42]));
      db.putMany([['b', 'B'], ['c', 'C']]);
      db.delete('c');
      db.flush();
      db.close();
      const again = await open(path, { create: false });
      assert.equal(again.size, 2);
      assert.equal(again.get('a', Float64Array)[0], 42);
      if (again.zeroCopy) assert.equal(again.get('a').byteOffset % 4096, 0, 'the file keeps its alignment');
      assert.equal(text(again.get('b')), 'B');
      assert.equal(again.get('c'), undefined);
      again.verify();
      again.close();
    });

    test('keys() and entries() iterate live entries', async () => {
      const db = await open(fresh());
      db.putMany([['a', '1'], ['b', '2'], ['c', '3']]);
      db.put('b', '22');
      db.delete('c');
      const seen = new Map();
      for (const [k, v] of db.entries()) seen.set(text(k), text(v));
      assert.deepEqual([...seen].sort(), [['a', '1'], ['b', '22']]);
      assert.deepEqual([...db.keys()].map(text).sort(), ['a', 'b']);
      assert.deepEqual([...db].length, 2, 'a Store is iterable');
      const empty = await open(fresh());
      assert.deepEqual([...empty.entries()], []);
      empty.close();
      db.close();
    });

    test('compact keeps live entries and shrinks the file', async () => {
      const db = await open(fresh());
      for (let i = 0; i < 100; i++) db.put('k', `v${i}`);
      db.put('other', 'o');
      const before = db.fileSize;
      db.compact();
      assert.ok(db.fileSize < before);
      assert.equal(text(db.get('k')), 'v99');
      assert.equal(text(db.get('other')), 'o');
      assert.equal(db.size, 2);
      db.verify();
      db.close();
    });

    test('CLOSED after close; close is idempotent', async () => {
      const db = await open(fresh());
      db.put('k', 'v');
      db.close();
      db.close();
      assert.equal(db.closed, true);
      for (const f of [() => db.get('k'), () => db.put('k', 'v'), () => db.size, () => db.fileSize,
        () => db.has('k'), () => db.delete('k'), () => db.keys().next(), () => db.compact(),
        () => db.flush(), () => db.verify(), () => db.getMany(['k']), () => db.putMany([])]) {
        assert.throws(f, (e) => e instanceof SimdrError && e.code === 'CLOSED' && e.errc === 11);
      }
      await assert.rejects(db.putManyAsync([['a', 'b']]), { code: 'CLOSED' });
    });

    test('READ_ONLY: writes on a read-only store fail; readOnly sees the data', async () => {
      const path = fresh();
      const w = await open(path);
      w.put('k', 'v');
      const r = await open(path, { readOnly: true });
      assert.equal(r.readOnly, true);
      assert.equal(text(r.get('k')), 'v');
      for (const f of [() => r.put('x', 'y'), () => r.delete('k'), () => r.putMany([['x', 'y']])])
        assert.throws(f, { name: 'SimdrError', code: 'READ_ONLY' });
      w.put('k2', 'v2');
      assert.equal(r.get('k2'), undefined);
      assert.equal(r.refresh(), true);
      assert.equal(text(r.get('k2')), 'v2');
      assert.equal(r.refresh(), false);
      r.close();
      w.close();
    });

    test('FILE_NOT_FOUND without create; BAD_MAGIC on a file that is not a store', async () => {
      await assert.rejects(open(join(dir, 'none.simdr'), { create: false }), { code: 'FILE_NOT_FOUND' });
      await assert.rejects(open(join(dir, 'none.simdr'), { readOnly: true }), { code: 'FILE_NOT_FOUND' });
      const junk = join(dir, 'junk.bin');
      writeFileSync(junk, 'this is certainly not a SIMD R Drive store, just some text'.repeat(10));
      const before = readFileSync(junk);
      await assert.rejects(open(junk), (e) => e instanceof SimdrError && e.code === 'BAD_MAGIC' && e.errc === 32);
      await assert.rejects(open(junk, { readOnly: true }), { code: 'BAD_MAGIC' });
      assert.deepEqual(readFileSync(junk), before, 'a file that is not a store is never modified');
      assert.ok(statSync(junk).size > 0);
    });

    test('LOCKED: a second writer in another process', async () => {
      const path = fresh();
      const child = await holdWriter(path, b.name);
      try {
        await assert.rejects(open(path), (e) => e instanceof SimdrError && e.code === 'LOCKED');
        const r = await open(path, { readOnly: true });
        assert.equal(text(r.get('held')), 'yes', 'readers may coexist with the writer');
        r.close();
      } finally {
        child.stdin.end();
        await new Promise((resolve) => child.once('exit', resolve));
      }
      const w = await open(path);  // the lock went with the process
      w.close();
    });

    test('LOCKED: the lock goes with a killed process (SIGKILL)', async () => {
      const path = fresh();
      const child = await holdWriter(path, b.name);
      await assert.rejects(open(path), { code: 'LOCKED' });
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      const w = await open(path);  // native: flock went with the process; wasm: stale lock file
      assert.equal(text(w.get('held')), 'yes');
      w.close();
    });

    test('openAsync: the store on a worker thread, methods as Promises, values as copies', async () => {
      const path = fresh();
      const db = await openAsync(path, { durability: 'commit' });
      assert.deepEqual([db.backend, db.path, db.readOnly, db.zeroCopy, db.closed], [b.name, path, false, false, false]);
      await db.put('k1', 'v1');
      await db.put(new Uint8Array([1, 2]), new Float32Array([0.5, 4]));
      await db.putMany([['a', 'A'], ['b', new Uint8Array([1, 2, 3])]]);
      assert.equal(text(await db.get('k1')), 'v1');
      assert.deepEqual([...await db.get(new Uint8Array([1, 2]), Float32Array)], [0.5, 4]);
      const copy = await db.getCopy('b');
      assert.equal(copy.byteLength, copy.buffer.byteLength, 'a copy that owns exactly its bytes');
      assert.deepEqual((await db.getMany(['a', 'zz'])).map(text), ['A', undefined]);
      assert.deepEqual([await db.has('a'), await db.delete('a'), await db.has('a')], [true, true, false]);
      assert.equal(await db.size, 3);
      assert.ok((await db.fileSize) > 64);
      for (let i = 0; i < 2500; i++) await db.put(`n${i}`, `${i}`);
      let n = 0;
      for await (const [k, v] of db) if (text(k) === `n${text(v)}`) n++;
      assert.equal(n, 2500, 'iterates across batches');
      const keys = [];
      for await (const k of db.keys()) { keys.push(k); if (keys.length === 3) break; }
      assert.equal(keys.length, 3, 'an iteration left early');
      await db.compact();
      await db.verify();
      await db.flush();
      await assert.rejects(db.put(42, 'x'), TypeError);
      await assert.rejects(db.get('k1', Array), TypeError);
      await assert.rejects(db.get('b', Float32Array), RangeError);
      await assert.rejects(openAsync(path), { code: 'LOCKED' });
      await assert.rejects(open(path), { code: 'LOCKED' }, 'the worker holds the writer lock');
      await db.close();
      await db.close();
      assert.equal(db.closed, true);
      await assert.rejects(db.get('k1'), (e) => e instanceof SimdrError && e.code === 'CLOSED');
      const ro = await openAsync(path, { readOnly: true });
      assert.equal(text(await ro.get('n2499')), '2499');
      await assert.rejects(ro.put('x', 'y'), { code: 'READ_ONLY' });
      await ro.close();
      await assert.rejects(openAsync(join(dir, 'none.simdr'), { create: false }), { code: 'FILE_NOT_FOUND' });
      await assert.rejects(openAsync(''), RangeError);
    });

    test('LOCKED: a second writer in the same process', async () => {
      const path = fresh();
      const w = await open(path);
      await assert.rejects(open(path), { code: 'LOCKED' });
      w.close();
      (await open(path)).close();
    });
  });
}
