"""Build the collection's execution environment with ansible-builder, offline from Galaxy.

Called by ``hack/ee.sh build`` once the base image exists. The collections come as tarballs:
owui.realtime built from this checkout by ``ansible-galaxy collection build``; community.docker
and community.crypto (and whatever they need) rebuilt from the copies the test venv holds, as
tests/integration/test_packaging.py does. ``ansible-builder create`` writes the build context;
the local engine builds it. The image is tagged with the hash of everything that goes into it
and is not rebuilt while that hash stays the same. Prints the image's name.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import docker
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text())
LOG = Path(os.environ.get("OWUI_IMAGES_LOG_DIR", "/var/log/owui-realtime")) / "ee-build.log"
# ansible-builder's package manager on the Debian base (hack/ee.sh installs it there).
PKGMGR = "/usr/local/sbin/ee-apt"


def say(message: str) -> None:
    print(f"[ee] {message}", file=sys.stderr, flush=True)


def pinned(name: str) -> str:
    """The version the controller venv pins (requirements/constraints.txt): the EE runs the same."""
    for line in (ROOT / "requirements" / "constraints.txt").read_text().splitlines():
        if line.startswith(f"{name}=="):
            return line.strip()
    raise SystemExit(f"[ee] requirements/constraints.txt pins no {name}")


def galaxy(*args: str, cwd: Path, log) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    proc = subprocess.run([str(BIN / "ansible-galaxy"), *args], cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                          check=False)
    if proc.returncode:
        raise SystemExit(f"[ee] FAILED: ansible-galaxy {' '.join(args)}; see {LOG}")


def installed_copy(fqcn: str) -> Path:
    namespace, name = fqcn.split(".")
    for entry in sys.path:
        path = Path(entry) / "ansible_collections" / namespace / name
        if (path / "MANIFEST.json").is_file():
            return path
    raise SystemExit(f"[ee] {fqcn} is not installed in the venv; run `make venv`")


def dependency_tarballs(work: Path, dist: Path, log) -> list[Path]:
    """Tarballs of owui.realtime's dependencies and theirs, built from the venv's installed copies."""
    done: dict[str, Path] = {}
    todo = list(GALAXY["dependencies"])
    while todo:
        fqcn = todo.pop()
        if fqcn in done:
            continue
        copy = installed_copy(fqcn)
        info = json.loads((copy / "MANIFEST.json").read_text())["collection_info"]
        source = work / "src" / info["namespace"] / info["name"]
        shutil.copytree(copy, source, ignore=shutil.ignore_patterns("MANIFEST.json", "FILES.json", "__pycache__"))
        (source / "galaxy.yml").write_text(yaml.safe_dump({k: v for k, v in info.items() if v not in (None, "", [])}))
        galaxy("collection", "build", "--output-path", str(dist), str(source), cwd=work, log=log)
        done[fqcn] = dist / f"{info['namespace']}-{info['name']}-{info['version']}.tar.gz"
        todo.extend(info["dependencies"])
    return list(done.values())


def content_hash(tarball: Path) -> str:
    """The hash of what a collection tarball holds that jobs can use: names and bytes, not the archive's
    timestamps. Its tests/ are left out (no job runs them; editing a test must not rebuild the EE), and
    so are MANIFEST.json and FILES.json, which hold the tests' checksums."""
    digest = hashlib.sha256()
    with tarfile.open(tarball) as tar:
        for member in sorted(tar.getmembers(), key=lambda m: m.name):
            if member.name.startswith("tests/") or member.name in ("MANIFEST.json", "FILES.json"):
                continue
            digest.update(f"{member.name}\0{member.mode:o}\0".encode())
            if member.isfile():
                digest.update(tar.extractfile(member).read())
    return digest.hexdigest()


def definition(base: str, tag: str, tarballs: list[Path]) -> tuple[dict, dict]:
    """The EE definition (ansible-builder schema 3) and its galaxy requirements file."""
    requirements = {"collections": [{"name": f"collections/{t.name}", "type": "file"} for t in tarballs]}
    ee = {
        "version": 3,
        "images": {"base_image": {"name": base}},
        "dependencies": {
            "python_interpreter": {"python_path": "/usr/bin/python3"},
            "ansible_core": {"package_pip": pinned("ansible-core")},
            "ansible_runner": {"package_pip": pinned("ansible-runner")},
            "galaxy": "requirements.yml",
        },
        # Galaxy is never asked: a dependency missing from the tarballs fails the build.
        "build_arg_defaults": {"ANSIBLE_GALAXY_CLI_COLLECTION_OPTS": "--offline"},
        "additional_build_files": [{"src": "dist/*.tar.gz", "dest": "collections"}],
        # Debian's pip is in the base (ensurepip is off for Debian's system Python); apt-get through the shim.
        "options": {"package_manager_path": PKGMGR, "skip_pip_install": True, "tags": [tag]},
    }
    return ee, requirements


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True)
    parser.add_argument("--tag", required=True)
    parser.add_argument("--label", required=True)
    args = parser.parse_args()

    engine = docker.from_env(timeout=600)
    base_id = engine.images.get(args.base).id
    LOG.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="owui-ee-build.", dir="/var/tmp"))
    start = time.monotonic()
    try:
        with LOG.open("w") as log:
            dist = work / "dist"
            galaxy("collection", "build", "--output-path", str(dist), str(ROOT), cwd=work, log=log)
            own = dist / f"{GALAXY['namespace']}-{GALAXY['name']}-{GALAXY['version']}.tar.gz"
            tarballs = [own, *dependency_tarballs(work, dist, log)]
            ee, requirements = definition(args.base, args.tag, tarballs)
            digest = hashlib.sha256()
            for part in (base_id, json.dumps(ee, sort_keys=True), json.dumps(requirements, sort_keys=True),
                         (ROOT / "requirements" / "constraints.txt").read_text()):
                digest.update(part.encode() + b"\0")
            for tarball in sorted(tarballs):
                digest.update(f"{tarball.name}\0{content_hash(tarball)}\0".encode())
            recipe = digest.hexdigest()[:16]

            try:
                have = engine.images.get(args.tag).labels.get(args.label)
            except docker.errors.ImageNotFound:
                have = None
            if have == recipe:
                say(f"{args.tag} cached (recipe {recipe})")
                print(args.tag)
                return 0

            say(f"building {args.tag} (recipe {recipe}, log: {LOG})")
            (work / "execution-environment.yml").write_text(yaml.safe_dump(ee, sort_keys=False))
            (work / "requirements.yml").write_text(yaml.safe_dump(requirements, sort_keys=False))
            proc = subprocess.run([str(BIN / "ansible-builder"), "create", "-f", "execution-environment.yml",
                                   "--context", "context", "--output-filename", "Dockerfile", "-v", "3"],
                                  cwd=work, stdout=log, stderr=subprocess.STDOUT, check=False)
            if proc.returncode:
                raise SystemExit(f"[ee] FAILED: ansible-builder create; see {LOG}")
            log.write(f"\n===== {work / 'context' / 'Dockerfile'}\n{(work / 'context' / 'Dockerfile').read_text()}\n")
            log.flush()

            try:
                old = engine.images.get(args.tag).id
            except docker.errors.ImageNotFound:
                old = None
            failed = None
            built_after = engine.info()["SystemTime"]
            for chunk in engine.api.build(path=str(work / "context"), dockerfile="Dockerfile", tag=args.tag, rm=True,
                                          forcerm=True, labels={args.label: recipe}, decode=True):
                if "stream" in chunk:
                    log.write(chunk["stream"])
                elif "error" in chunk:
                    failed = chunk["error"]
                    log.write(f"ERROR: {failed}\n")
            if failed:
                raise SystemExit(f"[ee] FAILED: docker build: {failed.strip()}; see {LOG}")
            new = engine.images.get(args.tag)
            # The images an earlier build left: its EE, and its untagged stages (galaxy, builder), which
            # carry the base's label. This build's stages stay as the engine's layer cache for the next one.
            stale = [old] if old and old != new.id else []
            base_label = f"{args.label}={engine.images.get(args.base).labels.get(args.label)}"
            stale += [i.id for i in engine.images.list(filters={"dangling": True, "label": base_label})
                      if i.attrs["Created"][:19] < built_after[:19]]
            for image in stale:
                try:
                    engine.images.remove(image)
                except docker.errors.APIError as exc:
                    say(f"left {image} in place: {exc}")
        say(f"{args.tag} ready (recipe {recipe}, {new.attrs['Size'] / 1e6:.0f} MB, {time.monotonic() - start:.0f} s)")
        print(args.tag)
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)
        engine.close()


if __name__ == "__main__":
    sys.exit(main())
