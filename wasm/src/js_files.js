// js_files.js - Emscripten --js-library behind wasm/src/file_io.hpp: the wasm storage's file
// calls, forwarded to the host file object the loader was given as `Module.simdrFiles`
// (js/backends/wasm_files.js: NodeFiles over node:fs, OpfsFiles over OPFS sync access
// handles). Pointers arrive as signed i32 (negative above 2 GiB): `>>> 0` before use.
//
// simdr_views_moved() is the view-lifetime rule of the JS API: the storage calls it whenever
// image bytes move or are freed, and grow(0) detaches the current ArrayBuffer, so every view
// JS holds over wasm memory becomes length 0 instead of showing other bytes later. Emscripten's
// own HEAP* views are then rebuilt over the new buffer.
mergeInto(LibraryManager.library, {
  simdr_file_open: function (path, pathLen, flags) {
    path >>>= 0;
    const name = new TextDecoder().decode(HEAPU8.slice(path, path + (pathLen >>> 0)));
    return Module['simdrFiles'].open(name, flags);
  },
  simdr_file_size: function (file) {
    return Module['simdrFiles'].size(file);
  },
  simdr_file_read: function (file, dst, len, offset) {
    dst >>>= 0;
    return Module['simdrFiles'].read(file, HEAPU8.subarray(dst, dst + (len >>> 0)), offset);
  },
  simdr_file_write: function (file, src, len, offset) {
    src >>>= 0;
    return Module['simdrFiles'].write(file, HEAPU8.subarray(src, src + (len >>> 0)), offset);
  },
  simdr_file_truncate: function (file, size) {
    return Module['simdrFiles'].truncate(file, size);
  },
  simdr_file_flush: function (file) {
    return Module['simdrFiles'].flush(file);
  },
  simdr_file_close: function (file) {
    Module['simdrFiles'].close(file);
  },
  simdr_file_remove: function (path, pathLen) {
    path >>>= 0;
    const name = new TextDecoder().decode(HEAPU8.slice(path, path + (pathLen >>> 0)));
    return Module['simdrFiles'].remove(name);
  },
  simdr_file_errno: function () {
    return Module['simdrFiles'].lastErrno | 0;
  },
  simdr_views_moved: function () {
    wasmMemory.grow(0);
    updateGlobalBufferAndViews(wasmMemory.buffer);
  },
});
