#!/usr/bin/env bash
# Start Open WebUI like the official image's backend/start.sh does, minus the parts that
# need the network (Playwright, Ollama, HF Spaces).
# Differences, on purpose:
#  - the generated key goes to $DATA_DIR/.webui_secret_key (the volume), not the image's
#    working directory, so a recreated container keeps its sessions;
#  - uvicorn is exec'd, so `docker stop`'s SIGTERM reaches it directly.
set -euo pipefail

cd /app/backend
PORT="${PORT:-8080}"
HOST="${HOST:-0.0.0.0}"
DATA_DIR="${DATA_DIR:-/app/backend/data}"
mkdir -p "$DATA_DIR"

if [ -z "${WEBUI_SECRET_KEY:-}" ] && [ -z "${WEBUI_JWT_SECRET_KEY:-}" ]; then
  KEY_FILE="${WEBUI_SECRET_KEY_FILE:-$DATA_DIR/.webui_secret_key}"
  echo "Loading WEBUI_SECRET_KEY from file, not provided as an environment variable."
  if [ ! -e "$KEY_FILE" ]; then
    echo "Generating WEBUI_SECRET_KEY"
    (umask 077 && head -c 12 /dev/random | base64 >"$KEY_FILE")
  fi
  echo "Loading WEBUI_SECRET_KEY from $KEY_FILE"
  WEBUI_SECRET_KEY="$(cat "$KEY_FILE")"
  export WEBUI_SECRET_KEY
fi

echo "Starting Open WebUI on $HOST:$PORT"
exec uvicorn open_webui.main:app --host "$HOST" --port "$PORT" --forwarded-allow-ips '*' \
  --workers "${UVICORN_WORKERS:-1}"
