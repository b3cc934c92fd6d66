#!/bin/sh
# Runs in a container of localhost/owui-test/open-webui:0.12.4 (hack/images.sh, kind "derived"),
# which is committed as the 0.12.3 image: only what pip changes is a new layer, the rest is shared.
# Arguments are the pins (OPEN_WEBUI_VERSION=..., TORCH_VERSION=...); the host's CA bundle is at
# /run/host-ca.crt for this run only, for a TLS-inspecting proxy between the build and PyPI.
set -eu
for pin in "$@"; do export "$pin"; done
: "${OPEN_WEBUI_VERSION:?}" "${TORCH_VERSION:?}"

# pip installs the release's own pins over the newer release's (aiohttp, mcp, pillow, uvicorn, ...)
# and keeps what both share, torch included.
/app/.venv/bin/pip install --no-input --disable-pip-version-check --no-cache-dir \
  --cert /run/host-ca.crt "open-webui==${OPEN_WEBUI_VERSION}"

have=$(/app/.venv/bin/python -c 'import importlib.metadata as m; print(m.version("open-webui"), m.version("torch"))')
if [ "$have" != "${OPEN_WEBUI_VERSION} ${TORCH_VERSION}" ]; then
  echo "expected open-webui ${OPEN_WEBUI_VERSION} with torch ${TORCH_VERSION}, have: $have" >&2
  exit 1
fi
