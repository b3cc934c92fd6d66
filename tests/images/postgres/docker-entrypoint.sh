#!/bin/sh
# Entrypoint of localhost/owui-test/postgres: what the role relies on from the official postgres
# image's entrypoint, written for sh. Starts as root, hands PGDATA and the socket directory to the
# postgres user and drops to it with setpriv (so the container needs CHOWN, FOWNER, SETUID and
# SETGID); on an empty PGDATA it creates the cluster from POSTGRES_USER, POSTGRES_PASSWORD or
# POSTGRES_PASSWORD_FILE and POSTGRES_DB, with scram-sha-256 for every TCP connection.
set -eu

if [ "${1#-}" != "$1" ]; then
	set -- postgres "$@"
fi
if [ "$1" != postgres ]; then
	exec "$@"
fi

: "${PGDATA:=/var/lib/postgresql/data}"
export PGDATA

if [ "$(id -u)" = 0 ]; then
	mkdir -p "$PGDATA" /var/run/postgresql
	chmod 0700 "$PGDATA"
	chmod 2777 /var/run/postgresql
	find "$PGDATA" \! -user postgres -exec chown postgres:postgres '{}' +
	chown postgres:postgres /var/run/postgresql
	exec setpriv --reuid=postgres --regid=postgres --clear-groups -- "$0" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
	if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
		[ -z "${POSTGRES_PASSWORD:-}" ] || {
			echo >&2 "error: set POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE, not both"
			exit 1
		}
		POSTGRES_PASSWORD=$(cat "$POSTGRES_PASSWORD_FILE")
	fi
	if [ -z "${POSTGRES_PASSWORD:-}" ]; then
		# The official image would accept POSTGRES_HOST_AUTH_METHOD=trust; this one never trusts TCP.
		echo >&2 "error: the database is uninitialized and no password is given;"
		echo >&2 "  set POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE"
		exit 1
	fi
	: "${POSTGRES_USER:=postgres}"
	: "${POSTGRES_DB:=$POSTGRES_USER}"

	# The password reaches initdb through a pipe, never a file or a command line.
	printf '%s\n' "$POSTGRES_PASSWORD" | initdb --username="$POSTGRES_USER" --pwfile=/dev/stdin \
		--encoding=UTF8 --locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256
	# initdb's host lines cover loopback only; every other address logs in with a password too.
	printf '\nhost all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"

	if [ "$POSTGRES_DB" != postgres ]; then
		# A server on the socket only, so that nothing outside sees it before the database exists.
		pg_ctl -D "$PGDATA" -w -o "-c listen_addresses=''" start
		printf 'CREATE DATABASE :"db";\n' |
			psql -v ON_ERROR_STOP=1 --no-psqlrc --username="$POSTGRES_USER" --dbname=postgres -v db="$POSTGRES_DB"
		pg_ctl -D "$PGDATA" -w -m fast stop
	fi
	unset POSTGRES_PASSWORD
	echo "PostgreSQL init process complete; ready for start up."
fi

exec "$@"
