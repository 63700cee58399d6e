#!/usr/bin/env bash
# Makes sure the PostgreSQL and MariaDB servers the tests use are up on this machine,
# starting them when they are installed but down. Under CI a server that cannot be
# reached is a failure; elsewhere it is a loud warning and those tests skip.
set -uo pipefail

PG_HOST=127.0.0.1 PG_PORT=5432 MY_HOST=127.0.0.1 MY_PORT=3306

pg_up() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT" 2>/dev/null; }
my_up() { mariadb-admin --protocol=tcp -h "$MY_HOST" -P "$MY_PORT" -uroot ping >/dev/null 2>&1 \
          || mysqladmin --protocol=tcp -h "$MY_HOST" -P "$MY_PORT" -uroot ping >/dev/null 2>&1; }

wait_for() { # name check-function
    for _ in $(seq 1 60); do "$2" && return 0; sleep 1; done
    return 1
}

failures=0
report() { # name
    if [ -n "${CI:-}" ]; then
        echo "ERROR: $1 is not reachable and CI is set: the tests that need it would fail." >&2
        failures=$((failures + 1))
    else
        echo "WARNING: $1 is not reachable; its tests will be SKIPPED (set CI=1 to make that an error)." >&2
    fi
}

if ! pg_up; then
    if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
        echo "starting PostgreSQL..."
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    fi
    wait_for PostgreSQL pg_up || report "PostgreSQL at $PG_HOST:$PG_PORT"
fi
pg_up && echo "PostgreSQL is up at $PG_HOST:$PG_PORT"

if ! my_up; then
    if [ -x /usr/sbin/mariadbd ]; then
        echo "starting MariaDB..."
        start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
    fi
    wait_for MariaDB my_up || report "MariaDB at $MY_HOST:$MY_PORT"
fi
my_up && echo "MariaDB is up at $MY_HOST:$MY_PORT"

exit "$failures"
