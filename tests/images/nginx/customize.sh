#!/bin/sh
# Runs inside the debootstrapped bookworm rootfs (chroot) to turn Debian's nginx-light into the
# layout of the official nginx image where a deployment depends on it.
set -eu

# The official image runs its workers as nginx 101:101.
if getent passwd nginx >/dev/null; then
	echo "a user nginx already exists in the rootfs: $(getent passwd nginx)" >&2
	exit 1
fi
if getent group 101 >/dev/null || getent passwd 101 >/dev/null; then
	echo "uid or gid 101 is taken in the rootfs: $(getent passwd 101) $(getent group 101)" >&2
	exit 1
fi
groupadd --system --gid 101 nginx
useradd --system --uid 101 --gid nginx --no-create-home --home-dir /nonexistent \
	--shell /usr/sbin/nologin nginx

# Debian's sites-available/sites-enabled layout gives way to conf.d/*.conf, as in the official image.
rm -rf /etc/nginx/sites-enabled /etc/nginx/sites-available /etc/init.d/nginx /etc/logrotate.d/nginx \
	/var/www/html
install -d -m 0755 /etc/nginx/conf.d /usr/share/nginx/html
install -m 0644 /run/recipe/nginx.conf /etc/nginx/nginx.conf
install -m 0644 /run/recipe/default.conf /etc/nginx/conf.d/default.conf
printf '<!DOCTYPE html>\n<title>owui-test nginx</title>\n<p>nginx from Debian bookworm.</p>\n' \
	>/usr/share/nginx/html/index.html

# Logs go to the container's output, where `docker logs` finds them.
install -d -m 0755 /var/log/nginx
ln -sf /dev/stdout /var/log/nginx/access.log
ln -sf /dev/stderr /var/log/nginx/error.log

nginx -V
nginx -t
