// worker.js - in a dedicated worker, open() gives the synchronous Store on OPFS.
import { open } from 'simd-r-drive';

const text = (bytes) => new TextDecoder().decode(bytes);

try {
  const db = await open('example/worker.simdr');
  // getCopy(): a value that owns its bytes. TextDecoder refuses views of shared memory, which
  // is what get() returns on a cross-origin-isolated page.
  db.put('count', String(Number(text(db.getCopy('count') ?? new Uint8Array())) + 1));
  db.putMany([['a', 'A'], ['b', 'B']]);
  const view = db.get('a');                  // a view of store memory, no copy
  const result = { a: String.fromCharCode(view[0]), size: db.size, backend: db.backend,
    viewLifetime: db.viewLifetime };
  db.close();
  // 'until-move': the view is now empty (length 0). 'while-reachable' (the shared-memory build
  // on an isolated page): it still shows its own bytes, until it is garbage-collected.
  result.viewAfterClose = view.length;
  self.postMessage(result);
} catch (e) {
  self.postMessage({ error: `${e.name}: ${e.message} ${e.code ?? ''}` });
}
