#!/usr/bin/env bash
# Make a Docker engine reachable for the tests and `make deploy`.
# An engine that already answers is used as it is and never touched; one this script
# starts is recorded in a pid file so that `stop` ends only what `start` began.
set -euo pipefail

STATE_DIR=${OWUI_ENGINE_STATE_DIR:-/run/owui-realtime}
LOG_DIR=${OWUI_ENGINE_LOG_DIR:-/var/log/owui-realtime}
PID_FILE="$STATE_DIR/dockerd.pid"
LOG_FILE="$LOG_DIR/dockerd.log"

say() { printf '[engine] %s\n' "$*"; }
die() { printf '[engine] FAILED: %s\n' "$*" >&2; exit 1; }

engine_answers() { docker info >/dev/null 2>&1; }

install_engine() {
  command -v dockerd >/dev/null 2>&1 && return 0
  [ "$(id -u)" = 0 ] || die "no dockerd on this machine and not root: install Docker (Debian: apt-get install docker.io) and start it, then re-run"
  say "installing Debian's docker.io (log: $LOG_DIR/apt-docker.log)"
  mkdir -p "$LOG_DIR"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io iptables; } \
      >"$LOG_DIR/apt-docker.log" 2>&1; then
    die "step 'install docker.io' did not finish; see $LOG_DIR/apt-docker.log"
  fi
}

start() {
  if engine_answers; then
    say "a Docker engine already answers ($(docker version --format '{{.Server.Version}}' 2>/dev/null)); using it as it is"
    return 0
  fi
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    die "no Docker engine answers; this host runs systemd, so start it there: systemctl start docker"
  fi
  install_engine
  mkdir -p "$STATE_DIR" "$LOG_DIR"
  say "starting dockerd in the background (log: $LOG_FILE, pid: $PID_FILE)"
  nohup dockerd --pidfile "$PID_FILE" >>"$LOG_FILE" 2>&1 </dev/null &
  for _ in $(seq 1 60); do
    engine_answers && { say "dockerd $(docker version --format '{{.Server.Version}}') is up"; return 0; }
    sleep 0.5
  done
  tail -n 20 "$LOG_FILE" >&2 || true
  die "step 'start dockerd' timed out after 30 s; see $LOG_FILE"
}

stop() {
  if [ ! -s "$PID_FILE" ]; then
    say "no engine started by this script; nothing to stop"
    return 0
  fi
  pid=$(cat "$PID_FILE")
  say "stopping the dockerd this script started (pid $pid)"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  rm -f "$PID_FILE"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) engine_answers && say "up" || { say "down"; exit 1; } ;;
  *) die "usage: $0 start|stop|status" ;;
esac
