#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests, bound to 127.0.0.1 only.
#   scripts/pg_test_server.sh start|stop|status|url
# Port: BRIDGE_TEST_PG_PORT (default 55432; each pytest session sets a free one of its own,
# tests/conftest.py). Data and socket: /tmp/bridge-pg-$PORT: clusters on different ports never meet.
# Trust auth on loopback and the private socket only; fsync off: it is disposable.
# Works on a fresh Debian machine: installs the `postgresql` package if no
# initdb is found (needs root), without starting the Debian service.
set -euo pipefail

PORT="${BRIDGE_TEST_PG_PORT:-55432}"
BASE="/tmp/bridge-pg-${PORT}"
DATA="${BASE}/data"
LOG="${BASE}/server.log"
URL="postgresql://postgres@127.0.0.1:${PORT}/postgres"

die() { echo "pg_test_server: $*" >&2; exit 1; }

find_bindir() {
    local initdb
    initdb="$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)"
    [[ -n "$initdb" ]] && dirname "$initdb"
}

install_postgres() {
    [[ "$(id -u)" == 0 ]] || die "no initdb under /usr/lib/postgresql/*/bin and not root: install the 'postgresql' package"
    echo "pg_test_server: installing Debian's postgresql package" >&2
    # policy-rc.d 101 = "action forbidden": the package must not start its own service.
    local policy=/usr/sbin/policy-rc.d created_policy=0
    if [[ ! -e "$policy" ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && created_policy=1
    fi
    local rc=0
    # -o DPkg::Lock::Timeout: another test worker may be installing Chromium at the same time
    { apt-get -o DPkg::Lock::Timeout=600 update -qq \
        && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq postgresql >/dev/null; } \
        || rc=$?
    [[ "$created_policy" == 1 ]] && rm -f "$policy"
    [[ "$rc" == 0 ]] || die "apt-get install postgresql failed (exit $rc)"
}

# Run a server binary as the cluster's OS user: postgres refuses to run as root.
as_owner() {
    if [[ "$(id -u)" == 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

is_running() {
    local bindir="$1"
    [[ -f "${DATA}/PG_VERSION" ]] && as_owner "${bindir}/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

start() {
    local bindir
    bindir="$(find_bindir || true)"
    if [[ -z "$bindir" ]]; then
        install_postgres
        bindir="$(find_bindir || true)"
        [[ -n "$bindir" ]] || die "initdb still not found after installing postgresql"
    fi
    if is_running "$bindir"; then
        echo "$URL"
        return 0
    fi
    if [[ ! -f "${DATA}/PG_VERSION" ]]; then
        rm -rf "$BASE"
        mkdir -p "$BASE"
        chmod 700 "$BASE"
        [[ "$(id -u)" == 0 ]] && chown postgres: "$BASE"
        as_owner "${bindir}/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
            >"${BASE}/initdb.log" 2>&1 || die "initdb failed: see ${BASE}/initdb.log"
        # Only the private socket and 127.0.0.1 are accepted; anything else finds no hba line.
        as_owner tee "${DATA}/pg_hba.conf" >/dev/null <<HBA
local all all trust
host  all all 127.0.0.1/32 trust
HBA
        as_owner tee -a "${DATA}/postgresql.conf" >/dev/null <<CONF
listen_addresses = '127.0.0.1'
port = ${PORT}
unix_socket_directories = '${BASE}'
max_connections = 50
shared_buffers = 64MB
fsync = off
synchronous_commit = off
full_page_writes = off
log_min_messages = warning
CONF
    fi
    # 9>&-: the server must not inherit (and hold forever) the lock below.
    as_owner "${bindir}/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >/dev/null 9>&- \
        || die "pg_ctl start failed: see ${LOG}"
    echo "$URL"
}

stop() {
    local bindir
    bindir="$(find_bindir || true)"
    if [[ -n "$bindir" ]] && is_running "$bindir"; then
        as_owner "${bindir}/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
    fi
    rm -rf "$BASE" "$LOCK"
}

status() {
    local bindir
    bindir="$(find_bindir || true)"
    [[ -n "$bindir" ]] && is_running "$bindir"
}

# Concurrent start/stop calls on one port (the xdist workers of a session) take turns.
LOCK="/tmp/bridge-pg-${PORT}.lock"
exec 9>"$LOCK"
flock 9

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) if status; then echo "running: $URL"; else echo "stopped"; exit 3; fi ;;
    url) echo "$URL" ;;
    *) echo "usage: $0 start|stop|status|url" >&2; exit 2 ;;
esac
