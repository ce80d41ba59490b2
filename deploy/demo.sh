#!/usr/bin/env bash
# The article's "Deliberately causing a failure", live on this machine (npm run demo):
#   1. build the image and deploy it to a single-node Swarm on loopback (deploy/swarm/deploy.sh)
#   2. wait until docker ps shows the task (healthy)
#   3. curl 127.0.0.1:6767/testability/healthy/false: /health now answers 503
#   4. watch the HEALTHCHECK fail, Swarm kill the task and start a new container (a new ID)
#      that becomes (healthy), with nobody touching it
#   5. print the phases of the healing from the engine's timestamps (scripts/healing-phases.ts):
#      switched off, unhealthy, old container gone, new container created, new container healthy
# Everything the demo creates (stack, volumes, tags, the swarm if it made one) is removed on exit,
# also on failure or Ctrl-C. Needs root (to start dockerd when none runs) and port 6767 free.
set -euo pipefail

DOCKER=${DOCKER:-docker}
export DOCKER
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$HERE/.." && pwd)
STACK=accountservice
SERVICE=${STACK}_accountservice
BASE=http://127.0.0.1:6767
STEP_DEADLINE_S=${ACCOUNTSERVICE_DEMO_DEADLINE:-120}
export ACCOUNTSERVICE_STACK=$STACK

start=$SECONDS
bold=$'\e[1m' plain=$'\e[0m'
[[ -t 1 ]] || bold='' plain=''
elapsed() { printf '%3ds' $((SECONDS - start)); }
step() { printf '\n%s[%s] %s%s\n' "$bold" "$(elapsed)" "$*" "$plain"; }
note() { printf '[%s]   %s\n' "$(elapsed)" "$*"; }
die() { printf 'demo: ERROR: %s\n' "$*" >&2; exit 1; }
show_ps() { "$DOCKER" ps --filter "label=com.docker.swarm.service.name=$SERVICE" --format 'table {{.ID}}\t{{.Image}}\t{{.CreatedAt}}\t{{.Status}}' | sed 's/^/        /'; }
task_ids() { "$DOCKER" ps -q --filter "label=com.docker.swarm.service.name=$SERVICE" "$@"; }

command -v curl >/dev/null 2>&1 || die "the demo uses curl to talk to the service (apt-get install curl)"

step "Making sure a Docker engine runs"
bash "$HERE/docker/ensure-engine.sh"

if "$DOCKER" stack ls --format '{{.Name}}' 2>/dev/null | grep -qx "$STACK"; then
  die "stack $STACK is already deployed; the demo would remove it afterwards. Run deploy/swarm/deploy.sh --down first"
fi
if (exec 3<>/dev/tcp/127.0.0.1/6767) 2>/dev/null; then
  die "something already listens on 127.0.0.1:6767 (stop it first: the demo's service listens there)"
fi

cleaning=0
cleanup() {
  local status=$?
  ((cleaning)) && return
  cleaning=1
  step "Cleaning up what the demo created"
  bash "$HERE/swarm/deploy.sh" --down || status=1
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "Building the image and deploying it to a single-node Swarm on loopback"
bash "$HERE/swarm/deploy.sh"
first=$(task_ids --filter health=healthy)
[[ -n $first ]] || die "deploy.sh finished but no task is (healthy)"
note "the task's container is ${first:0:12}; Swarm runs the image's HEALTHCHECK in it:"
note "  $("$DOCKER" inspect --format '{{json .Config.Healthcheck}}' "$first")"
show_ps

step "GET $BASE/health"
note "$(curl -sS -w '  (HTTP %{http_code})' "$BASE/health")"

step "Deliberately causing a failure: GET $BASE/testability/healthy/false"
switched_off_ms=$(date +%s%3N)
curl -sS -o /dev/null -w "[$(elapsed)]   HTTP %{http_code}\n" "$BASE/testability/healthy/false"
note "$(curl -sS -w '  (HTTP %{http_code})' "$BASE/health")"
failed_at=$SECONDS

step "Watching Swarm notice and replace the task (every HEALTHCHECK interval, 3 failures in a row)"
last=''
reason=''
replacement=''
deadline=$((SECONDS + STEP_DEADLINE_S))
while ((SECONDS < deadline)); do
  now=$("$DOCKER" ps --filter "label=com.docker.swarm.service.name=$SERVICE" --format '{{.ID}} {{.Status}}' | sed 's/Up [^(]*//')
  if [[ $now != "$last" ]]; then
    note "docker ps: ${now:-(no container)}"
    last=$now
  fi
  # Read the failed checks' output while the container is still there to inspect.
  if [[ -z ${reason:-} && $now == *"${first:0:12} (unhealthy)"* ]]; then
    reason=$("$DOCKER" inspect --format '{{range .State.Health.Log}}{{if .ExitCode}}{{.Output}}{{end}}{{end}}' "$first" 2>/dev/null | sed '/^$/d' | tail -n 1 || true)
    note "its last failed check printed: ${reason:-(nothing)}"
  fi
  replacement=$(task_ids --filter health=healthy | grep -v "^${first:0:12}" || true)
  [[ -n $replacement ]] && break
  sleep 0.5
done
[[ -n $replacement ]] || die "no new (healthy) container within ${STEP_DEADLINE_S}s; docker service ps $SERVICE says: $("$DOCKER" service ps --no-trunc "$SERVICE" 2>&1)"

step "Healed: new container ${replacement:0:12} is (healthy), $((SECONDS - failed_at))s after the failure"
show_ps
"$DOCKER" service ps "$SERVICE" --format '        {{.Name}} {{.CurrentState}} {{.Error}}'
note "$(curl -sS -w '  (HTTP %{http_code})' "$BASE/health")"

step "How long each phase took (seconds after the switch-off, from the engine's timestamps: docker inspect and docker events)"
retries=$("$DOCKER" inspect --format '{{.Config.Healthcheck.Retries}}' "$first")
(cd "$REPO_ROOT" && node --import tsx scripts/healing-phases.ts "$switched_off_ms" "$first" "$replacement" "$retries") | sed 's/^/        /'
