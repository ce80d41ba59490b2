#!/usr/bin/env bash
# Builds the accountservice image on a machine without a registry.
#
# Makes sure an engine runs (ensure-engine.sh) and the local base-image stand-ins exist
# (make-base-images.sh), then builds the repository's Dockerfile with them. With access to a
# registry none of this is needed: `docker build -t accountservice .` uses the real bases.
#
# The default tag carries a registry prefix on loopback (127.0.0.1:5000/...): Swarm always tries
# to pull a service's image first, and that attempt then fails at once on 127.0.0.1 instead of
# looking up a public host, before Swarm falls back to the local image.
#
# Usage: deploy/docker/build-image.sh [--force-base] [IMAGE]     (prints IMAGE on stdout)
# Environment: DOCKER (docker CLI, default docker), ACCOUNTSERVICE_IMAGE (default tag).
set -euo pipefail

DOCKER=${DOCKER:-docker}
export DOCKER
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$HERE/../.." && pwd)

say() { printf 'build-image: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

image=${ACCOUNTSERVICE_IMAGE:-127.0.0.1:5000/accountservice:dev}
base_args=()
for arg in "$@"; do
  case $arg in
    --force-base) base_args+=(--force) ;;
    -*) die "unknown option '$arg' (accepted: --force-base)" ;;
    *) image=$arg ;;
  esac
done

bash "$HERE/ensure-engine.sh"
mapfile -t bases < <(bash "$HERE/make-base-images.sh" "${base_args[@]}")
((${#bases[@]} == 2)) || die "make-base-images.sh did not name the two base images"
runtime_base=${bases[0]}
build_base=${bases[1]}

build_args=(--build-arg "BUILD_IMAGE=$build_base" --build-arg "RUNTIME_IMAGE=$runtime_base")
# Docker passes these to RUN steps without an ARG line; npm in the build needs them where a
# proxy is the only way out.
for proxy in HTTP_PROXY HTTPS_PROXY NO_PROXY http_proxy https_proxy no_proxy; do
  if [[ -n ${!proxy:-} ]]; then build_args+=(--build-arg "$proxy"); fi
done

previous_id=$("$DOCKER" image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
say "building $image from $REPO_ROOT (bases: $build_base, $runtime_base)"
start=$SECONDS
# --network host: the engine here runs with --bridge=none, so a build step has a network only
# on the host's (npm ci needs the registry). --pull=false: the bases are local, never pulled.
# DOCKER_BUILDKIT=0: the Debian engine's classic builder; the CLI may have no buildx plugin.
# --force-rm: a failed step leaves no stopped container behind.
DOCKER_BUILDKIT=0 "$DOCKER" build --network host --pull=false --force-rm "${build_args[@]}" -t "$image" "$REPO_ROOT" >&2 ||
  die "docker build failed (see the output above)"
# The previous build under this tag is now untagged: remove it unless a container still uses it
# (then `image rm` refuses, which is fine), so repeated builds do not pile up 140 MB each.
if [[ -n $previous_id && $previous_id != "$("$DOCKER" image inspect --format '{{.Id}}' "$image")" &&
  -z $("$DOCKER" image inspect --format '{{join .RepoTags ""}}' "$previous_id" 2>/dev/null) ]]; then
  "$DOCKER" image rm "$previous_id" >/dev/null 2>&1 || true
fi
say "built $image in $((SECONDS - start))s ($("$DOCKER" image inspect --format '{{.Size}}' "$image" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
printf '%s\n' "$image"
