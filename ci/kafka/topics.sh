#!/usr/bin/env bash
# Create Kafka topics on the broker started by ci/kafka/start.sh (idempotent).
#
#   ci/kafka/topics.sh NAME [NAME...]
#
# Env:
#   KAFKA_PARTITIONS  partitions per new topic (default 3); replication factor is always 1
#   KAFKA_PORT        broker port (default 9092)
# Existing topics are left untouched (--if-not-exists). Topics are created in parallel.
set -euo pipefail

DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LIB="$DIR/lib"
RUN="$DIR/run"
BOOTSTRAP="127.0.0.1:${KAFKA_PORT:-9092}"
PARTITIONS="${KAFKA_PARTITIONS:-3}"

if (($# == 0)); then
  echo "usage: $0 TOPIC [TOPIC...]   (env KAFKA_PARTITIONS, default 3)" >&2
  exit 2
fi
compgen -G "$LIB/kafka-tools-*.jar" >/dev/null || {
  echo "[kafka] no jars in $LIB; run ci/kafka/start.sh first" >&2
  exit 1
}

log4j="$RUN/tools-log4j.properties"
[[ -f "$log4j" ]] || log4j=/dev/null # start.sh writes it; /dev/null just silences warnings

create() {
  java -Xmx128m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto \
    -Dlog4j.configuration="file:$log4j" -cp "$LIB/*" org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "$BOOTSTRAP" --create --if-not-exists \
    --topic "$1" --partitions "$PARTITIONS" --replication-factor 1
}

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
pids=()
for t in "$@"; do
  create "$t" >"$tmp/$t.out" 2>&1 &
  pids+=($!)
done

rc=0
i=0
for t in "$@"; do
  if wait "${pids[$i]}"; then
    echo "[kafka] topic $t ok (partitions=$PARTITIONS, rf=1)"
  else
    rc=1
    echo "[kafka] FAILED to create topic $t:" >&2
    cat "$tmp/$t.out" >&2
  fi
  i=$((i + 1))
done
exit $rc
