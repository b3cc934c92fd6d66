#!/bin/sh
# Runs inside the debootstrapped trixie rootfs (chroot) to turn Debian's valkey packages
# into the layout of the official valkey/valkey image.
set -eu

# The official image's valkey user and group are 999:999; volumes written by it keep working.
old_uid=$(id -u valkey)
old_gid=$(getent group valkey | cut -d: -f3)
if getent group 999 >/dev/null && [ "$old_gid" != 999 ]; then
	echo "gid 999 is taken in the rootfs: $(getent group 999)" >&2
	exit 1
fi
if getent passwd 999 >/dev/null && [ "$old_uid" != 999 ]; then
	echo "uid 999 is taken in the rootfs: $(getent passwd 999)" >&2
	exit 1
fi
groupmod -g 999 valkey
usermod -u 999 -g 999 valkey
find / -xdev -uid "$old_uid" -exec chown -h 999 '{}' +
find / -xdev -gid "$old_gid" -exec chgrp -h 999 '{}' +

install -d -o valkey -g valkey -m 1777 /data /run/valkey
install -m 0755 /run/recipe/docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh

# Only what a container needs: Debian's valkey-server package ships sysvinit/systemd glue.
rm -f /etc/init.d/valkey-server
valkey-server --version
valkey-cli --version
setpriv --version
