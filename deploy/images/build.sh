#!/usr/bin/env bash
# Builds (or reuses) the local stand-ins for the registry images this machine cannot pull:
#   local/debian:bookworm  debootstrap minbase, imported           (replaces debian:bookworm)
#   local/node:20          the host's own Node 20 on that base       (replaces node:20-bookworm-slim)
#   local/postgres:15      Debian's postgresql-15 + entrypoint.sh    (replaces postgres:15)
# The Temporal server image is not a stand-in: docker-compose.yml builds it from deploy/temporal/ on
# top of BASE_IMAGE (debian:bookworm-slim; local/debian:bookworm here).
# Idempotent: an image that exists is kept (FORCE=1 rebuilds). Prints one JSON line per image.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${VPN_DEPLOY_CACHE:-$HOME/.cache/vpn-deploy}
mkdir -p "$cache"

have() { [ "${FORCE:-0}" != 1 ] && docker image inspect "$1" >/dev/null 2>&1; }
report() { printf '{"event":"image","image":"%s","state":"%s","seconds":%s}\n' "$1" "$2" "$3"; }

mirror() {
  # The first deb822 URIs line of the host's own sources: the mirror this machine may reach.
  awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true
}

build_debian() {
  local img=local/debian:bookworm t0=$SECONDS
  if have $img; then report $img cached 0; return; fi
  command -v debootstrap >/dev/null || { echo "debootstrap missing: apt-get install debootstrap" >&2; exit 1; }
  local url; url=$(mirror); url=${url:-http://deb.debian.org/debian}
  local rootfs="$cache/rootfs-bookworm"
  rm -rf "$rootfs"
  debootstrap --variant=minbase bookworm "$rootfs" "$url" >"$cache/debootstrap.log" 2>&1 \
    || { tail -20 "$cache/debootstrap.log" >&2; exit 1; }
  local sec=${url%/debian}/debian-security
  cat >"$rootfs/etc/apt/sources.list" <<SRC
deb $url bookworm main
deb $url bookworm-updates main
deb $sec bookworm-security main
SRC
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | docker import -c 'CMD ["bash"]' - $img >/dev/null
  rm -rf "$rootfs"
  report $img built $((SECONDS - t0))
}

build_node() {
  local img=local/node:20 t0=$SECONDS
  if have $img; then report $img cached 0; return; fi
  local ctx="$cache/node-ctx" prefix
  prefix=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
  rm -rf "$ctx" && mkdir -p "$ctx/usr/local/bin" "$ctx/usr/local/lib" "$ctx/certs"
  cp "$prefix/bin/node" "$ctx/usr/local/bin/node"
  cp -a "$prefix/lib/node_modules" "$ctx/usr/local/lib/"
  cp /usr/local/share/ca-certificates/*.crt "$ctx/certs/" 2>/dev/null || true
  cp "$here/node.Dockerfile" "$ctx/Dockerfile"
  docker build --network host -q -t $img "$ctx" >/dev/null
  rm -rf "$ctx"
  report $img built $((SECONDS - t0))
}

build_postgres() {
  local img=local/postgres:15 t0=$SECONDS
  if have $img; then report $img cached 0; return; fi
  docker build --network host -q -t $img -f "$here/postgres.Dockerfile" "$here" >/dev/null
  report $img built $((SECONDS - t0))
}

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(debian node postgres)
for t in "${targets[@]}"; do "build_$t"; done
