// errors.js - SimdrError: every failure of the store, on every backend, with a stable string code.
//
// Backends throw `new SimdrError(errc, message, { errno, offset })` where errc is the core's
// numeric simdr::errc (pinned in core/include/simdr/error.hpp); see js/BACKEND.md.

/** The core's error codes (simdr::errc) by number; values are pinned and never reused. */
const CODES = Object.freeze({
  1: 'NOT_FOUND',
  2: 'EXISTS',
  10: 'INVALID_ARGUMENT',
  11: 'CLOSED',
  12: 'READ_ONLY',
  13: 'BUSY',
  20: 'IO',
  21: 'NO_SPACE',
  22: 'LOCKED',
  23: 'ACCESS_DENIED',
  24: 'FILE_NOT_FOUND',
  25: 'NOT_A_FILE',
  30: 'CORRUPT',
  31: 'CHECKSUM_MISMATCH',
  32: 'BAD_MAGIC',
  33: 'UNSUPPORTED_VERSION',
  40: 'NO_MEMORY',
  41: 'TOO_LARGE',
  50: 'UNSUPPORTED_CPU',
  51: 'OPFS_UNAVAILABLE',
  52: 'UNSUPPORTED',
});

/** String code -> errc number. */
export const ERRC = Object.freeze(
  Object.fromEntries(Object.entries(CODES).map(([n, name]) => [name, Number(n)])));

export class SimdrError extends Error {
  /**
   * @param {number|string} code  simdr::errc number, or its string name ('LOCKED', ...)
   * @param {string} message
   * @param {{errno?: number, offset?: number, cause?: unknown}} [details]
   */
  constructor(code, message, details = {}) {
    const name = typeof code === 'number' ? (CODES[code] ?? 'UNKNOWN') : String(code);
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'SimdrError';
    /** Stable string code, e.g. 'LOCKED'. */
    this.code = name;
    /** The core's numeric error code (simdr::errc), or 0 when unknown. */
    this.errc = typeof code === 'number' ? code : (ERRC[name] ?? 0);
    /** The operating system's errno behind an IO error, when there was one. */
    if (details.errno) this.errno = details.errno;
    /** File offset of the damage, for CORRUPT and CHECKSUM_MISMATCH. */
    if (details.offset !== undefined && details.offset !== null && details.offset >= 0) {
      this.offset = details.offset;
    }
  }
}
