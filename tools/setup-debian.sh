#!/usr/bin/env bash
# Installs everything SIMD R Drive needs from Debian 12 packages, plus any package named on
# the command line (tools/bench.sh adds the peers'). Idempotent and non-interactive; runs apt
# as root, or through sudo when not root.
set -euo pipefail

packages=("$@"

  build-essential g++ cmake ninja-build pkg-config git
  libsimde-dev libxxhash-dev catch2 libcli11-dev nlohmann-json3-dev
  clang libclang-rt-14-dev
  g++-aarch64-linux-gnu qemu-user
  emscripten nodejs chromium  # npm: part of the CI image's nodejs (NodeSource), not the Debian npm
)
# Node and npm for the Node tier (tests/js): Debian's packages only when no node/npm is on the
# PATH (a NodeSource nodejs bundles npm and conflicts with Debian's npm package).
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)

if [[ $(id -u) -eq 0 ]]; then sudo=(); else sudo=(sudo); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if (( ${#missing[@]} )); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: all packages present"
fi
