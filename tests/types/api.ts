// api.ts - type test of the public API (tsc --noEmit): uses every call, and each
// `@ts-expect-error` line is misuse the types must reject.
import { open, openSync, openAsync, SimdrError, backend, Store, type OpenOptions, type ViewLifetime } from 'simd-r-drive';
import simdr from 'simd-r-drive';

export async function use(): Promise<void> {
  const opts: OpenOptions = { create: true, durability: 'commit', alignment: 64, zeroCopy: true };
  const db: Store = await open('x.simdr', opts);
  const sync: Store = openSync('y.simdr', { readOnly: true, create: false });
  const b: 'native' | 'wasm' | null = backend;
  db.put('k', 'v');
  db.put(new Uint8Array([1]), new Float32Array([1]));
  db.put('k', new ArrayBuffer(8));
  db.put('k', new DataView(new ArrayBuffer(8)));
  db.putMany([['a', 'b'], [new Uint8Array([1]), new Uint8Array([2])]]);
  db.putMany(new Map<string, string>([['a', 'b']]));
  await db.putManyAsync([['a', 'b']]);
  const v: Uint8Array | undefined = db.get('k');
  const f: Float32Array | undefined = db.get('k', Float32Array);
  const big: BigUint64Array | undefined = db.get('k', BigUint64Array);
  const c: Uint8Array | undefined = db.getCopy('k');
  const many: Array<Uint8Array | undefined> = db.getMany(['a', 'b']);
  const manyF: Array<Float64Array | undefined> = db.getMany(['a'], Float64Array);
  const h: boolean = db.has('k');
  const d: boolean = db.delete('k');
  const n: number = db.size + db.fileSize;
  for (const k of db.keys()) k satisfies Uint8Array;
  for (const [k, val] of db.entries()) { k satisfies Uint8Array; val satisfies Uint8Array; }
  for (const [k] of db) k satisfies Uint8Array;
  db.compact(); db.verify(); db.flush(); await db.flushAsync();
  const changed: boolean = sync.refresh();
  const name: 'native' | 'wasm' = db.backend;
  const zc: boolean = db.zeroCopy;
  const life: ViewLifetime = db.viewLifetime;
  // @ts-expect-error not a lifetime
  const bad: ViewLifetime = "forever";
  db.close();
  try { await openAsync('z'); } catch (e) {
    if (e instanceof SimdrError) { const code: string = e.code; const num: number = e.errc; void code; void num; }
  }
  simdr.open satisfies typeof open;
  void [b, v, f, big, c, many, manyF, h, d, n, changed, name, zc];

  // @ts-expect-error: keys are strings or Uint8Array
  db.get(42);
  // @ts-expect-error: not a typed array constructor
  db.get('k', Array);
  // @ts-expect-error: values are strings or binary
  db.put('k', 42);
  // @ts-expect-error: durability is 'none' or 'commit'
  await open('x', { durability: 'always' });
  // @ts-expect-error: unknown option
  await open('x', { creat: true });
  // @ts-expect-error: size is read-only
  db.size = 3;
  // @ts-expect-error: pairs, not a flat list
  db.putMany(['a', 'b']);
  // @ts-expect-error: a typed get is not a Uint8Array
  const wrong: Uint8Array | undefined = db.get('k', Float64Array);
  // @ts-expect-error: Store has no public constructor
  new Store();
  void wrong;
}
