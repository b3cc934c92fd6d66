#!/bin/sh
# Entrypoint of localhost/owui-test/valkey: behaves like the official valkey/valkey image's.
# Starts as root, hands /data to the valkey user, then drops to it with setpriv, so a container
# without CAP_SETUID/CAP_SETGID cannot start, exactly as with the official image.
set -e

# first arg is `-f` or `--some-option`, or `something.conf`
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
	set -- valkey-server "$@"
fi

if [ "$1" = 'valkey-server' ]; then
	if [ "$(id -u)" = '0' ]; then
		find . \! -user valkey -exec chown valkey '{}' +
		exec setpriv --reuid=valkey --regid=valkey --clear-groups -- "$0" "$@"
	fi
	if [ ! -w . ]; then
		echo >&2 "error: directory is not writable by current user ($(id -u))"
		echo >&2 "  Check mount permissions or run as root to allow chown"
		exit 1
	fi
fi

# The official image compiles valkey-server with protected-mode off; Debian's package keeps the
# upstream default (on). Emulate the official default: add `--protected-mode no` unless the
# arguments, VALKEY_EXTRA_FLAGS or the config file named first already decide protected-mode.
protected_mode_decided() {
	shift # valkey-server
	case " $* ${VALKEY_EXTRA_FLAGS:-} " in
		*protected-mode*) return 0 ;;
	esac
	if [ $# -gt 0 ] && [ "${1#-}" = "$1" ] && [ -r "$1" ]; then
		grep -Eiq '^[[:space:]]*protected-mode[[:space:]]' "$1" && return 0
	fi
	return 1
}
if [ "$1" = 'valkey-server' ] && ! protected_mode_decided "$@"; then
	set -- "$@" --protected-mode no
fi

# set an appropriate umask (if one isn't set already)
um="$(umask)"
if [ "$um" = '0022' ]; then
	umask 0077
fi

# shellcheck disable=SC2086 # VALKEY_EXTRA_FLAGS is a word list by design (official image)
exec "$@" $VALKEY_EXTRA_FLAGS
