"""Archive Open WebUI's data directory while it runs: SQLite databases (webui.db, the vector store)
through SQLite's online backup, so the copy is consistent; every other file as it is.

Runs in a short-lived container of the Open WebUI image: python3 -c <this> SOURCE ARCHIVE."""

import os
import sqlite3
import sys
import tarfile
import tempfile

SQLITE_MAGIC = b"SQLite format 3\x00"
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def is_sqlite(path):
    with open(path, "rb") as handle:
        return handle.read(16) == SQLITE_MAGIC


def main(source, archive):
    part = archive + ".part"
    with tempfile.TemporaryDirectory() as scratch, tarfile.open(part, "w:gz") as tar:
        for top, dirs, files in os.walk(source):
            dirs.sort()
            for name in sorted(dirs):
                path = os.path.join(top, name)
                tar.add(path, arcname=os.path.relpath(path, source), recursive=False)
            for name in sorted(files):
                path = os.path.join(top, name)
                arcname = os.path.relpath(path, source)
                if name.endswith(SQLITE_SIDE_FILES) or not os.path.isfile(path):
                    continue
                if is_sqlite(path):
                    copy = os.path.join(scratch, "copy.db")
                    live, snapshot = sqlite3.connect(path), sqlite3.connect(copy)
                    try:
                        live.backup(snapshot)
                    finally:
                        snapshot.close()
                        live.close()
                    tar.add(copy, arcname=arcname)
                    os.remove(copy)
                else:
                    tar.add(path, arcname=arcname)
    os.rename(part, archive)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
