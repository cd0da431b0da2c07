// browser.ts - type test of the browser side of the API (tsc --noEmit): open() in a worker,
// openAsync() and its AsyncStore from the main thread. `@ts-expect-error` lines are misuse the
// types must reject.
import { open, openAsync, SimdrError, type AsyncStore, type Store } from 'simd-r-drive';
import * as forced from 'simd-r-drive/wasm';

export async function inWorker(): Promise<void> {
  const db: Store = await open('dir/cache.simdr', { create: true });
  const v: Uint8Array | undefined = db.get('k');
  db.close();
  const w: Store = await forced.open('x.simdr');
  w.close();
  void v;
}

export async function onMainThread(): Promise<void> {
  const db: AsyncStore = await openAsync('dir/cache.simdr', { durability: 'commit' });
  await db.put('k', 'v');
  await db.put(new Uint8Array([1]), new Float32Array([1, 2]));
  await db.putMany([['a', 'b'], ['c', new ArrayBuffer(4)]]);
  const v: Uint8Array | undefined = await db.get('k');
  const f: Float32Array | undefined = await db.get('k', Float32Array);
  const c: Uint8Array | undefined = await db.getCopy('k');
  const many: Array<Uint8Array | undefined> = await db.getMany(['a', 'c']);
  const manyF: Array<Float64Array | undefined> = await db.getMany(['a'], Float64Array);
  const h: boolean = await db.has('k');
  const d: boolean = await db.delete('k');
  const n: number = (await db.size) + (await db.fileSize);
  for await (const k of db.keys()) k satisfies Uint8Array;
  for await (const [k, val] of db.entries()) { k satisfies Uint8Array; val satisfies Uint8Array; }
  for await (const [k] of db) k satisfies Uint8Array;
  await db.compact(); await db.verify(); await db.flush();
  const changed: boolean = await db.refresh();
  const zc: false = db.zeroCopy;
  const life: "copy" = db.viewLifetime;
  const info: [string, string, boolean, boolean] = [db.backend, db.path, db.readOnly, db.closed];
  await db.close();
  try { await openAsync('x'); } catch (e) {
    if (e instanceof SimdrError && e.code === 'OPFS_UNAVAILABLE') void e.errc;
  }
  void [v, f, c, many, manyF, h, d, n, changed, zc, info];

  // @ts-expect-error: get resolves to a copy, not synchronously to a view
  const sync: Uint8Array | undefined = db.get('k');
  // @ts-expect-error: size is a Promise on an AsyncStore
  const size: number = db.size;
  // @ts-expect-error: keys are strings or Uint8Array
  await db.get(42);
  // @ts-expect-error: not a typed array constructor
  await db.get('k', Array);
  // @ts-expect-error: an AsyncStore iterates asynchronously only
  for (const e of db) void e;
  // @ts-expect-error: durability is 'none' or 'commit'
  await openAsync('x', { durability: 'sometimes' });
  void [sync, size];
}
