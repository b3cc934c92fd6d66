#!/usr/bin/env bash
# `make deploy`: deploy and verify the stack on localhost with the collection's defaults.
# Where the upstream registries cannot be reached, the offline test images stand in (and we say so).
set -euo pipefail
cd "$(dirname "$0")/.."

args=()
if getent hosts ghcr.io >/dev/null 2>&1 && getent hosts registry-1.docker.io >/dev/null 2>&1; then
  echo "[deploy] using the upstream images (docker.io/valkey/valkey, ghcr.io/open-webui/open-webui)"
else
  eval "$(hack/images.sh env)"
  echo "[deploy] ghcr.io and Docker Hub cannot be reached from this machine:"
  echo "[deploy] using the offline test images $OWUI_TEST_VALKEY_IMAGE and $OWUI_TEST_OPEN_WEBUI_IMAGE instead"
  args+=(-e "valkey_image=$OWUI_TEST_VALKEY_IMAGE" -e valkey_pull=never
         -e "open_webui_image=$OWUI_TEST_OPEN_WEBUI_IMAGE" -e open_webui_pull=never)
fi

# shellcheck disable=SC2086 # DEPLOY_ARGS is a list of extra ansible-playbook arguments
ansible-playbook -i "${INVENTORY:-tests/inventory/localhost.yml}" owui.realtime.deploy "${args[@]}" ${DEPLOY_ARGS:-}
echo "[deploy] Open WebUI: http://127.0.0.1:${OPEN_WEBUI_PORT:-3000}  (generated secrets: ~/.config/owui-realtime/localhost/)"
