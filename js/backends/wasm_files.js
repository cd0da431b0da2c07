// wasm_files.js - the host file objects behind the wasm storage (wasm/src/file_io.hpp, reached
// through wasm/src/js_files.js): NodeFiles over node:fs and OpfsFiles over OPFS sync access
// handles. Both are synchronous, as the wasm storage calls them from inside a wasm call.
//
// Contract (file_io.hpp): open() returns a file id >= 0 or -errc; size/read/write/truncate/
// flush return a number >= 0 or -errc; lastErrno holds the OS error behind the last failure.
// Offsets are plain numbers (exact up to 2^53).

const ERRC = { io: 20, noSpace: 21, locked: 22, accessDenied: 23, fileNotFound: 24,
  notAFile: 25, unsupported: 52 };
const CREATE = 1;
const READ_ONLY = 2;

/** node:fs, for the wasm build under Node. Node has no flock(), so writers are kept apart by a
 *  lock file instead: lock(path) creates `<path>.lock` exclusively (O_CREAT|O_EXCL) holding
 *  "<pid> <hostname> <starttime>", unlock(path) removes it, and every lock still held is removed
 *  at process exit. A lock file whose process no longer runs on this host (killed; its pid
 *  gone or reused, told apart by the start time on Linux) is stale and is taken over. This excludes other wasm-backend processes only: native handles use
 *  flock() and do not see lock files. Within one wasm instance the storage itself also refuses
 *  a second writer (errc LOCKED). */
export class NodeFiles {
  /** @param {typeof import('node:fs')} fs
   *  @param {{resolve?: (p: string) => string, hostname?: string}} [host] node:path's resolve
   *  (lock files are named by absolute path, immune to chdir) and os.hostname(). */
  constructor(fs, host = {}) {
    this.fs = fs;
    this.lastErrno = 0;
    this.resolve = host.resolve ?? ((p) => p);
    this.hostname = host.hostname ?? '';
    /** @type {Set<string>} lock files this process holds */
    this.locks = new Set();
    this.onExit = null;
  }

  /** Takes the writer lock of `path`: 0, or -errc (LOCKED, with `lockHolder` set to the
   *  holder's "pid hostname starttime", or an I/O failure). */
  lock(path) {
    const file = `${this.resolve(path)}.lock`;
    const me = `${process.pid} ${this.hostname} ${this.#startTime(process.pid)}\n`;
    this.lockHolder = '';
    for (let attempt = 0; attempt < 3; attempt++) {
      let fd;
      try {
        fd = this.fs.openSync(file, 'wx', 0o644);
      } catch (e) {
        if (e?.code !== 'EEXIST') return this.#fail(e);
        const holder = this.#read(file);
        if (holder === null) continue;  // removed meanwhile: try again
        if (!this.#isStale(holder)) {
          this.lastErrno = 0;
          this.lockHolder = holder.trim();
          return -ERRC.locked;
        }
        // Take a stale lock over: move it aside atomically, and put it back (without
        // clobbering) if what was moved is not the stale lock judged above.
        const aside = `${file}.${process.pid}.stale`;
        try {
          this.fs.renameSync(file, aside);
        } catch (e2) {
          if (e2?.code === 'ENOENT') continue;
          return this.#fail(e2);
        }
        const moved = this.#read(aside);
        if (moved !== holder) {
          try { this.fs.linkSync(aside, file); } catch { /* a newer lock took its place */ }
          try { this.fs.unlinkSync(aside); } catch { /* best effort */ }
          this.lastErrno = 0;
          this.lockHolder = (moved ?? '').trim();
          return -ERRC.locked;
        }
        try { this.fs.unlinkSync(aside); } catch { /* best effort */ }
        continue;
      }
      try {
        this.fs.writeSync(fd, me);
      } catch (e) {
        this.fs.closeSync(fd);
        try { this.fs.unlinkSync(file); } catch { /* best effort */ }
        return this.#fail(e);
      }
      this.fs.closeSync(fd);
      this.locks.add(file);
      if (!this.onExit) {
        this.onExit = () => {
          for (const f of this.locks) {
            try { this.fs.unlinkSync(f); } catch { /* best effort at exit */ }
          }
        };
        process.on('exit', this.onExit);
      }
      return 0;
    }
    this.lastErrno = 0;
    return -ERRC.locked;
  }

  /** Releases the writer lock lock(path) took. */
  unlock(path) {
    const file = `${this.resolve(path)}.lock`;
    if (!this.locks.delete(file)) return;
    try { this.fs.unlinkSync(file); } catch { /* already gone */ }
  }

  #read(file) {
    try {
      return this.fs.readFileSync(file, 'utf8');
    } catch {
      return null;
    }
  }

  /** The start time of process `pid` (Linux: field 22 of /proc/<pid>/stat, in clock ticks
   *  since boot), or '' where that cannot be read. With the pid it names one process even
   *  after the pid is reused. */
  #startTime(pid) {
    try {
      const stat = this.fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
    } catch {
      return '';
    }
  }

  /** Whether the lock text "pid hostname starttime" names a process that no longer runs on
   *  this host: its pid is gone, or now belongs to a process started at another time (a
   *  reused pid). A lock from another host, or unreadable, is never stale (its holder cannot
   *  be checked). A lock file being written (empty for an instant) is not stale either. */
  #isStale(text) {
    const m = /^(\d+) ([^ \n]*)(?: (\d*))?\n$/.exec(text);
    if (!m || m[2] !== this.hostname) return false;
    const pid = Number(m[1]);
    try {
      process.kill(pid, 0);
    } catch (e) {
      return e?.code === 'ESRCH';
    }
    const recorded = m[3] ?? '';
    const now = this.#startTime(pid);
    return recorded !== '' && now !== '' && recorded !== now;
  }

  #fail(e) {
    this.lastErrno = Math.abs(e?.errno ?? 0);
    switch (e?.code) {
      case 'ENOENT':
      case 'ENOTDIR': return -ERRC.fileNotFound;
      case 'EISDIR': return -ERRC.notAFile;
      case 'EACCES':
      case 'EPERM':
      case 'EROFS': return -ERRC.accessDenied;
      case 'ENOSPC':
      case 'EDQUOT':
      case 'EFBIG': return -ERRC.noSpace;
      default: return -ERRC.io;
    }
  }

  open(path, flags) {
    const C = this.fs.constants;
    let mode = (flags & READ_ONLY) ? C.O_RDONLY : C.O_RDWR;
    if (flags & CREATE) mode |= C.O_CREAT;
    let fd;
    try {
      fd = this.fs.openSync(path, mode, 0o644);
    } catch (e) {
      return this.#fail(e);
    }
    try {
      if (!this.fs.fstatSync(fd).isFile()) {
        this.fs.closeSync(fd);
        this.lastErrno = 0;
        return -ERRC.notAFile;
      }
    } catch (e) {
      this.fs.closeSync(fd);
      return this.#fail(e);
    }
    return fd;
  }

  size(fd) {
    try {
      return this.fs.fstatSync(fd).size;
    } catch (e) {
      return this.#fail(e);
    }
  }

  read(fd, view, at) {
    try {
      return this.fs.readSync(fd, view, 0, view.length, at);
    } catch (e) {
      return this.#fail(e);
    }
  }

  write(fd, view, at) {
    try {
      for (let done = 0; done < view.length;) {
        done += this.fs.writeSync(fd, view, done, view.length - done, at + done);
      }
      return 0;
    } catch (e) {
      return this.#fail(e);
    }
  }

  truncate(fd, size) {
    try {
      this.fs.ftruncateSync(fd, size);
      return 0;
    } catch (e) {
      return this.#fail(e);
    }
  }

  flush(fd) {
    try {
      this.fs.fdatasyncSync(fd);
      return 0;
    } catch (e) {
      return this.#fail(e);
    }
  }

  close(fd) {
    try {
      this.fs.closeSync(fd);
    } catch {
      // closing is best effort; the id is gone either way
    }
  }

  remove(path) {
    try {
      this.fs.unlinkSync(path);
      return 0;
    } catch (e) {
      return e?.code === 'ENOENT' ? 0 : this.#fail(e);
    }
  }
}

/** OPFS sync access handles, in a dedicated worker. Handles can only be acquired
 *  asynchronously, so `await prepare(path, opts)` acquires them (the store file and its
 *  compaction sidecar `<path>.compact`) before the synchronous open, and `release(path)`
 *  closes them after the store is closed (or its open failed). Every openHandle() pairs with
 *  one prepare() and one release(): handles are counted, so a reader and a writer of one path
 *  in one worker share the writer's handles. A handle is exclusive: a second opener of the same
 *  file, in another worker or tab, fails in prepare() with NoModificationAllowedError, which
 *  open() reports as errc LOCKED. The same exclusivity keeps read-only openers out while a
 *  writer holds the file ({mode: 'read-only'} handles coexist only with each other). OPFS
 *  cannot delete synchronously: remove() is unsupported and the storage leaves an empty
 *  sidecar, which means "no compaction in progress". */
export class OpfsFiles {
  constructor() {
    this.lastErrno = 0;
    /** @type {Map<string, {handle?: any, error?: number, readOnly?: boolean, refs: number}>} */
    this.pool = new Map();
    /** @type {Array<string|undefined>} id -> path */
    this.ids = [];
  }

  static #errc(e) {
    switch (e?.name) {
      case 'NoModificationAllowedError': return ERRC.locked;
      case 'NotFoundError': return ERRC.fileNotFound;
      case 'TypeMismatchError': return ERRC.notAFile;
      case 'QuotaExceededError': return ERRC.noSpace;
      case 'NotAllowedError':
      case 'SecurityError': return ERRC.accessDenied;
      default: return ERRC.io;
    }
  }

  async #acquire(path, create, readOnly) {
    const held = this.pool.get(path);
    if (held) {
      held.refs++;
      return;
    }
    const parts = path.split('/').filter(Boolean);
    try {
      let dir = await navigator.storage.getDirectory();
      for (const d of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(d, { create });
      const file = await dir.getFileHandle(parts.at(-1), { create });
      const handle = await file.createSyncAccessHandle(readOnly ? { mode: 'read-only' } : {});
      this.pool.set(path, { handle, readOnly, refs: 1 });
    } catch (e) {
      this.pool.set(path, { error: OpfsFiles.#errc(e), refs: 1 });
    }
  }

  /** Acquires the handles a store at `path` needs; errors surface at open(). */
  async prepare(path, { create = false, readOnly = false } = {}) {
    await this.#acquire(path, create, readOnly);
    // The sidecar only beside a file that opened (so a failed open creates nothing); every
    // sharer of a path sees the same outcome, which keeps release() symmetric.
    if (this.pool.get(path).handle) await this.#acquire(`${path}.compact`, !readOnly, readOnly);
  }

  /** Drops what one prepare() acquired; handles close when nobody holds them any more. */
  release(path) {
    for (const p of [path, `${path}.compact`]) {
      const entry = this.pool.get(p);
      if (!entry || --entry.refs > 0) continue;
      entry.handle?.close();
      this.pool.delete(p);
    }
  }

  open(path, flags) {
    const entry = this.pool.get(path);
    if (!entry) return -ERRC.fileNotFound;
    if (entry.error) return -entry.error;
    // A writer cannot share the read-only handle a reader in this worker acquired first.
    if (entry.readOnly && !(flags & READ_ONLY)) return -ERRC.locked;
    this.ids.push(path);
    return this.ids.length - 1;
  }

  #handle(id) {
    return this.pool.get(this.ids[id]).handle;
  }

  #fail(e) {
    this.lastErrno = 0;
    return -OpfsFiles.#errc(e);
  }

  size(id) {
    try { return this.#handle(id).getSize(); } catch (e) { return this.#fail(e); }
  }

  read(id, view, at) {
    try { return this.#handle(id).read(view, { at }); } catch (e) { return this.#fail(e); }
  }

  write(id, view, at) {
    try {
      const h = this.#handle(id);
      for (let done = 0; done < view.length;) {
        done += h.write(view.subarray(done), { at: at + done });
      }
      return 0;
    } catch (e) {
      return this.#fail(e);
    }
  }

  truncate(id, size) {
    try { this.#handle(id).truncate(size); return 0; } catch (e) { return this.#fail(e); }
  }

  flush(id) {
    try { this.#handle(id).flush(); return 0; } catch (e) { return this.#fail(e); }
  }

  close(id) {
    // The sync handle stays in the pool until release(): the storage may reopen the sidecar.
    this.ids[id] = undefined;
  }

  remove() {
    return -ERRC.unsupported;
  }
}
