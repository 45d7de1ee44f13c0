#!/usr/bin/env bash
# Stop the Kafka broker started by ci/kafka/start.sh (only that one, by its PID).
#
#   ci/kafka/stop.sh            # stop, keep data (next start.sh reuses topics/offsets)
#   ci/kafka/stop.sh --clean    # stop and delete ci/kafka/run/ (data, config, logs)
#
# Env: KAFKA_STOP_TIMEOUT  seconds to wait after SIGTERM before SIGKILL (default 30)
set -euo pipefail

DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RUN="$DIR/run"
PIDFILE="$RUN/kafka.pid"
TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"

clean=0
for arg in "$@"; do
  case "$arg" in
    --clean) clean=1 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "usage: $0 [--clean]" >&2; exit 2 ;;
  esac
done

log() { echo "[kafka] $*"; }

pid=""
if [[ -f "$PIDFILE" ]]; then
  pid="$(cat "$PIDFILE" 2>/dev/null || true)"
  # Only signal the PID if it is still our broker (guards against PID reuse).
  if ! [[ "$pid" =~ ^[0-9]+$ ]] || ! [[ -r "/proc/$pid/cmdline" ]] ||
     ! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "kafka.Kafka $RUN/server.properties"; then
    log "stale pid file ($pid is not our broker); nothing to stop"
    pid=""
    rm -f "$PIDFILE"
  fi
else
  log "no pid file ($PIDFILE); broker not running (from this script)"
fi

if [[ -n "$pid" ]]; then
  log "stopping broker pid $pid (SIGTERM, up to ${TIMEOUT}s)"
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + TIMEOUT))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    log "still alive after ${TIMEOUT}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$PIDFILE"
  log "stopped"
fi

if ((clean)); then
  rm -rf "$RUN"
  log "removed $RUN"
fi
