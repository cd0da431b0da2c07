// opfs_worker.mjs - runs in a dedicated module worker: the wasm backend over OPFS sync access
// handles. opfs.test.mjs posts {id, scenario, path} and receives {id, ok, result | error}.
import * as wasm from '../../js/backends/wasm.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const held = new Map();

function expect(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}

const scenarios = {
  async write(path) {
    await wasm.prepare(path, { create: true });
    const h = wasm.openHandle(path, { create: true, durability: 1 });
    for (let i = 0; i < 1000; i++) h.put(`k${i}`, enc.encode(`value ${i}`));
    h.putMany(['m1', 'm2'], [enc.encode('one'), enc.encode('two')]);
    for (let i = 0; i < 1000; i += 10) h.delete(`k${i}`);
    h.put('big', new Uint8Array(3 << 20).fill(9));
    const before = h.fileSize();
    const v = h.get('k1');
    expect(dec.decode(v) === 'value 1', 'read back');
    h.compact();
    expect(v.length === 0, 'compaction detached the view');
    expect(h.fileSize() < before, 'compaction shrank the file');
    h.put('after', enc.encode('compaction'));
    h.verify();
    const w = h.get('k2');
    h.close();
    expect(w.length === 0, 'close detached the view');
    return { size: before };
  },
  async read(path) {
    await wasm.prepare(path, {});
    const h = wasm.openHandle(path, {});
    const out = {
      size: h.size(),
      k1: dec.decode(h.get('k1')),
      k10: h.get('k10') === undefined,
      m2: dec.decode(h.get('m2')),
      after: dec.decode(h.get('after')),
      big: h.get('big').length,
    };
    h.verify();
    h.close();
    return out;
  },
  async hold(path) {
    await wasm.prepare(path, { create: true });
    const h = wasm.openHandle(path, { create: true });
    h.put('k', enc.encode('v'));
    held.set(path, h);
    // A second writer in this instance is refused by the storage's own lock table.
    try {
      wasm.openHandle(path, {});
      return 'second open succeeded';
    } catch (e) {
      return e.code;
    }
  },
  async release(path) {
    held.get(path).close();
    held.delete(path);
    return 'released';
  },
  async tryOpen(path) {
    await wasm.prepare(path, {});
    try {
      wasm.openHandle(path, {}).close();
      return 'opened';
    } catch (e) {
      return e.code;
    }
  },
};

self.onmessage = async ({ data: { id, scenario, path } }) => {
  try {
    self.postMessage({ id, ok: true, result: await scenarios[scenario](path) });
  } catch (e) {
    self.postMessage({ id, ok: false, error: `${e?.name}: ${e?.message} ${e?.code ?? ''}` });
  }
};
