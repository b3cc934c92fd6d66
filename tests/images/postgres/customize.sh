#!/bin/sh
# Runs inside the debootstrapped bookworm rootfs (chroot) to turn Debian's postgresql-15 into the
# layout of the official postgres image where a deployment depends on it.
set -eu

# The official image's postgres user and group are 999:999; a data volume written by one image
# stays usable by the other.
old_uid=$(id -u postgres)
old_gid=$(getent group postgres | cut -d: -f3)
if getent group 999 >/dev/null && [ "$old_gid" != 999 ]; then
	echo "gid 999 is taken in the rootfs: $(getent group 999)" >&2
	exit 1
fi
if getent passwd 999 >/dev/null && [ "$old_uid" != 999 ]; then
	echo "uid 999 is taken in the rootfs: $(getent passwd 999)" >&2
	exit 1
fi
groupmod -g 999 postgres
usermod -u 999 -g 999 postgres
find / -xdev -uid "$old_uid" -exec chown -h 999 '{}' +
find / -xdev -gid "$old_gid" -exec chgrp -h 999 '{}' +

# Debian's package creates a cluster "main" under /etc/postgresql and /var/lib/postgresql/15;
# the container keeps its one cluster in PGDATA instead, made by the entrypoint.
if [ -d /etc/postgresql/15/main ]; then
	pg_dropcluster 15 main
fi
rm -rf /var/lib/postgresql/15 /etc/init.d/postgresql

# Every cluster initdb makes listens on all addresses (the official image edits the same sample).
sed -ri "s/^#?[[:space:]]*listen_addresses[[:space:]]*=[[:space:]]*'[^']*'/listen_addresses = '*'/" \
	/usr/share/postgresql/15/postgresql.conf.sample
grep -q "^listen_addresses = '\*'" /usr/share/postgresql/15/postgresql.conf.sample

# Size: JIT is the only user of LLVM and LLVM the only user of Z3. Without its provider
# PostgreSQL reports jit as unavailable and plans as usual.
rm -rf /usr/lib/postgresql/15/lib/llvmjit.so /usr/lib/postgresql/15/lib/llvmjit_types.bc \
	/usr/lib/postgresql/15/lib/bitcode
du -sm /usr/lib/x86_64-linux-gnu/libLLVM* /usr/lib/x86_64-linux-gnu/libz3* || true
for pkg in $(dpkg-query -W -f '${Package}\n' 'libllvm*' 'libz3-*' 2>/dev/null); do
	dpkg --purge --force-depends "$pkg"
done

install -d -o postgres -g postgres -m 0700 /var/lib/postgresql/data
install -d -o postgres -g postgres -m 2777 /var/run/postgresql
install -m 0755 /run/recipe/docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh

/usr/lib/postgresql/15/bin/postgres --version
/usr/lib/postgresql/15/bin/pg_isready --version
setpriv --version
