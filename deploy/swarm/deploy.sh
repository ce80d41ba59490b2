#!/usr/bin/env bash
# Builds the image and (re)deploys accountservice to a single-node Swarm on this machine: the
# successor of the article's copyall.sh (build, then `docker service rm` + `docker service create`).
#
#   deploy/swarm/deploy.sh           build, init a loopback swarm if there is none, deploy, wait
#                                    until the task is (healthy); safe to run again after a change
#   deploy/swarm/deploy.sh --down    remove the stack, its data volumes and its image tags, and
#                                    leave the swarm if this script created it
#
# The stack is deploy/swarm/stack.yml with deploy/swarm/stack.local.yml on top (host network,
# loopback, one replica, testability on). A cluster with a registry deploys stack.yml alone.
#
# Each build is deployed under a tag naming its image ID (…:dev-<id>): a changed build changes
# the service spec, so Swarm rolls it out; an unchanged one is a no-op. (Re-deploying the same
# tag would leave the old containers running.)
#
# Environment: DOCKER (docker CLI), ACCOUNTSERVICE_STACK (stack name, default accountservice),
# ACCOUNTSERVICE_DEPLOY_DEADLINE (seconds to wait for (healthy), default 120).
set -euo pipefail

DOCKER=${DOCKER:-docker}
export DOCKER
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$HERE/../.." && pwd)
STACK=${ACCOUNTSERVICE_STACK:-accountservice}
SERVICE=${STACK}_accountservice
REPOSITORY=127.0.0.1:5000/accountservice
DEADLINE_S=${ACCOUNTSERVICE_DEPLOY_DEADLINE:-120}
# Remembers the swarm this script initialised (its node ID), so --down leaves only that one.
SWARM_MARKER=${ACCOUNTSERVICE_SWARM_MARKER:-/tmp/accountservice-swarm-initialised-by-deploy}

say() { printf 'deploy: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

usage() { sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

down=0
for arg in "$@"; do
  case $arg in
    --down) down=1 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$arg'" ;;
  esac
done

swarm_state() { "$DOCKER" info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null || echo unknown; }
service_containers() { "$DOCKER" ps -aq --filter "label=com.docker.swarm.service.name=$SERVICE"; }

# Polls "$@" until it succeeds, at most $1 seconds; returns 1 on timeout.
wait_for() {
  local seconds=$1
  shift
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}

no_service_containers() { [[ -z $(service_containers) ]]; }

take_down() {
  if [[ $(swarm_state) != active ]]; then
    say "this engine is in no swarm: nothing deployed"
  elif "$DOCKER" stack ls --format '{{.Name}}' | grep -qx "$STACK"; then
    say "removing stack $STACK"
    "$DOCKER" stack rm "$STACK" >&2
  else
    say "stack $STACK is not deployed"
  fi
  # stack rm returns before the containers are gone; the volumes are in use until they are.
  wait_for 60 no_service_containers || die "containers of $SERVICE still exist after 60 s: $(service_containers | tr '\n' ' ')"
  # Tasks keep their data in a tmpfs of their own now; these are left by deployments of older
  # versions of the stack, which gave each slot a volume. They hold only seeded fake accounts.
  local volumes
  volumes=$("$DOCKER" volume ls -q --filter 'name=^accountservice-data-[0-9]+$')
  if [[ -n $volumes ]]; then
    say "removing volumes: $(echo $volumes)"
    # shellcheck disable=SC2086
    "$DOCKER" volume rm $volumes >/dev/null
  fi
  local tags
  tags=$("$DOCKER" image ls --format '{{.Repository}}:{{.Tag}}' "$REPOSITORY" | grep -E ':dev-[0-9a-f]{12}$' || true)
  if [[ -n $tags ]]; then
    say "removing deploy tags: $(echo $tags)"
    # shellcheck disable=SC2086
    "$DOCKER" image rm $tags >/dev/null
  fi
  if [[ -f $SWARM_MARKER ]]; then
    if [[ $(swarm_state) == active && $("$DOCKER" info --format '{{.Swarm.NodeID}}') == "$(cat "$SWARM_MARKER")" ]]; then
      say "leaving the single-node swarm deploy.sh created"
      "$DOCKER" swarm leave --force >&2
    fi
    rm -f "$SWARM_MARKER"
  elif [[ $(swarm_state) == active ]]; then
    say "leaving the swarm as it is (deploy.sh did not create it)"
  fi
  say "down"
}

if ((down)); then
  "$DOCKER" info >/dev/null 2>&1 || die "no Docker engine answers: nothing to take down"
  take_down
  exit 0
fi

image=$(bash "$REPO_ROOT/deploy/docker/build-image.sh" "$REPOSITORY:dev")
image_id=$("$DOCKER" image inspect --format '{{.Id}}' "$image")
short_id=${image_id#sha256:}
deploy_tag=$REPOSITORY:dev-${short_id:0:12}
"$DOCKER" tag "$image" "$deploy_tag"

case $(swarm_state) in
  active) say "using the swarm this engine is already in" ;;
  inactive)
    say "initialising a single-node swarm on loopback"
    "$DOCKER" swarm init --advertise-addr 127.0.0.1 --listen-addr 127.0.0.1:2377 >/dev/null ||
      die "docker swarm init failed"
    "$DOCKER" info --format '{{.Swarm.NodeID}}' >"$SWARM_MARKER"
    ;;
  *) die "this engine's swarm state is '$(swarm_state)'; fix it (docker swarm leave --force?) and retry" ;;
esac
[[ $("$DOCKER" info --format '{{.Swarm.ControlAvailable}}') == true ]] ||
  die "this node is not a swarm manager: deploy from a manager"

previous=$(service_containers | sort)
say "deploying $deploy_tag as stack $STACK (service $SERVICE)"
# --resolve-image never: the image exists only on this machine; do not ask a registry for it.
ACCOUNTSERVICE_IMAGE=$deploy_tag "$DOCKER" stack deploy --resolve-image never --prune \
  -c "$HERE/stack.yml" -c "$HERE/stack.local.yml" "$STACK" >&2 ||
  die "docker stack deploy failed"

# Done when a container of the new spec's image is (healthy).
healthy_on_new_image() {
  local id
  for id in $("$DOCKER" ps -q --filter "label=com.docker.swarm.service.name=$SERVICE" --filter health=healthy); do
    if [[ $("$DOCKER" inspect --format '{{.Config.Image}}' "$id") == "$deploy_tag" ]]; then
      healthy_id=$id
      return 0
    fi
  done
  return 1
}
start=$SECONDS
if ! wait_for "$DEADLINE_S" healthy_on_new_image; then
  "$DOCKER" service ps --no-trunc "$SERVICE" >&2 || true
  die "no (healthy) task of $SERVICE within ${DEADLINE_S}s (task states above; docker service logs $SERVICE)"
fi
if [[ $previous == $(service_containers | sort) ]]; then
  say "unchanged: container ${healthy_id:0:12} already runs this build"
else
  say "container ${healthy_id:0:12} is (healthy) after $((SECONDS - start))s"
fi
"$DOCKER" ps --filter "label=com.docker.swarm.service.name=$SERVICE" >&2
say "try: curl 127.0.0.1:6767/health    remove: $0 --down"
