// Workers as ES modules: simd-r-drive's worker loads the wasm module with a dynamic import,
// which Vite can split only in 'es' workers.
export default { worker: { format: 'es' } };
