// Types of simd-r-drive (js/index.js and js/wasm.js in Node; js/browser.js in browsers). See
// docs/js.md.

/** A key: a string (stored as UTF-8) or bytes. 1 to 65,535 bytes. */
export type Key = string | Uint8Array;
/** A value: a string (stored as UTF-8), an ArrayBuffer or any view of one. */
export type Value = string | ArrayBufferLike | ArrayBufferView;

/** Typed array constructors accepted by get(key, type). */
export type TypedArrayConstructor =
  | Int8ArrayConstructor | Uint8ArrayConstructor | Uint8ClampedArrayConstructor
  | Int16ArrayConstructor | Uint16ArrayConstructor | Int32ArrayConstructor
  | Uint32ArrayConstructor | Float32ArrayConstructor | Float64ArrayConstructor
  | BigInt64ArrayConstructor | BigUint64ArrayConstructor;

export interface OpenOptions {
  /** Create the file when missing (default: true unless readOnly). */
  create?: boolean;
  /** Open without writing; any number of read-only handles may coexist with one writer. */
  readOnly?: boolean;
  /** 'none' (default): a commit survives a process crash; 'commit': fdatasync per commit. */
  durability?: 'none' | 'commit';
  /** Payload alignment of a new file: a power of two from 8 to 65536 (default 64). */
  alignment?: number;
  /** false: get() returns copies instead of views of store memory (default true). */
  zeroCopy?: boolean;
}

export type BackendName = 'native' | 'wasm';

export type ErrorCode =
  | 'NOT_FOUND' | 'EXISTS' | 'INVALID_ARGUMENT' | 'CLOSED' | 'READ_ONLY' | 'BUSY' | 'IO'
  | 'NO_SPACE' | 'LOCKED' | 'ACCESS_DENIED' | 'FILE_NOT_FOUND' | 'NOT_A_FILE' | 'CORRUPT'
  | 'CHECKSUM_MISMATCH' | 'BAD_MAGIC' | 'UNSUPPORTED_VERSION' | 'NO_MEMORY' | 'TOO_LARGE'
  | 'UNSUPPORTED_CPU' | 'OPFS_UNAVAILABLE' | 'UNSUPPORTED' | 'UNKNOWN';

/** Every storage failure. `code` is stable; `errc` is the core's number. */
export class SimdrError extends Error {
  constructor(code: number | ErrorCode, message: string,
              details?: { errno?: number; offset?: number; cause?: unknown });
  readonly name: 'SimdrError';
  readonly code: ErrorCode;
  readonly errc: number;
  /** The OS error number behind an IO error, when there was one. */
  readonly errno?: number;
  /** File offset of the damage (CORRUPT, CHECKSUM_MISMATCH). */
  readonly offset?: number;
}

export type ViewLifetime = 'until-close' | 'until-move' | 'while-reachable' | 'copy';

export class Store {
  private constructor();
  /** The backend serving this store. */
  readonly backend: BackendName;
  readonly path: string;
  readonly readOnly: boolean;
  readonly closed: boolean;
  /** Whether get() returns views of store memory (false: copies). */
  readonly zeroCopy: boolean;
  /** How long a view stays valid (docs/lifetimes.md): until close() (native), until store
   *  bytes move or wasm memory grows (wasm, private memory), for as long as it is reachable
   *  (wasm, shared memory), or 'copy' when values are copies. */
  readonly viewLifetime: ViewLifetime;
  /** Live keys. */
  readonly size: number;
  /** Bytes of the file. */
  readonly fileSize: number;

  put(key: Key, value: Value): void;
  /** All pairs in one crash-atomic commit. */
  putMany(entries: Iterable<readonly [Key, Value]>): void;
  /** putMany off the event loop (native: the libuv pool). */
  putManyAsync(entries: Iterable<readonly [Key, Value]>): Promise<void>;

  /** A view of store memory (no copy), valid until close() (docs/lifetimes.md). */
  get(key: Key): Uint8Array | undefined;
  /** A typed view; RangeError when the value's length is not a whole number of elements. */
  get<T extends TypedArrayConstructor>(key: Key, type: T): InstanceType<T> | undefined;
  /** A copy that owns its bytes. */
  getCopy(key: Key): Uint8Array | undefined;
  /** Batched lookup (the SIMD multi-get). */
  getMany(keys: Iterable<Key>): Array<Uint8Array | undefined>;
  getMany<T extends TypedArrayConstructor>(keys: Iterable<Key>, type: T): Array<InstanceType<T> | undefined>;
  has(key: Key): boolean;
  /** Whether the key existed. */
  delete(key: Key): boolean;

  keys(): IterableIterator<Uint8Array>;
  entries(): IterableIterator<[Uint8Array, Uint8Array]>;
  [Symbol.iterator](): IterableIterator<[Uint8Array, Uint8Array]>;

  compact(): void;
  verify(): void;
  flush(): void;
  flushAsync(): Promise<void>;
  /** Read-only stores: see other writers' commits; whether anything changed. */
  refresh(): boolean;
  /** Idempotent; views from this store become empty. */
  close(): void;
}

/**
 * The store run by a dedicated worker, behind promises (openAsync). Every method checks its
 * arguments first (rejecting with TypeError/RangeError), then posts to the worker. Values come
 * back as copies that own their bytes (transferred ArrayBuffers), never views.
 */
export interface AsyncStore {
  readonly backend: BackendName;
  readonly path: string;
  readonly readOnly: boolean;
  /** True once close() ran or the worker failed. */
  readonly closed: boolean;
  /** Always false: values are copies. */
  readonly zeroCopy: false;
  readonly viewLifetime: 'copy';
  /** Live keys. */
  readonly size: Promise<number>;
  /** Bytes of the file. */
  readonly fileSize: Promise<number>;

  put(key: Key, value: Value): Promise<void>;
  /** All pairs in one crash-atomic commit. */
  putMany(entries: Iterable<readonly [Key, Value]>): Promise<void>;
  putManyAsync(entries: Iterable<readonly [Key, Value]>): Promise<void>;
  /** A copy of the value, or undefined. */
  get(key: Key): Promise<Uint8Array | undefined>;
  /** A copy typed as `type`; rejects with RangeError when the length does not fit. */
  get<T extends TypedArrayConstructor>(key: Key, type: T): Promise<InstanceType<T> | undefined>;
  getCopy(key: Key): Promise<Uint8Array | undefined>;
  getMany(keys: Iterable<Key>): Promise<Array<Uint8Array | undefined>>;
  getMany<T extends TypedArrayConstructor>(keys: Iterable<Key>, type: T): Promise<Array<InstanceType<T> | undefined>>;
  has(key: Key): Promise<boolean>;
  delete(key: Key): Promise<boolean>;
  /** Live keys (copies), fetched from the worker in batches. */
  keys(): AsyncIterableIterator<Uint8Array>;
  /** Live [key, value] pairs (copies), fetched from the worker in batches. */
  entries(): AsyncIterableIterator<[Uint8Array, Uint8Array]>;
  [Symbol.asyncIterator](): AsyncIterableIterator<[Uint8Array, Uint8Array]>;
  compact(): Promise<void>;
  verify(): Promise<void>;
  flush(): Promise<void>;
  flushAsync(): Promise<void>;
  refresh(): Promise<boolean>;
  /** Closes the store and terminates its worker. Idempotent. */
  close(): Promise<void>;
}

/**
 * Opens a store. Node: the native addon (or wasm on node:fs). Browsers: in a dedicated worker,
 * the wasm build on OPFS (`name` is an OPFS path); elsewhere (the main thread) rejects with
 * SimdrError OPFS_UNAVAILABLE: use openAsync.
 */
export function open(name: string, options?: OpenOptions): Promise<Store>;
/** Node only; browsers throw SimdrError UNSUPPORTED (OPFS handles are acquired asynchronously). */
export function openSync(name: string, options?: OpenOptions): Store;
/**
 * Runs the store in a worker and returns its methods as promises. Browsers (the main thread
 * included): a new dedicated worker, the store on OPFS. Node: a worker thread on the same
 * backend (its calls are off the main thread; only pending calls keep the process alive).
 */
export function openAsync(name: string, options?: OpenOptions): Promise<AsyncStore>;
/** The active backend, or null when none could load. */
export const backend: BackendName | null;

declare const simdr: {
  open: typeof open;
  openSync: typeof openSync;
  openAsync: typeof openAsync;
  backend: typeof backend;
  SimdrError: typeof SimdrError;
  Store: typeof Store;
};
export default simdr;
