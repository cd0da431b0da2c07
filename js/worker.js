// worker.js - the dedicated module worker behind openAsync() in browsers (js/browser.js): one
// store on OPFS, answering the proxy's messages (protocol: js/worker_ops.js).
import { open } from './browser_open.js';
import { serveStore } from './worker_ops.js';

const handle = serveStore(open, (message, transfer) => self.postMessage(message, transfer));
self.onmessage = ({ data }) => handle(data);
