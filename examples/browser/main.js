// main.js - the main thread has no OPFS sync handles: openAsync runs the store in a worker
// that simd-r-drive starts itself, and every method returns a Promise (values are copies).
import { openAsync } from 'simd-r-drive';

const out = document.querySelector('#out');
const dec = new TextDecoder();

async function mainThread() {
  const db = await openAsync('example/main.simdr');
  await db.put('greeting', 'hello from the main thread');
  await db.put('vector', new Float32Array([1, 2, 3]));
  const greeting = dec.decode(await db.get('greeting'));
  const vector = Array.from(await db.get('vector', Float32Array));
  const size = await db.size;
  await db.close();
  return { greeting, vector, size };
}

function inWorker() {
  // A worker of our own opens the store directly (zero-copy views inside the worker).
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  return new Promise((resolve, reject) => {
    worker.onmessage = ({ data }) => { worker.terminate(); resolve(data); };
    worker.onerror = (e) => { worker.terminate(); reject(new Error(e.message || 'worker failed')); };
  });
}

try {
  const result = { mainThread: await mainThread(), worker: await inWorker() };
  out.textContent = JSON.stringify(result, null, 2);
  window.simdrResult = result;
} catch (e) {
  out.textContent = `failed: ${e.name}: ${e.message}`;
  window.simdrResult = { error: `${e.name}: ${e.message} ${e.code ?? ''}` };
}
