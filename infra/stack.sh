#!/usr/bin/env bash
# Starts or stops the local stand-ins on 127.0.0.1: tansu (Kafka protocol, in-memory
# storage) and moto's server (S3, SNS, Glue, Athena APIs). Tracked by PID files in
# $VIGIL_CACHE/run; `start` reuses stand-ins that already answer. tansu keeps every record
# ever produced in memory (22 GB after a day of benchmarks here, which slowed everything
# else on the machine): `restart-broker` starts it afresh, empty, and `start` does so itself
# when the broker it would reuse holds more than VIGIL_BROKER_MAX_MB (default 2048) of
# memory (the records of earlier runs are lost; their outputs on disk are not).
# Usage: infra/stack.sh start|start-broker|stop|restart-broker|status
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
mkdir -p "$VIGIL_RUN"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() { # name, seconds, command…
  local name=$1 secs=$2; shift 2
  for _ in $(seq $((secs * 10))); do
    if "$@"; then return 0; fi
    sleep 0.1
  done
  die "$name did not become ready in ${secs}s (log: $VIGIL_RUN/$name.log)"
}

moto_ready() { curl -fsS "http://127.0.0.1:$VIGIL_MOTO_PORT/moto-api/" >/dev/null 2>&1; }

start_tansu() {
  if port_open "$VIGIL_KAFKA_PORT"; then note "broker already on 127.0.0.1:$VIGIL_KAFKA_PORT"; return; fi
  [ -x "$TANSU_BIN" ] || die "tansu is not installed: run infra/setup.sh broker"
  local url="tcp://127.0.0.1:$VIGIL_KAFKA_PORT"
  nohup "$TANSU_BIN" broker --listener-url "$url" --advertised-listener-url "$url" \
    --storage-engine memory://tansu/ >"$VIGIL_RUN/tansu.log" 2>&1 &
  echo $! >"$VIGIL_RUN/tansu.pid"
  wait_for tansu 20 port_open "$VIGIL_KAFKA_PORT"
  note "broker (tansu) on 127.0.0.1:$VIGIL_KAFKA_PORT, pid $(cat "$VIGIL_RUN/tansu.pid")"
}

start_moto() {
  if moto_ready; then note "moto already on 127.0.0.1:$VIGIL_MOTO_PORT"; return; fi
  [ -x "$VIGIL_VENV/bin/moto_server" ] || die "moto is not installed: run infra/setup.sh test"
  nohup "$VIGIL_VENV/bin/moto_server" -H 127.0.0.1 -p "$VIGIL_MOTO_PORT" >"$VIGIL_RUN/moto.log" 2>&1 &
  echo $! >"$VIGIL_RUN/moto.pid"
  wait_for moto 60 moto_ready
  note "AWS APIs (moto) on http://127.0.0.1:$VIGIL_MOTO_PORT, pid $(cat "$VIGIL_RUN/moto.pid")"
}

broker_mb() { # the running broker's resident memory in MB, or nothing
  local rss
  [ -f "$VIGIL_RUN/tansu.pid" ] && rss=$(ps -o rss= -p "$(cat "$VIGIL_RUN/tansu.pid")" 2>/dev/null) &&
    echo $((rss / 1024))
}

# A broker holding more than VIGIL_BROKER_MAX_MB of earlier runs' records is stopped, to be
# started afresh.
empty_a_full_broker() {
  local mb
  mb=$(broker_mb || true)
  if [ -n "$mb" ] && [ "$mb" -gt "${VIGIL_BROKER_MAX_MB:-2048}" ]; then
    note "the broker holds ${mb} MB of earlier runs' records (over VIGIL_BROKER_MAX_MB=${VIGIL_BROKER_MAX_MB:-2048}): starting it afresh"
    stop_one tansu
  fi
}

stop_one() {
  local pidfile="$VIGIL_RUN/$1.pid"
  [ -f "$pidfile" ] || return 0
  local pid; pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    note "stopped $1 (pid $pid)"
  fi
  rm -f "$pidfile"
}

case "${1:-}" in
  start) step "Local stand-ins"; empty_a_full_broker; start_tansu; start_moto ;;
  start-broker) step "Local broker"; empty_a_full_broker; start_tansu ;;
  stop) stop_one tansu; stop_one moto ;;
  restart-broker) step "A fresh, empty broker"; stop_one tansu; start_tansu ;;
  status)
    port_open "$VIGIL_KAFKA_PORT" && echo "broker: up on $VIGIL_KAFKA_PORT" || echo "broker: down"
    if mb=$(broker_mb); then
      echo "broker memory: $mb MB (infra/stack.sh restart-broker empties it)"
    fi
    moto_ready && echo "moto: up on $VIGIL_MOTO_PORT" || echo "moto: down" ;;
  *) echo "usage: $0 start|start-broker|stop|restart-broker|status" >&2; exit 2 ;;
esac
