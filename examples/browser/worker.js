// worker.js - in a dedicated worker, open() gives the synchronous Store on OPFS.
import { open } from 'simd-r-drive';

try {
  const db = await open('example/worker.simdr');
  db.put('count', String(Number(new TextDecoder().decode(db.get('count') ?? new Uint8Array())) + 1));
  db.putMany([['a', 'A'], ['b', 'B']]);
  const view = db.get('a');                  // a view of store memory, no copy
  const result = { a: new TextDecoder().decode(view), size: db.size, backend: db.backend };
  db.close();                                // `view` is now empty (length 0)
  result.viewAfterClose = view.length;
  self.postMessage(result);
} catch (e) {
  self.postMessage({ error: `${e.name}: ${e.message} ${e.code ?? ''}` });
}
