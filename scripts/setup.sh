#!/bin/sh
# Installs what vigil needs to build, run and test on Debian 12, by package name.
# Idempotent: installs only what is missing, so `make run` and `make test` can call it every time.
set -eu

PKGS="build-essential pkg-config libmicrohttpd-dev libjansson-dev libsqlite3-dev \
libnl-3-dev libnl-route-3-dev libgnutls28-dev libcurl4-gnutls-dev libcmocka-dev \
sqlite3 curl iproute2 procps valgrind wrk nginx-light keepalived haproxy chromium \
python3 python3-pytest python3-jsonschema python3-prometheus-client python3-yaml python3-requests \
systemd man-db groff-base clang libclang-rt-14-dev etcd-server etcd-client"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if ! command -v npm >/dev/null 2>&1; then
	missing="$missing nodejs npm"
fi
if [ -n "$missing" ]; then
	echo "setup: installing:$missing" >&2
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi

# The OpenAPI linter (and later the browser-test driver) come from npm, pinned by package-lock.json.
here=$(cd "$(dirname "$0")/.." && pwd)
if [ -f "$here/package.json" ] && ! (cd "$here" && npm ls --silent >/dev/null 2>&1); then
	(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi
exit 0
