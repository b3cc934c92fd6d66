"""`make bench`: medians of what users wait for, and their ratio to docker compose doing the same.

Measured, never asserted: prints a table. Uses its own names (bench-*) and removes only those.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
ENV = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
           ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".cache" / "collections"))


def timed(cmd: list[str], env: dict | None = None) -> float:
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=env or ENV, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd[:3])} failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return elapsed


def median_of(cmd: list[str], env: dict | None = None) -> float:
    return statistics.median(timed(cmd, env) for _ in range(RUNS))


def module_elapsed(cmd: list[str]) -> float:
    """Median of the time websocket_check itself reports (its `elapsed`), without Ansible's start-up."""
    values = []
    for _ in range(RUNS):
        proc = subprocess.run(cmd, cwd=ROOT, env=dict(ENV, ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
                                                      ANSIBLE_STDOUT_CALLBACK="ansible.posix.json"),
                              capture_output=True, text=True, check=False)
        result = json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
        values.append(float(result["elapsed"]))
    return statistics.median(values)


def main() -> None:
    creds = Path(tempfile.mkdtemp(prefix="owui-bench-"))
    names = {
        "network_name": "bench-net", "valkey_container_name": "bench-valkey", "valkey_volume_name": "bench-valkey-data",
        "open_webui_container_name": "bench-open-webui", "open_webui_volume_name": "bench-open-webui-data",
        "open_webui_port": 3321, "valkey_credentials_dir": str(creds), "open_webui_credentials_dir": str(creds),
        "valkey_image": ENV["OWUI_TEST_VALKEY_IMAGE"], "valkey_pull": "never",
        "open_webui_image": ENV["OWUI_TEST_OPEN_WEBUI_IMAGE"], "open_webui_pull": "never",
    }
    playbook = ["ansible-playbook", "-i", "tests/inventory/localhost.yml", "-e", json.dumps(names)]
    compose = shutil.which("docker-compose")
    compose_cmd = [compose, "-p", "bench", "-f", "hack/bench/compose.yml"] if compose else None
    rows = []
    try:
        first = timed([*playbook, "owui.realtime.deploy"])
        rows.append(("deploy, fresh host (once)", first, None))
        again = median_of([*playbook, "owui.realtime.deploy"])
        check = ["ansible", "localhost", "-i", "tests/inventory/localhost.yml", "-m", "owui.realtime.websocket_check",
                 "-a", json.dumps({"valkey_container": "bench-valkey", "open_webui_containers": ["bench-open-webui"],
                                   "valkey_password": (creds / "valkey-admin.password").read_text().split()[0],
                                   "open_webui_url": "http://127.0.0.1:3321"})]
        module = median_of(check)
        inside = module_elapsed(check)
        if compose_cmd:
            timed([*compose_cmd, "up", "-d"])
            compose_again = median_of([*compose_cmd, "up", "-d"])
            rows.append(("re-deploy, nothing changed", again, compose_again))
        else:
            rows.append(("re-deploy, nothing changed", again, None))
        rows.append(("websocket_check on a healthy stack (ad-hoc, whole run)", module, None))
        rows.append(("websocket_check on a healthy stack (module's own elapsed)", inside, None))
    finally:
        subprocess.run([*playbook, "-e", "purge=true", "owui.realtime.teardown"], cwd=ROOT, env=ENV,
                       capture_output=True, check=False)
        if compose_cmd:
            subprocess.run([*compose_cmd, "down", "-v"], cwd=ROOT, env=ENV, capture_output=True, check=False)
        shutil.rmtree(creds, ignore_errors=True)
    print(f"\nmedians of {RUNS} runs (seconds)\n")
    print(f"{'what':58} {'owui.realtime':>14} {'compose':>9} {'ratio':>7}")
    for what, ours, theirs in rows:
        compose_cell = f"{theirs:9.2f}" if theirs else f"{'-':>9}"
        ratio = f"{ours / theirs:.1f}x" if theirs else "-"
        print(f"{what:58} {ours:14.2f} {compose_cell} {ratio:>7}")
    if not compose_cmd:
        print("\ndocker-compose is not installed (Debian: apt-get install docker-compose); no compose column.")


if __name__ == "__main__":
    main()
