#!/bin/bash
# Runs inside the debootstrapped bookworm rootfs (chroot). hack/images.sh has bind-mounted
# the host's wheel directory at /opt/wheels (read-only), and passes
# OPEN_WEBUI_VERSION, TORCH_VERSION and PSYCOPG2_VERSION.
set -euo pipefail
: "${OPEN_WEBUI_VERSION:?}" "${TORCH_VERSION:?}" "${PSYCOPG2_VERSION:?}"

python3 -m venv /app/.venv
pip=(/app/.venv/bin/pip install --no-input --disable-pip-version-check --find-links /opt/wheels)
# The CPU build first: left to itself, pip resolves sentence-transformers' torch to the
# multi-GB CUDA build.
"${pip[@]}" "torch==${TORCH_VERSION}"
"${pip[@]}" "open-webui==${OPEN_WEBUI_VERSION}"
# As the official image's requirements: the PostgreSQL driver of the synchronous engine (migrations,
# health checks) when DATABASE_URL is postgresql://; the asynchronous one (psycopg 3) comes with open-webui.
"${pip[@]}" "psycopg2-binary==${PSYCOPG2_VERSION}"

have_torch=$(/app/.venv/bin/python -c 'import importlib.metadata as m; print(m.version("torch"))')
if [ "$have_torch" != "$TORCH_VERSION" ]; then
  echo "pip replaced torch ${TORCH_VERSION} with ${have_torch}; pin it in hack/images.sh" >&2
  exit 1
fi

install -d /app/backend/data
install -m 0755 /run/recipe/start.sh /app/backend/start.sh
# As in the official image: chroma's anonymous telemetry id, fixed.
install -d /root/.cache/chroma
printf '%s' 00000000-0000-0000-0000-000000000000 >/root/.cache/chroma/telemetry_user_id
