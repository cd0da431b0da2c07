// child_exit.js - child process: leaves stores open with live views (and a worker doing the
// same, and an async commit in flight) and exits; the parent checks the exit is clean.
// argv: dir mode (mode: 'natural' | 'exit' | 'throw-free')
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { open } from '../../js/index.js';

const [dir, mode] = process.argv.slice(2);
const db = await open(join(dir, 'exit-main.simdr'));
db.put('k', 'v'.repeat(1000));
const views = [db.get('k'), db.get('k', Uint16Array), ...db.getMany(['k', 'k'])];
globalThis.keep = views;
const iter = db.entries();
iter.next();
globalThis.keepIter = iter;
const worker = new Worker(new URL('./worker_store.js', import.meta.url),
  { workerData: { path: join(dir, 'exit-worker.simdr'), mode: 'hold' } });
await new Promise((resolve) => worker.once('message', resolve));
const pending = db.putManyAsync([['a', 'b']]);
if (mode === 'exit') process.exit(0);
await pending;
worker.unref();
// natural end: the event loop drains with stores open and views alive
