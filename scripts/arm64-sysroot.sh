#!/usr/bin/env bash
# An arm64 userland for running the linux-arm64 prebuild under qemu-user on an x86-64 Debian 12 host: Debian's
# node 18 for arm64 (Node-API 9) and the libraries it links, unpacked with `dpkg -x` into one directory, not
# installed. Run the addon with
#   qemu-aarch64-static -L DIR DIR/usr/bin/node ...
# (-L makes qemu look up every absolute path in DIR first: the dynamic loader, the libraries, and the modules
# Debian's node loads from /usr/share/nodejs: acorn, cjs-module-lexer, undici.)
#
# Usage: scripts/arm64-sysroot.sh [DIR]    DIR defaults to node_modules/.cache/arm64-sysroot (outside build/,
# which every `cmake-js rebuild` deletes). Prints DIR. Idempotent: a complete DIR for the same package list is
# left as it is. Needs apt to know arm64 packages: as root it runs `dpkg --add-architecture arm64` and
# `apt-get update` when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=$(realpath -m "${1:-node_modules/.cache/arm64-sysroot}")
arm64=(nodejs libnode108 libc6 libstdc++6 libgcc-s1 libuv1 libssl3 libicu72 libc-ares2 libnghttp2-14 libbrotli1 zlib1g)
common=(node-acorn node-cjs-module-lexer node-undici)
wanted="${arm64[*]} ${common[*]}"

if [[ -f $dir/.complete && $(cat "$dir/.complete") == "$wanted" ]]; then
  echo "$dir"
  exit 0
fi

if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  echo "arm64-sysroot: adding the arm64 architecture to dpkg and updating apt's lists" >&2
  dpkg --add-architecture arm64
  apt-get update -qq
elif [[ -z $(apt-cache madison nodejs:arm64 2>/dev/null) ]]; then
  echo "arm64-sysroot: apt has no arm64 package lists yet; updating them" >&2
  apt-get update -qq
fi

rm -rf "$dir"
mkdir -p "$dir/debs"
# As root, apt fetches as its _apt user, who cannot write here, so it warns and falls back to root: ask for root.
sandbox=()
((EUID == 0)) && sandbox=(-o APT::Sandbox::User=root)
(cd "$dir/debs" && apt-get download -qq "${sandbox[@]}" "${arm64[@]/%/:arm64}" "${common[@]}")
for deb in "$dir"/debs/*.deb; do dpkg -x "$deb" "$dir"; done
rm -rf "$dir/debs"
echo "$wanted" > "$dir/.complete"
echo "$dir"
