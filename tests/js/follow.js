// follow.js - a read-only store following a writer elsewhere (another process or thread):
// refresh() until key 'done' appears (or 20 s pass), then count the n-* keys and check that
// each holds its own index. Shared by child_reader.js and worker_store.js.
export async function followUntilDone(db) {
  const deadline = Date.now() + 20000;
  let refreshes = 0;
  while (!db.has('done') && Date.now() < deadline) {
    if (db.refresh()) refreshes++;
    await new Promise((r) => setTimeout(r, 2));
  }
  let seen = 0;
  let bad = 0;
  for (let i = 0; ; i++) {
    const v = db.get(`n-${i}`, Uint32Array);
    if (v === undefined) break;
    if (v[0] !== i) bad++;
    seen++;
  }
  return { seen, bad, refreshes, done: db.has('done') };
}
