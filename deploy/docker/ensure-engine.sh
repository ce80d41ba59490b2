#!/usr/bin/env bash
# Makes sure a Docker engine answers on this machine, starting one if needed.
#
# CI machines and fresh dev boxes here start without an engine and without any network beyond
# the Debian archive and the npm registry, so this script installs docker.io from apt when
# dockerd is missing and starts dockerd itself. An engine that already answers is left alone.
#
# When this script starts dockerd it writes dockerd's PID to the pidfile, so the caller can stop
# exactly that engine (and nothing else) when it is done:
#     kill "$(cat "${ACCOUNTSERVICE_DOCKERD_PIDFILE:-/tmp/accountservice-dockerd.pid}")"
# When an engine was already running, the pidfile is not written (an old one is removed only if
# the process it names is gone), so a caller never stops an engine it did not start.
#
# Environment:
#   DOCKER                          docker CLI to use (default: docker on PATH)
#   ACCOUNTSERVICE_DOCKERD_PIDFILE  where to write dockerd's PID (/tmp/accountservice-dockerd.pid)
#   ACCOUNTSERVICE_DOCKERD_LOG      dockerd's log file (/tmp/accountservice-dockerd.log)
#   ACCOUNTSERVICE_ENGINE_DEADLINE  seconds to wait for the engine to answer (60)
#   ACCOUNTSERVICE_ENGINE_LOCK      lock serialising concurrent callers (/tmp/accountservice-ensure-engine.lock)
set -euo pipefail

DOCKER=${DOCKER:-docker}
PIDFILE=${ACCOUNTSERVICE_DOCKERD_PIDFILE:-/tmp/accountservice-dockerd.pid}
LOGFILE=${ACCOUNTSERVICE_DOCKERD_LOG:-/tmp/accountservice-dockerd.log}
DEADLINE_S=${ACCOUNTSERVICE_ENGINE_DEADLINE:-60}
# One lock for every caller, whatever pidfile each uses: only one of them may start an engine.
LOCKFILE=${ACCOUNTSERVICE_ENGINE_LOCK:-/tmp/accountservice-ensure-engine.lock}

say() { printf 'ensure-engine: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

engine_answers() { "$DOCKER" info >/dev/null 2>&1; }

# Two callers at once (two engineers, two test runs) must not both start a dockerd.
exec 9>"$LOCKFILE"
flock -w "$DEADLINE_S" 9 || die "another ensure-engine.sh holds $LOCKFILE for more than ${DEADLINE_S}s"

if engine_answers; then
  say "a Docker engine already answers ($("$DOCKER" version --format 'server {{.Server.Version}}, API {{.Server.APIVersion}}' 2>/dev/null || echo 'version unknown')); nothing to do"
  # A pidfile naming a dead process would make a caller kill a recycled PID later.
  if [[ -f $PIDFILE ]] && ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    rm -f "$PIDFILE"
  fi
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1 || ! command -v "$DOCKER" >/dev/null 2>&1; then
  [[ $(id -u) == 0 ]] || die "dockerd or the docker CLI is missing and installing docker.io needs root"
  say "dockerd or the docker CLI is missing: installing docker.io from the Debian archive"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || die "apt-get update failed"
  apt-get install -y -qq docker.io >/dev/null || die "apt-get install docker.io failed"
  command -v dockerd >/dev/null 2>&1 || die "docker.io installed but dockerd is still not on PATH"
  command -v "$DOCKER" >/dev/null 2>&1 || die "docker.io installed but the docker CLI '$DOCKER' is not found"
fi

# An engine process may exist but not answer yet (or be wedged): do not start a second one,
# its pidfile and socket would collide.
if [[ -f /var/run/docker.pid ]] && kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
  die "dockerd (PID $(cat /var/run/docker.pid)) is running but '$DOCKER info' fails; see its log, or stop it and retry"
fi

[[ $(id -u) == 0 ]] || die "starting dockerd needs root"

mkdir -p "$(dirname "$LOGFILE")"
say "starting dockerd (log: $LOGFILE)"
# --bridge=none, no iptables, no forwarding: containers get no private-range network here and
# share the host's network (--network host); every request goes to 127.0.0.1.
# setsid puts dockerd in its own session so the caller's Ctrl-C or exit does not take it down;
# 9>&- keeps the lock from being inherited (dockerd would hold it for its whole life).
setsid dockerd --bridge=none --iptables=false --ip-forward=false >"$LOGFILE" 2>&1 </dev/null 9>&- &
started_pid=$!

deadline=$((SECONDS + DEADLINE_S))
until engine_answers; do
  if ! kill -0 "$started_pid" 2>/dev/null; then
    tail -n 20 "$LOGFILE" >&2 || true
    die "dockerd exited during start-up (log above, full log: $LOGFILE)"
  fi
  if ((SECONDS >= deadline)); then
    tail -n 20 "$LOGFILE" >&2 || true
    kill "$started_pid" 2>/dev/null || true
    die "dockerd did not answer within ${DEADLINE_S}s (log above, full log: $LOGFILE)"
  fi
  sleep 0.5
done

# setsid exec()s dockerd in place when it need not fork (a background job is never a process
# group leader), so $! is dockerd itself; dockerd's own pidfile confirms it.
dockerd_pid=$started_pid
if [[ -f /var/run/docker.pid ]]; then
  dockerd_pid=$(cat /var/run/docker.pid)
fi
echo "$dockerd_pid" >"$PIDFILE"
say "dockerd is up (PID $dockerd_pid, written to $PIDFILE); stop it with: kill $dockerd_pid"
