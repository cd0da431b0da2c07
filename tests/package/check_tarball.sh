#!/usr/bin/env bash
# check_tarball.sh - `npm pack`, then install the tarball in a fresh folder and use it there:
# 'simd-r-drive' (the native addon, built by the package's install script) and
# 'simd-r-drive/wasm' (the shipped wasm module on node:fs, private memory, then the shared-memory
# build) both write and read back a store.
# Run by tier_node. The tarball is kept in OUT_DIR when given, else removed.
#   tests/package/check_tarball.sh [OUT_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-}
keep=1
if [[ -z "$out" ]]; then out=$(mktemp -d "${TMPDIR:-/tmp}/simdr-pack.XXXXXX"); keep=0; fi
mkdir -p "$out"
cd "$root"
npm pack --silent --pack-destination "$out" >/dev/null
tarball=$out/simd-r-drive-$(node -p "require('./package.json').version").tgz
listing=$(tar tzf "$tarball")  # once: `tar | grep -q` fails under pipefail when grep stops early
for f in simdr_wasm.wasm simdr_wasm.mjs simdr_wasm_shared.wasm simdr_wasm_shared.mjs simdr_wasm_shared.worker.js; do
  grep -qx "package/js/wasm/$f" <<<"$listing" || { echo "the tarball lacks js/wasm/$f"; exit 1; }
done
app=$(mktemp -d "${TMPDIR:-/tmp}/simdr-app.XXXXXX")
trap 'rm -rf "$app"; (( keep )) || rm -rf "$out"' EXIT
cd "$app"
npm init -y >/dev/null
npm pkg set type=module >/dev/null
SIMDR_JOBS=${SIMDR_JOBS:-2} npm install --no-audit --no-fund --loglevel=error "$tarball" >/dev/null
cat >check.js <<'JS'
import assert from 'node:assert/strict';
import * as native from 'simd-r-drive';
import * as wasm from 'simd-r-drive/wasm';
assert.equal(native.backend, 'native', 'the addon built and loaded from the installed package');
assert.equal(wasm.backend, 'wasm');
for (const api of [native, wasm]) {
  const path = `./${api.backend}.simdr`;
  const db = await api.open(path);
  db.put('hello', `from ${api.backend}`);
  db.putMany([['a', new Float32Array([1, 2])], ['b', 'B']]);
  db.close();
  const again = await api.open(path, { readOnly: true });
  assert.equal(new TextDecoder().decode(again.get('hello')), `from ${api.backend}`);
  assert.deepEqual(Array.from(again.get('a', Float32Array)), [1, 2]);
  again.verify();
  if (api.backend === 'wasm') {
    assert.equal(again.viewLifetime,
      process.env.SIMDR_WASM_MEMORY === 'shared' ? 'while-reachable' : 'until-move');
  }
  again.close();
}
// Byte identity across the two: the wasm one reads the native one's file.
const cross = await wasm.open('./native.simdr', { readOnly: true });
assert.equal(new TextDecoder().decode(cross.get('hello')), 'from native');
cross.close();
// openAsync: the store on a worker thread, from the installed files.
const adb = await native.openAsync('./async.simdr');
await adb.put('k', 'v');
assert.equal(new TextDecoder().decode(await adb.get('k')), 'v');
await adb.close();
console.log('installed package: native and wasm backends write and read back');
JS
node check.js
# The shipped shared-memory build, chosen explicitly (Node's default is the private one).
SIMDR_WASM_MEMORY=shared node check.js
