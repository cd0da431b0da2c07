// node_worker.js - the worker thread behind openAsync() in Node (js/api.js): loads the backend
// the caller uses (workerData.backend: 'native' | 'wasm'), runs one store on it and answers the
// proxy's messages (protocol: js/worker_ops.js).
import { parentPort, workerData } from 'node:worker_threads';
import { makeApi, loadBackend } from './api.js';
import { serveStore } from './worker_ops.js';

const importers = {
  native: () => import('./backends/native.js'),
  wasm: () => import('./backends/wasm.js'),
};

const [mod, why] = await loadBackend(importers[workerData.backend]);
const { open } = makeApi(mod, why ?? '');
const handle = serveStore(open, (message, transfer) => parentPort.postMessage(message, transfer));
parentPort.on('message', handle);
