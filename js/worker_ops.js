// worker_ops.js - the store side of openAsync, shared by the browser's worker (js/worker.js)
// and Node's (js/node_worker.js): runs one store and answers the proxy's (js/async_store.js)
// messages. Protocol: the proxy posts {id, op, args}; the answer is {id, ok: true, result}
// (values as ArrayBuffers, transferred) or {id, ok: false, error: {name, message, code, errc,
// errno, offset}}. Messages are handled one at a time, in order. Values leave as copies: a
// view of store memory cannot cross threads.

/**
 * @param {(name: string, options: object) => Promise<any>} open  the public open() to use
 * @param {(message: object, transfer: ArrayBuffer[]) => void} post  sends an answer
 * @returns {(message: object) => void} the handler of the proxy's messages
 */
export function serveStore(open, post) {
  let db = null;
  const iterators = new Map();
  let nextIterator = 1;

  // A fresh ArrayBuffer holding exactly the value (a Node Buffer's slice() would be a view).
  const copy = (v) => {
    if (v === undefined) return undefined;
    const c = new Uint8Array(v.length);
    c.set(v);
    return c.buffer;
  };

  const ops = {
    async open(name, options) {
      db = await open(name, options);
      return { backend: db.backend, path: db.path, readOnly: db.readOnly };
    },
    put: (key, value) => db.put(key, value),
    putMany: (pairs) => db.putMany(pairs),
    get: (key) => copy(db.get(key)),
    getMany: (keys) => db.getMany(keys).map(copy),
    has: (key) => db.has(key),
    delete: (key) => db.delete(key),
    size: () => db.size,
    fileSize: () => db.fileSize,
    compact: () => db.compact(),
    verify: () => db.verify(),
    flush: () => db.flush(),
    refresh: () => db.refresh(),
    iterOpen() {
      const id = nextIterator++;
      iterators.set(id, db.entries());
      return id;
    },
    // Up to `max` entries as [keyBuffer, valueBuffer] pairs, and whether the iteration ended.
    iterNext(id, max) {
      const it = iterators.get(id);
      const out = [];
      let done = it === undefined;
      while (!done && out.length < max) {
        const r = it.next();
        if (r.done) done = true;
        else out.push([copy(r.value[0]), copy(r.value[1])]);
      }
      if (done) iterators.delete(id);
      return { entries: out, done };
    },
    iterClose(id) {
      iterators.get(id)?.return();
      iterators.delete(id);
    },
    close() {
      iterators.clear();
      db?.close();
      db = null;
    },
  };

  function transferables(result) {
    if (result instanceof ArrayBuffer) return [result];
    if (Array.isArray(result)) return result.filter((b) => b instanceof ArrayBuffer);
    if (result && Array.isArray(result.entries)) return result.entries.flat();
    return [];
  }

  function describe(e) {
    return { name: e?.name ?? 'Error', message: e?.message ?? String(e), code: e?.code,
      errc: e?.errc, errno: e?.errno, offset: e?.offset };
  }

  let queue = Promise.resolve();
  return ({ id, op, args }) => {
    queue = queue.then(async () => {
      try {
        if (!Object.hasOwn(ops, op)) throw new TypeError(`unknown operation ${op}`);
        if (db === null && op !== 'open' && op !== 'close')
          throw Object.assign(new Error('the store is closed'), { name: 'SimdrError', code: 'CLOSED', errc: 11 });
        const result = await ops[op](...args);
        post({ id, ok: true, result }, transferables(result));
      } catch (e) {
        post({ id, ok: false, error: describe(e) });
      }
    });
  };
}
