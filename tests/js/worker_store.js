// worker_store.js - worker thread: opens a store per workerData.mode and reports.
//   'hold':   open read-write, keep views, post 'ready', stay alive
//   'reader': open read-only, poll refresh() until key 'done' appears; post how many n-* keys
//             it saw and that every value matched
//   'writer': open its own store, write workerData.count entries, read them back, post the sum
import { parentPort, workerData } from 'node:worker_threads';
import { open } from '../../js/index.js';
import { followUntilDone } from './follow.js';

const { path, mode } = workerData;
if (mode === 'hold') {
  const db = await open(path);
  db.put('w', 'worker value');
  globalThis.keep = [db, db.get('w')];
  parentPort.postMessage('ready');
  setInterval(() => {}, 1000);
} else if (mode === 'reader') {
  const db = await open(path, { readOnly: true });
  const { seen, bad, done } = await followUntilDone(db);
  parentPort.postMessage({ seen, bad, done });
  db.close();
} else if (mode === 'writer') {
  const db = await open(path);
  const pairs = [];
  for (let i = 0; i < workerData.count; i++) pairs.push([`k${i}`, new Uint32Array([i])]);
  db.putMany(pairs);
  let sum = 0;
  for (let i = 0; i < workerData.count; i++) sum += db.get(`k${i}`, Uint32Array)[0];
  db.close();
  parentPort.postMessage(sum);
}
